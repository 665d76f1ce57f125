/*
 * loop: `loopgate run` from setup to its final status.
 *
 *   struct run r;
 *   run_init(&r, &cfg);
 *   int code = loop_run(&r, &err);   0 converged / already satisfied,
 *                                    1 halted (handoff.md written),
 *                                    2 usage or configuration error,
 *                                    3 could not run
 *   ... report_summary(&r, code) for --json ...
 *   run_release(&r);
 *
 * Setup: find the repository, refuse a dirty tree unless allow_dirty, make
 * the run id, the run directory .loopgate/runs/<id>/ and a worktree on
 * branch loopgate/<id> from HEAD (the user's tree and branch are never
 * touched).  Baseline: the gates on the untouched tree; all passing ends the
 * run as already_satisfied with no model call.  Then each iteration: prompt,
 * actor, commit, gates in order stopping at the first failure, record,
 * budgets.  Only the gates' exit codes end the loop as converged.
 */
#ifndef LOOPGATE_LOOP_H
#define LOOPGATE_LOOP_H

#include "run.h"

void run_init(struct run *r, const struct config *cfg);
void run_release(struct run *r);
int loop_run(struct run *r, struct buf *err);
/* run_setup.c: 0, or 2 (usage: not a repository, dirty tree, bad model)
 * or 3 (could not create the run) with err set. */
int run_setup(struct run *r, struct buf *err);

#endif
