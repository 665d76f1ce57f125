/*
 * git_impl.h: PRIVATE to tree/git*.c.  Reading a worktree's git files
 * directly (git_files.c); -1 on anything unexpected, and the caller asks git.
 */
#ifndef LOOPGATE_GIT_IMPL_H
#define LOOPGATE_GIT_IMPL_H

#include "base/buf.h"

#include <sys/types.h>

/* The worktree's git dir, from the "gitdir: " line of <tree>/.git, or
 * <tree>/.git itself when it is a directory. */
int git_worktree_gitdir(const char *tree, struct buf *out);
/* The common dir of a git dir: its commondir file (relative to the git
 * dir when not absolute), or the git dir itself (a main work tree's). */
void git_common_dir_of(const char *gitdir, struct buf *out);
/* HEAD's sha: detached, or through a loose ref in the common dir. */
int git_head_from_files(const char *tree, struct buf *sha);
/* The common config and config.worktree of dir (malloc'd paths), read off
 * <dir>/.git when dir is a work tree's top and GIT_DIR is not set. */
int git_config_files_fast(const char *dir, char *files[2]);

/*
 * The top of the work tree holding real (an absolute, realpath'd
 * directory) as `rev-parse --show-toplevel` finds it: the nearest ancestor
 * with a .git directory, when nothing could make git answer otherwise (no
 * GIT_DIR and the like in the environment, not inside a .git, no
 * filesystem boundary on the way, owned by this user as git's
 * safe.directory check wants, a git dir git would accept, a config
 * without core.worktree, core.bare or includes).
 */
int git_toplevel_fast(const char *real, struct buf *out);
/* 1 when the config file at path provably defines no filter, diff or merge
 * driver, no include and no core.worktree (read strictly; anything unusual
 * is 0): `git config --list` would give git.c nothing to blank or refuse.
 * *stat_plain: 1 when it is inert and no key of it changes git's stat
 * check (git_stat_key_plain), as driver_overrides' *plain would say. */
int git_config_inert(const char *path, int *stat_plain);
/*
 * The tracked paths of tree whose stat data differ from the index's record
 * (git_index.c): every path `git diff-files --name-only` names, or more,
 * never fewer, appended NUL-separated to out.  -1 (out as it was) on
 * anything it does not expect: the caller asks git.
 */
int git_index_dirty(const char *tree, struct buf *out);
/*
 * Every path of tree's index once, NUL-separated, in the index's order:
 * what `git ls-files -z --cached` prints, appended to out; -1 (out as it
 * was) when an entry is unmerged, a gitlink or skip-worktree, or on
 * anything git_index_dirty gives up on.  Only when git_config_stat_plain:
 * the entry layout depends on the configuration (extensions).
 */
int git_index_paths(const char *tree, struct buf *out);
/*
 * git_index_paths with each entry's mode and blob id: "path\0" then 4 bytes
 * of mode and 20 of id (as the index holds them) per entry, appended to
 * out; -1 (out as it was) as git_index_paths.
 */
int git_index_entries(const char *tree, struct buf *out);
/* The paths whose entry differs between two git_index_entries lists of one
 * index (added, removed, another mode or id), NUL-separated, appended to
 * changed in the index's order: what `git diff --cached --name-only` would
 * name between the two. */
void git_index_changes(const struct buf *before, const struct buf *after,
		       struct buf *changed);
/* 1 when git_index_paths would list tree's index (no gitlink among its
 * entries: no submodule git could start a process for), else 0. */
int git_index_plain(const char *tree);
/*
 * Starts git (with the hardening and the overrides of git_run) in the
 * background (proc_start, brief): stdout appended to out_path, stderr to
 * err_path; the caller waits for *pid and calls proc_forget.  *pid is
 * git's warden, or git itself when it starts no process (`ls-files`,
 * dir's index plain: warden_direct); either leads its own process group.
 */
int git_start(const char *dir, const char *const *args, const char *out_path,
	      const char *err_path, pid_t *pid, struct buf *err);
/* 0 when a `config --list -z` entry (kv, its key keylen bytes) changes
 * what git_index_dirty assumes, else 1 (git_index.c). */
int git_stat_key_plain(const char *kv, size_t keylen);
/* 1 when no key of dir's configuration does (git.c keeps the answer with
 * its driver overrides); 0 otherwise or when unknown. */
int git_config_stat_plain(const char *dir);

/* The options of one git call in dir (git_proc.c): the fixed hardening,
 * extra (may be NULL) and args; *argv and env are the caller's to free. */
struct proc_opts;
struct proc_env;
void git_opts(const char *dir, const char *const *extra, const char *const *args,
	      const char *stdin_path, struct proc_opts *o, const char ***argv,
	      struct proc_env *env);
/* The "-c" overrides that blank dir's configured drivers, appended to x
 * and NULL-terminated (x->v is an argv's middle part; git.c keeps them per
 * configuration); *plain as git_config_stat_plain. */
struct strlist;
int git_cached_overrides(const char *dir, struct strlist *x, int *plain, struct buf *err);

#endif
