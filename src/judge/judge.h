/*
 * judge: running the gates and deciding what their results mean.
 *
 *   struct judge j = JUDGE_INIT;                 one per worker; the caller
 *   j.cfg = cfg; j.ev = &ev; j.tree = tree; ...  sets the borrowed fields
 *   judge_tree_id(&j, err);                      after each commit: the key
 *   judge_gates(&j, "iter-003", 3, JUDGE_CASCADE, err);
 *   if (j.last.passed && judge_confirm(&j, "iter-003", 3, why, err) > 0) flaky
 *   judge_release(&j);
 *
 * JUDGE_CASCADE runs the gates in order and stops at the first failure (the
 * loop's normal round); JUDGE_ALL runs every gate (the baseline, so each
 * gate has its own baseline result).  Either way j->last holds the deciding
 * gate: the first failure, or the last gate when all passed.
 *
 * Results are cached by SHA-256 of (tree id, gate command, gate
 * environment): a tree the gates have already judged is not judged again —
 * an iteration that changed nothing costs no gate run at all.  A cache hit
 * is a `gate_cached` event instead of gate_start/gate_end.  Every gate
 * spawns in j->sandbox (NULL: none), the one the caller made for its tree.
 *
 * judge/ knows nothing of runs or loops: struct judge holds exactly what
 * judging needs, so a run's worker (engine/worker.h), `gate check` or a
 * verifier can each own one.
 */
#ifndef LOOPGATE_JUDGE_H
#define LOOPGATE_JUDGE_H

#include "base/buf.h"
#include "config/config.h"
#include "record/events.h"
#include "judge/gate.h"
#include "judge/testcount.h"
#include "tree/git.h"

struct sandbox;
struct policy;
struct judge_cache;

enum judge_mode { JUDGE_CASCADE, JUDGE_ALL };

struct judge {
	/* Set by the owner before judging; borrowed. */
	const struct config *cfg;      /* the gates and their options */
	struct events *ev;	       /* gate_start, gate_end, ... go here */
	const char *run_id;	       /* LOOPGATE_RUN_ID for the gates */
	const char *run_dir;	       /* output files go under it */
	const char *tree;	       /* the tree judged */
	const char *artifacts;	       /* excludes file: paths the gates created */
	long long deadline_at;	       /* absolute clock_ms(); 0: none */
	const struct sandbox *sandbox; /* where gates run; NULL: none */
	const struct policy *policy;   /* extra env names; NULL: none */
	const char *phase;	       /* "reverify": named in gate records */
	/* State, owned. */
	char tree_id[41];		/* HEAD's tree: the cache key */
	struct testcount *base_counts;	/* per gate, from the baseline round */
	struct testcount *round_counts; /* per gate, from the latest round */
	struct judge_cache *cache;
	size_t ncache;
	struct gate_outcome last; /* the latest deciding gate result */
	struct buf files;	  /* tracked paths (NUL-separated), scanned
				     after the gates: the prompt's file list */
	/* Set by the owner around judge_gates: the scan after the gates
	 * runs in the background (git_scan_start) until judge_scan_wait. */
	int scan_later;
	/* Set by the owner around judge_gates: no process outlives its spawn
	 * (the sandbox's PID namespace; no tool server, no agent), so when no
	 * gate ran (cache hits) and nothing else ran since the last scan
	 * began (judge_nothing_ran_since_scan), the tree is as that scan saw
	 * it and none is made. */
	int scan_unless_unchanged;
	struct git_scan scan;
	/* proc_spawns() once the latest scan after the gates had started,
	 * plus 1 (0: no scan yet): judge_nothing_ran_since_scan */
	unsigned long long scan_spawns;
};
#define JUDGE_INIT                                                                       \
	{                                                                                \
		.files = BUF_INIT, .last = {.output = BUF_INIT }                         \
	}

/* The id of HEAD's tree in j->tree, into j->tree_id. */
int judge_tree_id(struct judge *j, struct buf *err);
/* 0 when the gates ran (pass or fail); -errno when one could not start. */
int judge_gates(struct judge *j, const char *dir, int iteration, enum judge_mode mode,
		struct buf *err);
/*
 * --confirm N: runs the (passing) gates N more times on the same tree,
 * bypassing the cache.  Returns 0 when they passed every time, 1 when a
 * gate flipped (why says which, with both output files), -errno.  Each
 * confirmation round's gate_start records carry "confirm": its number.
 */
int judge_confirm(struct judge *j, const char *dir, int iteration, struct buf *why,
		  struct buf *err);
/*
 * The executed-test floor: after a passing round, each gate whose baseline
 * output had a recognised test summary must report at least as many tests
 * executed, and no more skipped.  Returns 1 with why set when a gate falls
 * short (the pass is not convergence), 0 otherwise.  Each gate's comparison
 * is a `test_floor` event; gates without a recognised runner have no floor
 * and the event says so.
 */
int judge_floor(struct judge *j, int iteration, struct buf *why);
/*
 * Waits for the scan judge_gates left running (scan_later): what the gates
 * created is then in j->artifacts.  Before anything changes the tree, runs
 * git with the excludes, or judges again.  0 when none was running.
 */
int judge_scan_wait(struct judge *j, struct buf *err);
/* 1 when loopgate started no command since the scan after the latest gate
 * round began (the scan's own git apart): whatever is untracked in the
 * tree now was there for the scan, and is in j->artifacts once
 * judge_scan_wait returned.  Spawns that can outlive their command (no
 * sandbox: a daemon that escaped) are the caller's to rule out. */
int judge_nothing_ran_since_scan(const struct judge *j);
void judge_release(struct judge *j);

#endif
