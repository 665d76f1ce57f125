/*
 * judge: running the gates and deciding what their results mean.
 *
 *   judge_tree_id(r, err);                        after each commit: the key
 *   judge_gates(r, "iter-003", 3, JUDGE_CASCADE, err);
 *   if (r->last.passed && judge_confirm(r, "iter-003", 3, err) > 0) flaky
 *
 * JUDGE_CASCADE runs the gates in order and stops at the first failure (the
 * loop's normal round); JUDGE_ALL runs every gate (the baseline, so each
 * gate has its own baseline result).  Either way r->last holds the deciding
 * gate: the first failure, or the last gate when all passed.
 *
 * Results are cached by SHA-256 of (tree id, gate command, gate
 * environment): a tree the gates have already judged is not judged again —
 * an iteration that changed nothing costs no gate run at all.  A cache hit
 * is a `gate_cached` event instead of gate_start/gate_end.
 */
#ifndef LOOPGATE_JUDGE_H
#define LOOPGATE_JUDGE_H

#include "engine/run.h"

enum judge_mode { JUDGE_CASCADE, JUDGE_ALL };

/* The id of HEAD's tree in the run's worktree, into r->tree_id. */
int judge_tree_id(struct run *r, struct buf *err);
/* 0 when the gates ran (pass or fail); -errno when one could not start. */
int judge_gates(struct run *r, const char *dir, int iteration, enum judge_mode mode,
		struct buf *err);
/*
 * --confirm N: runs the (passing) gates N more times on the same tree,
 * bypassing the cache.  Returns 0 when they passed every time, 1 when a
 * gate flipped (r->reason says which, with both output files), -errno.
 */
int judge_confirm(struct run *r, const char *dir, int iteration, struct buf *why,
		  struct buf *err);
/*
 * The executed-test floor: after a passing round, each gate whose baseline
 * output had a recognised test summary must report at least as many tests
 * executed, and no more skipped.  Returns 1 with why set when a gate falls
 * short (the pass is not convergence), 0 otherwise.  Each gate's comparison
 * is a `test_floor` event; gates without a recognised runner have no floor
 * and the event says so.
 */
int judge_floor(struct run *r, int iteration, struct buf *why);
void judge_release(struct run *r);

#endif
