/*
 * once.c: `loopgate once`, one actor turn for a task no gate can judge.
 * It is the loop's own machinery (setup, the actor's turn, the guards,
 * the commit, the log, the finish) with one iteration and no judging, so
 * it is sandboxed, budgeted and audited exactly as a loop's turn.  See
 * loop.h.
 */
#include "engine/loop.h"
#include "record/evkind.h"
#include "base/fileio.h"
#include "tree/git.h"
#include "tree/git_guard.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_DONE = 0, EXIT_HALTED = 1, EXIT_CANNOT = 3 };

#define DIFF_FILE_MAX (64u << 20)

int loop_once_outcome(struct run *r, const struct iteration *it)
{
	if (it->actor_failed)
		return loop_halt(r, "actor_failed", EXIT_HALTED,
				 "the agent command failed (%s): %s", it->actor_desc,
				 it->actor_advice);
	return loop_halt(r, "completed", EXIT_DONE,
			 "one actor turn ran and changed %zu file(s); no gate judged "
			 "it: review the diff (diff.patch, branch %s)",
			 it->nchanged, r->w->branch);
}

/* The turn's change, base..HEAD, into <run_dir>/diff.patch and the log. */
static int save_diff(struct run *r, struct buf *err)
{
	struct buf diff = BUF_INIT;
	char *path = xasprintf("%s/diff.patch", r->run_dir);
	int ret;

	buf_init(&diff, DIFF_FILE_MAX);
	ret = git_run(r->w->tree, &diff, err, "diff", "--no-ext-diff", "--no-textconv",
		      "--stat", "--patch", r->base_sha, "HEAD", NULL);
	if (ret == 0 || diff.truncated)
		ret = fileio_write_atomic(path, diff.s, diff.len, err);
	if (ret == 0)
		events_append(&r->ev, EV_DIFF,
			      json_pack("{s:s,s:s,s:s,s:I,s:b}", "base", r->base_sha,
					"head", r->w->branch, "file", "diff.patch",
					"bytes", (json_int_t)diff.len, "truncated",
					diff.truncated));
	free(path);
	buf_release(&diff);
	return ret;
}

int loop_once(struct run *r, struct buf *err)
{
	const struct config *c = r->cfg;
	int code, ret;

	r->goal = c->goal;
	r->budget.max_iterations = 1;
	r->budget.max_tokens = c->max_tokens > 0 ? c->max_tokens : 0;
	r->budget.max_cost = c->max_cost;
	if (c->deadline_ms > 0)
		r->budget.deadline_at = r->start_ms + c->deadline_ms;
	code = run_setup(r, err);
	if (code)
		return r->run_dir && r->ev.fd >= 0 ? loop_finish(r, code, err) : code;
	r->w->git_guard = git_guard_snapshot(r->w->tree, err);
	/* the prompt's file list, and the excludes file the staging reads */
	ret = r->w->git_guard ? git_scan_tree(r->w->tree, r->w->artifacts,
					      &r->w->judge.files, err)
			      : -EIO;
	if (ret < 0) {
		code = loop_halt(r, "error", EXIT_CANNOT, "%s", err->s);
		return loop_finish(r, code, err);
	}
	code = loop_iterate(r, NULL, err);
	if (code < 0) /* cannot happen: once always decides */
		code = loop_halt(r, "error", EXIT_CANNOT, "the turn did not end");
	if (r->w->nits && r->w->its[0].n && (ret = save_diff(r, err)) < 0)
		code = loop_halt(r, "error", EXIT_CANNOT, "%s", err->s);
	if (code != EXIT_DONE)
		buf_sets(err, r->reason.s);
	return loop_finish(r, code, err);
}
