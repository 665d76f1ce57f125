/*
 * proc_impl.h: PRIVATE to proc.c (run a child to its end) and proc_live.c
 * (children that stay: fan-out workers, MCP servers).  Other modules use
 * proc.h.
 */
#ifndef LOOPGATE_PROC_IMPL_H
#define LOOPGATE_PROC_IMPL_H

#include "exec/proc.h"
#include "exec/cgroup.h"
#include "exec/netproxy.h"
#include "base/strlist.h"

/* What a spawn keeps of its output when proc_opts says nothing: in
 * memory, per stream (max_output), and in output_path (max_file_output). */
#define DEFAULT_MAX_OUTPUT (8u << 20)
#define DEFAULT_MAX_FILE   (256u << 20)

struct child_ctx {
	const char *const *argv;
	int seccomp_fd;
	const struct cgroup *cg;
	int net_fd;    /* the network relay's end (netproxy.h) */
	int *file_fds; /* sandbox->files, one memfd each */
	size_t nfiles;
	pid_t loopgate; /* the warden kills the tree when this process dies */
	int jail_fd;	/* > 2: starting the per-run jail (onejail.h), the
			 * spawner's socket: bwrap's argv is the jail's */
	int lean;	/* a long-lived child: its warden re-execs (warden.h) */
	int exec_later; /* proc_spawn_child returns once forked, rep[0] kept
			 * open: proc_await_exec reads it later (proc_begin) */
};

struct run_state {
	pid_t pid;
	int pidfd;
	int exited;
	int wstatus;
	long long start, kill_at, term_sent_at;
	enum proc_status why;
	int killing;
	long timeout_ms;   /* o->timeout_ms, or limits.wall_seconds if sooner */
	int wall_limited;  /* timeout_ms is the wall_seconds limit */
	int output_killed; /* killed for output past limits.output_bytes */
	const struct cgroup *cg;
	int jailed; /* spawned through the per-run jail (onejail.h): */
	int ctl;    /* its control socket, in place of pid and pidfd */
};

int proc_pidfd_open(pid_t pid);
/* Counts a command started (proc_spawns, proc.h). */
void proc_count_spawn(void);
void proc_kill_group(pid_t pgid, int sig);
int proc_open_stdin(const struct proc_opts *o, struct buf *err);
void proc_close_pair(int p[2]);
void proc_close_files(struct child_ctx *cx);
/* What the sandbox adds to one spawn (limits, cgroup, seccomp, the network
 * proxy, the bwrap argv into wrapped); undone on failure. */
int proc_jail_enter(const struct sandbox *sb, const char *const *argv,
		    struct run_state *s, struct cgroup *cg, struct child_ctx *cx,
		    struct netproxy *np, struct strlist *wrapped, size_t *file_max,
		    struct buf *err);
/* The sandbox's wall-clock and output limits for one spawn. */
void proc_jail_limits(const struct sandbox *sb, struct run_state *s, size_t *file_max);
/* Forks the child (under its warden) and waits for its exec. */
int proc_spawn_child(const struct proc_opts *o, struct child_ctx *cx, struct run_state *s,
		     int in_fd, int outp[2], int errp[2], int rep[2], struct buf *err);
/* The absolute path a PATH search finds for file (no slash in it), into
 * out; NULL when it has a slash or is not found (the child then searches
 * itself).  path_var NULL: /usr/bin:/bin. */
#define PROC_RESOLVE_MAX 4096
const char *proc_resolve(const char *file, const char *path_var,
			 char out[PROC_RESOLVE_MAX]);
/*
 * Between fork and exec (system calls only, on the stack): execs file as
 * the child's own search would: a name with a slash as it is, else found
 * (proc_resolve's answer in the parent; NULL or "" for none), else each
 * entry of path_var (NULL: /usr/bin:/bin).  Returns only on failure, with
 * the errno to report (ENOENT unless an entry failed otherwise).
 */
int proc_exec_search(const char *file, const char *found, const char *path_var,
		     char *const argv[], char *const env[]);
/* What the command's process needs, on the warden's stack (warden.h). */
struct proc_cmd_args {
	const struct proc_opts *o;
	const struct child_ctx *cx;
	int in_fd, out_fd, err_fd, report_fd;
	const char *path_var, *found;
};
/* In the command's process, a vfork child of the warden (warden_start's
 * exec_cmd): joins cx->cg, the sandbox's rlimits, stdio, cwd, exec; system
 * calls only, no return (exec, or _exit(127) with the errno reported). */
void proc_cmd_exec(void *arg);
/* After the child's ends were handed over: closes the parent's copies of
 * them (outp[1], errp[1], rep[1]) and waits for the exec's report; 0 when
 * the command runs, else -errno (pid reaped, err says why). */
int proc_await_exec(pid_t pid, const char *what, int outp[2], int errp[2], int rep[2],
		    struct buf *err);
/* The halves of proc_run that proc_pending.c shares: the output file and
 * pipes of a spawn (-errno with err set); the child's output drained until
 * it ends (outp[0], errp[0] closed after; d is pump's); r filled from s. */
int proc_open_ends(const struct proc_opts *o, int *file_fd, int outp[2], int errp[2],
		   int rep[2], struct buf *err);
/* One output stream of a child, being drained. */
struct drain {
	int fd;
	struct buf *b;
	size_t *total;
	int file_fd;
	size_t file_written, file_max;
	int file_cut;
	int file_err; /* errno of the first failed write to file_fd */
};
void proc_drain_child(const struct proc_opts *o, struct run_state *s,
		      struct proc_result *r, int outp[2], int errp[2], int file_fd,
		      size_t file_max, struct drain d[2]);
void proc_fill_result(const struct proc_opts *o, const struct run_state *s,
		      struct proc_result *r);
/* A long-lived child the tree kill of other spawns must spare. */
int proc_keep(pid_t pid);

#endif
