/*
 * cmd_gate.c: `loopgate gate check` — can each gate catch a defect?
 *
 * A gate that passes whatever the code does would let any change
 * "converge".  The check runs every gate on a detached worktree of HEAD,
 * then plants a small defect in a source file (deterministically: same
 * repository, same sites) and runs the gates that passed on HEAD again.  A
 * gate that fails on the mutant catches defects; one that misses every
 * planted defect (up to CHECK_MAX_SITES) is suspect.  The recorded runs
 * under .loopgate/runs are scanned too: a gate command that never failed
 * in any of them is flagged.  See docs/design/gates.md, "Verifier health".
 *
 * The user's tree is never touched: everything happens in
 * .loopgate/check/<id>/tree, removed at the end (the gates' outputs stay
 * in .loopgate/check/<id>/).
 */
#include "base/clock.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "cli/cmd.h"
#include "config/config.h"
#include "record/events.h"
#include "judge/feedback.h"
#include "base/fileio.h"
#include "judge/gate.h"
#include "tree/git.h"
#include "judge/plant.h"
#include "exec/sandbox.h"

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

#define CHECK_MAX_SITES	 5
#define HISTORY_MAX_RUNS 10000
/* A planted defect may make a gate hang (a loop that never ends): that is a
 * catch, and waiting the full gate timeout for it would be pointless. */
#define MUTANT_TIMEOUT_MIN_MS 10000
#define MUTANT_TIMEOUT_FACTOR 5

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

/* One gate's result on one planted site. */
struct plant_run {
	size_t site;
	int caught;
	int exit_code;
	char *describe;
	char *output_file;
};

struct gcheck {
	const char *cmd;
	int head_passed, head_exit;
	char *head_desc, *head_output;
	double head_ms;
	struct plant_run runs[CHECK_MAX_SITES];
	size_t nruns;
	int caught;
	long hist_runs, hist_failures; /* failures: runs where it failed */
};

struct check {
	struct config cfg;
	char id[64];
	char *repo, *head, *dir, *tree;
	int tree_made;
	struct proc_env env;
	struct sandbox sb; /* every gate runs in it (sandbox.h) */
	int sb_made;
	struct gcheck *g;
	size_t ng;
	struct strlist locs; /* files named in the HEAD outputs */
	struct plant_site sites[CHECK_MAX_SITES];
	size_t nsites;
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

/* ---- the check's worktree ------------------------------------------------ */

static int setup(struct check *ck, struct buf *err)
{
	struct buf b = BUF_INIT;
	time_t now = time(NULL);
	struct tm tm;
	int ret = git_rev(ck->repo, "HEAD", &b, err);

	if (ret < 0) {
		buf_release(&b);
		return err_set(err, ret,
			       "the repository %s has no commit yet: the "
			       "check runs on HEAD",
			       ck->repo);
	}
	ck->head = buf_detach(&b, NULL);
	gmtime_r(&now, &tm);
	snprintf(ck->id, sizeof(ck->id), "%04d%02d%02d-%02d%02d%02d-%ld",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (long)getpid());
	ck->dir = rundir_check(ck->repo, ck->id);
	ck->tree = rundir_tree(ck->dir);
	if ((ret = fileio_mkdirs(ck->dir, err)) < 0 ||
	    (ret = git_exclude_loopgate_dir(ck->repo, err)) < 0)
		return ret;
	ck->tree_made = 1; /* also when add fails half-way: remove tries */
	if ((ret = git_worktree_add_detached(ck->repo, ck->tree, ck->head, err)) < 0)
		return ret;
	sandbox_init(&ck->sb, &ck->cfg, ck->tree, ck->repo);
	ck->sb_made = 1;
	if ((ret = sandbox_probe(&ck->sb, err)) < 0)
		return ret;
	proc_env_base(&ck->env);
	{
		char *rid = xasprintf("check-%s", ck->id);
		proc_env_set(&ck->env, "LOOPGATE_RUN_ID", rid);
		free(rid);
	}
	return 0;
}

static void check_release(struct check *ck)
{
	for (size_t i = 0; i < ck->ng; i++) {
		free(ck->g[i].head_desc);
		free(ck->g[i].head_output);
		for (size_t k = 0; k < ck->g[i].nruns; k++) {
			free(ck->g[i].runs[k].describe);
			free(ck->g[i].runs[k].output_file);
		}
	}
	plant_sites_release(ck->sites, ck->nsites);
	if (ck->sb_made)
		sandbox_release(&ck->sb);
	free(ck->g);
	strlist_clear(&ck->locs);
	proc_env_release(&ck->env);
	free(ck->repo);
	free(ck->head);
	free(ck->dir);
	free(ck->tree);
	config_release(&ck->cfg);
}

/* ---- running the gates --------------------------------------------------- */

/* Gate i in the check's tree, its output in <dir>/<sub>/gate-N.out. */
static int run_gate(struct check *ck, size_t i, const char *sub, long timeout_ms,
		    struct gate_outcome *g, struct buf *err)
{
	char *dir = xasprintf("%s/%s", ck->dir, sub);
	char *out = xasprintf("%s/gate-%zu.out", dir, i + 1);
	struct gate_spec s = {ck->cfg.gates.v[i],
			      (int)i,
			      ck->tree,
			      out,
			      out,
			      timeout_ms,
			      0,
			      (const char *const *)ck->env.v,
			      (size_t)ck->cfg.feedback_max_bytes,
			      &ck->sb,
			      ck->cfg.policy};
	int ret = fileio_mkdirs(dir, err);

	if (isatty(STDERR_FILENO))
		fprintf(stderr, "loopgate: gate %zu on %s...\n", i + 1, sub);
	if (ret == 0)
		ret = gate_run(&s, g, err);
	if (ret == 0 && (g->status == PROC_INTERRUPTED || interrupt_pending()))
		ret = err_set(err, -EINTR, "interrupted");
	free(dir);
	free(out);
	return ret;
}

/* Remembers the files a gate's output names, relative to the tree. */
static void note_locations(struct check *ck, const struct buf *out)
{
	struct location *v = NULL;
	size_t n = feedback_locations(out->s, out->len, &v, 64);
	size_t tl = strlen(ck->tree);

	for (size_t i = 0; i < n; i++) {
		const char *p = v[i].path;
		size_t k;
		if (!strncmp(p, ck->tree, tl) && p[tl] == '/')
			p += tl + 1;
		while (!strncmp(p, "./", 2))
			p += 2;
		for (k = 0; k < ck->locs.n && strcmp(ck->locs.v[k], p); k++)
			;
		if (k == ck->locs.n)
			strlist_push(&ck->locs, p);
	}
	feedback_locations_free(v, n);
}

static int run_head(struct check *ck, struct buf *err)
{
	struct gate_outcome o;
	int ret = 0;

	memset(&o, 0, sizeof(o));
	buf_init(&o.output, 0);
	for (size_t i = 0; i < ck->ng && ret == 0; i++) {
		struct gcheck *g = &ck->g[i];
		if ((ret = run_gate(ck, i, "head", ck->cfg.gate_timeout_ms, &o, err)) < 0)
			break;
		g->head_passed = o.passed;
		g->head_exit = o.exit_code;
		g->head_desc = xstrdup(o.describe);
		g->head_output = xstrdup(o.output_file);
		g->head_ms = o.elapsed_ms;
		note_locations(ck, &o.output);
	}
	gate_outcome_release(&o);
	buf_release(&o.output);
	return ret;
}

static long mutant_timeout(const struct check *ck, const struct gcheck *g)
{
	double t = g->head_ms * MUTANT_TIMEOUT_FACTOR;
	if (t < MUTANT_TIMEOUT_MIN_MS)
		t = MUTANT_TIMEOUT_MIN_MS;
	return t < (double)ck->cfg.gate_timeout_ms ? (long)t : ck->cfg.gate_timeout_ms;
}

/*
 * Site after site, from a clean tree (reset --hard, clean -fdx: no build
 * product of the previous run survives), runs every gate that passed on
 * HEAD and has caught nothing yet; stops when each has caught a defect.
 */
static int plant(struct check *ck, struct buf *err)
{
	struct gate_outcome o;
	int ret = 0;

	memset(&o, 0, sizeof(o));
	buf_init(&o.output, 0);
	for (size_t s = 0; s < ck->nsites && ret == 0; s++) {
		char sub[32];
		int pending = 0;
		for (size_t i = 0; i < ck->ng; i++)
			pending += ck->g[i].head_passed && !ck->g[i].caught;
		if (!pending)
			break;
		snprintf(sub, sizeof(sub), "planted-%zu", s + 1);
		if ((ret = git_restore(ck->tree, err)) < 0 ||
		    (ret = plant_apply(ck->tree, &ck->sites[s], err)) < 0)
			break;
		for (size_t i = 0; i < ck->ng && ret == 0; i++) {
			struct gcheck *g = &ck->g[i];
			struct plant_run *r = &g->runs[g->nruns];
			if (!g->head_passed || g->caught)
				continue;
			if ((ret = run_gate(ck, i, sub, mutant_timeout(ck, g), &o, err)) <
			    0)
				break;
			r->site = s;
			r->caught = g->caught = !o.passed;
			r->exit_code = o.exit_code;
			r->describe = xstrdup(o.describe);
			r->output_file = xstrdup(o.output_file);
			g->nruns++;
		}
	}
	gate_outcome_release(&o);
	buf_release(&o.output);
	return ret;
}

/* ---- history ------------------------------------------------------------ */

/* Marks, for one events.jsonl, which of our gates ran and which failed. */
static void scan_events(struct check *ck, FILE *f, char *seen, char *failed)
{
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, f) > 0) {
		json_t *o, *body, *passed, *code;
		const char *kind, *cmd;
		if (!strstr(line, "\"gate_end\"") || !(o = json_loads(line, 0, NULL)))
			continue;
		kind = json_string_value(json_object_get(o, "kind"));
		body = json_object_get(o, "body");
		cmd = json_string_value(json_object_get(body, "command"));
		passed = json_object_get(body, "passed");
		code = json_object_get(body, "exit_code");
		for (size_t i = 0;
		     kind && !strcmp(kind, EV_GATE_END) && cmd && i < ck->ng; i++) {
			if (strcmp(cmd, ck->g[i].cmd) ||
			    (!json_is_boolean(passed) && !json_is_integer(code)))
				continue;
			seen[i] = 1;
			if (json_is_boolean(passed) ? !json_is_true(passed)
						    : json_integer_value(code) != 0)
				failed[i] = 1;
		}
		json_decref(o);
	}
	free(line);
}

/* Counts, per gate, the recorded runs it ran in and those it failed in. */
static void scan_history(struct check *ck)
{
	char *runs = rundir_runs(ck->repo);
	char *seen = xcalloc(ck->ng, 1), *failed = xcalloc(ck->ng, 1);
	DIR *d = opendir(runs);
	struct dirent *de;
	long scanned = 0;

	while (d && (de = readdir(d)) && scanned < HISTORY_MAX_RUNS) {
		char *path;
		FILE *f;
		if (de->d_name[0] == '.')
			continue;
		path = rundir_run_file(ck->repo, de->d_name, RUNDIR_EVENTS);
		f = fopen(path, "re");
		free(path);
		if (!f)
			continue;
		scanned++;
		memset(seen, 0, ck->ng);
		memset(failed, 0, ck->ng);
		scan_events(ck, f, seen, failed);
		fclose(f);
		for (size_t i = 0; i < ck->ng; i++) {
			ck->g[i].hist_runs += seen[i];
			ck->g[i].hist_failures += failed[i];
		}
	}
	if (d)
		closedir(d);
	free(runs);
	free(seen);
	free(failed);
}

/* ---- the report ---------------------------------------------------------- */

enum verdict { V_CATCHES, V_SUSPECT, V_FAILS_ON_HEAD, V_NOTHING_PLANTED };

static enum verdict verdict_of(const struct check *ck, const struct gcheck *g)
{
	if (!g->head_passed)
		return V_FAILS_ON_HEAD;
	if (!ck->nsites)
		return V_NOTHING_PLANTED;
	return g->caught ? V_CATCHES : V_SUSPECT;
}

static const char *verdict_key(enum verdict v)
{
	return v == V_CATCHES ? "catches" : v == V_SUSPECT ? "suspect" : "not_checkable";
}

static char *verdict_text(const struct check *ck, const struct gcheck *g)
{
	switch (verdict_of(ck, g)) {
	case V_CATCHES:
		return xstrdup("catches a planted defect");
	case V_SUSPECT:
		return xasprintf("missed %zu planted defect%s: suspect", g->nruns,
				 g->nruns == 1 ? "" : "s");
	case V_FAILS_ON_HEAD:
		return xstrdup("not checkable (fails on HEAD)");
	default:
		return xstrdup("not checkable (no tracked source file has a line "
			       "a defect could be planted in)");
	}
}

static int history_suspect(const struct gcheck *g)
{
	return g->hist_runs > 0 && g->hist_failures == 0;
}

static void print_gate(const struct check *ck, size_t i)
{
	const struct gcheck *g = &ck->g[i];
	enum verdict v = verdict_of(ck, g);
	char *text = verdict_text(ck, g);
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
	if (history_suspect(g))
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
		enum verdict v = verdict_of(ck, &ck->g[i]);
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
	char *text = verdict_text(ck, g);
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
		      "planted", planted, "verdict", verdict_key(verdict_of(ck, g)),
		      "verdict_text", events_str(text), "history", "runs",
		      (json_int_t)g->hist_runs, "failures", (json_int_t)g->hist_failures,
		      "suspect", history_suspect(g));
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
		any |= verdict_of(ck, &ck->g[i]) == V_CATCHES;
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
	int ret;
	ck->ng = ck->cfg.gates.n;
	ck->g = xcalloc(ck->ng, sizeof(*ck->g));
	for (size_t i = 0; i < ck->ng; i++)
		ck->g[i].cmd = ck->cfg.gates.v[i];
	if ((ret = setup(ck, err)) < 0 || (ret = run_head(ck, err)) < 0)
		return EXIT_CANNOT;
	{
		struct plant_opts o = {ck->tree, &ck->cfg, &ck->locs};
		if (plant_find(&o, ck->sites, CHECK_MAX_SITES, &ck->nsites, err) < 0 ||
		    plant(ck, err) < 0)
			return EXIT_CANNOT;
	}
	scan_history(ck);
	for (size_t i = 0; i < ck->ng; i++)
		if (verdict_of(ck, &ck->g[i]) == V_SUSPECT)
			return EXIT_SUSPECT;
	return EXIT_OK;
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
		code = check_run(&ck, &err);
	}
	if (ck.tree_made && git_worktree_remove(ck.repo, ck.tree, &rm) < 0 &&
	    access(ck.tree, F_OK) == 0)
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
	check_release(&ck);
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
