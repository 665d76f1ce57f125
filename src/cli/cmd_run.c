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
#include "exec/sandbox.h"
#include "cli/ui.h"

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

enum {
	O_GOAL = 256,
	O_GOAL_FILE,
	O_GATE,
	O_MODEL,
	O_BASE_URL,
	O_AGENT_CMD,
	O_AGENT_ENV,
	O_MAX_ITER,
	O_MAX_COST,
	O_MAX_TOKENS,
	O_DEADLINE,
	O_GATE_TIMEOUT,
	O_PROTECT,
	O_CONTEXT,
	O_DIR,
	O_CONFIG,
	O_JSON,
	O_RECORD,
	O_ALLOW_DIRTY,
	O_FEEDBACK_MAX,
	O_NO_PROGRESS,
	O_MAX_OUT,
	O_NO_STREAM,
	O_NO_PROTECT,
	O_CONFIRM,
	O_STALL_AFTER,
	O_POLICY,
	O_NO_SANDBOX,
	O_UNPROTECT,
	O_MAX_ACTOR_FAILURES,
	O_AGENT,
	O_AGENT_BIN,
	O_ACTOR_TIMEOUT,
};

static const struct option options[] = {
	{"goal", required_argument, NULL, O_GOAL},
	{"goal-file", required_argument, NULL, O_GOAL_FILE},
	{"gate", required_argument, NULL, O_GATE},
	{"model", required_argument, NULL, O_MODEL},
	{"base-url", required_argument, NULL, O_BASE_URL},
	{"agent-cmd", required_argument, NULL, O_AGENT_CMD},
	{"agent-env", required_argument, NULL, O_AGENT_ENV},
	{"agent", required_argument, NULL, O_AGENT},
	{"agent-bin", required_argument, NULL, O_AGENT_BIN},
	{"actor-timeout", required_argument, NULL, O_ACTOR_TIMEOUT},
	{"max-iterations", required_argument, NULL, O_MAX_ITER},
	{"max-cost", required_argument, NULL, O_MAX_COST},
	{"max-tokens", required_argument, NULL, O_MAX_TOKENS},
	{"deadline", required_argument, NULL, O_DEADLINE},
	{"gate-timeout", required_argument, NULL, O_GATE_TIMEOUT},
	{"protect", required_argument, NULL, O_PROTECT},
	{"context", required_argument, NULL, O_CONTEXT},
	{"dir", required_argument, NULL, O_DIR},
	{"config", required_argument, NULL, O_CONFIG},
	{"json", no_argument, NULL, O_JSON},
	{"record", required_argument, NULL, O_RECORD},
	{"allow-dirty", no_argument, NULL, O_ALLOW_DIRTY},
	{"feedback-max-bytes", required_argument, NULL, O_FEEDBACK_MAX},
	{"no-progress", no_argument, NULL, O_NO_PROGRESS},
	{"max-output-tokens", required_argument, NULL, O_MAX_OUT},
	{"no-stream", no_argument, NULL, O_NO_STREAM},
	{"no-protect", no_argument, NULL, O_NO_PROTECT},
	{"confirm", required_argument, NULL, O_CONFIRM},
	{"stall-after", required_argument, NULL, O_STALL_AFTER},
	{"policy", required_argument, NULL, O_POLICY},
	{"no-sandbox", no_argument, NULL, O_NO_SANDBOX},
	{"unprotect", required_argument, NULL, O_UNPROTECT},
	{"max-actor-failures", required_argument, NULL, O_MAX_ACTOR_FAILURES},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int parse_long(const char *flag, const char *s, long *out, struct buf *err)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		return err_set(err, -EINVAL, "%s expects a positive integer, not '%s'",
			       flag, s);
	*out = v;
	return 0;
}

static int parse_cost(const char *s, double *out, struct buf *err)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0)
		return err_set(err, -EINVAL,
			       "--max-cost expects an amount in USD "
			       "such as 2.50, not '%s'",
			       s);
	*out = v;
	return 0;
}

static int parse_dur(const char *flag, const char *s, long *out, struct buf *err)
{
	int ret = config_parse_duration(s, out);
	if (ret == -ERANGE)
		return err_set(err, -EINVAL, "%s '%s' is too long: the maximum is %s",
			       flag, s, CONFIG_DURATION_MAX_TEXT);
	if (ret < 0 || *out <= 0)
		return err_set(err, -EINVAL,
			       "%s expects a duration such as 90s, 30m "
			       "or 2h, not '%s'",
			       flag, s);
	return 0;
}

/* The flags that set one string, add to one list, or set one number of
 * struct config: a table each, so a new flag of these kinds is one row. */
#define CFG(field) offsetof(struct config, field)
static const struct {
	int opt;
	size_t off;
} str_flags[] =
	{
		{O_GOAL, CFG(goal)},	       {O_GOAL_FILE, CFG(goal_file)},
		{O_MODEL, CFG(model)},	       {O_BASE_URL, CFG(base_url)},
		{O_AGENT_CMD, CFG(agent_cmd)}, {O_DIR, CFG(dir)},
		{O_RECORD, CFG(record)},       {O_AGENT, CFG(agent)},
		{O_AGENT_BIN, CFG(agent_bin)},
},
  list_flags[] = {
	  {O_GATE, CFG(gates)},		 {O_AGENT_ENV, CFG(agent_env)},
	  {O_PROTECT, CFG(protect)},	 {O_CONTEXT, CFG(context)},
	  {O_UNPROTECT, CFG(unprotect)},
};
static const struct {
	int opt;
	const char *flag;
	size_t off;
} long_flags[] = {
	{O_MAX_ITER, "--max-iterations", CFG(max_iterations)},
	{O_MAX_TOKENS, "--max-tokens", CFG(max_tokens)},
	{O_FEEDBACK_MAX, "--feedback-max-bytes", CFG(feedback_max_bytes)},
	{O_MAX_OUT, "--max-output-tokens", CFG(max_output_tokens)},
	{O_CONFIRM, "--confirm", CFG(confirm)},
	{O_STALL_AFTER, "--stall-after", CFG(stall_after)},
	{O_MAX_ACTOR_FAILURES, "--max-actor-failures", CFG(max_actor_failures)},
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A flag of the tables above: 1 when opt is one (with *ret set), else 0. */
static int parse_table(int opt, struct config *f, int *ret, struct buf *err)
{
	char *base = (char *)f;
	size_t i;

	for (i = 0; i < NELEM(str_flags); i++)
		if (str_flags[i].opt == opt) {
			char **dst = (char **)(base + str_flags[i].off);
			free(*dst);
			*dst = xstrdup(optarg);
			return (*ret = 0) == 0;
		}
	for (i = 0; i < NELEM(list_flags); i++)
		if (list_flags[i].opt == opt) {
			strlist_push((struct strlist *)(base + list_flags[i].off),
				     optarg);
			return (*ret = 0) == 0;
		}
	for (i = 0; i < NELEM(long_flags); i++)
		if (long_flags[i].opt == opt) {
			*ret = parse_long(long_flags[i].flag, optarg,
					  (long *)(base + long_flags[i].off), err);
			return 1;
		}
	return 0;
}

static int parse_one(int opt, struct config *f, char **config_path, struct buf *err)
{
	int ret;

	if (parse_table(opt, f, &ret, err))
		return ret;
	switch (opt) {
	case O_MAX_COST:
		return parse_cost(optarg, &f->max_cost, err);
	case O_DEADLINE:
		return parse_dur("--deadline", optarg, &f->deadline_ms, err);
	case O_ACTOR_TIMEOUT:
		return parse_dur("--actor-timeout", optarg, &f->actor_timeout_ms, err);
	case O_GATE_TIMEOUT:
		return parse_dur("--gate-timeout", optarg, &f->gate_timeout_ms, err);
	case O_CONFIG:
		free(*config_path);
		*config_path = xstrdup(optarg);
		return 0;
	case O_JSON:
		f->json = 1;
		return 0;
	case O_ALLOW_DIRTY:
		f->allow_dirty = 1;
		return 0;
	case O_NO_STREAM:
		f->stream = 0;
		return 0;
	case O_NO_PROTECT:
		f->no_protect = 1;
		return 0;
	case O_POLICY:
		return config_load_policy_file(f, optarg, err);
	case O_NO_SANDBOX:
		f->sandbox = 0;
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

/* handoff.md for a run that halted, or could not go on with a tree to hand
 * over: written here, after the engine returned (report.h). */
static void write_handoff(const struct run *r, int code)
{
	struct buf herr = BUF_INIT;
	if (r->run_dir && r->ev.fd >= 0 &&
	    (code == 1 || (code == 3 && r->w->tree)) && /* halted, could not go on */
	    report_handoff(r, &herr) < 0)
		ui_log("could not write handoff.md: %s", herr.s);
	buf_release(&herr);
}

/*
 * report.html at the end of every run that has a log, halted, failed or
 * resumed alike: sealed first, so the page shows the final checkpoint.  A
 * page that cannot be written costs a warning, never the run's status.
 */
static void write_report(struct run *r)
{
	struct buf err = BUF_INIT;
	int ret;

	if (r->ev.fd >= 0 && !r->ev.sealed)
		events_seal(&r->ev);
	ret = report_html_write(r->run_dir, NULL, &err);
	if (ret == 0)
		fprintf(stderr, "loopgate: report %s/%s\n", r->run_dir, REPORT_HTML_FILE);
	else if (ret != -ENOENT)
		fprintf(stderr, "loopgate: warning: no %s: %s\n", REPORT_HTML_FILE,
			err.s);
	buf_release(&err);
}

int cmd_run_report(struct run *r, int code, int json, struct buf *err)
{
	write_handoff(r, code);
	ui_finish();
	redact_buf(err);
	redact_buf(&r->reason);
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
		write_report(r);
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
	return code;
}

int cmd_run_load(int argc, char **argv, const char *name, const char *usage,
		 struct config *flags, struct config *cfg, int *ui_flags, struct buf *err)
{
	char *config_path = NULL;
	int opt, code = -1;

	optind = 1;
	opterr = 0;
	while (code < 0 && (opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
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

	config_init(&flags);
	config_init(&cfg);
	code = cmd_run_load(argc, argv, "run", run_usage, &flags, &cfg, &ui_flags, &err);
	if (code >= 0)
		goto out;
	if (config_finalize(&cfg, &err) < 0 ||
	    (cfg.agent && agent_check_config(&cfg, &err) < 0)) {
		code = fail(&cfg, 2, &err);
		goto out;
	}
	cmd_run_begin(&r, &cfg, ui_flags);
	code = loop_run(&r, &err);
	code = cmd_run_report(&r, code, cfg.json == 1, &err);
	run_release(&r);
out:
	config_release(&flags);
	config_release(&cfg);
	buf_release(&err);
	return code;
}

const struct cmd_entry cmd_run_entry = {"run",
					"run the loop until the gates pass "
					"or a budget is spent",
					cmd_run};
