/*
 * proc.c: spawning, draining and reaping children.  See proc.h.
 */
#include "exec/proc.h"
#include "exec/proc_impl.h"
#include "exec/cgroup.h"
#include "base/clock.h"
#include "exec/netproxy.h"
#include "exec/onejail.h"
#include "exec/sandbox.h"
#include "exec/seccomp.h"
#include "exec/standby.h"
#include "exec/warden.h"
#include "base/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_GRACE_MS 2000
/* Longest pause between checks of the interrupt flag and the clock. */
#define TICK_MS 100

/*
 * In the child, between fork and exec: only async-signal-safe calls.  An
 * error is written to the report pipe as errno, then _exit(127).
 */
static void child_fail(int report_fd, int code)
{
	ssize_t w = write(report_fd, &code, sizeof(code));
	(void)w;
	_exit(127);
}

/* Soft limit v, hard limit hard (never raised above the current one). */
static void set_limit2(int res, rlim_t v, rlim_t hard)
{
	struct rlimit rl;
	if (getrlimit(res, &rl) == 0 &&
	    (rl.rlim_max == RLIM_INFINITY || hard < rl.rlim_max))
		rl.rlim_max = hard;
	rl.rlim_cur = v < rl.rlim_max ? v : rl.rlim_max;
	setrlimit(res, &rl); /* best effort: a lower limit stays */
}

static void set_limit(int res, rlim_t v)
{
	set_limit2(res, v, v);
}

/* The policy's rlimits; NPROC and AS only without a cgroup (sandbox.md). */
static void child_limits(const struct sandbox *sb, const struct cgroup *cg)
{
	const struct policy_limits *l = &sb->lim;

	set_limit(RLIMIT_CORE, 0);
	set_limit(RLIMIT_NOFILE, 65536);
	if (l->file_size_mb > 0)
		set_limit(RLIMIT_FSIZE, (rlim_t)l->file_size_mb << 20);
	if (l->cpu_seconds > 0)
		/* SIGXCPU at the limit (it says which limit); SIGKILL a
		 * second later for a process that ignores it */
		set_limit2(RLIMIT_CPU, (rlim_t)l->cpu_seconds,
			   (rlim_t)l->cpu_seconds + 1);
	if (cg->kind == CGROUP_NONE && l->processes > 0)
		set_limit(RLIMIT_NPROC, (rlim_t)l->processes);
	if (cg->kind == CGROUP_NONE && l->memory_mb > 0)
		set_limit(RLIMIT_AS, (rlim_t)l->memory_mb << 20);
}

void proc_cmd_exec(void *arg)
{
	static const char *const empty_env[] = {NULL};
	const struct proc_cmd_args *a = arg;
	const struct proc_opts *o = a->o;
	const struct child_ctx *cx = a->cx;
	const char *const *env = o->env ? o->env : empty_env;
	const char *const *argv = cx->argv;
	const char *file = argv[0], *path_var = a->path_var, *found = a->found;
	int in_fd = a->in_fd, out_fd = a->out_fd, err_fd = a->err_fd,
	    report_fd = a->report_fd;
	sigset_t none;
	int i;

	if (o->sandbox) {
		cgroup_join(cx->cg);
		if (cx->jail_fd <= 2) /* the jail: each spawn gets its own */
			child_limits(o->sandbox, cx->cg);
		if (cx->jail_fd > 2 && fcntl(cx->jail_fd, F_SETFD, 0) < 0)
			child_fail(report_fd, errno);
		if (cx->seccomp_fd >= 0 && fcntl(cx->seccomp_fd, F_SETFD, 0) < 0)
			child_fail(report_fd, errno);
		if (cx->net_fd >= 0 && fcntl(cx->net_fd, F_SETFD, 0) < 0)
			child_fail(report_fd, errno);
		for (size_t k = 0; k < cx->nfiles; k++)
			if (fcntl(cx->file_fds[k], F_SETFD, 0) < 0)
				child_fail(report_fd, errno);
	}
	/* The parent ignores SIGPIPE and blocks nothing, but be explicit. */
	for (i = 1; i < 32; i++)
		signal(i, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		child_fail(report_fd, errno);
	if (o->cwd && chdir(o->cwd) < 0)
		child_fail(report_fd, errno);
	child_fail(report_fd, proc_exec_search(file, found, path_var, (char *const *)argv,
					       (char *const *)env));
}

static void child_exec(const struct proc_cmd_args *a)
{
	const int pipes[] = {a->in_fd, a->out_fd, a->err_fd, a->report_fd};
	int ret;

	/* The warden leads the group and outlives loopgate until every
	 * process under it is dead (warden.h); the command is its child. */
	setsid();
	ret = warden_start(a->cx->loopgate, pipes, 4, proc_cmd_exec, (void *)a,
			   a->cx->lean);
	child_fail(a->report_fd, -ret);
}

/* Writes all of p to fd: 0, or -1 with *err set to errno (EIO when a
 * write makes no progress without saying why). */
static int write_full(int fd, const char *p, size_t len, int *err)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*err = n < 0 ? errno : EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads what is available; 1 at EOF, 0 otherwise. */
static int drain_some(struct drain *d)
{
	char tmp[65536];
	ssize_t n = read(d->fd, tmp, sizeof(tmp));
	if (n < 0)
		return (errno == EINTR || errno == EAGAIN) ? 0 : 1;
	if (n == 0)
		return 1;
	*d->total += (size_t)n;
	buf_add(d->b, tmp, (size_t)n); /* past the cap: counted, not kept */
	if (d->file_fd >= 0 && !d->file_cut && !d->file_err) {
		size_t room = d->file_max - d->file_written;
		size_t w = (size_t)n < room ? (size_t)n : room;
		/* A failed write (full disk) stops the copy; the child is
		 * still drained to its end and the failure reported then. */
		if (w && write_full(d->file_fd, tmp, w, &d->file_err) == 0)
			d->file_written += w;
		else if (w)
			return 0;
		if ((size_t)n > room) {
			char mark[80];
			int ml = snprintf(mark, sizeof(mark),
					  "\n[loopgate: output cut at %zu bytes]\n",
					  d->file_max);
			ssize_t w2 = write(d->file_fd, mark, (size_t)ml);
			(void)w2; /* best effort: the cut is also in events */
			d->file_cut = 1;
		}
	}
	return 0;
}

int proc_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

void proc_kill_group(pid_t pgid, int sig)
{
	if (pgid > 0)
		kill(-pgid, sig);
}

/* Opens the child's ends; returns the spawn result (0 or -errno). */
int proc_open_stdin(const struct proc_opts *o, struct buf *err)
{
	const char *p = o->stdin_path ? o->stdin_path : "/dev/null";
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, -errno, "cannot open %s for the child's input: %s", p,
			       strerror(errno));
	return fd;
}

/* Children proc_start made: long-lived (fan-out workers), never part of
 * the tree a finished spawn leaves behind. */
#define KEPT_MAX 256
static pid_t kept[KEPT_MAX];
static size_t nkept;

int proc_keep(pid_t pid)
{
	if (nkept >= KEPT_MAX)
		return -EAGAIN;
	kept[nkept++] = pid;
	return 0;
}

static int is_kept(long pid)
{
	for (size_t i = 0; i < nkept; i++)
		if (kept[i] == (pid_t)pid)
			return 1;
	return 0;
}

void proc_forget(pid_t pid)
{
	for (size_t i = 0; i < nkept; i++)
		if (kept[i] == pid) {
			kept[i] = kept[--nkept];
			return;
		}
}

/* SIGKILLs pid when it is a child of ours, reaping it when reap. */
static void kill_child(long pid, int reap)
{
	if (is_kept(pid))
		return;
	kill((pid_t)pid, SIGKILL);
	if (reap)
		waitpid((pid_t)pid, NULL, 0);
}

/* Scans /proc for processes whose parent is loopgate: the fallback when
 * /proc/self/task/TID/children is missing (CONFIG_PROC_CHILDREN). */
static int kill_children_scan(int reap)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t self = getpid();
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[64], buf[512], *p;
		long pid = strtol(e->d_name, &p, 10), ppid;
		FILE *f;
		if (*p || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if (!(f = fopen(path, "re")))
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		/* "pid (comm) state ppid": comm may hold anything but ')' last */
		if (!p || !(p = strrchr(buf, ')')) ||
		    sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid != self)
			continue;
		if (is_kept(pid))
			continue;
		kill_child(pid, reap);
		n++;
	}
	closedir(d);
	return n;
}

/* The children loopgate has (as a subreaper: orphans of the tree too),
 * SIGKILLed; reaped when reap.  Returns how many there were.  loopgate is
 * single-threaded, so its main thread's list is all of them. */
static int kill_children(int reap)
{
	char path[64];
	long pid;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children", (long)getpid());
	if (!(f = fopen(path, "re")))
		return kill_children_scan(reap);
	while (fscanf(f, "%ld", &pid) == 1) {
		if (is_kept(pid))
			continue;
		kill_child(pid, reap);
		n++;
	}
	fclose(f);
	return n;
}

/* The whole tree of a finished child: the cgroup, then loopgate's
 * remaining children (orphans reparented to the subreaper), until none. */
static void kill_tree(const struct run_state *s, int reap)
{
	if (s->cg)
		cgroup_kill(s->cg);
	for (int round = 0; round < 100 && kill_children(reap) && reap; round++)
		;
}

/* The command's group, or through the jail (onejail.h). */
static void state_kill(struct run_state *s, int sig)
{
	if (s->jailed)
		onejail_kill(s, sig);
	else
		proc_kill_group(s->pid, sig);
}

static void reap_if_exited(struct run_state *s, int block)
{
	if (s->jailed)
		onejail_poll_exit(s, block);
	if (s->exited || s->jailed) /* no pid of ours: never waitpid(0) */
		return;
	if (waitpid(s->pid, &s->wstatus, block ? 0 : WNOHANG) == s->pid)
		s->exited = 1;
}

/* Decides whether to start or escalate killing; returns poll timeout. */
static int check_limits(const struct proc_opts *o, struct run_state *s)
{
	long long now = clock_ms();
	long grace = o->kill_grace_ms > 0 ? o->kill_grace_ms : DEFAULT_GRACE_MS;
	long long next = now + TICK_MS;

	if (!s->killing) {
		enum proc_status why = PROC_EXITED;
		if (!o->no_interrupt && interrupt_pending())
			why = PROC_INTERRUPTED;
		else if (o->deadline_ms && now >= o->deadline_ms)
			why = PROC_DEADLINE;
		else if (s->timeout_ms && now - s->start >= s->timeout_ms)
			why = PROC_TIMED_OUT;
		if (why != PROC_EXITED) {
			s->killing = 1;
			s->why = why;
			state_kill(s, SIGTERM);
			s->term_sent_at = now;
		} else {
			if (s->timeout_ms && s->start + s->timeout_ms < next)
				next = s->start + s->timeout_ms;
			if (o->deadline_ms && o->deadline_ms < next)
				next = o->deadline_ms;
		}
	}
	if (s->killing) {
		if (now - s->term_sent_at >= grace) {
			state_kill(s, SIGKILL);
			next = now + TICK_MS;
		} else if (s->term_sent_at + grace < next) {
			next = s->term_sent_at + grace;
		}
	}
	return next > now ? (int)(next - now) : 0;
}

static void pump(const struct proc_opts *o, struct run_state *s, struct drain *d, int nd)
{
	int open_n = nd;
	int reaped_kill = 0;
	long long eof_wait_until = 0;

	while (open_n > 0 || !s->exited) {
		struct pollfd p[3];
		int np = 0, i, timeout = check_limits(o, s);

		for (i = 0; i < nd; i++)
			if (d[i].fd >= 0) {
				p[np].fd = d[i].fd;
				p[np].events = POLLIN;
				np++;
			}
		if (!s->exited && (s->pidfd >= 0 || s->jailed)) {
			p[np].fd = s->jailed ? s->ctl : s->pidfd;
			p[np].events = POLLIN;
			np++;
		}
		if (s->exited && eof_wait_until) {
			long long left = eof_wait_until - clock_ms();
			if (left <= 0)
				break; /* an escapee holds the pipe: stop waiting */
			if (left < timeout)
				timeout = (int)left;
		}
		if (s->pidfd < 0 && !s->jailed && !s->exited && timeout > 10)
			timeout = 10; /* no pidfd: poll for the exit */
		if (o->fault_kill) {
			long long at = s->start + fault_delay_ms();
			if (clock_ms() >= at)
				fault_die(); /* in the middle of the child's work */
			if (at - clock_ms() < timeout)
				timeout = (int)(at - clock_ms());
		}
		if (poll(p, (nfds_t)np, timeout) < 0 && errno != EINTR)
			break;
		tick();
		for (i = 0; i < nd; i++)
			if (d[i].fd >= 0 && drain_some(&d[i])) {
				close(d[i].fd);
				d[i].fd = -1;
				open_n--;
			}
		if (o->sandbox && d[0].file_cut && !s->killing) {
			/* past limits.output_bytes: the tree goes */
			s->killing = 1;
			s->output_killed = 1;
			s->why = PROC_EXITED;
			s->term_sent_at = clock_ms();
			state_kill(s, SIGKILL);
		}
		reap_if_exited(s, 0);
		if (s->exited && !reaped_kill) {
			/* The child is gone: anything left in its group is an
			 * orphan nobody will wait for.  Pipe data already
			 * written stays readable. */
			if (!s->jailed) /* in the jail: its namespace is gone */
				proc_kill_group(s->pid, SIGKILL);
			if (o->sandbox && !s->jailed)
				kill_tree(s, 0);
			reaped_kill = 1;
			eof_wait_until = clock_ms() + 1000;
		}
	}
	for (int i = 0; i < nd; i++)
		if (d[i].fd >= 0) {
			close(d[i].fd);
			d[i].fd = -1;
		}
}

void proc_fill_result(const struct proc_opts *o, const struct run_state *s,
		      struct proc_result *r)
{
	const struct sandbox *sb = o->sandbox;

	if (s->killing && s->why != PROC_EXITED) {
		r->status = s->why;
	} else if (WIFEXITED(s->wstatus)) {
		r->status = PROC_EXITED;
		r->exit_code = WEXITSTATUS(s->wstatus);
		/* bwrap exits 128+N when the command died of signal N */
		if (sb && sb->bwrap_on && !s->jailed && r->exit_code > 128 &&
		    r->exit_code < 128 + 65) {
			r->status = PROC_SIGNALED;
			r->term_signal = r->exit_code - 128;
			r->exit_code = 0;
		}
	} else if (WIFSIGNALED(s->wstatus)) {
		r->status = PROC_SIGNALED;
		r->term_signal = WTERMSIG(s->wstatus);
	}
	r->elapsed_ms = (double)(clock_ms() - s->start);
	if (!sb)
		return;
	if (s->output_killed) {
		r->limit = "output_bytes";
		r->limit_value = sb->lim.output_bytes;
	} else if (r->status == PROC_TIMED_OUT && s->wall_limited) {
		r->limit = "wall_seconds";
		r->limit_value = sb->lim.wall_seconds;
	} else if (r->status == PROC_SIGNALED && r->term_signal == SIGXCPU) {
		r->limit = "cpu_seconds";
		r->limit_value = sb->lim.cpu_seconds;
	} else if (r->status == PROC_SIGNALED && r->term_signal == SIGXFSZ) {
		r->limit = "file_size_mb";
		r->limit_value = sb->lim.file_size_mb;
	} else if (s->cg && (r->limit = cgroup_limit_hit(s->cg))) {
		r->limit_value = !strcmp(r->limit, "memory_mb") ? sb->lim.memory_mb
								: sb->lim.processes;
	}
}

void proc_close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/*
 * What the sandbox adds to one spawn: its wall-clock and output limits,
 * a cgroup, the seccomp program, the network proxy and the bubblewrap
 * argv.  On failure everything made so far is undone.
 */
void proc_close_files(struct child_ctx *cx)
{
	sandbox_files_close(cx->file_fds, cx->nfiles);
	free(cx->file_fds);
	cx->file_fds = NULL;
	cx->nfiles = 0;
}

void proc_jail_limits(const struct sandbox *sb, struct run_state *s, size_t *file_max)
{
	if (sb->lim.wall_seconds > 0 &&
	    (!s->timeout_ms || sb->lim.wall_seconds * 1000 < s->timeout_ms)) {
		s->timeout_ms = sb->lim.wall_seconds * 1000;
		s->wall_limited = 1;
	}
	if (sb->lim.output_bytes > 0 && (size_t)sb->lim.output_bytes < *file_max)
		*file_max = (size_t)sb->lim.output_bytes;
}

int proc_jail_enter(const struct sandbox *sb, const char *const *argv,
		    struct run_state *s, struct cgroup *cg, struct child_ctx *cx,
		    struct netproxy *np, struct strlist *wrapped, size_t *file_max,
		    struct buf *err)
{
	proc_jail_limits(sb, s, file_max);
	/* orphans of the tree come back to us, to be killed */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* the jail's group is made once bwrap is on its way (onejail.c) */
	if (cx->jail_fd <= 2 &&
	    cgroup_create(cg, sandbox_cgroup(sb, NULL), &sb->lim) == 0)
		s->cg = cg;
	if (!sb->bwrap_on)
		return 0;
	if (sb->seccomp && (cx->seccomp_fd = seccomp_program_fd(
				    sb->network != POLICY_NET_ON, err)) < 0) {
		cgroup_destroy(cg);
		return -EIO;
	}
	if (netproxy_start(sb, np, err) < 0) {
		if (cx->seccomp_fd >= 0)
			close(cx->seccomp_fd);
		cx->seccomp_fd = -1;
		cgroup_destroy(cg);
		return -EIO;
	}
	cx->net_fd = np->relay_fd;
	if (cx->jail_fd > 2) {
		sandbox_argv_jail(sb, cx->seccomp_fd, cx->net_fd, cx->jail_fd, wrapped);
		cx->argv = (const char *const *)wrapped->v;
		return 0;
	}
	cx->nfiles = sb->nfiles;
	cx->file_fds = sb->nfiles ? xcalloc(sb->nfiles, sizeof(int)) : NULL;
	if (sb->nfiles && sandbox_files_open(sb, cx->file_fds, err) < 0) {
		proc_close_files(cx);
		if (cx->seccomp_fd >= 0)
			close(cx->seccomp_fd);
		cx->seccomp_fd = -1;
		netproxy_end(sb, np, NULL);
		cgroup_destroy(cg);
		return -EIO;
	}
	sandbox_argv(sb, argv, cx->seccomp_fd, cx->net_fd, cx->file_fds, wrapped);
	cx->argv = (const char *const *)wrapped->v;
	return 0;
}

/*
 * Forks the child and waits for its exec: the report pipe closes on a
 * successful exec, so EOF means it ran; a number is the exec's errno.
 */
int proc_spawn_child(const struct proc_opts *o, struct child_ctx *cx, struct run_state *s,
		     int in_fd, int outp[2], int errp[2], int rep[2], struct buf *err)
{
	const char *path_var = proc_env_get(o->env, "PATH");
	char where[PROC_RESOLVE_MAX];
	const char *found = proc_resolve(cx->argv[0], path_var, where);
	struct proc_cmd_args a = {.o = o,
				  .cx = cx,
				  .in_fd = in_fd,
				  .out_fd = outp[1],
				  .err_fd = o->merge_output ? outp[1] : errp[1],
				  .report_fd = rep[1],
				  .path_var = path_var,
				  .found = found};

	s->start = clock_ms();
	if (o->direct && !o->sandbox) { /* no warden (proc.h) */
		s->pid = warden_direct(cx->loopgate, proc_cmd_exec, &a);
		if (s->pid < 0)
			return err_set(err, s->pid, "cannot fork: %s", strerror(-s->pid));
	} else if ((s->pid = fork()) < 0) {
		return err_set(err, -errno, "cannot fork: %s", strerror(errno));
	} else if (s->pid == 0) {
		child_exec(&a);
	}
	if (o->brief || cx->exec_later) { /* the exec not waited for (proc.h) */
		if (cx->exec_later) {
			close(rep[1]); /* rep[0]: for proc_await_exec */
			rep[1] = -1;
		} else {
			proc_close_pair(rep);
		}
		close(outp[1]);
		outp[1] = -1;
		if (errp[1] >= 0)
			close(errp[1]);
		errp[1] = -1;
		return 0;
	}
	return proc_await_exec(s->pid, cx->argv[0], outp, errp, rep, err);
}

int proc_await_exec(pid_t pid, const char *what, int outp[2], int errp[2], int rep[2],
		    struct buf *err)
{
	int code = 0;
	ssize_t n;

	close(rep[1]);
	rep[1] = -1;
	close(outp[1]);
	outp[1] = -1;
	if (errp[1] >= 0) {
		close(errp[1]);
		errp[1] = -1;
	}
	do
		n = read(rep[0], &code, sizeof(code));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(code)) {
		waitpid(pid, NULL, 0);
		return err_set(err, -code, "cannot run %s: %s", what, strerror(code));
	}
	return 0;
}

/* A spawn through a standby (standby.h): what proc_jail_enter does when
 * the sandbox is off, with the standby's cgroup. */
static void enter_ready(struct run_state *s, const struct cgroup *cg)
{
	if (!cg)
		return;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	s->cg = cg;
}

/* Drains the child's output into r (and the output file) until it ends
 * or its time is up; outp[0] and errp[0] are closed after. */
void proc_drain_child(const struct proc_opts *o, struct run_state *s,
		      struct proc_result *r, int outp[2], int errp[2], int file_fd,
		      size_t file_max, struct drain d[2])
{
	s->pidfd = s->jailed ? -1 : proc_pidfd_open(s->pid);
	if (s->pidfd >= 0)
		fcntl(s->pidfd, F_SETFD, FD_CLOEXEC);
	d[0] = (struct drain){outp[0], &r->out, &r->out_total, file_fd, 0, file_max,
			      0,       0};
	d[1] = (struct drain){errp[0], &r->err, &r->err_total, -1, 0, 0, 0, 0};
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	if (errp[0] >= 0)
		fcntl(errp[0], F_SETFL, O_NONBLOCK);
	pump(o, s, d, o->merge_output ? 1 : 2);
	if (o->fault_kill)
		fault_die();	/* the child ended first: before its result is seen */
	outp[0] = errp[0] = -1; /* closed by pump */
	reap_if_exited(s, 1);
}

/* The output file and the pipes of one spawn; -errno with err set. */
int proc_open_ends(const struct proc_opts *o, int *file_fd, int outp[2], int errp[2],
		   int rep[2], struct buf *err)
{
	if (o->output_path) {
		*file_fd = open(o->output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				0644);
		if (*file_fd < 0)
			return err_set(err, -errno, "cannot create %s: %s",
				       o->output_path, strerror(errno));
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0 ||
	    (!o->merge_output && pipe2(errp, O_CLOEXEC) < 0))
		return err_set(err, -errno, "cannot create pipes: %s", strerror(errno));
	return 0;
}

static unsigned long long spawns;

unsigned long long proc_spawns(void)
{
	return spawns;
}

void proc_count_spawn(void)
{
	spawns++;
}

int proc_run(const struct proc_opts *o, struct proc_result *r, struct buf *err)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1};
	int in_fd, file_fd = -1, ret = 0, jail = 0, ready = 0;
	const struct sandbox *sb = o->sandbox;
	struct cgroup cg = CGROUP_INIT;
	struct strlist wrapped = {NULL, 0};
	struct child_ctx cx = {o->argv, -1, &cg, -1, NULL, 0, getpid(), -1, 0, 0};
	struct netproxy np = NETPROXY_INIT;
	size_t file_max = o->max_file_output ? o->max_file_output : DEFAULT_MAX_FILE;
	struct run_state s;
	struct drain d[2];

	proc_count_spawn();
	memset(&s, 0, sizeof(s));
	s.pidfd = s.ctl = -1;
	s.timeout_ms = o->timeout_ms;
	if (!o->argv || !o->argv[0])
		return err_set(err, -EINVAL, "no command to run");
	if (sb && (jail = onejail_use(sb, err)) < 0)
		return jail;
	if (jail || (sb && (ready = standby_take(sb, &cg)))) {
		proc_jail_limits(sb, &s, &file_max);
		enter_ready(&s, ready ? &cg : NULL);
	} else if (sb && (ret = proc_jail_enter(sb, o->argv, &s, &cg, &cx, &np, &wrapped,
						&file_max, err)) < 0)
		return ret;
	buf_init(&r->out, o->max_output ? o->max_output : DEFAULT_MAX_OUTPUT);
	buf_init(&r->err, o->max_output ? o->max_output : DEFAULT_MAX_OUTPUT);
	r->out_total = r->err_total = 0;
	if ((in_fd = proc_open_stdin(o, err)) < 0) {
		ret = in_fd;
		goto out;
	}
	if ((ret = proc_open_ends(o, &file_fd, outp, errp, rep, err)) < 0)
		goto out;
	if (jail)
		ret = onejail_spawn(sb, o, &s, in_fd, outp, errp, rep, err);
	else if (!ready ||
		 (ret = standby_spawn(sb, o, &s, in_fd, outp, errp, rep, err)) == -EAGAIN)
		ret = proc_spawn_child(o, &cx, &s, in_fd, outp, errp, rep, err);
	if (ret < 0)
		goto out;
	proc_drain_child(o, &s, r, outp, errp, file_fd, file_max, d);
	if (!jail && sb) {
		netproxy_end(sb, &np, &r->net_denied); /* before the tree kill */
		kill_tree(&s, 1);
	}
	proc_fill_result(o, &s, r);
	if (jail)
		onejail_after(sb, &s, r);
	r->output_cut = d[0].file_cut;
	/* The child ran, but "the full output is always kept on disk" no
	 * longer holds: that is the caller's to stop on, not data. */
	if (d[0].file_err)
		ret = err_set(err, -d[0].file_err,
			      "cannot write %s: %s (after %zu "
			      "of the %zu bytes the command printed)",
			      o->output_path, strerror(d[0].file_err), d[0].file_written,
			      r->out_total);
out:
	proc_close_files(&cx);
	if (s.pidfd >= 0)
		close(s.pidfd);
	if (cx.seccomp_fd >= 0)
		close(cx.seccomp_fd);
	if (sb)
		netproxy_end(sb, &np, NULL);
	cgroup_destroy(&cg);
	strlist_clear(&wrapped);
	proc_close_pair(outp);
	proc_close_pair(errp);
	proc_close_pair(rep);
	if (in_fd >= 0)
		close(in_fd);
	if (file_fd >= 0)
		close(file_fd);
	if (sb && !jail && !interrupt_pending())
		standby_refill(sb); /* the next spawn's, off its path */
	return ret;
}
