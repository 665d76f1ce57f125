/*
 * proc: the one module that starts child processes.
 *
 *   const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
 *   struct proc_opts o = PROC_OPTS_INIT;
 *   o.argv = argv; o.cwd = tree; o.env = env.v;     explicit environment
 *   o.merge_output = 1;                             stdout+stderr, terminal order
 *   o.timeout_ms = 60000; o.output_path = "gate-1.out";
 *   struct proc_result r = PROC_RESULT_INIT;
 *   if (proc_run(&o, &r, &err) < 0) ...             could not spawn: err says why
 *   ... r.status, r.exit_code, r.out ...            exit 1 is data, not an error
 *   proc_result_release(&r);
 *
 * The child runs in its own session and process group (setsid), with every
 * descriptor except 0-2 closed by O_CLOEXEC, under a warden (warden.h):
 * when loopgate dies, the child and every process under it die before the
 * warden lets go of loopgate's run lock.  An exec failure is reported through a close-on-exec
 * pipe, so "could not spawn" is distinct from "exited 127".  On timeout, on
 * the deadline or on SIGINT/SIGTERM the whole group gets SIGTERM, then
 * SIGKILL after kill_grace_ms.  When the child exits, whatever it left
 * running in its group is killed, so a gate cannot leave orphans behind.
 * stdout and stderr are drained together with poll(); captured bytes are
 * capped (max_output) while the full output streams to output_path (capped
 * by max_file_output, the cut marked by a line "[loopgate: output cut at N
 * bytes]"), so memory stays bounded whatever the child prints.
 *
 * With o.sandbox (docs/design/sandbox.md) the command runs inside
 * bubblewrap with the seccomp filter (unless the sandbox is off), under the
 * policy's rlimits and in a cgroup of its own when one is usable; output
 * past limits.output_bytes kills it; when it ends, every process it left
 * (in the cgroup, or reparented to loopgate, a child subreaper) is killed
 * and reaped, setsid double-forked daemons included.  r.limit names the
 * limit that ended it, when that can be known.  Inside bwrap the exit
 * status 128+N of the command reads as "killed by signal N".  With a host
 * list for the network, each such run gets its own proxy (netproxy.h),
 * stopped when the command ends; its decisions go to sandbox->ev.
 */
#ifndef LOOPGATE_PROC_H
#define LOOPGATE_PROC_H

#include <stddef.h>
#include <sys/types.h>
#include "base/buf.h"

struct sandbox;

struct proc_opts {
	const char *const *argv; /* argv[0] is looked up in PATH of env */
	const char *cwd;
	const char *const *env;	 /* NULL-terminated "K=V"; NULL: empty */
	const char *stdin_path;	 /* NULL: /dev/null */
	int merge_output;	 /* 1: stderr into the stdout pipe */
	size_t max_output;	 /* per stream, in memory; 0: 8 MiB */
	const char *output_path; /* full stdout (merged) to this file */
	size_t max_file_output;	 /* 0: 256 MiB */
	long timeout_ms;	 /* 0: none */
	long long deadline_ms;	 /* absolute clock_ms(); 0: none */
	long kill_grace_ms;	 /* 0: 2000 */
	int no_interrupt;	 /* 1: ignore interrupt_pending() */
	/* Runs on the actor's behalf: inside sandbox (sandbox.h) when it is
	 * on, always with its limits, the process tree killed at the end. */
	const struct sandbox *sandbox;
	/* Testing hook (base/fault.h): 1 makes loopgate SIGKILL itself
	 * fault_delay_ms() after the child started, or as soon as the child
	 * ends when that comes first (before its result is looked at). */
	int fault_kill;
	/* proc_start only: a child that ends soon (a git call in the
	 * background): its warden does not re-exec (warden.h), and the call
	 * returns once it is forked, not exec'd (an exec that fails is an
	 * exit 127 of *pid); and its stderr appended to this file instead of
	 * output_path (NULL: merged). */
	int brief;
	const char *error_path;
	/* 1: no warden (warden_direct): a command that starts no process
	 * of its own; not with sandbox */
	int direct;
};
#define PROC_OPTS_INIT                                                                   \
	{                                                                                \
		.argv = NULL                                                             \
	}

enum proc_status {
	PROC_EXITED,	  /* exit_code valid */
	PROC_SIGNALED,	  /* died of term_signal (not sent by us) */
	PROC_TIMED_OUT,	  /* we killed it: timeout_ms passed */
	PROC_DEADLINE,	  /* we killed it: the run's deadline passed */
	PROC_INTERRUPTED, /* we killed it: SIGINT/SIGTERM to loopgate */
};

struct proc_result {
	enum proc_status status;
	int exit_code;
	int term_signal;
	struct buf out;	  /* stdout (or merged) */
	struct buf err;	  /* stderr when not merged */
	size_t out_total; /* bytes the child wrote to stdout, even past caps */
	size_t err_total;
	double elapsed_ms;
	/* The policy limit that ended it, when known: "memory_mb",
	 * "processes", "cpu_seconds", "file_size_mb", "output_bytes",
	 * "wall_seconds"; NULL otherwise.  limit_value is the limit's value. */
	const char *limit;
	long long limit_value;
	int output_cut; /* output_path holds a cut marker */
	/* Requests the network proxy denied, "host:port, ..." (netproxy.h);
	 * NULL: none, or no proxy. */
	char *net_denied;
};
#define PROC_RESULT_INIT                                                                 \
	{                                                                                \
		.status = PROC_EXITED, .out = BUF_INIT, .err = BUF_INIT                  \
	}

/* 0 when the child ran (whatever its exit); -errno when it could not be
 * started, with err saying why.  Also -errno, with r filled in, when the
 * child ran but its output could not be written to output_path (a full
 * disk): the promise that the full output is on disk no longer holds. */
int proc_run(const struct proc_opts *o, struct proc_result *r, struct buf *err);
void proc_result_release(struct proc_result *r);
/*
 * proc_run in two halves, for a short child that runs while loopgate does
 * other work (a git call beside the sandbox's start):
 *   struct proc_pending *p;
 *   if (proc_begin(&o, &p, &err) < 0) ...      could not fork: err says why
 *   ... other work, other spawns ...
 *   if (proc_end(p, &r, &err) < 0) ...        could not exec: err says why
 *   ... else the child ran: r as proc_run fills it
 * o->sandbox and o->output_path must be NULL; o is copied (its argv and
 * env are used only by proc_begin).  proc_begin returns once the child is
 * forked, not once the command has exec'd (the wait for the exec is
 * proc_end's, ~1-2 ms that loopgate spends on other work).  Until proc_end
 * the child's output waits in its pipes (a child that prints more than
 * they hold waits too), and the tree kill that ends other spawns spares
 * it.  proc_end returns 0 or -errno (the command could not be run: r is
 * empty); p is freed either way.
 */
struct proc_pending;
/* How many commands this process has started so far (proc_run, proc_begin,
 * proc_start, proc_live_start, whether they ran or failed): equal counts
 * at two moments mean loopgate ran nothing in between. */
unsigned long long proc_spawns(void);
int proc_begin(const struct proc_opts *o, struct proc_pending **out, struct buf *err);
int proc_end(struct proc_pending *p, struct proc_result *r, struct buf *err);
/*
 * Starts a long-lived child (a fan-out worker; o->brief: a short one run in
 * the background, a git call) and returns at once with
 * *pid, the group leader (its warden: waitpid(*pid) gives the command's
 * exit status; kill(-*pid, SIGTERM) reaches the command).  stdout and
 * stderr are appended to o->output_path; stdin from o->stdin_path or
 * /dev/null; o->sandbox must be NULL (the child applies its own).
 * Timeouts do not apply: the caller waits and signals.  The tree kill
 * that ends every other spawn leaves it alone.  0, or -errno
 * when it could not be started (err says why).
 */
int proc_start(const struct proc_opts *o, pid_t *pid, struct buf *err);
/* After the caller reaped a proc_start child: its pid may be reused. */
void proc_forget(pid_t pid);

/*
 * A child the caller talks to over pipes, for as long as it needs (a tool
 * server speaking JSON-RPC on stdio): with o->sandbox it runs in the jail
 * like any spawn (bwrap, seccomp, limits, cgroup, the network proxy while
 * it lives); stderr is appended to o->output_path (NULL: dropped).
 *   proc_live_start(&o, &l, &err);
 *   write(proc_live_in(l), ...);  read(proc_live_out(l), ...);
 *   proc_live_stop(l);     EOF on its stdin, then SIGTERM, then SIGKILL,
 *                          reaped, and the jail taken down
 */
struct proc_live;
int proc_live_start(const struct proc_opts *o, struct proc_live **out, struct buf *err);
int proc_live_in(const struct proc_live *l);
int proc_live_out(const struct proc_live *l);
pid_t proc_live_pid(const struct proc_live *l);
void proc_live_stop(struct proc_live *l);
/* "exit 1", "killed by signal 9", "timed out after 5.0s", ... */
void proc_describe(const struct proc_result *r, long timeout_ms, struct buf *out);
const char *proc_status_name(enum proc_status s);

/*
 * The environment children get: only these variables from loopgate's own
 * environment (never API keys): PATH HOME USER LOGNAME SHELL LANG LC_* TERM
 * TZ TMPDIR.  Appends "K=V" strings to *env (a NULL-terminated growable
 * array); proc_env_set adds or replaces one.
 */
struct proc_env {
	char **v; /* NULL-terminated */
	size_t n;
};
#define PROC_ENV_INIT                                                                    \
	{                                                                                \
		.v = NULL, .n = 0                                                        \
	}
void proc_env_base(struct proc_env *e);
void proc_env_set(struct proc_env *e, const char *name, const char *value);
void proc_env_release(struct proc_env *e);
/* The value of name in a NULL-terminated env array (NULL: not there). */
const char *proc_env_get(const char *const *env, const char *name);

#endif
