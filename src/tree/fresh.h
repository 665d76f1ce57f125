/*
 * fresh: every gate round judges the tree as it is, not a cache of an
 * earlier tree (docs/design/judge-fresh.md).
 *
 * Build tools and interpreters skip work for a file whose timestamp (and
 * size) look unchanged: CPython trusts a .pyc whose source has the same size
 * and the same mtime in whole seconds, mypy's cache does the same, make and
 * ninja rebuild only a target older than its source (ns), eslint and jest key
 * on milliseconds.  A loop edits within milliseconds of the previous gate
 * run, so each of them can be fooled by an edit that keeps the size.  After
 * each actor turn, before the gates run, every changed path is given an
 * mtime strictly later, in whole seconds and so in every finer unit, than
 * any earlier state of it a cache can have recorded (its own last write, and
 * every stamp given before), waiting for the wall clock to reach the next
 * second when that is needed (at most about a second, and only when the
 * last write fell in the current second); and the Python bytecode of
 * changed .py files is removed.
 *
 *   struct fresh f = FRESH_INIT;                     one per worktree
 *   fresh_turn_begin(&f);                            before the actor's turn
 *   struct buf paths = BUF_INIT;
 *   fresh_touched(&f, tree, tracked, wrote, &paths, &err);  tracked files touched
 *   ... append the staged change's paths (new, deleted, reverted) ...
 *   struct fresh_report rep = FRESH_REPORT_INIT;
 *   if (fresh_apply(&f, tree, &paths, tracked, &rep, &err) < 0) ...
 *   fresh_report_release(&rep);
 *
 * fresh_apply returns 0, -ECANCELED when interrupted while waiting, or
 * another -errno (err set) when a path could not be stamped.  Paths that no
 * longer exist are skipped; symlinks are stamped themselves, never their
 * target; nothing outside tree is touched.
 */
#ifndef LOOPGATE_FRESH_H
#define LOOPGATE_FRESH_H

#include "base/buf.h"

struct fresh {
	long long last_sec;	 /* the whole second of the latest stamp given */
	long long turn_start_ns; /* fresh_turn_begin's coarse clock; 0: none */
	int quiet;		 /* fresh_turn_quiet: no process ran this turn */
};
#define FRESH_INIT                                                                       \
	{                                                                                \
		.last_sec = 0                                                            \
	}

/* The actor's turn begins: see fresh_touched. */
void fresh_turn_begin(struct fresh *f);
/*
 * Only loopgate wrote the tree this turn: a model's edit blocks applied,
 * no tool called, no tool server, no command run.  Then no cache can have
 * seen a state of a changed path newer than the turn's start (the gates,
 * the last processes that ran, had ended by then), so the stamp need only
 * be past that second and the latest stamp's, not past the second of
 * loopgate's own writes: a model that answers in a second or more is
 * never waited for.  Cleared by fresh_turn_begin.
 */
void fresh_turn_quiet(struct fresh *f);

struct fresh_report {
	int stamped;	     /* paths given a new mtime */
	struct buf bytecode; /* removed .pyc files, NUL-separated */
	long long waited_ms; /* for the clock to pass the last write's second */
	long long stamp_ns;  /* the mtime given, ns since the epoch */
};
#define FRESH_REPORT_INIT                                                                \
	{                                                                                \
		.bytecode = BUF_INIT                                                     \
	}

/*
 * The tracked paths the turn touched: content changes, and files rewritten
 * or touched with the same content, whose intermediate states a cache may
 * have seen.  Two sources, each path once:
 *   - `git diff-files`: stat data that differs from what the index holds;
 *   - every path of tracked (NUL-separated) whose ctime is at or after
 *     fresh_turn_begin.  git's check alone misses a file rewritten and put
 *     back with its old mtime and size when its inode number is reused and
 *     its ctime falls in the second the index recorded (git compares
 *     whole seconds): the bytecode of the version in between then passed
 *     the gate.  A ctime cannot be set back by anything the actor runs.
 *   After a quiet turn (fresh_turn_quiet), the tracked paths of wrote
 *     (NUL-separated: what loopgate's own edit blocks wrote; NULL: none)
 *     instead: no process ran, so nothing else was written, and no cache
 *     saw a state in between.  The ctimes would add false ones: a file
 *     the checkout or a gate wrote in the coarse clock's tick (4 ms here)
 *     the turn began in has a ctime at or after that start, and its stamp
 *     would wait for the next second.
 * Appends NUL-separated paths to out.
 */
int fresh_touched(const struct fresh *f, const char *tree, const struct buf *tracked,
		  const struct buf *wrote, struct buf *out, struct buf *err);
/* Appends the NUL-separated paths of more to paths, each one once. */
void fresh_merge(struct buf *paths, const struct buf *more);
/* tracked (NUL-separated, may be NULL): bytecode files in it are kept. */
int fresh_apply(struct fresh *f, const char *tree, const struct buf *paths,
		const struct buf *tracked, struct fresh_report *rep, struct buf *err);
void fresh_report_release(struct fresh_report *rep);

#endif
