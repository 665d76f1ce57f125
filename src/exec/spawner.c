/*
 * spawner.c: `loopgate __spawner SOCK SECCOMP`, the process inside the
 * run's one bubblewrap sandbox that starts every spawn of the run
 * (onejail.h, docs/design/onejail.md).
 *
 * Started by bwrap with CAP_SYS_ADMIN and CAP_SETPCAP and no seccomp
 * filter; it reads the filter (BPF) from SECCOMP once, says it is ready
 * ("R" on SOCK), then forks one process (A) per request.  A unshares
 * mounts, PIDs and IPC, puts fresh tmpfs on /tmp and /dev/shm, and forks
 * B, pid 1 of the new PID namespace: a fresh /proc, then C, the command,
 * with every capability dropped, no_new_privs and the filter.  B exits as
 * C does, taking every process left in the namespace; A reaps B and sends
 * C's wait status on the spawn's control socket, on which it also takes
 * signals to pass on.  Every setup failure goes to the exec-report pipe:
 * the spawn did not start, it never runs with less isolation.
 *
 * The A and B of the next request are made ahead (the standby, below),
 * each pair used for one request only; a request that comes while the
 * jail's mount table differs from the one the standby copied gets an A
 * forked for it, as before.
 *
 * This is a program of its own (single-threaded, it never returns to
 * loopgate's code), so it may allocate between fork and exec.
 */
#include "exec/onejail.h"
#include "exec/spawn_mounts.h"
#include "exec/proc_impl.h"
#include "base/fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct req {
	struct onejail_req h;
	int fd[JFD_NFIXED + ONEJAIL_MAX_FILES];
	int nfd;
	char *blob; /* the JFD_ARGS strings */
	const char *cwd, *found, *home;
	char **argv, **env, **files;
};

static struct sock_fprog filter;

static void __attribute__((noreturn)) fail(int rep, int code)
{
	ssize_t w = write(rep, &code, sizeof(code));
	(void)w;
	_exit(127);
}

/* ---- the request ------------------------------------------------------- */

static int read_all(int fd, char **out, size_t *len)
{
	struct stat st;
	char *p;
	size_t done = 0;

	if (fstat(fd, &st) < 0 || st.st_size < 0 || st.st_size > (64 << 20))
		return -EINVAL;
	p = malloc((size_t)st.st_size + 1);
	if (!p)
		return -ENOMEM;
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, p + done, (size_t)st.st_size - done, (off_t)done);
		if (n <= 0) {
			free(p);
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	p[done] = 0;
	*out = p;
	*len = done;
	return 0;
}

/* The next of n strings from *p (bounded by end) into v; -EINVAL when the
 * blob is short. */
static int take(char **p, const char *end, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t l;
		if (*p >= end)
			return -EINVAL;
		l = strnlen(*p, (size_t)(end - *p));
		if (*p + l >= end)
			return -EINVAL;
		v[i] = *p;
		*p += l + 1;
	}
	v[n] = NULL;
	return 0;
}

/* The proxy variables __netrelay set in the spawner's environment win
 * over the request's (the command talks to the run's proxy). */
static int is_proxy_var(const char *kv)
{
	static const char *const names[] = {"HTTP_PROXY=",  "HTTPS_PROXY=", "http_proxy=",
					    "https_proxy=", "ALL_PROXY=",   "all_proxy=",
					    "NO_PROXY=",    "no_proxy=",    NULL};
	for (size_t i = 0; names[i]; i++)
		if (!strncmp(kv, names[i], strlen(names[i])))
			return 1;
	return 0;
}

static char **with_proxy_env(char **env, size_t n)
{
	size_t extra = 0, k = 0;
	char **out;

	for (char **e = environ; e && *e; e++)
		extra += is_proxy_var(*e);
	out = calloc(n + extra + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!extra || !is_proxy_var(env[i]))
			out[k++] = env[i];
	for (char **e = environ; extra && e && *e; e++)
		if (is_proxy_var(*e))
			out[k++] = *e;
	out[k] = NULL;
	return out;
}

static int parse(struct req *q)
{
	size_t len;
	char *p, *end, *one[4];
	int ret = read_all(q->fd[JFD_ARGS], &q->blob, &len);

	if (ret < 0)
		return ret;
	p = q->blob;
	end = q->blob + len;
	q->argv = calloc(q->h.argc + 1, sizeof(char *));
	q->env = calloc(q->h.envc + 1, sizeof(char *));
	q->files = calloc(q->h.nfiles + 1, sizeof(char *));
	if (!q->argv || !q->env || !q->files)
		return -ENOMEM;
	if ((ret = take(&p, end, one, 3)) < 0 ||
	    (ret = take(&p, end, q->argv, q->h.argc)) < 0 ||
	    (ret = take(&p, end, q->env, q->h.envc)) < 0 ||
	    (ret = take(&p, end, q->files, q->h.nfiles)) < 0)
		return ret;
	if (!q->h.argc)
		return -EINVAL;
	q->cwd = one[0];
	q->found = one[1];
	q->home = one[2];
	return (q->env = with_proxy_env(q->env, q->h.envc)) ? 0 : -ENOMEM;
}

/* ---- C: the command ---------------------------------------------------- */

static void set_limit(int res, rlim_t soft, rlim_t hard)
{
	struct rlimit rl;
	if (getrlimit(res, &rl) == 0 &&
	    (rl.rlim_max == RLIM_INFINITY || hard < rl.rlim_max))
		rl.rlim_max = hard;
	rl.rlim_cur = soft < rl.rlim_max ? soft : rl.rlim_max;
	setrlimit(res, &rl);
}

static void limits(const struct onejail_req *h)
{
	set_limit(RLIMIT_CORE, 0, 0);
	set_limit(RLIMIT_NOFILE, 65536, 65536);
	if (h->fsize > 0)
		set_limit(RLIMIT_FSIZE, (rlim_t)h->fsize, (rlim_t)h->fsize);
	if (h->cpu > 0)
		set_limit(RLIMIT_CPU, (rlim_t)h->cpu, (rlim_t)h->cpu + 1);
	if (h->nproc > 0)
		set_limit(RLIMIT_NPROC, (rlim_t)h->nproc, (rlim_t)h->nproc);
	if (h->as > 0)
		set_limit(RLIMIT_AS, (rlim_t)h->as, (rlim_t)h->as);
}

/* Every capability gone for good: bounding set, ambient, then the sets. */
static int drop_caps(void)
{
	struct __user_cap_header_struct hd = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	for (int c = 0; c < 64; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &hd, d) < 0)
		return -errno;
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0)
		return -EPERM; /* still there: refuse to run */
	return 0;
}

static void __attribute__((noreturn)) run_c(const struct req *q)
{
	const char *file = q->argv[0];
	int rep = q->fd[JFD_REP], ret;
	sigset_t none;

	setsid();
	for (int i = 1; i < 32; i++)
		signal(i, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	limits(&q->h);
	if (dup2(q->fd[JFD_IN], 0) < 0 || dup2(q->fd[JFD_OUT], 1) < 0 ||
	    dup2(q->fd[JFD_ERR], 2) < 0)
		fail(rep, errno);
	if (chdir(q->cwd) < 0)
		fail(rep, errno);
	if ((ret = drop_caps()) < 0)
		fail(rep, -ret);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(rep, errno);
	if (filter.len && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter) < 0)
		fail(rep, errno);
	fail(rep, proc_exec_search(file, q->found,
				   proc_env_get((const char *const *)q->env, "PATH"),
				   q->argv, q->env));
}

/* ---- B: pid 1 of the spawn's namespace ---------------------------------- */

static void on_signal(int sig)
{
	(void)sig; /* a handler, so that signals from outside reach pid 1 */
}

/* B once its namespace is ready (/proc mounted, the request parsed and
 * seeded): C, then waits for it as the namespace's init. */
static void __attribute__((noreturn)) b_body(const struct req *q, int status_fd)
{
	static const int passed[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
	struct sigaction sa;
	sigset_t set;
	pid_t c;

	close(q->fd[JFD_CTL]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(passed) / sizeof(*passed); i++) {
		sigaction(passed[i], &sa, NULL);
		sigaddset(&set, passed[i]);
	}
	sigprocmask(SIG_BLOCK, &set, NULL);
	c = fork();
	if (c < 0)
		fail(q->fd[JFD_REP], errno);
	if (c == 0) {
		close(status_fd);
		run_c(q);
	}
	for (int i = 0; i < q->nfd; i++)
		close(q->fd[i]);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si), st;
		pid_t w;
		if (sig > 0 && sig != SIGCHLD) {
			kill(-c, sig);
			continue;
		}
		while ((w = waitpid(-1, &st, WNOHANG)) > 0)
			if (w == c) {
				ssize_t n = write(status_fd, &st, sizeof(st));
				_exit(n == (ssize_t)sizeof(st) ? 0 : 1);
			}
	}
}

/* B's own setup, as its namespace's first process, the fresh /proc when
 * with_proc: 0 or an errno. */
static int b_enter(int with_proc)
{
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* what the command sees as pid 1: not a "loopgate" to hunt for */
	prctl(PR_SET_NAME, "init");
	return with_proc && (ret = spawn_fresh_proc()) < 0 ? -ret : 0;
}

/* A's own namespaces (mount, PID, IPC) with a fresh /tmp and /dev/shm:
 * 0 or an errno. */
static int a_enter(void)
{
	int ret;

	if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return errno;
	if ((ret = spawn_fresh_tmpfs("/tmp")) < 0 ||
	    (ret = spawn_fresh_tmpfs("/dev/shm")) < 0)
		return -ret;
	return 0;
}

/* A's last word: B's status on the control socket. */
static void __attribute__((noreturn)) a_report(int ctl, int st)
{
	while (send(ctl, &st, sizeof(st), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	_exit(0);
}

static void __attribute__((noreturn)) run_b(const struct req *q, int status_fd)
{
	int code = b_enter(1);

	if (code)
		fail(q->fd[JFD_REP], code);
	b_body(q, status_fd);
}

/* ---- A: the spawn's warden inside the jail ------------------------------ */

/* Waits for B, passing signals from the control socket on; the status
 * to report: C's, or B's own death. */
static int watch_b(pid_t b, int ctl, int status_fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, b, 0), bst = 0, st, ctl_open = 1;

	while (waitpid(b, &bst, WNOHANG) != b) {
		struct pollfd p[2];
		nfds_t np = 0;
		if (pidfd >= 0)
			p[np++] = (struct pollfd){pidfd, POLLIN, 0};
		if (ctl_open)
			p[np++] = (struct pollfd){ctl, POLLIN, 0};
		if (poll(p, np, pidfd < 0 ? 10 : -1) <= 0 || !ctl_open ||
		    !p[np - 1].revents)
			continue;
		int sig = 0;
		ssize_t n = recv(ctl, &sig, sizeof(sig), MSG_DONTWAIT);
		if (n == (ssize_t)sizeof(sig) && sig > 0 && sig < 65) {
			kill(b, sig);
		} else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			kill(b, SIGKILL); /* loopgate gave up on it */
			ctl_open = 0;
		}
	}
	if (read(status_fd, &st, sizeof(st)) == (ssize_t)sizeof(st))
		return st;
	return bst;
}

static void __attribute__((noreturn))
run_a(struct req *q, int sock, const int *also, int nalso)
{
	int rep = q->fd[JFD_REP], sp[2], ret, st;
	pid_t b;

	signal(SIGCHLD, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(sock);
	for (int i = 0; i < nalso; i++)
		if (also[i] >= 0)
			close(also[i]);
	if ((ret = parse(q)) < 0)
		fail(rep, -ret);
	if ((ret = a_enter()) != 0)
		fail(rep, ret);
	if ((ret = spawn_seed(q->home, q->files, q->fd + JFD_NFIXED, q->h.nfiles)) < 0)
		fail(rep, -ret);
	if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0)
		fail(rep, errno);
	b = fork();
	if (b < 0)
		fail(rep, errno);
	if (b == 0) {
		close(sp[0]);
		run_b(q, sp[1]);
	}
	close(sp[1]);
	for (int i = 0; i < q->nfd; i++)
		if (i != JFD_CTL)
			close(q->fd[i]);
	st = watch_b(b, q->fd[JFD_CTL], sp[0]);
	a_report(q->fd[JFD_CTL], st);
}

/* ---- the spawner (receive) ---------------------------------------------- */

/* One request: 1, 0 at EOF (loopgate closed the jail), -1 on a bad one. */
static int receive(int sock, struct req *q)
{
	ssize_t n = fdpass_recv(sock, &q->h, sizeof(q->h), q->fd,
				JFD_NFIXED + ONEJAIL_MAX_FILES, &q->nfd, 0);

	if (n == -EBADMSG)
		return -1;
	if (n <= 0)
		return 0;
	if (n != (ssize_t)sizeof(q->h) || q->h.magic != ONEJAIL_MAGIC ||
	    q->h.nfiles > ONEJAIL_MAX_FILES || q->nfd != JFD_NFIXED + (int)q->h.nfiles)
		return -1;
	return 1;
}

/* ---- the standby: the next spawn's A and B, made ahead ------------------ */

/*
 * A and B of the next request are made when the previous one was handed
 * on (and at the start): A unshares and mounts the fresh /tmp and /dev/shm,
 * B mounts the fresh /proc, and both wait for the request, so none of that
 * is on a spawn's path.  The request goes as it came to B (on req), which
 * parses it, seeds the home and forks C; A gets the control socket and the
 * report pipe (on ctl) and watches B as run_a does.  A standby is used only
 * while the jail's mount table is as it was when A copied it: the
 * spawner opens its mountinfo before it forks A, and the kernel marks that
 * descriptor (POLLPRI) at the first mount or unmount in the jail's
 * namespace after the open, a mount the host propagates into it included.
 * A marked one is discarded and the request gets run_a, which copies the
 * table as it is then.  A setup step that failed is reported on the
 * request's report pipe, as run_a reports it.
 */
struct standby_ns {
	pid_t a; /* 0: none; the rest is set only when a > 0 */
	int req, ctl, mounts;
};

/* 1 while the jail's mount table has not changed since the open of fd. */
static int mounts_unchanged(int fd)
{
	struct pollfd p = {fd, POLLPRI, 0};

	return poll(&p, 1, 0) == 0;
}

static void __attribute__((noreturn)) standby_b(int req_sock, int status_fd, int code)
{
	struct req q;
	int ret, e = b_enter(!code);

	code = code ? code : e;
	memset(&q, 0, sizeof(q));
	if ((ret = receive(req_sock, &q)) == 0)
		_exit(0);   /* discarded, or the jail ends: no request */
	if (ret < 0)	    /* a request that did not arrive whole: A reports */
		_exit(127); /* exit 127 for it, never a command's success */
	close(req_sock);
	if (code)
		fail(q.fd[JFD_REP], code);
	if ((ret = parse(&q)) < 0 ||
	    (ret = spawn_seed(q.home, q.files, q.fd + JFD_NFIXED, q.h.nfiles)) < 0)
		fail(q.fd[JFD_REP], -ret);
	b_body(&q, status_fd);
}

static void __attribute__((noreturn)) standby_a(int req_sock, int ctl_sock)
{
	int sp[2] = {-1, -1}, got[2], n = 0, code = 0, st;
	char c;
	pid_t b = -1;

	signal(SIGCHLD, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!(code = a_enter()) && pipe2(sp, O_CLOEXEC | O_NONBLOCK) < 0)
		code = errno;
	if (!code && (b = fork()) < 0)
		code = errno;
	if (b == 0) {
		close(sp[0]);
		close(ctl_sock);
		standby_b(req_sock, sp[1], 0);
	}
	if (b < 0) /* no B: A takes the request and says why */
		standby_b(req_sock, -1, code ? code : EAGAIN);
	close(sp[1]);
	close(req_sock);
	if (fdpass_recv(ctl_sock, &c, 1, got, 2, &n, 0) <= 0 || n != 2) {
		kill(b, SIGKILL);
		_exit(0);
	}
	close(ctl_sock);
	close(got[1]); /* the report pipe: B's to write */
	st = watch_b(b, got[0], sp[0]);
	a_report(got[0], st);
}

/* Lets go of the standby: killed (discarded) or handed a request. */
static void standby_end(struct standby_ns *sb, int discard)
{
	if (sb->a > 0) {
		if (discard)
			kill(sb->a, SIGKILL); /* B dies with it (PDEATHSIG) */
		close(sb->req);
		close(sb->ctl);
		close(sb->mounts);
	}
	memset(sb, 0, sizeof(*sb));
}

static void standby_make(struct standby_ns *sb, int sock)
{
	int r[2], c[2], m;

	memset(sb, 0, sizeof(*sb));
	/* opened before A copies the table: any change after it shows */
	if ((m = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r) < 0) {
		close(m);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c) < 0) {
		close(r[0]);
		close(r[1]);
		close(m);
		return;
	}
	sb->a = fork();
	if (sb->a == 0) {
		close(sock);
		close(r[0]);
		close(c[0]);
		close(m);
		standby_a(r[1], c[1]);
	}
	close(r[1]);
	close(c[1]);
	if (sb->a < 0) {
		close(r[0]);
		close(c[0]);
		close(m);
		sb->a = 0;
		return;
	}
	sb->req = r[0];
	sb->ctl = c[0];
	sb->mounts = m;
}

/* Hands q to the standby: 1 when it took it (q's descriptors are still
 * the caller's to close), 0 when it cannot (q untouched: run_a). */
static int standby_pass(struct standby_ns *sb, struct req *q)
{
	int code = EIO;

	if (sb->a <= 0 || !mounts_unchanged(sb->mounts) ||
	    fdpass_send(sb->ctl, "S", 1, (int[]){q->fd[JFD_CTL], q->fd[JFD_REP]}, 2) < 0)
		return 0;
	/* A has the control socket: from here on the spawn is A's to end */
	if (fdpass_send(sb->req, &q->h, sizeof(q->h), q->fd, q->nfd) < 0)
		(void)!write(q->fd[JFD_REP], &code, sizeof(code));
	return 1;
}

/* ---- the spawner -------------------------------------------------------- */

static int load_filter(int fd)
{
	char *p;
	size_t len;

	if (fd < 0)
		return 0;
	if (read_all(fd, &p, &len) < 0 || len % sizeof(struct sock_filter) || !len)
		return -1;
	filter.len = (unsigned short)(len / sizeof(struct sock_filter));
	filter.filter = (struct sock_filter *)(void *)p;
	close(fd);
	return 0;
}

/*
 * The run's cgroup: "J" with its cgroup.procs descriptors (none without a
 * cgroup), sent by loopgate once it made the group while bwrap set the
 * jail up (onejail.c).  The spawner joins it, and moves bwrap's init (its
 * parent, pid 1 here) in with it, before it forks anything: every A, B
 * and command is born inside.  A join refused is the jail's failure (the
 * run falls back to per-spawn, with this message as the reason).
 */
static int join_cgroup(int sock)
{
	int fds[2], n = 0, ret = 0;
	pid_t up = getppid();
	char c = 0, pid[24];
	ssize_t got = fdpass_recv(sock, &c, 1, fds, 2, &n, 0);

	if (got != 1 || c != 'J') {
		fprintf(stderr,
			"loopgate __spawner: no cgroup message from loopgate (%s)\n",
			got < 0	   ? strerror((int)-got)
			: got == 0 ? "end of file"
				   : "another message came first");
		for (int i = 0; i < n; i++)
			close(fds[i]);
		return -1;
	}
	snprintf(pid, sizeof(pid), "%d", (int)up);
	for (int i = 0; i < n; i++) {
		if (write(fds[i], "0", 1) != 1) {
			if (!ret)
				fprintf(stderr,
					"loopgate __spawner: cannot join the run's "
					"cgroup: %s\n",
					strerror(errno));
			ret = -1;
		} else if (up > 0) { /* bwrap's init: its two pages, counted */
			(void)!write(fds[i], pid, strlen(pid));
		}
		close(fds[i]);
	}
	return ret;
}

int spawner_main(int argc, char **argv)
{
	struct standby_ns sb;
	int sock, sec;
	char *end;

	if (argc != 3 || (sock = (int)strtol(argv[1], &end, 10)) < 3 || *end ||
	    (sec = (int)strtol(argv[2], &end, 10)) < -1 || *end) {
		fprintf(stderr,
			"loopgate: usage: loopgate __spawner SOCK SECCOMP (internal)\n");
		return 127;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (load_filter(sec) < 0) {
		fprintf(stderr, "loopgate __spawner: cannot read the seccomp filter\n");
		return 127;
	}
	/* nothing else of the jail's starter reaches a spawn */
	for (int fd = 3; fd < 1024; fd++)
		if (fd != sock)
			close(fd);
	fcntl(sock, F_SETFD, FD_CLOEXEC);
	if (join_cgroup(sock) < 0)
		return 1;
	signal(SIGCHLD, SIG_IGN); /* the A processes reap themselves */
	standby_make(&sb, sock);
	if (send(sock, "R", 1, MSG_NOSIGNAL) != 1)
		return 1;
	for (;;) {
		struct req q;
		int got, passed = 0;
		pid_t a = 0;

		memset(&q, 0, sizeof(q));
		got = receive(sock, &q);
		if (got == 0)
			return 0;
		if (got > 0 && !(passed = standby_pass(&sb, &q)) && (a = fork()) == 0)
			run_a(&q, sock, (int[]){sb.req, sb.ctl, sb.mounts},
			      sb.a > 0 ? 3 : 0);
		if (got < 0 || a < 0) {
			int code = got < 0 ? EINVAL : errno;
			if (q.nfd > JFD_REP)
				(void)!write(q.fd[JFD_REP], &code, sizeof(code));
		}
		for (int i = 0; i < q.nfd; i++)
			close(q.fd[i]);
		if (got > 0) { /* used, or out of date: the next one */
			standby_end(&sb, !passed);
			standby_make(&sb, sock);
		}
	}
}
