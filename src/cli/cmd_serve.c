/*
 * cmd_serve.c: `loopgate serve` — the live local view of the repository's
 * runs (report/serve.h) until Ctrl-C.
 */
#include "cli/cmd.h"
#include "report/serve.h"
#include "tree/git.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char serve_usage[] =
	"usage: loopgate serve [--port N] [--dir PATH]\n"
	"\n"
	"Serves a local web view of the repository's runs: the run list (from the\n"
	"run store) and each run's report, which follows a run in progress live\n"
	"from its event log.  Listens on 127.0.0.1 only and prints the URL, which\n"
	"carries a random token: requests without it are refused (403).  Runs\n"
	"until interrupted (Ctrl-C).\n"
	"\n"
	"  --port N     the port (default: any free one)\n"
	"  --dir PATH   the git repository (default .)\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 stopped by a signal, 2 usage error, 3 could not listen.\n";

enum { O_DIR = 256, O_PORT };

static const struct option options[] = {
	{"dir", required_argument, NULL, O_DIR},
	{"port", required_argument, NULL, O_PORT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int serve_until_stopped(const char *repo, int port)
{
	struct serve_opts o = {repo, port};
	struct sigaction sa;
	struct buf err = BUF_INIT;
	struct serve *s;
	int code = CMD_OK;

	if (serve_open(&s, &o, &err) < 0) {
		fprintf(stderr, "loopgate: %s\n", err.s);
		buf_release(&err);
		return CMD_CANNOT;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("http://127.0.0.1:%d/%s/\n", serve_port(s), serve_token(s));
	fflush(stdout);
	fprintf(stderr,
		"loopgate: serving the runs of %s on 127.0.0.1 only (Ctrl-C stops)\n",
		repo);
	if (serve_loop(s, &stop, &err) < 0) {
		fprintf(stderr, "loopgate: %s\n", err.s);
		code = CMD_CANNOT;
	}
	serve_close(s);
	buf_release(&err);
	return code;
}

static int cmd_serve(int argc, char **argv)
{
	struct buf top = BUF_INIT, err = BUF_INIT;
	const char *dir = ".";
	long port = 0;
	char *end;
	int opt, code;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(serve_usage, stdout);
			return CMD_OK;
		} else if (opt == O_DIR) {
			dir = optarg;
		} else if (opt == O_PORT) {
			port = strtol(optarg, &end, 10);
			if (*end || port < 0 || port > 65535)
				return cmd_usage_error("serve", optarg);
		} else {
			return cmd_usage_error("serve", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cmd_usage_error("serve", argv[optind]);
	if (git_toplevel(dir, &top, &err) < 0) {
		fprintf(stderr, "loopgate: %s is not in a git repository: %s\n", dir,
			err.s);
		buf_release(&err);
		return CMD_USAGE;
	}
	code = serve_until_stopped(top.s, (int)port);
	buf_release(&top);
	buf_release(&err);
	return code;
}

const struct cmd_entry cmd_serve_entry = {"serve",
					  "a live local web view of the runs "
					  "(127.0.0.1)",
					  cmd_serve};
