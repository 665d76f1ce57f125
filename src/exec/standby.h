/*
 * standby: the next spawn of a --no-sandbox sandbox, made ahead of time
 * and already in its own fresh cgroup (docs/design/sandbox.md, "Cost").
 *
 * Joining a cgroup (a write to cgroup.procs) waits on the kernel (v1: an
 * RCU grace period, ~10 ms); the process that joins is the command, so
 * it used to be on every spawn's path.  A standby is the warden of a
 * later spawn, forked when one ended (two wait, the oldest taken first, so
 * each had two spawns' time): its command process (a vfork child, as for
 * every spawn) joins a cgroup made for it alone and then waits for the
 * command on a socket.  When the spawn comes, proc.c
 * sends it (argv, env, cwd, stdio, the exec-report pipe) and the rest is
 * what it always was: the same cgroup (one per spawn, the same limits),
 * the same warden, group, rlimits, kill and accounting.  Only the wait
 * moved off the spawn's path.
 *
 * proc.c uses it; nothing else needs to:
 *
 *   sb->standby = standby_new(sb);     sandbox_init (NULL unless
 *                                      --no-sandbox with a cgroup);
 *                                      standby_free at release
 *   if (standby_take(sb, &cg)) ...     1: cg is the standby's cgroup
 *                                      (the caller's now, destroyed as
 *                                      any spawn's)
 *   ret = standby_spawn(sb, o, s, in_fd, outp, errp, rep, err);
 *                                      like proc_spawn_child; -EAGAIN
 *                                      (nothing touched): the standby is
 *                                      gone, spawn as usual into cg
 *   standby_refill(sb);                after a spawn: the next standby
 */
#ifndef LOOPGATE_STANDBY_H
#define LOOPGATE_STANDBY_H

#include "base/buf.h"

struct sandbox;
struct proc_opts;
struct run_state;
struct cgroup;

struct standby;
struct standby *standby_new(const struct sandbox *sb);
/* Ends the waiting process (EOF on its socket) and removes its cgroup. */
void standby_free(struct standby *sby);

int standby_take(const struct sandbox *sb, struct cgroup *cg);
int standby_spawn(const struct sandbox *sb, const struct proc_opts *o,
		  struct run_state *s, int in_fd, int outp[2], int errp[2], int rep[2],
		  struct buf *err);
void standby_refill(const struct sandbox *sb);

#endif
