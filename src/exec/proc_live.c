/*
 * proc_live.c: children that outlive the call that starts them: fan-out
 * workers (proc_start) and tool servers talked to over pipes (proc_live).
 * See proc.h.
 */
#include "exec/proc.h"
#include "exec/proc_impl.h"
#include "base/clock.h"
#include "exec/onejail.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * A long-lived child: no sandbox, no capture (output to a file), not
 * waited for here.  The exec is waited for through the report pipe as in
 * proc_run, so "could not start" is an error, not an exit status.
 */
int proc_start(const struct proc_opts *o, pid_t *pid, struct buf *err)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1};
	struct child_ctx cx = {o->argv, -1,	  NULL, -1,	   NULL,
			       0,	getpid(), -1,	!o->brief, 0};
	struct run_state s;
	int in_fd, ret;

	proc_count_spawn();
	memset(&s, 0, sizeof(s));
	if (!o->argv || !o->argv[0] || !o->output_path || o->sandbox)
		return err_set(err, -EINVAL,
			       "proc_start: a command and an output "
			       "file, and no sandbox");
	if ((in_fd = proc_open_stdin(o, err)) < 0)
		return in_fd;
	outp[1] = open(o->output_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (outp[1] < 0) {
		ret = err_set(err, -errno, "cannot create %s: %s", o->output_path,
			      strerror(errno));
		close(in_fd);
		return ret;
	}
	if (pipe2(rep, O_CLOEXEC) < 0) {
		ret = err_set(err, -errno, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	if (o->error_path &&
	    (errp[1] = open(o->error_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			    0644)) < 0) {
		ret = err_set(err, -errno, "cannot create %s: %s", o->error_path,
			      strerror(errno));
		goto out;
	}
	struct proc_opts merged = *o;
	merged.merge_output = errp[1] < 0;
	ret = proc_spawn_child(&merged, &cx, &s, in_fd, outp, errp, rep, err);
	if (ret == 0 && proc_keep(s.pid) < 0) {
		kill(-s.pid, SIGKILL);
		waitpid(s.pid, NULL, 0);
		ret = err_set(err, -EAGAIN, "too many long-lived children");
	}
	if (ret == 0)
		*pid = s.pid;
out:
	proc_close_pair(outp);
	proc_close_pair(errp);
	proc_close_pair(rep);
	close(in_fd);
	return ret;
}

struct proc_live {
	pid_t pid;
	int in_fd, out_fd;
	const struct sandbox *sb;
	struct cgroup cg;
	struct netproxy np;
	struct child_ctx cx;
	struct strlist wrapped;
	struct run_state js; /* through the per-run jail: js.ctl >= 0 */
};

int proc_live_start(const struct proc_opts *o, struct proc_live **out, struct buf *err)
{
	struct proc_live *l = xcalloc(1, sizeof(*l));
	int inp[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1};
	size_t file_max = 0;
	struct run_state s;
	int ret = 0, jail = 0;

	proc_count_spawn();
	memset(&s, 0, sizeof(s));
	s.pidfd = -1;
	l->in_fd = l->out_fd = -1;
	l->cg = (struct cgroup)CGROUP_INIT;
	l->np = (struct netproxy)NETPROXY_INIT;
	l->cx = (struct child_ctx){o->argv, -1, &l->cg, -1, NULL, 0, getpid(), -1, 1, 0};
	l->sb = o->sandbox;
	l->js.ctl = -1;
	*out = NULL;
	if (!o->argv || !o->argv[0])
		ret = err_set(err, -EINVAL, "no command to run");
	else if (l->sb && (jail = onejail_use(l->sb, err)) != 0)
		l->sb = NULL; /* nothing to undo: the jail is the run's */
	else if (l->sb &&
		 (ret = proc_jail_enter(l->sb, o->argv, &s, &l->cg, &l->cx, &l->np,
					&l->wrapped, &file_max, err)) < 0)
		l->sb = NULL; /* undone by proc_jail_enter */
	if (ret == 0 && (pipe2(inp, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 ||
			 pipe2(rep, O_CLOEXEC) < 0))
		ret = err_set(err, -errno, "cannot create pipes: %s", strerror(errno));
	if (ret == 0 && o->output_path &&
	    (errp[1] = open(o->output_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			    0644)) < 0)
		ret = err_set(err, -errno, "cannot create %s: %s", o->output_path,
			      strerror(errno));
	if (ret == 0 && errp[1] < 0 &&
	    (errp[1] = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		ret = -errno;
	if (jail < 0)
		ret = jail;
	else if (ret == 0 && jail)
		ret = onejail_spawn(o->sandbox, o, &l->js, inp[0], outp, errp, rep, err);
	else if (ret == 0 &&
		 (ret = proc_spawn_child(o, &l->cx, &s, inp[0], outp, errp, rep, err)) ==
			 0 &&
		 proc_keep(s.pid) < 0) {
		kill(-s.pid, SIGKILL);
		waitpid(s.pid, NULL, 0);
		ret = err_set(err, -EAGAIN, "too many long-lived children");
	}
	if (ret == 0) {
		l->pid = s.pid;
		l->in_fd = inp[1];
		l->out_fd = outp[0];
		inp[1] = outp[0] = -1;
		fcntl(l->in_fd, F_SETFD, FD_CLOEXEC);
		*out = l;
	}
	proc_close_pair(inp);
	proc_close_pair(outp);
	proc_close_pair(errp);
	proc_close_pair(rep);
	if (ret < 0)
		proc_live_stop(l);
	return ret;
}

int proc_live_in(const struct proc_live *l)
{
	return l->in_fd;
}

int proc_live_out(const struct proc_live *l)
{
	return l->out_fd;
}

pid_t proc_live_pid(const struct proc_live *l)
{
	return l->pid;
}

/* Waits up to ms for pid to end; 1 when it did (reaped). */
static int reaped_within(pid_t pid, long ms)
{
	for (long long until = clock_ms() + ms;;) {
		pid_t got = waitpid(pid, NULL, WNOHANG);
		if (got == pid || (got < 0 && errno == ECHILD))
			return 1;
		if (clock_ms() >= until)
			return 0;
		poll(NULL, 0, 10); /* bounded: a server given EOF ends at once */
	}
}

/* Waits up to ms for the jailed child's exit status; 1 when it came. */
static int jail_ended_within(struct run_state *js, long ms)
{
	struct pollfd p = {js->ctl, POLLIN, 0};

	if (!js->exited && poll(&p, 1, (int)ms) == 1)
		onejail_poll_exit(js, 0);
	return js->exited;
}

/* The same steps through the jail: its namespace goes with the kill. */
static void jail_stop(struct run_state *js)
{
	if (!jail_ended_within(js, 500)) {
		onejail_kill(js, SIGTERM);
		if (!jail_ended_within(js, 2000)) {
			onejail_kill(js, SIGKILL);
			onejail_poll_exit(js, 1);
		}
	}
	close(js->ctl);
	js->ctl = -1;
}

void proc_live_stop(struct proc_live *l)
{
	if (!l)
		return;
	if (l->in_fd >= 0)
		close(l->in_fd); /* EOF: a stdio server's cue to end */
	if (l->out_fd >= 0)
		close(l->out_fd);
	if (l->js.ctl >= 0)
		jail_stop(&l->js);
	if (l->pid > 0 && !reaped_within(l->pid, 500)) {
		proc_kill_group(l->pid, SIGTERM);
		if (!reaped_within(l->pid, 2000)) {
			proc_kill_group(l->pid, SIGKILL);
			waitpid(l->pid, NULL, 0);
		}
	}
	if (l->pid > 0)
		proc_forget(l->pid);
	if (l->sb) {
		netproxy_end(l->sb, &l->np, NULL);
		cgroup_kill(&l->cg);
	}
	cgroup_destroy(&l->cg);
	proc_close_files(&l->cx);
	if (l->cx.seccomp_fd >= 0)
		close(l->cx.seccomp_fd);
	strlist_clear(&l->wrapped);
	free(l);
}
