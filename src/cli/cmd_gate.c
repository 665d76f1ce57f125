/*
 * cmd_gate.c: `loopgate gate check` — can each gate catch a defect?
 *
 * Parses the flags, loads the configuration, and prints the report (text
 * or --json).  The check itself (worktree, gates on HEAD and on planted
 * defects, history scan, verdicts) is judge/gatecheck.c.
 */
#include "base/clock.h"
#include "cli/cmd.h"
#include "config/config.h"
#include "record/events.h"
#include "tree/git.h"
#include "judge/gatecheck.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_SUSPECT = 1, EXIT_USAGE = 2, EXIT_CANNOT = 3 };

static const char gate_usage[] =
	"usage: loopgate gate check [options]\n"
	"\n"
	"  check    run the gates on HEAD and on copies with a planted defect, and\n"
	"           report whether each gate catches it (loopgate gate check --help)\n";

static const char check_usage[] =
	"usage: loopgate gate check [--dir PATH] [--config FILE] [--gate CMD ...]\n"
	"                           [--gate-timeout DURATION] [--json]\n"
	"\n"
	"Runs every gate on a temporary worktree of HEAD, then plants a small defect\n"
	"in a tracked source file (' + ' becomes ' - ', '==' becomes '!=', ...; test\n"
	"files and gate scripts are never mutated) and runs the gates that passed on\n"
	"HEAD again, at up to 5 sites.  A gate that fails on the mutant catches\n"
	"defects; one that misses them all is suspect.  Gates that never failed in\n"
	"any run recorded under .loopgate/runs are flagged too.  Your tree and branch\n"
	"are never touched.\n"
	"\n"
	"  --gate CMD               a gate command (repeatable; default: gates: in\n"
	"                           loopgate.yaml)\n"
	"  --gate-timeout DURATION  per gate run on HEAD (default 10m); with a planted\n"
	"                           defect: 5x the HEAD run, at least 10s, at most this\n"
	"  --dir PATH               the git repository (default .)\n"
	"  --config FILE            default: loopgate.yaml in the repository, if "
	"present\n"
	"  --json                   print one JSON object on stdout\n"
	"  --policy FILE            a policy over the config's policy: section\n"
	"  --no-sandbox             run the gates without bubblewrap\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 every checkable gate caught a planted defect, 1 a gate is\n"
	"suspect, 2 usage or configuration error, 3 could not run.\n";

enum { O_GATE = 256, O_GATE_TIMEOUT, O_DIR, O_CONFIG, O_JSON, O_POLICY, O_NO_SANDBOX };

static const struct option options[] = {
	{"gate", required_argument, NULL, O_GATE},
	{"gate-timeout", required_argument, NULL, O_GATE_TIMEOUT},
	{"dir", required_argument, NULL, O_DIR},
	{"config", required_argument, NULL, O_CONFIG},
	{"json", no_argument, NULL, O_JSON},
	{"policy", required_argument, NULL, O_POLICY},
	{"no-sandbox", no_argument, NULL, O_NO_SANDBOX},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* ---- options and configuration ----------------------------------------- */

static int parse_args(int argc, char **argv, struct config *f, char **config_path,
		      struct buf *err)
{
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			return 1;
		case O_GATE:
			strlist_push(&f->gates, optarg);
			break;
		case O_GATE_TIMEOUT:
			if (config_parse_duration(optarg, &f->gate_timeout_ms) == -ERANGE)
				return err_set(
					err, -EINVAL,
					"--gate-timeout '%s' is too long: the maximum "
					"is %s",
					optarg, CONFIG_DURATION_MAX_TEXT);
			if (config_parse_duration(optarg, &f->gate_timeout_ms) < 0 ||
			    f->gate_timeout_ms <= 0)
				return err_set(
					err, -EINVAL,
					"--gate-timeout expects a "
					"duration such as 90s, 30m or 2h, not '%s'",
					optarg);
			break;
		case O_DIR:
			free(f->dir);
			f->dir = xstrdup(optarg);
			break;
		case O_CONFIG:
			free(*config_path);
			*config_path = xstrdup(optarg);
			break;
		case O_JSON:
			f->json = 1;
			break;
		case O_NO_SANDBOX:
			f->sandbox = 0;
			break;
		case O_POLICY:
			if (config_load_policy_file(f, optarg, err) < 0)
				return -EINVAL;
			break;
		default:
			return err_set(err, -EINVAL,
				       "unknown or incomplete option '%s' "
				       "(see loopgate gate check --help)",
				       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return err_set(err, -EINVAL,
			       "unexpected argument '%s' (see loopgate "
			       "gate check --help)",
			       argv[optind]);
	return 0;
}

static void print_gate(const struct check *ck, size_t i)
{
	const struct gcheck *g = &ck->g[i];
	enum verdict v = gatecheck_verdict(ck, g);
	char *text = gatecheck_verdict_text(ck, g);
	size_t dl = strlen(ck->dir);
	const char *out = g->head_output;

	if (!strncmp(out, ck->dir, dl) && out[dl] == '/')
		out += dl + 1; /* the header names the directory */
	printf("\ngate %zu: %s\n", i + 1, g->cmd);
	printf("  on HEAD:  %s (%s, %.1fs), output %s\n",
	       g->head_passed ? "passed" : "failed", g->head_desc, g->head_ms / 1000,
	       out);
	for (size_t k = 0; k < g->nruns; k++) {
		const struct plant_site *s = &ck->sites[g->runs[k].site];
		printf("  planted:  %s:%ld: %s\n            \"%s\" -> \"%s\": %s (%s)\n",
		       s->file, s->line, s->mutation, s->before, s->after,
		       g->runs[k].caught ? "caught" : "missed", g->runs[k].describe);
	}
	printf("  verdict:  %s\n", text);
	if (v == V_FAILS_ON_HEAD)
		printf("  gate %zu fails on HEAD: a defect can't be told from the "
		       "baseline "
		       "failure; this is expected before a loop — run the check on a "
		       "tree where the gates pass\n",
		       i + 1);
	if (v == V_SUSPECT)
		printf("  a gate that passes with these defects in place lets a broken "
		       "change converge (a build or lint gate is not expected to catch "
		       "them: pair it with a test gate)\n");
	if (gatecheck_history_suspect(g))
		printf("  history:  never failed in %ld recorded run%s: suspect\n",
		       g->hist_runs, g->hist_runs == 1 ? "" : "s");
	else if (g->hist_runs)
		printf("  history:  failed in %ld of %ld recorded runs\n",
		       g->hist_failures, g->hist_runs);
	else
		printf("  history:  in no recorded run\n");
	free(text);
}

static void print_report(const struct check *ck, int code)
{
	size_t catches = 0, suspect = 0, unchecked = 0;

	printf("loopgate gate check: HEAD %.12s, %zu gate%s, outputs in %s\n", ck->head,
	       ck->ng, ck->ng == 1 ? "" : "s", ck->dir);
	for (size_t i = 0; i < ck->ng; i++) {
		enum verdict v = gatecheck_verdict(ck, &ck->g[i]);
		catches += v == V_CATCHES;
		suspect += v == V_SUSPECT;
		unchecked += v == V_FAILS_ON_HEAD || v == V_NOTHING_PLANTED;
		print_gate(ck, i);
	}
	printf("\nsummary: %zu catch%s a planted defect, %zu suspect, %zu not "
	       "checkable%s\n",
	       catches, catches == 1 ? "es" : "", suspect, unchecked,
	       code == EXIT_OK && !catches ? " (nothing was verified)" : "");
}

static json_t *gate_json(const struct check *ck, size_t i)
{
	const struct gcheck *g = &ck->g[i];
	json_t *planted = json_array();
	char *text = gatecheck_verdict_text(ck, g);
	json_t *o;

	for (size_t k = 0; k < g->nruns; k++) {
		const struct plant_site *s = &ck->sites[g->runs[k].site];
		json_array_append_new(
			planted,
			json_pack("{s:o,s:I,s:o,s:o,s:o,s:b,s:i,s:o,s:o}", "file",
				  events_str(s->file), "line", (json_int_t)s->line,
				  "before", events_str(s->before), "after",
				  events_str(s->after), "mutation",
				  events_str(s->mutation), "caught", g->runs[k].caught,
				  "exit_code", g->runs[k].exit_code, "describe",
				  events_str(g->runs[k].describe), "output_file",
				  events_str(g->runs[k].output_file)));
	}
	o = json_pack("{s:i,s:o,s:{s:b,s:i,s:o,s:o},s:o,s:s,s:o,s:{s:I,s:I,s:b}}",
		      "index", (int)i + 1, "command", events_str(g->cmd), "head",
		      "passed", g->head_passed, "exit_code", g->head_exit, "describe",
		      events_str(g->head_desc), "output_file", events_str(g->head_output),
		      "planted", planted, "verdict",
		      gatecheck_verdict_key(gatecheck_verdict(ck, g)), "verdict_text",
		      events_str(text), "history", "runs", (json_int_t)g->hist_runs,
		      "failures", (json_int_t)g->hist_failures, "suspect",
		      gatecheck_history_suspect(g));
	free(text);
	return o;
}

static void print_json(const struct check *ck, int code, const char *error)
{
	json_t *gates = json_array(), *o;
	char *s;
	int any = 0;

	for (size_t i = 0; !error && i < ck->ng; i++) {
		json_array_append_new(gates, gate_json(ck, i));
		any |= gatecheck_verdict(ck, &ck->g[i]) == V_CATCHES;
	}
	o = json_pack("{s:o,s:s,s:i,s:o,s:o,s:o,s:b}", "gates", gates, "status",
		      error		     ? "error"
		      : code == EXIT_SUSPECT ? "suspect"
		      : any		     ? "catches"
					     : "unchecked",
		      "exit_code", code, "reason",
		      error ? events_str(error) : json_null(), "head",
		      ck->head ? json_string(ck->head) : json_null(), "check_dir",
		      ck->dir ? events_str(ck->dir) : json_null(), "sandbox",
		      ck->cfg.sandbox != 0);
	s = json_dumps(o, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* ---- the command --------------------------------------------------------- */

/* Configuration and repository; EXIT_USAGE/EXIT_CANNOT with err set. */
static int prepare(struct check *ck, int argc, char **argv, struct buf *err)
{
	struct config flags;
	struct buf top = BUF_INIT;
	char *config_path = NULL;
	int ret, code = 0;

	config_init(&flags);
	if ((ret = parse_args(argc, argv, &flags, &config_path, err)) != 0) {
		code = ret > 0 ? -1 : EXIT_USAGE;
		ck->cfg.json = flags.json;
		goto out;
	}
	ck->cfg.json = flags.json;
	if (git_toplevel(flags.dir ? flags.dir : ".", &top, err) < 0) {
		code = EXIT_CANNOT;
		goto out;
	}
	ck->repo = buf_detach(&top, NULL);
	if (config_load_default(&ck->cfg, ck->repo, config_path, err) < 0) {
		code = EXIT_USAGE;
		goto out;
	}
	config_overlay(&ck->cfg, &flags);
	if (config_finalize_gates(&ck->cfg, err) < 0)
		code = EXIT_USAGE;
out:
	free(config_path);
	config_release(&flags);
	buf_release(&top);
	return code;
}

static int check_run(struct check *ck, struct buf *err)
{
	if (gatecheck_run(ck, err) < 0)
		return EXIT_CANNOT;
	for (size_t i = 0; i < ck->ng; i++)
		if (gatecheck_verdict(ck, &ck->g[i]) == V_SUSPECT)
			return EXIT_SUSPECT;
	return EXIT_OK;
}

/* The progress line of a gate run, on a terminal only. */
static void progress(void *ctx, size_t gate, const char *sub)
{
	(void)ctx;
	fprintf(stderr, "loopgate: gate %zu on %s...\n", gate + 1, sub);
}

static int cmd_gate_check(int argc, char **argv)
{
	struct check ck;
	struct buf err = BUF_INIT, rm = BUF_INIT;
	int code;

	memset(&ck, 0, sizeof(ck));
	config_init(&ck.cfg);
	code = prepare(&ck, argc, argv, &err);
	if (code < 0) {
		fputs(check_usage, stdout);
		code = EXIT_OK;
		goto out;
	}
	if (code == 0) {
		interrupt_install();
		if (isatty(STDERR_FILENO))
			ck.progress = progress;
		code = check_run(&ck, &err);
	}
	if (gatecheck_remove_tree(&ck, &rm) < 0)
		fprintf(stderr,
			"loopgate: warning: could not remove the check's worktree "
			"(%s); remove it with: git worktree remove --force %s\n",
			rm.s, ck.tree);
	if (code >= EXIT_USAGE)
		fprintf(stderr, "loopgate: error: %s\n", err.s);
	else if (ck.cfg.json != 1)
		print_report(&ck, code);
	if (ck.cfg.json == 1)
		print_json(&ck, code, code >= EXIT_USAGE ? err.s : NULL);
out:
	gatecheck_release(&ck);
	buf_release(&err);
	buf_release(&rm);
	return code;
}

static int cmd_gate(int argc, char **argv)
{
	return cmd_group(argc, argv, "check", cmd_gate_check, gate_usage);
}

const struct cmd_entry cmd_gate_entry = {"gate",
					 "check that each gate catches a "
					 "planted defect",
					 cmd_gate};
