/*
 * fanout_merge.c: the end of split work (tasks:).  Each task's verified
 * commit is merged into the run's tree in the order of tasks:, and every
 * merge is verified again in a clean checkout against the run's gates and
 * the gates of every task merged so far.  A merge that conflicts, or that
 * breaks a gate, is not kept, and the record says which task broke which
 * gate.  See docs/design/fanout.md, "Split work".
 */
#include "engine/fanout.h"
#include "engine/fanout_impl.h"
#include "engine/loop.h"
#include "engine/reverify.h"
#include "engine/run.h"
#include "record/evkind.h"
#include "tree/git.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_DONE = 0, EXIT_HALTED = 1, EXIT_CANNOT = 3 };

static int has_gate(const struct config *c, const char *g)
{
	for (size_t i = 0; i < c->gates.n; i++)
		if (!strcmp(c->gates.v[i], g))
			return 1;
	return 0;
}

/* The run's config judged by its gates and those of the tasks merged so
 * far (kept[i]), each once; per-gate options dropped (gate_timeout holds). */
static int merged_config(const struct run *r, const struct fanout *f, const int *kept,
			 struct config *mc, struct buf *err)
{
	json_t *j = NULL;
	int ret;

	config_init(mc);
	config_to_json(r->cfg, (void **)&j);
	ret = config_from_json(mc, j, err);
	json_decref(j);
	if (ret < 0)
		return ret;
	config_gate_opts_clear(mc);
	config_worker_specs_clear(mc);
	for (size_t i = 0; i < f->n; i++)
		for (size_t g = 0; kept[i] && f->w[i].cfg && g < f->w[i].cfg->gates.n;
		     g++)
			if (!has_gate(mc, f->w[i].cfg->gates.v[g]))
				strlist_push(&mc->gates, f->w[i].cfg->gates.v[g]);
	return 0;
}

static void record(struct run *r, const struct fw *w, int merged, const char *commit,
		   const char *why)
{
	events_append(&r->ev, EV_TASK_MERGE,
		      json_pack("{s:s,s:s,s:b,s:o,s:o}", "task", w->name, "worker", w->id,
				"merged", merged, "commit", events_str(commit), "reason",
				events_str(why)));
}

/* Merges w's commit into the run's tree: 0 merged, 1 conflict (why names
 * the files; the merge is undone), < 0 git failed otherwise. */
static int merge_one(struct run *r, const struct fw *w, struct buf *why, struct buf *err)
{
	struct buf files = BUF_INIT, msg = BUF_INIT;
	int ret;

	buf_addf(&msg, "loopgate: task %s (worker %s)", w->name, w->id);
	ret = git_run(r->w->tree, NULL, err, "merge", "--no-ff", "--no-edit", "-m", msg.s,
		      w->commit, NULL);
	if (ret < 0) {
		git_run(r->w->tree, &files, NULL, "diff", "--name-only",
			"--diff-filter=U", NULL);
		while (files.len && files.s[files.len - 1] == '\n')
			files.s[--files.len] = 0;
		for (size_t i = 0; i < files.len; i++)
			if (files.s[i] == '\n')
				files.s[i] = ' ';
		buf_addf(why,
			 "its change conflicts with the tasks merged before it in: %s",
			 files.len ? files.s : "(git names no file)");
		git_run(r->w->tree, NULL, NULL, "merge", "--abort", NULL);
		ret = files.len ? 1 : ret;
	}
	buf_release(&files);
	buf_release(&msg);
	return ret;
}

/* The merged tree, verified in a clean checkout: 0 holds, 1 not (why),
 * < 0 could not check. */
static int verify_merge(struct run *r, struct fanout *f, const int *kept, size_t k,
			struct buf *why, struct buf *err)
{
	struct buf head = BUF_INIT;
	struct config mc;
	char dir[48];
	int ret = git_rev(r->w->tree, "HEAD", &head, err);

	if (ret < 0)
		return ret;
	snprintf(dir, sizeof(dir), "workers/merge-%zu", k + 1);
	if ((ret = merged_config(r, f, kept, &mc, err)) == 0) {
		struct claim c = {.commit = head.s,
				  .worker = "merge",
				  .dir = dir,
				  .iteration = (int)k + 1,
				  .cfg = &mc};
		ret = reverify_claim(r, &c, why, err);
	}
	config_release(&mc);
	buf_release(&head);
	return ret;
}

/*
 * A conflict becomes a gated loop of its own: a worker that does task k
 * again from the merged tree (base), judged by the task's gates and
 * checked centrally like every worker.  Its verified commit, or NULL.
 */
static struct fw *resolve(struct run *r, struct fanout *f, size_t k, const char *base,
			  const char *conflict, struct buf *err)
{
	struct fw *w = &f->w[k], *rw;
	char id[32];
	json_t *j = NULL;
	char *goal;

	snprintf(id, sizeof(id), "%s-r", w->id);
	if (!w->cfg || !(rw = fanout_add_worker(r, f, id)))
		return NULL;
	free(rw->name);
	rw->name = xasprintf("%s (resolution)", w->name);
	rw->base = xstrdup(base);
	rw->resolves = (int)k + 1;
	rw->cfg = xcalloc(1, sizeof(*rw->cfg));
	config_init(rw->cfg);
	config_to_json(w->cfg, (void **)&j);
	config_from_json(rw->cfg, j, NULL);
	json_decref(j);
	goal = xasprintf("%s\n\nThis task was done once already (commit %s), but that "
			 "change conflicts with work merged since (%s). Do the task "
			 "again on top of the current tree, keeping the work that is "
			 "there.",
			 rw->cfg->goal ? rw->cfg->goal : "", w->commit, conflict);
	free(rw->cfg->goal);
	rw->cfg->goal = goal;
	if (fanout_start_worker(r, f, rw, 0, err) < 0)
		return NULL;
	fanout_wait_worker(r, f, rw);
	return rw->verified == 1 ? rw : NULL;
}

/* One task: merged and verified (1), not kept (0), or failure (< 0). */
static int take_task(struct run *r, struct fanout *f, int *kept, size_t k,
		     struct buf *err)
{
	struct fw *w = &f->w[k];
	struct buf why = BUF_INIT, prev = BUF_INIT, head = BUF_INIT;
	int ret;

	if (w->verified != 1) {
		buf_addf(&why, "its worker ended %s%s%s", w->status ? w->status : "?",
			 w->verified == 0 ? ": its claim was rejected in a clean checkout"
					  : "",
			 "");
		record(r, w, 0, NULL, why.s);
		ret = 0;
		goto out;
	}
	if ((ret = git_rev(r->w->tree, "HEAD", &prev, err)) < 0 ||
	    (ret = merge_one(r, w, &why, err)) < 0)
		goto out;
	if (ret == 1 && !f->interrupted) {
		struct fw *rw;
		record(r, w, 0, NULL, why.s);
		if ((rw = resolve(r, f, k, prev.s, why.s, err))) {
			buf_reset(&why);
			w = rw; /* the resolution's commit is the task's now */
			ret = merge_one(r, w, &why, err);
			if (ret < 0)
				goto out;
		} else {
			buf_addf(&why,
				 "; a worker that redid the task on the merged tree "
				 "did not converge to a verified result");
		}
	}
	if (ret == 0) {
		struct buf broke = BUF_INIT;
		kept[k] = 1;
		ret = verify_merge(r, f, kept, k, &broke, err);
		if (ret > 0) {
			kept[k] = 0;
			buf_addf(&why,
				 "merged after the tasks before it, it breaks the "
				 "merged tree: %s",
				 broke.s);
			git_run(r->w->tree, NULL, NULL, "reset", "--quiet", "--hard",
				prev.s, NULL);
		}
		buf_release(&broke);
	}
	if (ret < 0)
		goto out;
	git_rev(r->w->tree, "HEAD", &head, NULL);
	record(r, w, ret == 0, ret == 0 ? head.s : NULL, ret ? why.s : NULL);
	ret = ret == 0;
	if (!ret) {
		free(w->verdict);
		w->verdict = buf_detach(&why, NULL);
	}
out:
	buf_release(&why);
	buf_release(&prev);
	buf_release(&head);
	return ret;
}

int fanout_merge(struct run *r, struct fanout *f, struct buf *err)
{
	int *kept = xcalloc(f->cap, sizeof(*kept)), code;
	size_t merged = 0;
	struct buf out = BUF_INIT;

	for (size_t k = 0; k < f->ntasks; k++) {
		int ret = take_task(r, f, kept, k, err);
		if (ret < 0) {
			free(kept);
			return loop_halt(r, "error", EXIT_CANNOT,
					 "cannot merge task %s: %s", f->w[k].name,
					 err->s);
		}
		merged += (size_t)ret;
	}
	for (size_t k = 0; k < f->ntasks; k++)
		buf_addf(&out, "%s%s %s", k ? "; " : "", f->w[k].name,
			 kept[k]	   ? "merged"
			 : f->w[k].verdict ? f->w[k].verdict
					   : (f->w[k].status ? f->w[k].status : "?"));
	free(kept);
	if (merged == f->ntasks)
		code = loop_halt(r, "converged", EXIT_DONE,
				 "all %zu tasks converged, were verified in a clean "
				 "checkout, merged in order, and the merged tree passes "
				 "every gate of every task and the run's own (%s)",
				 f->ntasks, out.s);
	else
		code = loop_halt(
			r, f->interrupted ? "interrupted" : "stalled", EXIT_HALTED,
			"%zu of %zu tasks merged; the branch holds the ones kept "
			"(%s)",
			merged, f->ntasks, out.s);
	buf_release(&out);
	return code;
}
