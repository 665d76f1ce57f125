/*
 * git_impl.h: PRIVATE to tree/git*.c.  Reading a worktree's git files
 * directly (git_files.c); -1 on anything unexpected, and the caller asks git.
 */
#ifndef LOOPGATE_GIT_IMPL_H
#define LOOPGATE_GIT_IMPL_H

#include "base/buf.h"

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
 * The tracked paths of tree whose stat data differ from the index's record
 * (git_index.c): every path `git diff-files --name-only` names, or more,
 * never fewer, appended NUL-separated to out.  -1 (out as it was) on
 * anything it does not expect: the caller asks git.
 */
int git_index_dirty(const char *tree, struct buf *out);
/* 0 when a `config --list -z` entry (kv, its key keylen bytes) changes
 * what git_index_dirty assumes, else 1 (git_index.c). */
int git_stat_key_plain(const char *kv, size_t keylen);
/* 1 when no key of dir's configuration does (git.c keeps the answer with
 * its driver overrides); 0 otherwise or when unknown. */
int git_config_stat_plain(const char *dir);

#endif
