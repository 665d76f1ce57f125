/*
 * cmd_agent.c: `loopgate agent check` — will this agent preset work here?
 *
 * The run's pre-flight (agent_turn.h: the program resolves, every named
 * variable is set, it starts inside the sandbox, its API host answers
 * through the proxy), then one trial turn in an empty scratch tree, whose
 * spend is read from the CLI's own report and printed.  One line per check;
 * a failure is one line naming the fix, exit 2.  Nothing of the user's is
 * touched: the scratch tree is removed at the end.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "cli/cmd.h"
#include "record/rundir.h"
#include "config/config.h"
#include "base/fileio.h"
#include "tree/git.h"
#include "engine/agent_turn.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_USAGE = 2, EXIT_CANNOT = 3 };

#define TRIAL_PROMPT                                                                     \
	"This is a connection check by loopgate. Reply with the single word: "           \
	"ready. Do not change any file.\n"

static const char agent_usage[] =
	"usage: loopgate agent check --agent NAME [options]\n"
	"\n"
	"  check    the run's pre-flight for an agent preset, then one trial turn\n"
	"           (loopgate agent check --help)\n";

static const char check_usage[] =
	"usage: loopgate agent check --agent NAME [--model NAME] [--base-url URL]\n"
	"                            [--agent-bin PATH] [--agent-env NAME ...]\n"
	"                            [--actor-timeout DURATION] [--no-trial]\n"
	"                            [--dir PATH] [--config FILE] [--policy FILE]\n"
	"                            [--no-sandbox]\n"
	"\n"
	"Checks that the agent CLI of a preset (claude, codex, gemini, qwen, opencode,\n"
	"aider) is found, that every variable it is to get is set, that it starts\n"
	"inside the sandbox and that its API host is reachable through the sandbox's\n"
	"proxy, as `loopgate run --agent NAME` does before its baseline; then runs one\n"
	"trial turn in an empty scratch tree and prints what it spent, from the CLI's\n"
	"own usage report.  The trial turn is a real call: it costs a little.\n"
	"\n"
	"Exit status: 0 all checks passed, 2 a check failed (the line says what to\n"
	"do), 3 could not run (no sandbox).\n";

static const struct option options[] = {
	{"agent", required_argument, NULL, 'a'},
	{"model", required_argument, NULL, 'm'},
	{"base-url", required_argument, NULL, 'u'},
	{"agent-bin", required_argument, NULL, 'b'},
	{"agent-env", required_argument, NULL, 'e'},
	{"actor-timeout", required_argument, NULL, 't'},
	{"no-trial", no_argument, NULL, 'n'},
	{"dir", required_argument, NULL, 'd'},
	{"config", required_argument, NULL, 'c'},
	{"policy", required_argument, NULL, 'p'},
	{"no-sandbox", no_argument, NULL, 'S'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void set(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* 0, 1 for --help, or -EINVAL with err set. */
static int parse(int argc, char **argv, struct config *f, char **cfg_path, int *trial,
		 struct buf *err)
{
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'a':
			set(&f->agent, optarg);
			break;
		case 'm':
			set(&f->model, optarg);
			break;
		case 'u':
			set(&f->base_url, optarg);
			break;
		case 'b':
			set(&f->agent_bin, optarg);
			break;
		case 'e':
			strlist_push(&f->agent_env, optarg);
			break;
		case 'd':
			set(&f->dir, optarg);
			break;
		case 'c':
			set(cfg_path, optarg);
			break;
		case 'n':
			*trial = 0;
			break;
		case 'S':
			f->sandbox = 0;
			break;
		case 'h':
			return 1;
		case 't':
			if (config_parse_duration(optarg, &f->actor_timeout_ms) < 0 ||
			    f->actor_timeout_ms <= 0)
				return err_set(err, -EINVAL,
					       "--actor-timeout expects a duration "
					       "such as 90s or 5m, not '%s'",
					       optarg);
			break;
		case 'p':
			if (config_load_policy_file(f, optarg, err) < 0)
				return -EINVAL;
			break;
		default:
			return err_set(err, -EINVAL,
				       "unknown or incomplete option '%s' (see "
				       "loopgate agent check --help)",
				       argv[optind - 1]);
		}
	}
	return 0;
}

/* The config a run would use, with what the check does not need filled. */
static int load(struct config *cfg, struct config *flags, const char *cfg_path,
		struct buf *err)
{
	struct buf top = BUF_INIT;
	int ret;

	if (git_toplevel(flags->dir ? flags->dir : ".", &top, NULL) < 0)
		buf_sets(&top, flags->dir ? flags->dir : ".");
	ret = config_load_default(cfg, top.s, cfg_path, err);
	buf_release(&top);
	if (ret < 0)
		return ret;
	config_overlay(cfg, flags);
	if (!cfg->agent)
		return err_set(err, -EINVAL,
			       "no agent: pass --agent NAME (claude, codex, gemini, "
			       "qwen, opencode, aider)");
	/* the gates are not this command's business */
	strlist_clear(&cfg->gates);
	strlist_push(&cfg->gates, "true");
	config_gate_opts_clear(cfg);
	if ((ret = config_finalize_gates(cfg, err)) < 0)
		return ret;
	return agent_check_config(cfg, err);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* The trial turn in dir/tree; prints its outcome and spend. */
static int trial(struct agent_rt *a, const struct config *cfg, const char *dir)
{
	struct agent_spawn s = AGENT_SPAWN_INIT;
	struct buf what = BUF_INIT, err = BUF_INIT;
	char *prompt = xasprintf("%s/prompt.md", dir),
	     *out = xasprintf("%s/actor.out", dir);
	char *errf = xasprintf("%s/actor.err", dir);
	int code = EXIT_OK;

	if (fileio_write_atomic(prompt, TRIAL_PROMPT, strlen(TRIAL_PROMPT), &err) < 0 ||
	    agent_rt_spawn(
		    a, cfg,
		    (s.prompt_file = prompt, s.out_path = out, s.err_path = errf, &s),
		    &err) < 0) {
		printf("failed: the trial turn could not run: %s\n", err.s);
		code = EXIT_CANNOT;
		goto out;
	}
	proc_describe(&s.res, cfg->actor_timeout_ms, &what);
	if (s.res.status != PROC_EXITED || s.res.exit_code) {
		buf_rtrim(&s.res.err);
		printf("failed: the trial turn ended with %s%s%s\n", what.s,
		       s.res.err.len ? ": " : "",
		       s.res.err.len ? (strrchr(s.res.err.s, '\n')
						? strrchr(s.res.err.s, '\n') + 1
						: s.res.err.s)
				     : "");
		code = EXIT_USAGE;
	} else if (!s.reported) {
		printf("failed: the trial turn printed no usage report %s could read: "
		       "its "
		       "spend would not count against the budget\n",
		       a->p->name);
		code = EXIT_USAGE;
	} else {
		printf("ok: trial turn: %s in %.1fs; %ld in / %ld out tokens", what.s,
		       s.res.elapsed_ms / 1000.0, s.usage.tokens_in, s.usage.tokens_out);
		if (s.usage.cost >= 0)
			printf(", $%.4f by its own report", s.usage.cost);
		printf("\n");
	}
out:
	proc_result_release(&s.res);
	buf_release(&what);
	buf_release(&err);
	free(prompt);
	free(out);
	free(errf);
	return code;
}

static int run_check(const struct config *cfg, int with_trial)
{
	struct agent_rt a;
	struct buf err = BUF_INIT, info = BUF_INIT;
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/loopgate-agent-check-XXXXXX",
			      tmp && *tmp ? tmp : "/tmp");
	char *tree = NULL;
	int code = EXIT_OK;

	memset(&a, 0, sizeof(a));
	if (!mkdtemp(dir)) {
		fprintf(stderr, "loopgate: cannot create a scratch directory: %s\n",
			strerror(errno));
		free(dir);
		return EXIT_CANNOT;
	}
	tree = rundir_tree(dir);
	if (fileio_mkdirs(tree, &err) < 0 ||
	    agent_rt_init(&a, cfg, tree, NULL, &err) < 0) {
		code = EXIT_USAGE;
	} else if (sandbox_probe(&a.sb, &err) < 0) {
		code = EXIT_CANNOT;
	} else if (agent_rt_preflight(&a, cfg, &info, &err) < 0) {
		code = EXIT_USAGE;
	}
	fputs(info.s, stdout);
	if (code != EXIT_OK)
		printf("failed: %s\n", err.s);
	else if (with_trial)
		code = trial(&a, cfg, dir);
	fflush(stdout);
	agent_rt_release(&a);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	buf_release(&err);
	buf_release(&info);
	free(tree);
	free(dir);
	return code;
}

static int cmd_agent_check(int argc, char **argv)
{
	struct config flags, cfg;
	struct buf err = BUF_INIT;
	char *cfg_path = NULL;
	int code, with_trial = 1, ret;

	config_init(&flags);
	config_init(&cfg);
	ret = parse(argc, argv, &flags, &cfg_path, &with_trial, &err);
	if (ret == 1) {
		fputs(check_usage, stdout);
		code = EXIT_OK;
	} else if (ret < 0 || load(&cfg, &flags, cfg_path, &err) < 0) {
		fprintf(stderr, "loopgate: error: %s\n", err.s);
		code = EXIT_USAGE;
	} else {
		code = run_check(&cfg, with_trial);
	}
	free(cfg_path);
	config_release(&flags);
	config_release(&cfg);
	buf_release(&err);
	return code;
}

static int cmd_agent(int argc, char **argv)
{
	return cmd_group(argc, argv, "check", cmd_agent_check, agent_usage);
}

const struct cmd_entry cmd_agent_entry = {"agent",
					  "check that an agent preset works here "
					  "(loopgate agent check)",
					  cmd_agent};
