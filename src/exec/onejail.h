/*
 * onejail: one bubblewrap sandbox per run (sandbox_mode: per-run), with a
 * spawner inside it that forks every gate, actor turn and tool call in
 * namespaces of its own (docs/design/onejail.md).
 *
 * proc.c uses it; nothing else needs to:
 *
 *   int use = onejail_use(sb, err);    1: spawn through the jail (started
 *                                      now, the first time), 0: per-spawn
 *                                      bubblewrap, -errno: the jail died
 *   onejail_spawn(sb, o, s, in_fd, outp, errp, rep, err);   like
 *                                      proc_spawn_child; s->ctl is the
 *                                      spawn's control socket
 *   ... proc_run's loop: onejail_kill(s, sig), onejail_poll_exit(s, block)
 *   onejail_after(sb, s, r);           the proxy's decisions, a limit hit
 *
 * sandbox_init makes sb->jail when the mode is per-run; sandbox_release
 * stops it (onejail_free).  The spawner's side is spawner_main
 * (`loopgate __spawner SOCK SECCOMP`, spawner.c).
 */
#ifndef LOOPGATE_ONEJAIL_H
#define LOOPGATE_ONEJAIL_H

#include <stdint.h>
#include "base/buf.h"

struct sandbox;
struct proc_opts;
struct proc_result;
struct run_state;

/* The request protocol between proc.c and the spawner: one SEQPACKET
 * message, this header, with descriptors by SCM_RIGHTS in JFD_* order,
 * the seed files after them.  JFD_ARGS is a memfd of NUL-terminated
 * strings: cwd, the PATH search's result ("" none), the scratch home (""
 * none), argv (argc), env (envc), the seed files' paths (nfiles). */
#define ONEJAIL_MAGIC	  0x6c6a3101u
#define ONEJAIL_MAX_FILES 32
enum { JFD_IN, JFD_OUT, JFD_ERR, JFD_REP, JFD_CTL, JFD_ARGS, JFD_NFIXED };
struct onejail_req {
	uint32_t magic;
	uint32_t nfiles;
	uint32_t argc, envc;
	int64_t fsize, cpu, nproc, as; /* rlimits; 0: none */
};

struct onejail;
struct onejail *onejail_new(void);
void onejail_free(struct onejail *j);
/* "per-run" or "per-spawn" (the fallback, *note says why; NULL: asked). */
const char *onejail_mode(const struct onejail *j, const char **note);
/* A jail that is up but whose spawns fail (the probe): stopped, per-spawn
 * from now on, why in the note; 1 when it was up, 0 otherwise (NULL). */
int onejail_give_up(struct onejail *j, const char *why);

/* Shuts the jail's socket: it goes down while loopgate goes on;
 * onejail_free waits for it, onejail_use starts a new one. */
void onejail_stop_begin(struct onejail *j);
/* The jail's start cut in two: bwrap started now (a fork), its cgroup and
 * the spawner's "R" left to the first onejail_use, so that what can go on
 * meanwhile does (run_setup begins it before the run's record).  Nothing
 * when the sandbox has no jail or it was begun already. */
void onejail_boot_begin(const struct sandbox *sb);
int onejail_use(const struct sandbox *sb, struct buf *err);
int onejail_spawn(const struct sandbox *sb, const struct proc_opts *o,
		  struct run_state *s, int in_fd, int outp[2], int errp[2], int rep[2],
		  struct buf *err);
void onejail_kill(struct run_state *s, int sig);
void onejail_poll_exit(struct run_state *s, int block);
void onejail_after(const struct sandbox *sb, struct run_state *s, struct proc_result *r);

/* `loopgate __spawner SOCK SECCOMP` (spawner.c). */
int spawner_main(int argc, char **argv);

#endif
