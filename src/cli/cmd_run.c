/*
 * cmd_run.c: `loopgate run` — flags, config file, the loop, the summary.
 */
#include "base/clock.h"
#include "cli/cmd.h"
#include "config/config.h"
#include "tree/git.h"
#include "engine/agent_turn.h"
#include "engine/loop.h"
#include "record/redact.h"
#include "report/report.h"
#include "engine/summary.h"
#include "report/html.h"
#include "base/fileio.h"
#include "exec/sandbox.h"
#include "exec/cgroup.h"
#include "cli/ui.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char run_usage[] =
	"usage: loopgate run --goal TEXT --gate CMD [--gate CMD ...] (--agent NAME | "
	"--model P/NAME | "
	"--agent-cmd CMD) [options]\n"
	"\n"
	"Runs the gates on HEAD, then loops: the actor changes the run's tree, the\n"
	"gates run in order; it ends when every gate exits 0 or a budget is spent.\n"
	"Your tree and branch are never touched: the work lands on loopgate/<run id>.\n"
	"\n"
	"What to do\n"
	"  --goal TEXT              the goal, in words\n"
	"  --goal-file FILE         the goal, from a file\n"
	"  --gate CMD               a gate command, run with /bin/sh -c in the run's "
	"tree;\n"
	"                           repeat for several (cheap first: build, lint, "
	"tests)\n"
	"  --context GLOB           files always shown to the actor (repeatable)\n"
	"  --protect GLOB           more files the actor must not change (repeatable;\n"
	"                           tests, CI config and the scripts a gate runs are\n"
	"                           by default)\n"
	"  --unprotect GLOB         lift a default protection (a test, CI file or gate\n"
	"                           script the goal needs changed; repeatable)\n"
	"  --no-protect             protect nothing (for goals about writing tests)\n"
	"  --confirm N              re-run passing gates N times: a flip is a flaky "
	"gate\n"
	"  --stall-after K          same failure or no change K times: stalled (default "
	"3)\n"
	"Who acts\n"
	"  --agent NAME             an agent CLI, sandboxed, its spend counted: claude,\n"
	"                           codex, gemini, qwen, opencode, aider\n"
	"  --agent-bin PATH         its program, when not on PATH\n"
	"  --model PROVIDER/NAME    openai/NAME, anthropic/NAME, or replay:FILE; with\n"
	"                           --agent, the CLI's own model name\n"
	"  --base-url URL           the provider's base URL (Ollama: "
	"http://localhost:11434/v1)\n"
	"  --agent-cmd CMD          a command actor instead (claude -p, codex exec, "
	"...)\n"
	"  --agent-env NAME         pass this variable to the agent (repeatable; an\n"
	"                           unset one is an error with --agent)\n"
	"  --actor-timeout DURATION one actor turn at most (default 20m); the whole\n"
	"                           process tree is killed at it\n"
	"  --max-actor-failures K   failed actor turns in a row that end the run as\n"
	"                           actor_failed (default 3)\n"
	"  --record FILE            record the model's turns for replay:FILE\n"
	"  --max-output-tokens N    per reply (default 4096, or the model's preset)\n"
	"  --no-stream              one JSON reply instead of SSE streaming\n"
	"Budget\n"
	"  --max-iterations N       default 10\n"
	"  --max-tokens N           input + output tokens over the whole run\n"
	"  --max-cost USD           needs the model's price in loopgate.yaml\n"
	"  --deadline DURATION      wall clock for the whole run (90s, 30m, 2h)\n"
	"  --gate-timeout DURATION  per gate run (default 10m)\n"
	"Fan-out (docs/design/fanout.md)\n"
	"  --workers N              N workers on the goal at once, each its own loop,\n"
	"                           tree and branch (workers: in loopgate.yaml gives\n"
	"                           each its own model or agent command); the budget\n"
	"                           is shared; a worker's result counts only after\n"
	"                           loopgate re-verifies it in a clean checkout\n"
	"  --select first|best      first verified candidate wins (others stopped),\n"
	"                           or wait for all: the smallest verified diff wins\n"
	"  --max-parallel N         workers running at once (default: the CPUs; on\n"
	"                           a cluster, all: its scheduler queues them)\n"
	"  --executor local|slurm|kueue   where workers run (docs/design/executors.md)\n"
	"  --worker-cpus N          CPUs per worker job (slurm, kueue)\n"
	"  --slurm-partition NAME   slurm: sbatch --partition\n"
	"  --kubeconfig FILE        kueue: default $KUBECONFIG, ~/.kube/config, "
	"in-cluster\n"
	"  --kube-namespace NS      kueue: default the context's\n"
	"  --kube-queue NAME        kueue: the tenant's LocalQueue\n"
	"  --kube-image REF         kueue: the loopgate image the pods run\n"
	"  --kube-secret NAME       kueue: the Secret holding the model's API key\n"
	"  --remote URL             kueue: the git remote pods clone and push to\n"
	"                           (default: the repository's origin)\n"
	"Where and how\n"
	"  --dir PATH               the git repository (default .)\n"
	"  --config FILE            default: loopgate.yaml in the repository, if "
	"present\n"
	"  --allow-dirty            carry uncommitted tracked changes into the run\n"
	"  --policy FILE            a policy (commands, write, read_deny, network, env,\n"
	"                           limits) over the config's policy: section\n"
	"  --no-sandbox             run gates and the actor without bubblewrap (limits\n"
	"                           still apply; recorded in the run's report)\n"
	"  --feedback-max-bytes N   raw gate output kept in a prompt (default 16384)\n"
	"  --json                   print a JSON summary on stdout at the end\n"
	"  --no-progress            no live status line on a terminal: one line per "
	"step\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 converged or already satisfied, 1 halted (see handoff.md),\n"
	"2 usage or configuration error, 3 could not run.\n";

/* The settings' flags come from config's table (config_flag): their
 * getopt values are O_SETTING + the table's index. */
enum {
	O_CONFIG = 256,
	O_NO_PROGRESS,
	O_SETTING = 512,
};

static struct option options[64];

/* The settings' flags, then the command's own. */
static const struct option *build_options(void)
{
	static const struct option own[] = {
		{"config", required_argument, NULL, O_CONFIG},
		{"no-progress", no_argument, NULL, O_NO_PROGRESS},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	size_t n = 0, i;
	const char *name;
	int has_arg;

	for (i = 0; (name = config_flag(i, &has_arg)); i++) {
		/* room for own[] after the settings: a table grown past it is a bug */
		assert(n + sizeof(own) / sizeof(own[0]) <
		       sizeof(options) / sizeof(options[0]));
		options[n++] = (struct option){name,
					       has_arg ? required_argument : no_argument,
					       NULL, O_SETTING + (int)i};
	}
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		options[n++] = own[i];
	return options;
}

static int parse_one(int opt, struct config *f, char **config_path, struct buf *err)
{
	if (opt >= O_SETTING)
		return config_flag_set(f, (size_t)(opt - O_SETTING), optarg, err);
	if (opt == O_CONFIG) {
		free(*config_path);
		*config_path = xstrdup(optarg);
		return 0;
	}
	return err_set(err, -EINVAL, "unknown option (see loopgate run --help)");
}

/* Loads --config, else loopgate.yaml at the top of the repository (or of
 * DIR itself when it is not one: setup reports that later, clearly). */
static int load_config(struct config *c, const char *dir, const char *explicit_path,
		       struct buf *err)
{
	struct buf top = BUF_INIT;
	int ret;
	if (git_toplevel(dir, &top, NULL) < 0)
		buf_sets(&top, dir);
	ret = config_load_default(c, top.s, explicit_path, err);
	buf_release(&top);
	return ret;
}

static void print_error_json(const char *msg, int code)
{
	json_t *o = json_pack("{s:n,s:s,s:s,s:i,s:i,s:i,s:i,s:f,s:f,s:n,s:n}", "run_id",
			      "status", "error", "reason", msg, "exit_code", code,
			      "iterations", 0, "tokens_in", 0, "tokens_out", 0,
			      "cost_usd", 0.0, "elapsed_s", 0.0, "branch", "run_dir");
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

static int fail(const struct config *c, int code, const struct buf *err)
{
	fprintf(stderr, "loopgate: error: %s\n", err->s);
	if (c->json == 1)
		print_error_json(err->s, code);
	return code;
}

/*
 * handoff.md for a run that halted, or could not go on with a tree to hand
 * over: written here, after the engine returned (report.h), its fsync run
 * while report.html is rendered; 1 when *file is to be ended
 * (handoff_end).
 */
static int handoff_begin(const struct run *r, int code, struct fileio_atomic *file)
{
	struct buf herr = BUF_INIT;
	int ret = -1;

	if (r->run_dir && r->ev.fd >= 0 &&
	    (code == 1 || (code == 3 && r->w->tree)) && /* halted, could not go on */
	    (ret = report_handoff_begin(r, file, &herr)) < 0)
		ui_log("could not write handoff.md: %s", herr.s);
	buf_release(&herr);
	return ret == 0;
}

static void handoff_end(struct fileio_atomic *file)
{
	struct buf herr = BUF_INIT;

	if (fileio_atomic_close(file, &herr) < 0)
		fprintf(stderr, "loopgate: could not write handoff.md: %s\n", herr.s);
	buf_release(&herr);
}

/*
 * report.html at the end of every run that has a log, halted, failed or
 * resumed alike: sealed first, so the page shows the final checkpoint.  A
 * page that cannot be written costs a warning, never the run's status.  Its
 * fsync runs while the summary is printed: 1 when *file is to be ended
 * (report_end).
 */
static int report_begin(struct run *r, struct fileio_atomic *file)
{
	struct buf err = BUF_INIT;
	int ret;

	if (r->ev.fd >= 0 && !r->ev.sealed)
		events_seal(&r->ev);
	ret = report_html_write_begin(r->run_dir, file, &err);
	if (ret < 0 && ret != -ENOENT)
		fprintf(stderr, "loopgate: warning: no %s: %s\n", REPORT_HTML_FILE,
			err.s);
	buf_release(&err);
	return ret == 0;
}

static void report_end(const struct run *r, struct fileio_atomic *file)
{
	struct buf err = BUF_INIT;

	if (fileio_atomic_close(file, &err) == 0)
		fprintf(stderr, "loopgate: report %s/%s\n", r->run_dir, REPORT_HTML_FILE);
	else
		fprintf(stderr, "loopgate: warning: no %s: %s\n", REPORT_HTML_FILE,
			err.s);
	buf_release(&err);
}

int cmd_run_report(struct run *r, int code, int json, struct buf *err)
{
	struct fileio_atomic handoff, page;
	int handoff_on = handoff_begin(r, code, &handoff), page_on = 0;

	ui_finish();
	redact_buf(err);
	redact_buf(&r->reason);
	if ((code == 2 || code == 3) && !err->len) /* never an empty error */
		buf_addf(err,
			 "loopgate stopped with exit %d (%s%s%s) without saying why: "
			 "please report it; the run's records are in %s",
			 code, r->status ? r->status : "error", r->reason.len ? ": " : "",
			 r->reason.len ? r->reason.s : "",
			 r->run_dir ? r->run_dir : "(no run directory)");
	if (code == 2 || code == 3)
		fprintf(stderr, "loopgate: error: %s\n", err->s);
	else
		fprintf(stderr, "loopgate: %s: %s\n", r->status, r->reason.s);
	if (r->run_dir && code != 2)
		fprintf(stderr, "loopgate: run directory %s%s\n", r->run_dir,
			code == 1 ? " (see handoff.md)" : "");
	if (code == 0 && r->w->branch && strcmp(r->status, "already_satisfied"))
		fprintf(stderr, "loopgate: the result is on branch %s\n", r->w->branch);
	if (r->run_dir && code != 2)
		page_on = report_begin(r, &page);
	if (handoff_on)
		handoff_end(&handoff);
	if (json) {
		if (r->run_dir && r->ev.fd >= 0) {
			json_t *sum = run_summary(r, code);
			char *s = json_dumps(sum,
					     JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
			printf("%s\n", s);
			free(s);
			json_decref(sum);
		} else {
			print_error_json(err->s, code);
		}
	}
	if (page_on)
		report_end(r, &page);
	return code;
}

int cmd_run_load(int argc, char **argv, const char *name, const char *usage,
		 struct config *flags, struct config *cfg, int *ui_flags, struct buf *err)
{
	const struct option *opts = build_options();
	char *config_path = NULL;
	int opt, code = -1;

	optind = 1;
	opterr = 0;
	while (code < 0 && (opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			code = 0;
		} else if (opt == '?') {
			err_set(err, -EINVAL,
				"unknown or incomplete option '%s' (see "
				"loopgate %s --help)",
				argv[optind - 1], name);
			code = fail(flags, 2, err);
		} else if (opt == O_NO_PROGRESS) {
			*ui_flags |= UI_NO_PROGRESS;
		} else if (parse_one(opt, flags, &config_path, err) < 0) {
			code = fail(flags, 2, err);
		}
	}
	if (code < 0 && optind < argc) {
		err_set(err, -EINVAL,
			"unexpected argument '%s' (quote the goal and "
			"pass it with --goal)",
			argv[optind]);
		code = fail(flags, 2, err);
	}
	if (code < 0 &&
	    load_config(cfg, flags->dir ? flags->dir : ".", config_path, err) < 0)
		code = fail(flags, 2, err);
	if (code < 0)
		config_overlay(cfg, flags);
	free(config_path);
	return code;
}

int cmd_run_fail(const struct config *c, int code, const struct buf *err)
{
	return fail(c, code, err);
}

void cmd_run_begin(struct run *r, const struct config *cfg, int ui_flags)
{
	ui_init(ui_flags);
	interrupt_install();
	run_init(r, cfg);
	ui_watch(r);
}

static int cmd_run(int argc, char **argv)
{
	struct config flags, cfg;
	struct buf err = BUF_INIT;
	struct run r;
	int code, ui_flags = 0;

	/* the jail's cgroup join waits for a grace period the prime pays
	 * meanwhile (cgroup.h): begun before the config is read, ended at
	 * once when there is no sandbox to start */
	cgroup_prime();
	config_init(&flags);
	config_init(&cfg);
	code = cmd_run_load(argc, argv, "run", run_usage, &flags, &cfg, &ui_flags, &err);
	if (code >= 0)
		goto out;
	if (config_finalize(&cfg, &err) < 0 || config_check_workers(&cfg, &err) < 0 ||
	    (cfg.agent && agent_check_config(&cfg, &err) < 0)) {
		code = fail(&cfg, 2, &err);
		goto out;
	}
	if (!cfg.sandbox)
		cgroup_prime_end();
	cmd_run_begin(&r, &cfg, ui_flags);
	code = loop_run(&r, &err);
	code = cmd_run_report(&r, code, cfg.json == 1, &err);
	run_release(&r);
out:
	cgroup_prime_end(); /* a usage error: no jail */
	config_release(&flags);
	config_release(&cfg);
	buf_release(&err);
	return code;
}

const struct cmd_entry cmd_run_entry = {"run",
					"run the loop until the gates pass "
					"or a budget is spent",
					cmd_run};
