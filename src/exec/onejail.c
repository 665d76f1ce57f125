/*
 * onejail.c: loopgate's side of the per-run sandbox: starting the jail
 * (bwrap with the spawner inside), sending each spawn to it, its kills,
 * its exit.  See onejail.h and docs/design/onejail.md; the spawner's side
 * is spawner.c.
 */
#include "exec/onejail.h"
#include "exec/proc_impl.h"
#include "exec/sandbox.h"
#include "base/clock.h"
#include "base/fileio.h"
#include "base/fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long the spawner has to say it is ready. */
#define READY_MS 30000

/* STOPPING: the socket is shut (onejail_stop_begin), the jail exiting */
/* BOOTING: bwrap started (onejail_boot_begin), not yet handed its cgroup */
enum jail_state {
	JAIL_UNTRIED,
	JAIL_BOOTING,
	JAIL_UP,
	JAIL_FALLBACK,
	JAIL_DEAD,
	JAIL_STOPPING
};

struct onejail {
	enum jail_state state;
	char *note; /* why per-spawn, or why dead */
	int sock;   /* requests go here */
	pid_t pid;  /* the jail's warden (bwrap under it) */
	struct cgroup cg;
	struct netproxy np;
	off_t net_seen; /* the proxy's log read up to here */
	long long cg_before[2];
	int log;	     /* BOOTING: what bwrap and the spawner print */
	int boot_ret;	     /* BOOTING: boot's answer */
	struct buf boot_err; /* BOOTING: and why */
};

struct onejail *onejail_new(void)
{
	struct onejail *j = xcalloc(1, sizeof(*j));
	j->sock = -1;
	j->log = -1;
	j->boot_err = (struct buf)BUF_INIT;
	j->cg = (struct cgroup)CGROUP_INIT;
	j->np = (struct netproxy)NETPROXY_INIT;
	return j;
}

/* Takes the jail down: EOF on the socket ends the spawner, the warden
 * then exits; whatever is left is killed with its group. */
static void stop(struct onejail *j)
{
	/* shutdown, not only close: every process forked from loopgate
	 * since (the jail's own warden among them) holds a copy */
	if (j->sock >= 0) {
		shutdown(j->sock, SHUT_RDWR);
		close(j->sock);
	}
	j->sock = -1;
	if (j->pid > 0) {
		long long until = clock_ms() + 2000;
		/* woken by its exit (a pidfd), else every 2 ms */
		struct pollfd p = {proc_pidfd_open(j->pid), POLLIN, 0};
		while (waitpid(j->pid, NULL, WNOHANG) == 0) {
			long long left = until - clock_ms();
			if (left <= 0) {
				proc_kill_group(j->pid, SIGKILL);
				waitpid(j->pid, NULL, 0);
				break;
			}
			/* bounded: the spawner exits at EOF */
			poll(p.fd >= 0 ? &p : NULL, p.fd >= 0, p.fd >= 0 ? (int)left : 2);
		}
		if (p.fd >= 0)
			close(p.fd);
		proc_forget(j->pid);
	}
	j->pid = 0;
	if (j->np.pid > 0)
		proc_forget(j->np.pid);
	cgroup_destroy(&j->cg);
}

/* The jail's proxy, after the jail: the decisions of its spawns were
 * taken by onejail_after. */
static void end_proxy(struct onejail *j)
{
	struct sandbox none;

	memset(&none, 0, sizeof(none));
	netproxy_end(&none, &j->np, NULL);
}

void onejail_free(struct onejail *j)
{
	if (!j)
		return;
	stop(j);
	end_proxy(j);
	if (j->log >= 0) /* let go while booting */
		close(j->log);
	buf_release(&j->boot_err);
	free(j->note);
	free(j);
}

const char *onejail_mode(const struct onejail *j, const char **note)
{
	*note = j ? j->note : NULL;
	return j && j->state != JAIL_FALLBACK ? "per-run" : "per-spawn";
}

static int fallback(struct onejail *j, const char *why, const char *detail)
{
	free(j->note);
	j->note = detail && *detail ? xasprintf("%s: %s", why, detail) : xstrdup(why);
	j->state = JAIL_FALLBACK;
	return 0;
}

int onejail_give_up(struct onejail *j, const char *why)
{
	if (!j || j->state != JAIL_UP)
		return 0;
	stop(j);
	end_proxy(j);
	fallback(j, "spawns in the per-run sandbox fail", why);
	return 1;
}

/* The first line bwrap or the spawner printed, from the memfd. */
static char *first_line(int fd)
{
	char b[512];
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);

	if (n <= 0)
		return NULL;
	b[n] = 0;
	b[strcspn(b, "\n")] = 0;
	return xstrdup(b);
}

/* Waits for the spawner's "R". */
static int wait_ready(int sock)
{
	struct pollfd p = {sock, POLLIN, 0};
	char c = 0;

	if (poll(&p, 1, READY_MS) != 1)
		return -ETIMEDOUT;
	return recv(sock, &c, 1, 0) == 1 && c == 'R' ? 0 : -EPIPE;
}

/* bwrap with the spawner, as a long-lived child like proc_live's. */
static int boot(const struct sandbox *sb, struct onejail *j, int log, struct buf *err)
{
	static const char *const none[] = {"true", NULL};
	struct proc_env env = PROC_ENV_INIT;
	struct proc_opts o = PROC_OPTS_INIT;
	/* jail_fd: 3 picks the jail's argv; the socket's real number once
	 * the proxy is forked (it must not hold the spawner's end: a dead
	 * spawner then shows as EPIPE on the next request) */
	struct child_ctx cx = {none, -1, &j->cg, -1, NULL, 0, getpid(), 3, 1, 0};
	int sp[2] = {-1, -1};
	struct strlist wrapped = {NULL, 0};
	int outp[2] = {-1, fcntl(log, F_DUPFD_CLOEXEC, 3)}, errp[2] = {-1, -1},
	    rep[2] = {-1, -1}, in_fd, ret;
	struct run_state s;
	size_t file_max = 0;

	memset(&s, 0, sizeof(s));
	proc_env_base(&env);
	o.argv = none;
	o.env = (const char *const *)env.v;
	o.cwd = sb->tree;
	o.merge_output = 1;
	o.sandbox = sb;
	if ((ret = proc_jail_enter(sb, none, &s, &j->cg, &cx, &j->np, &wrapped, &file_max,
				   err)) < 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		ret = err_set(err, -errno, "cannot make the jail's socket: %s",
			      strerror(errno));
		goto undo;
	}
	j->sock = sp[0];
	cx.jail_fd = sp[1];
	sandbox_argv_jail(sb, cx.seccomp_fd, cx.net_fd, cx.jail_fd, &wrapped);
	cx.argv = (const char *const *)wrapped.v;
	if ((in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
	    pipe2(rep, O_CLOEXEC) < 0) {
		ret = err_set(err, -errno, "cannot open: %s", strerror(errno));
		if (in_fd >= 0)
			close(in_fd);
		goto undo;
	}
	ret = proc_spawn_child(&o, &cx, &s, in_fd, outp, errp, rep, err);
	close(in_fd);
	proc_close_pair(rep);
	if (ret < 0)
		goto undo;
	j->pid = s.pid;
	proc_keep(j->pid);
	if (j->np.pid > 0)
		proc_keep(j->np.pid);
	goto out;
undo:
	netproxy_end(sb, &j->np, NULL);
	cgroup_destroy(&j->cg);
out:
	if (sp[1] >= 0)
		close(sp[1]);
	if (cx.seccomp_fd >= 0)
		close(cx.seccomp_fd);
	strlist_clear(&wrapped);
	proc_env_release(&env);
	return ret;
}

/*
 * The run's cgroup, made while bwrap sets the jail up (its mkdir waits
 * behind the prime's first migration, bwrap need not), handed to the
 * spawner ("J" with its cgroup.procs descriptors, none without a cgroup),
 * which joins it before it forks anything (spawner.c).
 */
static int give_cgroup(const struct sandbox *sb, struct onejail *j, struct buf *err)
{
	int fds[2], n = 0, ret;

	if (cgroup_create(&j->cg, sandbox_cgroup(sb, NULL), &sb->lim) == 0)
		for (int i = 0; i < 2; i++)
			if (j->cg.procs_fd[i] >= 0)
				fds[n++] = j->cg.procs_fd[i];
	if ((ret = fdpass_send(j->sock, "J", 1, fds, n)) < 0)
		return err_set(err, ret, "cannot hand the jail its cgroup: %s",
			       strerror(-ret));
	return 0;
}

/* The jail's first half: bwrap on its way (onejail_boot_begin). */
static void start_begin(const struct sandbox *sb, struct onejail *j)
{
	if (geteuid() != 0) {
		fallback(j,
			 "not root: bubblewrap gives the spawner CAP_SYS_ADMIN "
			 "(--cap-add) only to root",
			 NULL);
		return;
	}
	if (!sb->self_exe) {
		fallback(j, "loopgate's own binary cannot be found", NULL);
		return;
	}
	if ((j->log = memfd_create("loopgate-jail", MFD_CLOEXEC)) < 0) {
		fallback(j, "cannot make the jail's log", strerror(errno));
		return;
	}
	j->boot_ret = boot(sb, j, j->log, &j->boot_err);
	j->state = JAIL_BOOTING;
}

/* The second: its cgroup handed over, "R" waited for, or per-spawn. */
static void start_end(const struct sandbox *sb, struct onejail *j)
{
	int ret = j->boot_ret;
	char *said = NULL;

	if (ret == 0 && (ret = give_cgroup(sb, j, &j->boot_err)) == 0)
		ret = wait_ready(j->sock);
	if (ret < 0) /* what bwrap or the spawner said, if anything */
		said = first_line(j->log);
	cgroup_prime_end(); /* the jail is in its cgroup (the spawner said so) */
	if (ret < 0) {
		stop(j);
		fallback(j, "the per-run sandbox did not start",
			 said		   ? said
			 : j->boot_err.len ? j->boot_err.s
					   : strerror(-ret));
	} else {
		j->state = JAIL_UP;
	}
	free(said);
	close(j->log);
	j->log = -1;
	buf_release(&j->boot_err);
}

void onejail_boot_begin(const struct sandbox *sb)
{
	struct onejail *j = sb->jail;

	if (j && sb->bwrap_on && j->state == JAIL_UNTRIED)
		start_begin(sb, j);
}

void onejail_stop_begin(struct onejail *j)
{
	if (!j || j->state != JAIL_UP)
		return;
	/* EOF ends the spawner; stop() waits for the rest */
	shutdown(j->sock, SHUT_RDWR);
	close(j->sock);
	j->sock = -1;
	j->state = JAIL_STOPPING;
}

int onejail_use(const struct sandbox *sb, struct buf *err)
{
	struct onejail *j = sb->jail;

	if (!j || !sb->bwrap_on)
		return 0;
	if (j->state == JAIL_STOPPING) { /* wanted again: a new one */
		stop(j);
		end_proxy(j);
		j->net_seen = 0;
		j->state = JAIL_UNTRIED;
	}
	if (j->state == JAIL_UNTRIED)
		start_begin(sb, j);
	if (j->state == JAIL_BOOTING)
		start_end(sb, j);
	if (j->state == JAIL_DEAD)
		return err_set(err, -EPIPE, "the run's sandbox is gone (%s)",
			       j->note ? j->note : "its spawner exited");
	return j->state == JAIL_UP;
}

/* The request's strings into a memfd (onejail.h). */
static int args_fd(const struct sandbox *sb, const struct proc_opts *o, const char *found,
		   struct onejail_req *h)
{
	static const char *const empty[] = {NULL};
	const char *const *env = o->env ? o->env : empty;
	struct buf b = BUF_INIT;
	int fd;

	buf_init(&b, 0);
	buf_add(&b, o->cwd ? o->cwd : sb->tree, strlen(o->cwd ? o->cwd : sb->tree) + 1);
	buf_add(&b, found ? found : "", strlen(found ? found : "") + 1);
	buf_add(&b, sb->home ? sb->home : "", strlen(sb->home ? sb->home : "") + 1);
	for (h->argc = 0; o->argv[h->argc]; h->argc++)
		buf_add(&b, o->argv[h->argc], strlen(o->argv[h->argc]) + 1);
	for (h->envc = 0; env[h->envc]; h->envc++)
		buf_add(&b, env[h->envc], strlen(env[h->envc]) + 1);
	for (size_t i = 0; i < sb->nfiles; i++)
		buf_add(&b, sb->files[i].path, strlen(sb->files[i].path) + 1);
	fd = fileio_memfd("loopgate-spawn", b.s, b.len);
	buf_release(&b);
	return fd;
}

static void fill_limits(const struct sandbox *sb, struct onejail_req *h)
{
	const struct policy_limits *l = &sb->lim;
	const struct onejail *j = sb->jail;

	h->fsize = l->file_size_mb > 0 ? (int64_t)l->file_size_mb << 20 : 0;
	h->cpu = l->cpu_seconds > 0 ? l->cpu_seconds : 0;
	/* without the run's cgroup, the rlimits are all there is (sandbox.md) */
	h->nproc = j->cg.kind == CGROUP_NONE && l->processes > 0 ? l->processes : 0;
	h->as = j->cg.kind == CGROUP_NONE && l->memory_mb > 0
			? (int64_t)l->memory_mb << 20
			: 0;
}

/* Sends the request; the descriptors are the caller's to close. */
static int request(const struct sandbox *sb, const struct proc_opts *o, int in_fd,
		   int out_fd, int err_fd, int rep_fd, int ctl_fd, struct buf *err)
{
	struct onejail *j = sb->jail;
	struct onejail_req h;
	char where[PROC_RESOLVE_MAX];
	const char *path_var = proc_env_get(o->env, "PATH");
	int fds[JFD_NFIXED + ONEJAIL_MAX_FILES], files[ONEJAIL_MAX_FILES], ret;

	if (sb->nfiles > ONEJAIL_MAX_FILES)
		return err_set(err, -E2BIG, "too many seed files for the sandbox");
	memset(&h, 0, sizeof(h));
	h.magic = ONEJAIL_MAGIC;
	h.nfiles = (uint32_t)sb->nfiles;
	fill_limits(sb, &h);
	if (sb->nfiles && (ret = sandbox_files_open(sb, files, err)) < 0)
		return ret;
	fds[JFD_ARGS] = args_fd(sb, o, proc_resolve(o->argv[0], path_var, where), &h);
	if (fds[JFD_ARGS] < 0) {
		sandbox_files_close(files, sb->nfiles);
		return err_set(err, fds[JFD_ARGS],
			       "cannot pass the command to the sandbox");
	}
	fds[JFD_IN] = in_fd;
	fds[JFD_OUT] = out_fd;
	fds[JFD_ERR] = err_fd;
	fds[JFD_REP] = rep_fd;
	fds[JFD_CTL] = ctl_fd;
	memcpy(fds + JFD_NFIXED, files, sizeof(int) * sb->nfiles);
	cgroup_counts(&j->cg, j->cg_before);
	ret = fdpass_send(j->sock, &h, sizeof(h), fds, JFD_NFIXED + (int)sb->nfiles);
	close(fds[JFD_ARGS]);
	sandbox_files_close(files, sb->nfiles);
	if (ret < 0) {
		j->state = JAIL_DEAD;
		free(j->note);
		j->note = xasprintf("its spawner stopped taking requests: %s",
				    strerror(-ret));
		return err_set(err, ret, "the run's sandbox is gone (%s)", j->note);
	}
	return 0;
}

int onejail_spawn(const struct sandbox *sb, const struct proc_opts *o,
		  struct run_state *s, int in_fd, int outp[2], int errp[2], int rep[2],
		  struct buf *err)
{
	int cp[2], code = 0, ret;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cp) < 0)
		return err_set(err, -errno, "cannot make a socket: %s", strerror(errno));
	s->start = clock_ms();
	ret = request(sb, o, in_fd, outp[1], o->merge_output ? outp[1] : errp[1], rep[1],
		      cp[1], err);
	close(cp[1]);
	proc_close_pair((int[2]){rep[1], outp[1]});
	rep[1] = outp[1] = -1;
	if (errp[1] >= 0)
		close(errp[1]);
	errp[1] = -1;
	if (ret < 0) {
		close(cp[0]);
		return ret;
	}
	s->jailed = 1;
	s->ctl = cp[0];
	do
		n = read(rep[0], &code, sizeof(code));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(code)) {
		onejail_poll_exit(s, 1);
		close(s->ctl);
		s->ctl = -1;
		return err_set(err, -code, "cannot run %s: %s", o->argv[0],
			       strerror(code));
	}
	return 0;
}

void onejail_kill(struct run_state *s, int sig)
{
	if (s->ctl >= 0 && !s->exited)
		(void)!send(s->ctl, &sig, sizeof(sig), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void onejail_poll_exit(struct run_state *s, int block)
{
	int st = 0;
	ssize_t n;

	if (s->exited || s->ctl < 0)
		return;
	do
		n = recv(s->ctl, &st, sizeof(st), block ? 0 : MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(st)) {
		s->wstatus = st;
		s->exited = 1;
	} else if (n == 0 || (n < 0 && errno != EAGAIN)) {
		s->wstatus = SIGKILL; /* its warden in the jail is gone: killed */
		s->exited = 1;
	}
}

void onejail_after(const struct sandbox *sb, struct run_state *s, struct proc_result *r)
{
	struct onejail *j = sb->jail;
	long long now[2];

	if (s->ctl >= 0)
		close(s->ctl);
	s->ctl = -1;
	netproxy_take(sb, &j->np, &j->net_seen, &r->net_denied);
	if (r->limit)
		return;
	/* a shell reports its child's death by a limit's signal as 128+N
	 * (the status comes through as it is here, not converted as bwrap's
	 * was): still that limit */
	if (r->status == PROC_EXITED && r->exit_code == 128 + SIGXFSZ &&
	    sb->lim.file_size_mb > 0) {
		r->limit = "file_size_mb";
		r->limit_value = sb->lim.file_size_mb;
		return;
	}
	if (r->status == PROC_EXITED && r->exit_code == 128 + SIGXCPU &&
	    sb->lim.cpu_seconds > 0) {
		r->limit = "cpu_seconds";
		r->limit_value = sb->lim.cpu_seconds;
		return;
	}
	/* the run's cgroup: a counter that moved during this spawn */
	cgroup_counts(&j->cg, now);
	if (now[0] > j->cg_before[0]) {
		r->limit = "memory_mb";
		r->limit_value = sb->lim.memory_mb;
	} else if (now[1] > j->cg_before[1]) {
		r->limit = "processes";
		r->limit_value = sb->lim.processes;
	}
}
