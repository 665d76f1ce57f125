/*
 * git: loopgate's own git commands, through proc with an argv (never a
 * shell string) and a hardened, hermetic configuration.
 *
 * Every call runs `git -c core.hooksPath=/dev/null -c core.fsmonitor=false
 * ... ARGS` with only PATH, HOME and a fixed locale in the environment, no
 * system or global config (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null)
 * and a fixed committer identity, so nothing the actor writes into the tree
 * and nothing in the user's global config changes what these commands do.
 *
 *   struct buf out = BUF_INIT, err = BUF_INIT;
 *   if (git_run(dir, &out, &err, "rev-parse", "HEAD", NULL) < 0) ...
 *
 * Returns 0 when git exited 0; -EIO when it exited non-zero (err holds its
 * trimmed stderr); another -errno when it could not be started.
 */
#ifndef LOOPGATE_GIT_H
#define LOOPGATE_GIT_H

#include "base/buf.h"

#include <sys/types.h>

int git_run(const char *dir, struct buf *out, struct buf *err, ...)
	__attribute__((sentinel));
int git_runv(const char *dir, const char *const *args, const char *stdin_path,
	     struct buf *out, struct buf *err);
/* A finished git process as loopgate reports it: 0 when it exited 0, else
 * -EIO with "git CMD failed (how): its stderr" in err. */
struct proc_result;
int git_exit_status(struct proc_result *r, long timeout_ms, const char *cmd,
		    struct buf *err);

/* The top level of the work tree containing dir, realpath'd. */
int git_toplevel(const char *dir, struct buf *out, struct buf *err);
/* HEAD's tree id (40 hex) into out: read from the worktree's files when
 * HEAD is a loose commit (as right after a commit), else `rev-parse`. */
int git_head_tree(const char *tree, char out[41], struct buf *err);
/* 1 when the HEAD of the work tree tree, read off its files, is sha; 0
 * when it is not, or cannot be read so (ask git). */
int git_head_is(const char *tree, const char *sha);
/* Full sha of HEAD (or of rev) into out. */
int git_rev(const char *dir, const char *rev, struct buf *out, struct buf *err);
/*
 * The tracked paths whose stat data differ from the index (NUL-separated,
 * appended to out): what `git diff-files --name-only` names, or more, read
 * off the index file without a process when the repository's configuration
 * allows (git_index.c), else from git.
 */
int git_diff_files(const char *tree, struct buf *out, struct buf *err);
/* 1 when tracked files differ from HEAD (staged or not), 0 when clean. */
int git_is_dirty(const char *dir, struct buf *err);
/*
 * A git call in two halves (proc_begin, proc.h): git_begin starts `git
 * ARGS` in dir (hardened as git_runv's) and returns at once; git_end waits
 * for it and returns what git_runv would have (its stdout into out, may
 * be NULL).  Every git_begin needs its git_end.  git_dirty_begin/_end:
 * git_is_dirty in two halves.
 */
struct git_pending;
struct git_pending *git_begin(const char *dir, const char *const *args);
int git_end(struct git_pending *g, struct buf *out, struct buf *err);
struct git_pending *git_dirty_begin(const char *dir);
int git_dirty_end(struct git_pending *g, struct buf *err);
/*
 * Stages everything in the tree and commits it when anything changed.
 * excludes (optional) is a gitignore-format file of paths not to stage
 * (files the gates created, which are not the actor's change).
 * *changed gets the NUL-separated list of changed paths (empty: nothing
 * changed, no commit made); sha (optional) the new HEAD.
 */
struct git_index_stamp {
	int valid;
	unsigned long long dev, ino;
	long long size, mtime_ns;
};
/*
 * stamp (optional, zeroed at first): lets later calls trust `add -v`; see
 * git.c.  Keep one per worktree and pass it to every call.
 * git_commit_all = git_stage_all, then git_commit_staged when anything
 * changed; the two halves let a caller inspect and amend the staged change.
 */
int git_stage_all(const char *tree, const char *excludes,
		  const struct git_index_stamp *stamp, struct buf *changed,
		  struct buf *err);
/* The stamp of the tree's index as it is now: call it when the index
 * equals HEAD (a commit, or the checkout that made the worktree). */
void git_index_stamp_take(const char *tree, struct git_index_stamp *st);
/* 1 when st is valid and the index is still as it took it: nobody
 * rewrote it since, it equals HEAD. */
int git_index_stamp_same(const char *tree, const struct git_index_stamp *st);
int git_commit_staged(const char *tree, const char *msg, struct git_index_stamp *stamp,
		      struct buf *sha, struct buf *err);
/*
 * git_stage_all and git_commit_staged in one process, `git commit -a`, for
 * a change the caller knows touched only tracked paths (no new file to
 * add): 0 with *changed and *sha as those two give them; 1 when it was not
 * used or git made no commit (HEAD as it was, changed and sha untouched):
 * stage and commit the usual way; -errno when the commit failed after HEAD
 * moved.
 */
int git_commit_tracked(const char *tree, const char *msg, struct git_index_stamp *stamp,
		       struct buf *changed, struct buf *sha, struct buf *err);
/*
 * Puts the NUL-separated paths back as they are in HEAD, in the index and
 * the work tree: paths HEAD has are restored, paths it lacks are removed.
 */
int git_revert_paths(const char *tree, const struct buf *paths, struct buf *err);
int git_commit_all(const char *tree, const char *msg, const char *excludes,
		   struct git_index_stamp *stamp, struct buf *changed, struct buf *sha,
		   struct buf *err);
/*
 * One `git ls-files` over the tree: appends every untracked, not ignored,
 * not yet excluded path to the excludes file as an exact anchored pattern
 * (run right after the gates, these are what the gates created), and fills
 * tracked (optional) with the NUL-separated tracked paths.
 */
int git_scan_tree(const char *tree, const char *excludes, struct buf *tracked,
		  struct buf *err);
/*
 * The same scan with its git process in the background (git_scan.c):
 * tracked is filled at once from the index file (what `ls-files --cached`
 * prints); the untracked paths are listed by `git ls-files --others` while
 * the caller goes on, and appended to excludes by git_scan_finish, which
 * must come before anything changes the tree or reads excludes.  When the
 * index cannot be read exactly (git_index_paths),
 * the scan is git_scan_tree's, done when this returns; so it is under a
 * "kill:git" fault point (base/fault.h), which counts git calls.  A scan still
 * running is finished first.
 *
 *   struct git_scan s = GIT_SCAN_INIT;
 *   git_scan_start(tree, excludes, &files, &s, err);   ... the model call ...
 *   git_scan_finish(&s, err);                            0 when none runs
 */
struct git_scan {
	pid_t pid; /* 0: none running */
	char *out, *errout, *excludes;
};
#define GIT_SCAN_INIT                                                                    \
	{                                                                                \
		.pid = 0                                                                 \
	}
int git_scan_start(const char *tree, const char *excludes, struct buf *tracked,
		   struct git_scan *s, struct buf *err);
int git_scan_finish(struct git_scan *s, struct buf *err);
/* Discards uncommitted changes in the tree (reset --hard + clean -fdx). */
int git_restore(const char *tree, struct buf *err);

/*
 * Worktrees (git_worktree.c).  Every add and remove holds the repository's
 * worktrees lock (a flock on <common dir>/loopgate-worktrees.lock) for all
 * loopgate processes: git does not serialise them itself, and while one
 * `worktree add` has made its record but not yet written its commondir,
 * another add, remove or fetch that lists the worktrees dies ("failed to
 * read .git/worktrees/tree1/commondir").  git_worktrees_lock waits for it
 * and returns a descriptor for git_worktrees_unlock (-1: no lock, the git
 * command then runs unlocked and reports its own errors).
 */
int git_worktrees_lock(const char *repo);
void git_worktrees_unlock(int fd);
/* The git common directory of repo (absolute): <repo>/.git when that is a
 * directory, else asked of `git rev-parse`. */
int git_common_dir(const char *repo, struct buf *out, struct buf *err);
/* Creates branch at base and a worktree for it at path. */
int git_worktree_add(const char *repo, const char *path, const char *branch,
		     const char *base, struct buf *err);
/*
 * The same in two halves, for work done while git checks the files out:
 * git_worktree_add_begin makes path and its record (<path>/.git exists
 * when it returns 0; the files come later) under the worktrees lock, and
 * git_worktree_add_end waits for the checkout: 0, or -errno with what
 * was made removed.  Every begin that returned 0 needs its end.
 */
struct git_worktree_pending;
int git_worktree_add_begin(const char *repo, const char *path, const char *branch,
			   const char *base, int premade,
			   struct git_worktree_pending **out, struct buf *err);
/*
 * The tree made ahead, before the run is on record, so that its sandbox
 * can bind it (and <path>/.git, read-only) while the setup goes on:
 * git_worktree_premake makes path and an empty <path>/.git, into which
 * git_worktree_add_begin(..., premade = 1, ...) writes the record's line
 * in place (the bind sees it).  0 when made; 1 when the repository is not
 * one whose worktrees are made by hand (nothing made: add without
 * premade); -errno.  git_worktree_premade_undo removes what it made.
 */
int git_worktree_premake(const char *repo, const char *path);
void git_worktree_premade_undo(const char *path);
int git_worktree_add_end(struct git_worktree_pending *w, struct buf *err);
/* A worktree at path for the existing branch. */
int git_worktree_checkout(const char *repo, const char *path, const char *branch,
			  struct buf *err);
/*
 * A detached worktree of rev at path (`worktree add --detach`): no branch
 * is created.  git_worktree_remove deletes it with `worktree remove
 * --force --force` (also when it holds changes or is locked).
 */
int git_worktree_add_detached(const char *repo, const char *path, const char *rev,
			      struct buf *err);
int git_worktree_remove(const char *repo, const char *path, struct buf *err);
/* The administrative directory (under common, the git common directory)
 * whose gitdir file names <tree>/.git, into out ("" when there is none). */
void git_worktree_admin(const char *common, const char *tree, struct buf *out);
/* Adds "/.loopgate/" to the repository's info/exclude (once), so loopgate's
 * run and check directories never show in the user's `git status`. */
int git_exclude_loopgate_dir(const char *repo, struct buf *err);

#endif
