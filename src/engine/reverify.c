/*
 * reverify.c: a worker's claim of convergence checked in a clean checkout of
 * its commit.  See reverify.h and docs/design/reverify.md.
 */
#include "engine/reverify.h"
#include "engine/run.h"
#include "engine/worker.h"
#include "base/fileio.h"
#include "exec/sandbox.h"
#include "record/evkind.h"
#include "record/events.h"
#include "record/rundir.h"
#include "tree/git.h"
#include "tree/protect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Untracked names listed in a rejection, at most. */
#define UNTRACKED_SHOWN 8

/* Paths the commit changed against the base that are protected, ", "-joined
 * into out (empty: none). */
static int protected_changes(const struct run *r, const struct worker *w,
			     const char *commit, struct buf *out, struct buf *err)
{
	struct buf names = BUF_INIT;
	int ret = git_run(r->repo, &names, err, "diff", "--name-only", "-z",
			  "--no-renames", r->base_sha, commit, "--", NULL);

	for (size_t off = 0; ret == 0 && off < names.len;) {
		const char *p = names.s + off;
		size_t n = strlen(p);
		if (n && protect_match(&w->protect, p))
			buf_addf(out, "%s%s", out->len ? ", " : "", p);
		off += n + 1;
	}
	buf_release(&names);
	return ret;
}

/* What the worker's tree holds that its commit does not (untracked,
 * ignored ones included): the usual reason a clean checkout fails. */
static void untracked_files(const char *tree, struct buf *out)
{
	struct buf names = BUF_INIT;
	size_t shown = 0, total = 0;

	if (!tree || git_run(tree, &names, NULL, "ls-files", "--others", "--directory",
			     "-z", NULL) < 0) {
		buf_release(&names);
		return;
	}
	for (size_t off = 0; off < names.len;) {
		const char *p = names.s + off;
		size_t n = strlen(p);
		off += n + 1;
		if (!n)
			continue;
		total++;
		if (shown++ < UNTRACKED_SHOWN)
			buf_addf(out, "%s%s", out->len ? ", " : "", p);
	}
	if (total > UNTRACKED_SHOWN)
		buf_addf(out, " and %zu more", total - UNTRACKED_SHOWN);
	buf_release(&names);
}

/* A fresh detached checkout of commit at path (a leftover of a killed run
 * is removed first). */
static int make_tree(const struct run *r, const char *path, const char *commit,
		     struct buf *err)
{
	git_worktree_remove(r->repo, path, NULL);
	fileio_remove_tree(path);
	return git_worktree_add_detached(r->repo, path, commit, err);
}

/* The judge of the clean checkout: the run's gates and options, the
 * worker's baseline counts (the executed-test floor), its own cache. */
static void bind_judge(struct judge *j, struct run *r, const struct worker *w,
		       const struct config *cfg, const char *tree, const char *artifacts,
		       const struct sandbox *sb)
{
	size_t n = cfg->gates.n;
	j->cfg = cfg;
	j->ev = &r->ev;
	j->run_id = r->id;
	j->run_dir = r->run_dir;
	j->tree = tree;
	j->artifacts = artifacts;
	j->deadline_at = r->budget.deadline_at;
	j->sandbox = sb;
	j->policy = r->cfg->policy;
	j->phase = "reverify";
	j->base_counts = xcalloc(n ? n : 1, sizeof(*j->base_counts));
	j->round_counts = xcalloc(n ? n : 1, sizeof(*j->round_counts));
	if (w->judge.base_counts && cfg == r->cfg)
		memcpy(j->base_counts, w->judge.base_counts, n * sizeof(*j->base_counts));
}

/* The gates, the floor and --confirm in the clean tree: 0 pass, 1 not. */
static int judge_clean(struct judge *j, const char *dir, int iteration, struct buf *why,
		       struct buf *err)
{
	const struct config *cfg = j->cfg;
	int ret;

	if ((ret = judge_tree_id(j, err)) < 0 ||
	    (ret = judge_gates(j, dir, iteration, JUDGE_CASCADE, err)) < 0)
		return ret;
	if (!j->last.passed) {
		buf_addf(why, "gate %d `%s` fails in a clean checkout of the commit (%s)",
			 j->last.index + 1, cfg->gates.v[j->last.index],
			 j->last.describe);
		return 1;
	}
	if (judge_floor(j, iteration, why))
		return 1;
	if (cfg->confirm > 0 && (ret = judge_confirm(j, dir, iteration, why, err)) != 0)
		return ret;
	return 0;
}

/* The clean checkout's deciding gate becomes the worker's latest result:
 * its raw output is what the next prompt shows. */
static void adopt_outcome(struct worker *w, struct judge *j)
{
	if (!j->last.ran)
		return;
	gate_outcome_release(&w->judge.last);
	w->judge.last = j->last;
	memset(&j->last, 0, sizeof(j->last));
	buf_init(&j->last.output, 0);
}

static void end_event(struct run *r, const struct claim *c, int verdict,
		      const struct judge *j, const struct buf *why,
		      const struct buf *untracked)
{
	events_append(
		&r->ev, EV_REVERIFY_END,
		json_pack("{s:i,s:s,s:s?,s:b,s:o,s:o,s:o,s:o}", "iteration", c->iteration,
			  "commit", c->commit, "worker", c->worker, "passed",
			  verdict == 0, "gate",
			  j->last.ran ? json_integer(j->last.index + 1) : json_null(),
			  "describe",
			  j->last.ran ? events_str(j->last.describe) : json_null(),
			  "reason", verdict ? events_str(why->s) : json_null(),
			  "untracked",
			  verdict && untracked->len ? events_str(untracked->s)
						    : json_null()));
}

/*
 * The check itself: the protected paths, then the gates, the floor and
 * --confirm in a clean checkout of c->commit.  1 rejected (why; *j holds
 * the clean checkout's deciding gate), 0 holds, < 0 could not check.
 */
static int check_claim(struct run *r, const struct worker *w, const struct claim *c,
		       struct judge *j, struct buf *why, struct buf *err)
{
	struct buf prot = BUF_INIT, untracked = BUF_INIT;
	struct sandbox sb;
	char name[64], *path, *artifacts;
	int ret, sb_made = 0;

	/* a tree of its own for each worker's claim: a fan-out checks
	 * several at once (fanout_check.c) */
	snprintf(name, sizeof(name), "verify%s%s", c->worker ? "-" : "",
		 c->worker ? c->worker : "");
	path = rundir_file(r->run_dir, name);
	snprintf(name + strlen(name), sizeof(name) - strlen(name), ".artifacts");
	artifacts = rundir_file(r->run_dir, name);

	events_append(&r->ev, EV_REVERIFY_START,
		      json_pack("{s:i,s:s,s:s?}", "iteration", c->iteration, "commit",
				c->commit, "worker", c->worker));
	if ((ret = protected_changes(r, w, c->commit, &prot, err)) < 0)
		goto out;
	if (prot.len) {
		buf_addf(why, "the commit changes protected files: %s", prot.s);
		ret = 1;
	} else if ((ret = make_tree(r, path, c->commit, err)) == 0) {
		sandbox_init(&sb, r->cfg, path, r->repo);
		sb.ev = &r->ev;
		sb_made = 1;
		if ((ret = sandbox_probe(&sb, err)) == 0) {
			bind_judge(j, r, w, c->cfg ? c->cfg : r->cfg, path, artifacts,
				   &sb);
			ret = judge_clean(j, c->dir, c->iteration, why, err);
		}
	}
	if (ret > 0) {
		untracked_files(c->tree, &untracked);
		if (untracked.len)
			buf_addf(why,
				 "; the worker's tree has files its commit does not "
				 "(untracked or ignored): %s",
				 untracked.s);
	}
	if (ret >= 0)
		end_event(r, c, ret, j, why, &untracked);
out:
	if (sb_made)
		sandbox_release(&sb);
	git_worktree_remove(r->repo, path, NULL);
	fileio_remove_tree(path);
	unlink(artifacts);
	buf_release(&prot);
	buf_release(&untracked);
	free(path);
	free(artifacts);
	return ret;
}

int reverify_candidate(struct run *r, struct worker *w, int iteration, struct buf *why,
		       struct buf *err)
{
	struct buf commit = BUF_INIT;
	struct judge j = JUDGE_INIT;
	struct claim c = {.iteration = iteration, .tree = w->tree};
	char dir[48];
	int ret;

	rundir_iter_name(dir, sizeof(dir) - 10, iteration);
	memcpy(dir + strlen(dir), "/reverify", sizeof("/reverify"));
	c.dir = dir;
	if ((ret = git_rev(w->tree, "HEAD", &commit, err)) < 0)
		goto out;
	c.commit = commit.s;
	ret = check_claim(r, w, &c, &j, why, err);
	if (ret > 0)
		w->reverify_rejects++;
	else if (ret == 0)
		w->reverified_at = iteration;
	if (ret > 0)
		adopt_outcome(w, &j);
out:
	judge_release(&j);
	buf_release(&commit);
	return ret;
}

int reverify_claim(struct run *r, const struct claim *c, struct buf *why, struct buf *err)
{
	struct judge j = JUDGE_INIT;
	int ret = check_claim(r, r->w, c, &j, why, err);
	judge_release(&j);
	return ret;
}
