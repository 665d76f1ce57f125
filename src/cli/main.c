/*
 * main.c: parses the first argument and dispatches to a subcommand.
 */
#include "cli/cmd.h"
#include "base/crypto_api.h"
#include "exec/netproxy.h"
#include "exec/onejail.h"
#include "exec/warden.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A sanitizer's leak check runs at exit: under one, a command ends with
 * the normal exit (finish below). */
#if defined(__SANITIZE_ADDRESS__)
#define LEAK_CHECK_AT_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define LEAK_CHECK_AT_EXIT 1
#endif
#endif

/* one subcommand per line (clang-format packs an odd count in columns) */
/* clang-format off */
static const struct cmd_entry *const commands[] = {
	&cmd_run_entry,
	&cmd_once_entry,
	&cmd_resume_entry,
	&cmd_runs_entry,
	&cmd_show_entry,
	&cmd_review_entry,
	&cmd_gate_entry,
	&cmd_audit_entry,
	&cmd_reindex_entry,
	&cmd_rm_entry,
	&cmd_report_entry,
	&cmd_verify_entry,
	&cmd_serve_entry,
	&cmd_agent_entry,
	&cmd_skills_entry,
	&cmd_dispatch_entry,
	&cmd_kueue_entry,
	NULL,
};
/* clang-format on */

static void usage(FILE *f)
{
	int i;
	fprintf(f,
		"usage: loopgate <command> [options]\n\n"
		"loopgate drives a model or an agent CLI in a loop until the gate\n"
		"commands you give (tests, compiler, linter) all pass, or a budget runs\n"
		"out, and records everything it did.\n\ncommands:\n");
	for (i = 0; commands[i]; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\n  loopgate <command> --help   options of one command\n"
		   "  loopgate --version\n\nManual: docs/manual.md, man loopgate.\n");
}

/*
 * A command's end: its output flushed, then _exit.  What exit would run
 * after that is the shared libraries' destructors and OpenSSL's atexit
 * cleanup, which only free memory the kernel takes back anyway: in a model
 * run (libcurl's ~30 libraries) they mapped ~0.5 MB of code that nothing
 * else ran, at the run's very end, where its peak RSS is
 * (docs/design/heap.md).  loopgate registers no atexit handler or
 * destructor of its own, and fflush(NULL) writes what a stream still
 * holds, as exit would.
 */
static int finish(int code)
{
#ifdef LEAK_CHECK_AT_EXIT
	return code;
#else
	fflush(NULL);
	_exit(code);
#endif
}

int main(int argc, char **argv)
{
	struct buf err = BUF_INIT;
	int i;
	/* One malloc arena: loopgate's few threads (the socket walk, the first
	 * store, the cgroup prime) would each get an arena of their own, about
	 * 128 kB of touched heap a process, for allocations that never contend
	 * (bench/many.sh: 1,000 loops). */
	mallopt(M_ARENA_MAX, 1);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("loopgate %s\n", LOOPGATE_VERSION);
		return 0;
	}
	/* hidden: the sandbox's network relay (netproxy.h) */
	if (!strcmp(argv[1], "__netrelay"))
		return netrelay_main(argc - 1, argv + 1);
	/* hidden: a long-lived child's warden, re-exec'd (warden.h) */
	if (!strcmp(argv[1], "__warden"))
		return warden_main(argc - 1, argv + 1);
	warden_enable_reexec();
	/* hidden: the per-run sandbox's spawner (onejail.h) */
	if (!strcmp(argv[1], "__spawner"))
		return spawner_main(argc - 1, argv + 1);
	/* hidden: the agent pre-flight's host check (cmd_netprobe.c) */
	if (!strcmp(argv[1], "__netprobe"))
		return netprobe_main(argc - 1, argv + 1);
	/* every command hashes (cache keys, fingerprints) or signs (the audit
	 * log): a missing libcrypto is said here, before anything is done */
	if (crypto_api_load(&err) < 0) {
		fprintf(stderr, "loopgate: %s\n", err.s);
		buf_release(&err);
		return 3;
	}
	/* hidden: a fan-out worker (cmd_worker.c) */
	if (!strcmp(argv[1], "__worker"))
		return finish(cmd_worker_entry.exec(argc - 1, argv + 1));
	for (i = 0; commands[i]; i++)
		if (!strcmp(argv[1], commands[i]->name))
			return finish(commands[i]->exec(argc - 1, argv + 1));
	fprintf(stderr, "loopgate: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
