/*
 * gatecheck.c: the gate check's engine (gatecheck.h): its worktree and
 * sandbox, the gates on HEAD and on planted defects, the history scan and
 * the verdicts.
 */
#include "judge/gatecheck.h"
#include "base/clock.h"
#include "base/fileio.h"
#include "record/events.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "judge/feedback.h"
#include "judge/gate.h"
#include "tree/git.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

void gatecheck_release(struct check *ck)
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

	if (ck->progress)
		ck->progress(ck->progress_ctx, i, sub);
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

/* ---- verdicts ------------------------------------------------------------ */

enum verdict gatecheck_verdict(const struct check *ck, const struct gcheck *g)
{
	if (!g->head_passed)
		return V_FAILS_ON_HEAD;
	if (!ck->nsites)
		return V_NOTHING_PLANTED;
	return g->caught ? V_CATCHES : V_SUSPECT;
}

const char *gatecheck_verdict_key(enum verdict v)
{
	return v == V_CATCHES ? "catches" : v == V_SUSPECT ? "suspect" : "not_checkable";
}

char *gatecheck_verdict_text(const struct check *ck, const struct gcheck *g)
{
	switch (gatecheck_verdict(ck, g)) {
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

int gatecheck_history_suspect(const struct gcheck *g)
{
	return g->hist_runs > 0 && g->hist_failures == 0;
}

/* ---- the whole check ------------------------------------------------------ */

int gatecheck_run(struct check *ck, struct buf *err)
{
	struct plant_opts o;
	int ret;

	ck->ng = ck->cfg.gates.n;
	ck->g = xcalloc(ck->ng, sizeof(*ck->g));
	for (size_t i = 0; i < ck->ng; i++)
		ck->g[i].cmd = ck->cfg.gates.v[i];
	if ((ret = setup(ck, err)) < 0 || (ret = run_head(ck, err)) < 0)
		return ret;
	o = (struct plant_opts){ck->tree, &ck->cfg, &ck->locs};
	if ((ret = plant_find(&o, ck->sites, CHECK_MAX_SITES, &ck->nsites, err)) < 0 ||
	    (ret = plant(ck, err)) < 0)
		return ret;
	scan_history(ck);
	return 0;
}

int gatecheck_remove_tree(struct check *ck, struct buf *err)
{
	if (ck->tree_made && git_worktree_remove(ck->repo, ck->tree, err) < 0 &&
	    access(ck->tree, F_OK) == 0)
		return -EIO;
	return 0;
}
