/*
 * git_guard: notices and undoes changes to the git control files of a run's
 * worktree (configuration, hooks, attributes, the worktree's gitdir link),
 * which could make loopgate's own git commands run the actor's programs.
 *
 *   struct git_guard *g = git_guard_snapshot(tree, &err);   at run start
 *   ... actor turn ...
 *   struct buf ch = BUF_INIT;
 *   int n = git_guard_check(g, &ch, &err);
 *   n > 0: n paths had changed and were put back as recorded; ch holds
 *          "path\0what\0found\0" triples: what is "created", "modified",
 *          "deleted", "replaced by a symlink", ...; found is what stood
 *          there, the evidence for the audit (up to 4 KiB: a file's lines
 *          that the recorded version lacked, the whole of a new file,
 *          "-> target" for a link, empty for a directory or nothing);
 *          n < 0: -errno, err says why
 *   git_guard_free(g);
 *
 * Watched: <tree>/.git, the worktree git dir's HEAD, commondir, gitdir and
 * config.worktree, and in the common git dir config, config.worktree,
 * info/attributes, info/exclude, hooks/ and every file directly in it.
 * Paths are reported as ".git/..." relative to the common git dir (the
 * tree's own link file as "<tree>/.git").  See docs/design/git-hardening.md.
 */
#ifndef LOOPGATE_GIT_GUARD_H
#define LOOPGATE_GIT_GUARD_H

#include "base/buf.h"

struct git_guard;

struct git_guard *git_guard_snapshot(const char *tree, struct buf *err);
int git_guard_check(struct git_guard *g, struct buf *changes, struct buf *err);
void git_guard_free(struct git_guard *g);

#endif
