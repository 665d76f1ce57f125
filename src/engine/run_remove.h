/*
 * run_remove: deletes a run and everything it made (`loopgate rm`).
 *
 *   struct run_remove_opts o = {.keep_branch = 0, .force = 0};
 *   struct buf said = BUF_INIT, err = BUF_INIT;
 *   if (run_remove(st, repo, id, &o, &said, &err) < 0) ... err says why
 *   ... said: one line per thing done, for the terminal
 *
 * The run is the coordinator id and the runs of its workers (<id>-wK,
 * <id>-wK-r).  In this order, so that a failure never drops the record
 * while what it describes still exists:
 *
 *   1. every one of them is locked (the run lock, run_lock): a run that a
 *      loopgate process still drives is -EBUSY, and nothing is touched;
 *   2. the jobs of its workers on a cluster executor (worker_start records
 *      with a handle) are deleted through the executor of the run's own
 *      config: a scheduler that cannot be reached is -EIO and nothing is
 *      touched, unless force (the jobs are then left, and said names them);
 *   3. executor kueue: the refs its workers pushed to the git remote
 *      (refs/loopgate/<id>/..., loopgate/<id>/<worker>) are deleted; a
 *      remote that refuses is a line in said, not a failure;
 *   4. each run: its worktree, its branch loopgate/<id> (kept for the
 *      coordinator with keep_branch: the result, still to be merged), its
 *      refs/loopgate/<id>/..., its directory, its rows in the run store.
 */
#ifndef LOOPGATE_RUN_REMOVE_H
#define LOOPGATE_RUN_REMOVE_H

#include "base/buf.h"
#include "store/store.h"

struct run_remove_opts {
	int keep_branch; /* the coordinator's branch loopgate/<id> stays */
	int force;	 /* remove the run even when its jobs cannot be deleted */
};

int run_remove(struct store *st, const char *repo, const char *id,
	       const struct run_remove_opts *o, struct buf *said, struct buf *err);

#endif
