/*
 * git_remote: git commands that talk to a remote (push, fetch) for the
 * executors whose workers share no filesystem with their coordinator
 * (executor kueue, docs/design/executors.md).
 *
 *   const char *args[] = {"fetch", "--no-tags", url, "+A:B", NULL};
 *   if (git_transfer(repo, args, &err) < 0) ...
 *
 * Unlike git_run (git.h), the user's global configuration is read: the
 * remote's credentials, url.insteadOf and the protocols the user allows
 * are theirs.  Hooks stay off and no prompt is ever shown (a credential
 * that is missing is an error, not a question).  0, or -EIO with git's
 * message in err.
 */
#ifndef LOOPGATE_GIT_REMOTE_H
#define LOOPGATE_GIT_REMOTE_H

#include "base/buf.h"

int git_transfer(const char *dir, const char *const *args, struct buf *err);
/* The same, with git's standard output into out (ls-remote). */
int git_transfer_out(const char *dir, const char *const *args, struct buf *out,
		     struct buf *err);

#endif
