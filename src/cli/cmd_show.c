/*
 * cmd_show.c: `loopgate show RUN` — one run's facts and each iteration's
 * outcome, from the run store — and `loopgate show RUN --iteration K`, that
 * iteration's prompt, response and gate output, from the run directory.
 */
#include "cli/cmd.h"
#include "record/rundir.h"
#include "store/store.h"
#include "engine/route.h"
#include "engine/fanout.h"
#include "base/saferead.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOW_FILE_MAX (1u << 20)

static const char show_usage[] =
	"usage: loopgate show RUN [--iteration K] [--dir PATH] [--json]\n"
	"\n"
	"Shows one run: goal, status, times, cost, branch, the state of its log\n"
	"and review, and each iteration's gate outcome, cost, failure and files.\n"
	"With --iteration K: that iteration's prompt, the model's response (or the\n"
	"agent command's output) and each gate's output, from the run directory\n"
	"(K = 0 is the baseline round).\n"
	"\n"
	"  RUN            a run id, or a unique prefix of one\n"
	"  --iteration K  one iteration's files\n"
	"  --dir PATH     the git repository (default .)\n"
	"  --json         one JSON object on stdout\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 ok, 2 usage error or unknown/ambiguous run or iteration,\n"
	"3 the store could not be read.\n";

enum { O_DIR = 256, O_JSON, O_ITER };

static const struct option options[] = {
	{"dir", required_argument, NULL, O_DIR},
	{"json", no_argument, NULL, O_JSON},
	{"iteration", required_argument, NULL, O_ITER},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const char *str(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
}

static double num(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : -1;
}

static void print_iterations(const json_t *its)
{
	const json_t *it, *f;
	char dur[16], cost[16];
	size_t i, j;

	printf("\n%3s  %-34s  %9s  %7s  %s\n", "#", "GATE RESULT", "COST", "TIME",
	       "FILES");
	json_array_foreach(its, i, it)
	{
		struct buf res = BUF_INIT, files = BUF_INIT;
		const json_t *fl = json_object_get(it, "files");
		if (num(it, "gate_failed") > 0)
			buf_addf(&res, "gate %.0f: %s", num(it, "gate_failed"),
				 str(it, "describe", "failed"));
		else if (num(it, "gate_failed") == 0)
			buf_adds(&res, "all passed");
		else
			buf_adds(&res, "(gates not run)");
		if (json_is_true(json_object_get(it, "noop")) || num(it, "noop") == 1)
			buf_adds(&files, "(no change)");
		json_array_foreach(fl, j, f)
			buf_addf(&files, "%s%s", j ? ", " : "", json_string_value(f));
		cmd_runs_duration(
			num(it, "duration_ms") < 0 ? -1 : num(it, "duration_ms") / 1000,
			dur, sizeof(dur));
		snprintf(cost, sizeof(cost), "$%.4f",
			 num(it, "cost_usd") < 0 ? 0 : num(it, "cost_usd"));
		printf("%3.0f  %-34s  %9s  %7s  %s\n", num(it, "n"), res.s, cost, dur,
		       files.s);
		buf_release(&res);
		buf_release(&files);
	}
	if (!json_array_size(its))
		printf("  (no iteration)\n");
}

/* Spend per role, from the run's summary.json (absent while it runs). */
static json_t *read_roles(const char *run_dir)
{
	char *path = rundir_file(run_dir, RUNDIR_SUMMARY);
	struct buf b = BUF_INIT;
	json_t *s = NULL, *roles;
	/* bounded: the run directory is not ours alone */
	if (saferead_user(path, "summary", 1 << 20, 0, &b, NULL) == 0)
		s = json_loadb(b.s, b.len, 0, NULL);
	buf_release(&b);
	free(path);
	roles = json_incref(json_object_get(s, "roles"));
	json_decref(s);
	return json_is_object(roles) ? roles : (json_decref(roles), NULL);
}

static void print_roles(const char *run_dir)
{
	json_t *roles = read_roles(run_dir);
	struct buf t = BUF_INIT;
	if (roles)
		route_spend_text(roles, "  ", &t);
	if (t.len)
		printf("roles:\n%s", t.s);
	buf_release(&t);
	json_decref(roles);
}

static void print_run(const json_t *r, const char *run_dir)
{
	const json_t *e;
	char dur[16];
	size_t i;

	cmd_runs_duration(num(r, "duration_s"), dur, sizeof(dur));
	printf("run %s\n", str(r, "id", "?"));
	printf("  goal:       %s\n", str(r, "goal", "(unknown)"));
	printf("  status:     %s", str(r, "status", "unknown"));
	if (json_is_integer(json_object_get(r, "exit_code")))
		printf(" (exit %.0f)", num(r, "exit_code"));
	if (json_string_value(json_object_get(r, "reason")))
		printf(": %s", str(r, "reason", ""));
	printf("\n  started:    %s\n  ended:      %s\n", str(r, "started", "-"),
	       str(r, "ended", "- (running, or the process died)"));
	printf("  spent:      %s, %.0f iteration(s), %.0f model call(s), tokens "
	       "%.0f in / %.0f out, $%.4f\n",
	       dur, num(r, "iterations") < 0 ? 0 : num(r, "iterations"),
	       num(r, "calls") < 0 ? 0 : num(r, "calls"),
	       num(r, "tokens_in") < 0 ? 0 : num(r, "tokens_in"),
	       num(r, "tokens_out") < 0 ? 0 : num(r, "tokens_out"),
	       num(r, "cost_usd") < 0 ? 0 : num(r, "cost_usd"));
	printf("  branch:     %s (from %.12s)\n", str(r, "branch", "-"),
	       str(r, "base", "-"));
	printf("  actor:      %s %s\n", str(r, "actor", "-"), str(r, "model", ""));
	printf("  log:        %s, seq %.0f", str(r, "log_status", "indexed live"),
	       num(r, "last_seq"));
	if (json_string_value(json_object_get(r, "log_detail")))
		printf(" (%s)", str(r, "log_detail", ""));
	printf("\n");
	if (json_string_value(json_object_get(r, "review"))) {
		printf("  review:     %s", str(r, "review", ""));
		if (json_string_value(json_object_get(r, "reviewer")))
			printf(" by %s at %s", str(r, "reviewer", ""),
			       str(r, "review_ts", ""));
		if (json_string_value(json_object_get(r, "review_note")))
			printf(": %s", str(r, "review_note", ""));
		printf("\n");
	}
	printf("  directory:  %s\n", run_dir);
	print_roles(run_dir);
	print_iterations(json_object_get(r, "per_iteration"));
	json_array_foreach(json_object_get(r, "integrity"), i, e)
	{
		if (!i)
			printf("\nintegrity events:\n");
		printf("  iteration %.0f: %s", num(e, "iteration"), str(e, "kind", "?"));
		if (json_object_get(e, "paths") &&
		    json_is_array(json_object_get(e, "paths"))) {
			char *p = json_dumps(json_object_get(e, "paths"), JSON_COMPACT);
			printf(" %s", p ? p : "");
			free(p);
		}
		printf("\n");
	}
}

/* One file of the iteration: {"what","file","exists","text","truncated"}. */
static json_t *read_part(const char *run_dir, const char *what, const char *rel)
{
	struct buf b = BUF_INIT;
	char *path = xasprintf("%s/%s", run_dir, rel);
	json_t *o = json_pack("{s:s,s:s}", "what", what, "file", rel);
	int ret;

	buf_init(&b, SHOW_FILE_MAX);
	ret = buf_read_file(&b, path);
	json_object_set_new(o, "exists", json_boolean(ret >= 0 || ret == -E2BIG));
	if (ret >= 0 || ret == -E2BIG) {
		json_object_set_new(o, "text", events_strn(b.s, b.len));
		json_object_set_new(o, "truncated", json_boolean(ret == -E2BIG));
	} else {
		json_object_set_new(o, "error", json_string(strerror(-ret)));
	}
	buf_release(&b);
	free(path);
	return o;
}

/* The iteration's parts, in reading order. */
static json_t *iteration_parts(const json_t *run, const char *run_dir, long k)
{
	json_t *parts = json_array(), *g;
	char dir[32], *rel;
	size_t i;

	rundir_iter_name(dir, sizeof(dir), k);
	if (k) {
		rel = xasprintf("%s/prompt.md", dir);
		json_array_append_new(parts, read_part(run_dir, "prompt", rel));
		free(rel);
		int cmd = !strcmp(str(run, "actor", ""), "command") ||
			  !strcmp(str(run, "actor", ""), "agent");
		rel = xasprintf("%s/%s", dir, cmd ? "actor.out" : "response.md");
		json_array_append_new(
			parts,
			read_part(run_dir, cmd ? "agent output" : "response", rel));
		free(rel);
	}
	json_array_foreach(json_object_get(run, "gates"), i, g)
	{
		struct buf what = BUF_INIT;
		json_t *p;
		if (num(g, "iteration") != k || !str(g, "output_file", NULL))
			continue;
		buf_addf(&what, "gate %.0f `%s`: %s", num(g, "gate"),
			 str(g, "command", "?"),
			 str(g, "describe", NULL) ? str(g, "describe", "")
						  : str(g, "status", "?"));
		if (num(g, "cached") == 1)
			buf_addf(&what, " (cached: %s)",
				 num(g, "passed") == 1 ? "passed" : "failed");
		p = read_part(run_dir, what.s, str(g, "output_file", ""));
		json_array_append_new(parts, p);
		buf_release(&what);
	}
	return parts;
}

static void print_parts(const json_t *parts, long k)
{
	const json_t *p;
	size_t i;

	json_array_foreach(parts, i, p)
	{
		printf("== %s (%s) ==\n", str(p, "what", "?"), str(p, "file", "?"));
		if (!json_is_true(json_object_get(p, "exists"))) {
			printf("(missing: %s; the run may have stopped before writing "
			       "it)\n\n",
			       str(p, "error", "not found"));
			continue;
		}
		fputs(str(p, "text", ""), stdout);
		if (json_is_true(json_object_get(p, "truncated")))
			printf("\n(shown up to %u bytes; the whole file is in the run "
			       "directory)",
			       SHOW_FILE_MAX);
		printf("\n");
	}
	if (!json_array_size(parts))
		printf("iteration %ld ran no gate and has no files\n", k);
}

static int has_iteration(const json_t *run, long k)
{
	const json_t *it;
	size_t i;
	if (k == 0)
		return json_array_size(json_object_get(run, "gates")) > 0;
	json_array_foreach(json_object_get(run, "per_iteration"), i,
			   it) if (num(it, "n") == k) return 1;
	return 0;
}

/* A fan-out run's workers, from its summary.json (NULL: not one). */
static json_t *workers_of(const char *run_dir)
{
	char *path = rundir_file(run_dir, RUNDIR_SUMMARY);
	json_t *s = json_load_file(path, 0, NULL), *w;
	free(path);
	w = json_incref(json_object_get(s, "workers"));
	json_decref(s);
	return w;
}

static void print_workers(const json_t *ws)
{
	size_t i;
	const json_t *w;

	if (!json_array_size(ws))
		return;
	printf("\n%-4s %-12s %-17s %5s %9s  %-10s %-14s %s\n", "", "WORKER", "STATUS",
	       "ITERS", "COST", "CHECK", "VOTE", "WHO ACTS");
	json_array_foreach(ws, i, w)
	{
		const json_t *v = json_object_get(w, "verified");
		char cost[32], vote[64];
		snprintf(cost, sizeof(cost), "$%.4f", num(w, "cost_usd"));
		fanout_vote_text(json_object_get(w, "vote"), vote, sizeof(vote));
		printf("%-4s %-12.12s %-17.17s %5.0f %9s  %-10s %-14s %s\n",
		       json_is_true(json_object_get(w, "winner")) ? "won" : "",
		       str(w, "name", "?"), str(w, "status", "?"), num(w, "iterations"),
		       cost,
		       json_is_true(v)	  ? "verified"
		       : json_is_false(v) ? "rejected"
					  : "-",
		       vote, str(w, "settings", ""));
		if (json_is_false(v))
			printf("     rejected in a clean checkout: %s\n",
			       str(w, "rejected", ""));
	}
}

static int show(struct store *st, const char *repo, const char *run, long k, int json)
{
	struct buf err = BUF_INIT;
	json_t *r = NULL;
	char id[65], *run_dir = NULL;
	int code;

	if ((code = cmd_store_find(st, run, id)) != 0)
		return code;
	if (store_show_run(st, id, &r, &err) < 0) {
		fprintf(stderr, "loopgate: %s\n", err.s);
		buf_release(&err);
		return CMD_CANNOT;
	}
	run_dir = rundir_path(repo, id);
	if (k >= 0 && !has_iteration(r, k)) {
		fprintf(stderr, "loopgate: run %s has no iteration %ld (it ran %.0f)\n",
			id, k,
			json_array_size(json_object_get(r, "per_iteration")) * 1.0);
		code = CMD_USAGE;
	} else if (k >= 0) {
		json_t *parts = iteration_parts(r, run_dir, k);
		if (json)
			cmd_print_json(json_pack("{s:s,s:I,s:s,s:O}", "run_id", id,
						 "iteration", (json_int_t)k, "run_dir",
						 run_dir, "parts", parts));
		else
			print_parts(parts, k);
		json_decref(parts);
	} else if (json) {
		json_t *roles = read_roles(run_dir);
		json_t *ws = workers_of(run_dir);
		json_object_set_new(r, "run_dir", json_string(run_dir));
		if (ws)
			json_object_set_new(r, "workers", ws);
		if (roles)
			json_object_set_new(r, "roles", roles);
		cmd_print_json(json_incref(r));
	} else {
		json_t *ws = workers_of(run_dir);
		print_run(r, run_dir);
		print_workers(ws);
		json_decref(ws);
	}
	json_decref(r);
	free(run_dir);
	buf_release(&err);
	return code;
}

static int cmd_show(int argc, char **argv)
{
	struct store *st;
	const char *dir = NULL;
	char *repo = NULL, *end;
	long k = -1;
	int opt, json = 0, code;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(show_usage, stdout);
			return CMD_OK;
		case O_DIR:
			dir = optarg;
			break;
		case O_JSON:
			json = 1;
			break;
		case O_ITER:
			k = strtol(optarg, &end, 10);
			if (*end || end == optarg || k < 0) {
				fprintf(stderr,
					"loopgate: --iteration %s: expected an "
					"iteration number (0 = baseline)\n",
					optarg);
				return CMD_USAGE;
			}
			break;
		default:
			return cmd_usage_error("show", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "loopgate: which run? (loopgate show RUN; see "
				"loopgate runs)\n");
		return CMD_USAGE;
	}
	if (optind + 1 < argc) {
		fprintf(stderr,
			"loopgate: unexpected argument '%s' (see loopgate "
			"show --help)\n",
			argv[optind + 1]);
		return CMD_USAGE;
	}
	if ((code = cmd_store_open(dir, &st, &repo)) != 0)
		return code;
	code = show(st, repo, argv[optind], k, json);
	store_close(st);
	free(repo);
	return code;
}

const struct cmd_entry cmd_show_entry = {"show",
					 "show one run, or one of its "
					 "iterations",
					 cmd_show};
