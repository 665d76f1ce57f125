/*
 * git_repair: a run's worktree made usable again after loopgate was killed
 * at any instant (in the middle of `git worktree add` on a large
 * repository, of a checkout, of a commit) or the machine lost power.
 *
 *   struct buf did = BUF_INIT;
 *   if (git_repair_worktree(repo, tree, branch, head, &did, &err) < 0) ...
 *   ... did: what was repaired ("" when nothing), for the resume record ...
 *   then reset --hard head and clean, as resume's rollback does
 *
 * The caller holds the run lock.  The dead run's wardens (exec/warden.h)
 * held it too, until every git process of that run was dead: no live git
 * writes this worktree, so its lock files are stale and may go.  Only
 * files private to this run are touched: the worktree, its administrative
 * directory (.git/worktrees/NAME) and the branch's loose ref and lock;
 * never a lock shared with other runs (packed-refs, config).
 *
 * Repairs: a worktree git never finished making (no .git, or an
 * administrative directory missing) is removed and made again; the
 * "initializing" lock of an interrupted `worktree add` is cleared; stale
 * index.lock, HEAD.lock and branch ref locks are removed; a HEAD that does
 * not name the run branch (worktree add writes a null id first) is set to
 * it; a branch ref that does not parse is set to head; an index that is
 * empty, cut short or fails its checksum is removed (the caller's reset
 * --hard writes a new one from head).
 */
#ifndef LOOPGATE_GIT_REPAIR_H
#define LOOPGATE_GIT_REPAIR_H

#include "base/buf.h"

/* branch: without refs/heads/.  head: the commit the run is at by its log
 * (also where a branch is created when it does not exist yet). */
int git_repair_worktree(const char *repo, const char *tree, const char *branch,
			const char *head, struct buf *did, struct buf *err);

/* 0 when path is a whole index file (signature, version, trailing SHA-1
 * or SHA-256 checksum), -EBADMSG when not, -errno when it cannot be read
 * (-ENOENT: there is none). */
int git_index_check(const char *path);

#endif
