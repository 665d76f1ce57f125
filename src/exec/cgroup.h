/*
 * cgroup: one control group per spawned process tree, to bound its memory
 * and process count and to kill all of it at the end.
 *
 *   char *note = NULL;
 *   enum cgroup_kind k = cgroup_detect(&note);   once per run; note: why none
 *     (or d = cgroup_detect_begin(); ... k = cgroup_detect_end(d, &note))
 *   struct cgroup cg;
 *   cgroup_create(&cg, k, &limits);    before fork; cg.kind NONE on failure
 *   ... in the child, before exec: cgroup_join(&cg);  (async-signal-safe)
 *   ... after the child exits:
 *   const char *hit = cgroup_limit_hit(&cg);   "memory_mb", "processes", NULL
 *   cgroup_destroy(&cg);               kills every task left, removes it
 *
 * v2 is used when the unified hierarchy is mounted at /sys/fs/cgroup and a
 * child of loopgate's own cgroup can be made with the memory and pids
 * controllers; else v1 pids + memory (each a child of loopgate's own cgroup
 * in that hierarchy); else none.  Detection makes and removes a test group.
 */
#ifndef LOOPGATE_CGROUP_H
#define LOOPGATE_CGROUP_H

#include "config/policy.h"
#include "exec/sandbox.h"

#define CGROUP_INIT                                                                      \
	{                                                                                \
		.kind = CGROUP_NONE, .dir = {NULL, NULL}, .procs_fd = { -1, -1 }         \
	}

struct cgroup {
	enum cgroup_kind kind;
	char *dir[2];	 /* v1: pids, memory; v2: dir[0] */
	int procs_fd[2]; /* their cgroup.procs, open for the child */
};

enum cgroup_kind cgroup_detect(char **note);
/* The same in a thread, begun early and asked late: its mkdir and the
 * sweep of dead runs' groups wait behind the prime's first migration
 * (below), work that can go on meanwhile (the jail's bwrap) need not.
 * cgroup_detect_end waits for the answer (once; later calls give it
 * again; NONE for a NULL d); note, when not NULL, is the detection's note,
 * freed with d. */
struct cgroup_detecting *cgroup_detect_begin(void);
enum cgroup_kind cgroup_detect_end(struct cgroup_detecting *d, const char **note);
void cgroup_detect_free(struct cgroup_detecting *d);
/* 0, or -errno (cg->kind is then CGROUP_NONE and nothing is left behind). */
int cgroup_create(struct cgroup *cg, enum cgroup_kind kind,
		  const struct policy_limits *lim);
void cgroup_join(const struct cgroup *cg);
/* Starts, in a detached thread, the grace period the next join would wait
 * for, and keeps it paid (cgroup.c) until cgroup_prime_end, called once the
 * join it was for is done (the jail's start), or for at most 3 s; it
 * changes nothing. */
void cgroup_prime(void);
void cgroup_prime_end(void);
/* SIGKILL to every task in it, once (the child's tree, escapees too). */
void cgroup_kill(const struct cgroup *cg);
const char *cgroup_limit_hit(const struct cgroup *cg);
/* The counters cgroup_limit_hit looks at: out[0] OOM kills, out[1] forks
 * refused at pids.max (0 each when there is no cgroup); for a cgroup many
 * spawns share, a counter that moved names the limit one of them hit. */
void cgroup_counts(const struct cgroup *cg, long long out[2]);
void cgroup_destroy(struct cgroup *cg);

#endif
