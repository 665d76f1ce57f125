/*
 * reverify: a worker's "converged" is a claim; loopgate checks it itself.
 *
 * When a worker's gates pass in its own tree (and the executed-test floor
 * and --confirm hold there), the commit it made is checked out into a
 * fresh, clean worktree of the run (<run>/verify: no untracked files, no
 * build leftovers, no bytecode from the worker's tree) and every gate runs
 * there, in a sandbox made for that tree, with the executed-test floor
 * against the baseline and --confirm.  The commit must also leave every
 * protected path as the base had it.  Only a candidate that passes all of
 * this counts; see docs/design/reverify.md.
 *
 *   struct buf why = BUF_INIT;
 *   ret = reverify_candidate(r, r->w, it->n, &why, err);
 *       ret < 0: it could not be checked (err says why): the run cannot go on
 *       ret 0:   the candidate holds
 *       ret 1:   rejected; why says why in one paragraph, and the worker's
 *                judge.last holds the deciding gate of the clean checkout
 *                (its raw output: the next prompt's feedback)
 *
 * Recorded as reverify_start {iteration, commit} and reverify_end
 * {iteration, commit, passed, gate, describe, reason, untracked}; the
 * gates' own gate_start / gate_end records carry "phase": "reverify".
 */
#ifndef LOOPGATE_REVERIFY_H
#define LOOPGATE_REVERIFY_H

#include "base/buf.h"

struct config;
struct run;
struct worker;

int reverify_candidate(struct run *r, struct worker *w, int iteration, struct buf *why,
		       struct buf *err);

/*
 * A fan-out coordinator's check of a worker's claim (fanout.h): the same
 * check of commit, against the coordinator's own baseline counts and
 * protected paths (r->w), recorded with "worker" in reverify_start/_end.
 * tree: the worker's tree, whose untracked files a rejection names (NULL:
 * not reachable); dir: where the gates' outputs go, relative to the run's
 * directory.  The clean checkout is <run>/verify-<worker> (<run>/verify
 * without a worker), so that claims of different workers can be checked
 * at once, each in a process of its own (fanout_check.c).  Returns as
 * reverify_candidate.
 */
struct claim {
	const char *commit;
	/* the gates to judge by: NULL for the run's; another config (a
	 * task's, a merge's) is judged without the run's baseline counts */
	const struct config *cfg;
	const char *worker; /* NULL in a run of one loop */
	const char *tree;
	const char *dir;
	int iteration;
};
int reverify_claim(struct run *r, const struct claim *c, struct buf *why,
		   struct buf *err);

#endif
