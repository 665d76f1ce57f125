/*
 * saferead: the one way loopgate reads a path inside a tree that the actor
 * controls (the run's worktree): context files, JUnit reports, the files a
 * gate's output names, mutation sites.  Also the bounded read of the files a
 * user names (goal, config, policy, transcripts).
 *
 * The actor may leave anything in its tree: a symlink to the audit key, to
 * /etc/shadow or to a .env the sandbox masks, "..", a FIFO that blocks a
 * reader forever, /dev/zero, a 10 GB file.  The sandbox stops the actor from
 * reading those; loopgate's own reads run outside the sandbox, so they must
 * stop themselves:
 *
 *   struct buf b = BUF_INIT;
 *   ret = saferead_tree(tree, "src/x.c", 32768, SAFEREAD_TRUNCATE, &b, NULL, &err);
 *
 * The path is resolved beneath the tree (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS; where the kernel has no openat2, a walk that opens
 * each component with O_NOFOLLOW, so every symlink is refused there); an
 * absolute path or a ".." component is refused before any lookup; only a
 * regular file is read (FIFOs, devices, sockets, directories refused); the
 * open is O_NONBLOCK | O_NOCTTY | O_CLOEXEC, so nothing blocks; a file whose
 * resolved name is .env or .env.* is refused (the sandbox masks those from
 * the actor: a symlink must not hand them over).  At most max bytes are read:
 * with SAFEREAD_TRUNCATE the first max bytes and out->truncated set, else
 * -EFBIG with the limit named in err.  st (optional) receives the file's
 * fstat.  Errors: -errno with one sentence in err (optional).
 *
 * saferead_user reads a file the user named (any path, symlinks followed:
 * the user is not the adversary) with the same non-blocking open, the same
 * cap and the same refusal of devices, sockets and directories.  A FIFO or
 * pipe is read (a shell's <(...) is one) but never past max bytes or past
 * timeout_ms without data (0: 10 s), and a signal ends the wait (-EINTR).
 */
#ifndef LOOPGATE_SAFEREAD_H
#define LOOPGATE_SAFEREAD_H

#include <stddef.h>
#include <sys/stat.h>
#include "base/buf.h"

#define SAFEREAD_TRUNCATE 1u

int saferead_tree(const char *root, const char *rel, size_t max, unsigned flags,
		  struct buf *out, struct stat *st, struct buf *err);
int saferead_user(const char *path, const char *what, size_t max, int timeout_ms,
		  struct buf *out, struct buf *err);
/* Whether rel is a non-empty relative path without a ".." component. */
int saferead_rel_ok(const char *rel);
/* Tests only: 1 makes saferead_tree use the O_NOFOLLOW walk, as on a
 * kernel without openat2. */
void saferead_force_walk(int on);

#endif
