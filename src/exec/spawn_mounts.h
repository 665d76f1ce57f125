/*
 * spawn_mounts: what a spawn in the per-run jail gets fresh, made by the
 * spawner's processes inside the spawn's own mount namespace (spawner.c,
 * docs/design/onejail.md).  Each returns 0 or -errno.
 *
 *   unshare(CLONE_NEWNS | ...); mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
 *   spawn_fresh_tmpfs("/tmp");    a new tmpfs, the jail's mounts under it
 *   spawn_fresh_tmpfs("/dev/shm"); (a repository under /tmp) bound back
 *   spawn_seed(home, paths, fds, n);   the agent's home and seed files on it
 *   spawn_fresh_proc();           in the new PID namespace's first process:
 *                                 /proc of that namespace, /proc/sys and
 *                                 the like read-only
 */
#ifndef LOOPGATE_SPAWN_MOUNTS_H
#define LOOPGATE_SPAWN_MOUNTS_H

#include <stdint.h>

int spawn_fresh_tmpfs(const char *dir);
int spawn_seed(const char *home, char *const *paths, const int *fds, uint32_t n);
int spawn_fresh_proc(void);

#endif
