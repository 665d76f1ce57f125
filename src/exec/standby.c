/*
 * standby.c: the next --no-sandbox spawn, waiting in its own cgroup.  See
 * standby.h.
 *
 * The standby is a fork of loopgate (W) that closes every descriptor but
 * the run lock and its socket, leads its own session and becomes a
 * warden (warden_start) whose command process (C, its vfork child) joins
 * the cgroup and then waits for the request: one SEQPACKET message, a
 * struct req, with the command's stdin, stdout, stderr, the exec-report
 * pipe and a memfd of NUL-terminated strings (cwd, the PATH search's
 * result, argv, env) by SCM_RIGHTS.  C then does what every spawn's
 * command process does (proc_cmd_exec).  W is a fork of a process that
 * may have had threads, and C a vfork child: system calls only, no malloc.
 */
#include "exec/standby.h"
#include "exec/proc_impl.h"
#include "exec/sandbox.h"
#include "exec/warden.h"
#include "base/fdpass.h"
#include "base/clock.h"
#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAGIC	  0x6c737401u
#define HAS_CWD	  1u
#define MAX_ARGS  (64u << 20)
#define STOP_WAIT 2000 /* ms a standby has to end at EOF */
enum { FD_IN, FD_OUT, FD_ERR, FD_REP, FD_ARGS, FD_N };

struct req {
	uint32_t magic, flags, argc, envc;
};

/* One waiting process. */
struct ready {
	pid_t pid; /* W; 0: none */
	int sock;  /* loopgate's end */
	struct cgroup cg;
};

/* Two waiting: the one a spawn takes was made two spawns before, so its
 * cgroup write had the time between them (a command actor's turn comes
 * a few ms after the last gate, sooner than one write takes). */
#define DEPTH 2
struct standby {
	struct ready q[DEPTH]; /* the oldest first */
	int n;
	struct ready cur; /* taken for the spawn under way */
	int spawns;	  /* so far: one-shot users make one standby, not two */
};

static void ready_init(struct ready *r)
{
	r->pid = 0;
	r->sock = -1;
	r->cg = (struct cgroup)CGROUP_INIT;
}

struct standby *standby_new(const struct sandbox *sb)
{
	struct standby *sby;

	if (sb->bwrap_on || sandbox_cgroup(sb, NULL) == CGROUP_NONE)
		return NULL;
	sby = xcalloc(1, sizeof(*sby));
	for (int i = 0; i < DEPTH; i++)
		ready_init(&sby->q[i]);
	ready_init(&sby->cur);
	return sby;
}

/* EOF to C, which exits once it has joined; W then exits as C did. */
static void hang_up(struct ready *sby)
{
	if (sby->sock >= 0) {
		/* shutdown: wardens forked since hold copies of this end */
		shutdown(sby->sock, SHUT_RDWR);
		close(sby->sock);
	}
	sby->sock = -1;
}

/* Ends W (and C); reaped. */
static void drop(struct ready *sby, int wait_ms)
{
	long long until = clock_ms() + wait_ms;
	struct pollfd pfd = {-1, POLLIN, 0};

	hang_up(sby);
	if (sby->pid <= 0)
		return;
	pfd.fd = proc_pidfd_open(sby->pid);
	while (waitpid(sby->pid, NULL, WNOHANG) == 0) {
		long long left = until - clock_ms();
		if (left <= 0) {
			kill(-sby->pid, SIGKILL);
			waitpid(sby->pid, NULL, 0);
			break;
		}
		/* bounded: C is in its cgroup write, or gone */
		poll(&pfd, pfd.fd >= 0, pfd.fd >= 0 ? (int)left : 1);
	}
	if (pfd.fd >= 0)
		close(pfd.fd);
	proc_forget(sby->pid);
	sby->pid = 0;
}

void standby_free(struct standby *sby)
{
	if (!sby)
		return;
	for (int i = 0; i < sby->n; i++)
		hang_up(&sby->q[i]); /* all of them first: they end together */
	for (int i = 0; i < sby->n; i++) {
		drop(&sby->q[i], STOP_WAIT);
		cgroup_destroy(&sby->q[i].cg);
	}
	drop(&sby->cur, STOP_WAIT);
	free(sby);
}

/* ---- C: in the cgroup, waiting for the command ----------------------- */

struct wait_ctx {
	const struct sandbox *sb;
	const struct cgroup *cg;
	int sock;
	pid_t loopgate;
};

/* The request's descriptors into fd (close-on-exec); its header into h. */
static int receive(int sock, struct req *h, int fd[FD_N])
{
	int n;
	ssize_t got = fdpass_recv(sock, h, sizeof(*h), fd, FD_N, &n, 0);

	if (got != (ssize_t)sizeof(*h) || n != FD_N) {
		while (got > 0 && n > 0)
			close(fd[--n]);
		return -1;
	}
	return h->magic == MAGIC && h->argc > 0 ? 0 : -1;
}

/* The strings of fd into v (argc + envc + 2 slots, NULL-terminated
 * lists); *cwd and *found point into them; 0, or an errno. */
static int strings(int fd, const struct req *h, const char **cwd, const char **found,
		   char ***argv, char ***env)
{
	size_t want = 2 + (size_t)h->argc + h->envc, got = 0, len;
	struct stat st;
	char *p, **v;

	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > MAX_ARGS ||
	    want > MAX_ARGS / sizeof(char *))
		return EPROTO;
	len = (size_t)st.st_size;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	v = mmap(NULL, (want + 2) * sizeof(char *), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || v == MAP_FAILED || p[len - 1])
		return p == MAP_FAILED || v == MAP_FAILED ? errno : EPROTO;
	for (size_t i = 0; i < len && got < want; i += strlen(p + i) + 1)
		v[got++] = p + i;
	if (got != want)
		return EPROTO;
	*cwd = h->flags & HAS_CWD ? v[0] : NULL;
	*found = *v[1] ? v[1] : NULL;
	/* argv then env, each NULL-terminated: env moves up one slot */
	for (size_t i = want; i > 2 + h->argc; i--)
		v[i] = v[i - 1];
	v[2 + h->argc] = NULL;
	v[want + 1] = NULL;
	*argv = v + 2;
	*env = v + 3 + h->argc;
	return 0;
}

/* C, a vfork child of W (warden_start): exec or _exit, never return. */
static void wait_cmd(void *arg)
{
	const struct wait_ctx *c = arg;
	struct cgroup joined = *c->cg;
	struct proc_opts o = PROC_OPTS_INIT;
	struct child_ctx cx = {NULL, -1, &joined, -1, NULL, 0, c->loopgate, -1, 0, 0};
	struct proc_cmd_args a;
	const char *cwd = NULL, *found = NULL;
	char **argv = NULL, **env = NULL;
	struct req h;
	int fd[FD_N], code;

	cgroup_join(c->cg); /* the wait, while nobody waits for it */
	joined.procs_fd[0] = joined.procs_fd[1] = -1;
	if (receive(c->sock, &h, fd) < 0)
		_exit(127); /* EOF: the standby is not needed */
	if ((code = strings(fd[FD_ARGS], &h, &cwd, &found, &argv, &env)) != 0) {
		ssize_t w = write(fd[FD_REP], &code, sizeof(code));
		(void)w;
		_exit(127);
	}
	close(fd[FD_ARGS]);
	o.argv = (const char *const *)argv;
	o.env = (const char *const *)env;
	o.cwd = cwd;
	o.sandbox = c->sb;
	cx.argv = o.argv;
	a = (struct proc_cmd_args){&o,
				   &cx,
				   fd[FD_IN],
				   fd[FD_OUT],
				   fd[FD_ERR],
				   fd[FD_REP],
				   proc_env_get(o.env, "PATH"),
				   found};
	proc_cmd_exec(&a);
}

/* W: the next spawn's warden; never returns. */
static void __attribute__((noreturn))
be_warden(const struct sandbox *sb, const struct cgroup *cg, int sock, pid_t loopgate)
{
	const int mine[] = {sock, cg->procs_fd[0], cg->procs_fd[1]};
	struct wait_ctx c = {sb, cg, sock, loopgate};

	warden_close_except(mine, 3);
	setsid();
	/* C gets the three; W closes them once C has exec'd */
	warden_start(loopgate, mine, 3, wait_cmd, &c, 0);
	_exit(127);
}

/* A new standby into r; 0, or -1 with nothing left. */
static int make(const struct sandbox *sb, struct ready *r)
{
	pid_t loopgate = getpid(), pid;
	int sp[2];

	if (cgroup_create(&r->cg, sandbox_cgroup(sb, NULL), &sb->lim) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		cgroup_destroy(&r->cg);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		be_warden(sb, &r->cg, sp[1], loopgate);
	close(sp[1]);
	r->sock = sp[0];
	r->pid = pid > 0 ? pid : 0;
	if (pid < 0 || proc_keep(pid) < 0) {
		drop(r, STOP_WAIT);
		cgroup_destroy(&r->cg);
		return -1;
	}
	return 0;
}

void standby_refill(const struct sandbox *sb)
{
	struct standby *sby = sb->standby;

	if (!sby || sb->bwrap_on || sandbox_cgroup(sb, NULL) == CGROUP_NONE)
		return;
	drop(&sby->cur, STOP_WAIT); /* taken, but the spawn did not start */
	if (sby->spawns < DEPTH)
		sby->spawns++;
	while (sby->n < sby->spawns && make(sb, &sby->q[sby->n]) == 0)
		sby->n++;
}

/* ---- loopgate's side of a spawn ------------------------------------- */

int standby_take(const struct sandbox *sb, struct cgroup *cg)
{
	struct standby *sby = sb->standby;

	if (!sby || !sby->n)
		return 0;
	drop(&sby->cur, STOP_WAIT);
	sby->cur = sby->q[0];
	memmove(sby->q, sby->q + 1, sizeof(*sby->q) * (size_t)--sby->n);
	ready_init(&sby->q[sby->n]);
	*cg = sby->cur.cg;
	sby->cur.cg = (struct cgroup)CGROUP_INIT;
	return 1;
}

/* The request's strings in a memfd; -errno. */
static int args_fd(const struct proc_opts *o, const char *found, struct req *h)
{
	static const char *const empty[] = {NULL};
	const char *const *env = o->env ? o->env : empty;
	struct buf b = BUF_INIT;
	int fd;

	buf_init(&b, 0);
	buf_add(&b, o->cwd ? o->cwd : "", strlen(o->cwd ? o->cwd : "") + 1);
	buf_add(&b, found ? found : "", strlen(found ? found : "") + 1);
	for (h->argc = 0; o->argv[h->argc]; h->argc++)
		buf_add(&b, o->argv[h->argc], strlen(o->argv[h->argc]) + 1);
	for (h->envc = 0; env[h->envc]; h->envc++)
		buf_add(&b, env[h->envc], strlen(env[h->envc]) + 1);
	fd = fileio_memfd("loopgate-spawn", b.s, b.len);
	buf_release(&b);
	return fd;
}

int standby_spawn(const struct sandbox *sb, const struct proc_opts *o,
		  struct run_state *s, int in_fd, int outp[2], int errp[2], int rep[2],
		  struct buf *err)
{
	struct ready *sby = &sb->standby->cur;
	char where[PROC_RESOLVE_MAX];
	const char *found = proc_resolve(o->argv[0], proc_env_get(o->env, "PATH"), where);
	struct req h = {MAGIC, o->cwd ? HAS_CWD : 0, 0, 0};
	int fd[FD_N], sent;

	if ((fd[FD_ARGS] = args_fd(o, found, &h)) < 0) {
		drop(sby, STOP_WAIT);
		return -EAGAIN;
	}
	fd[FD_IN] = in_fd;
	fd[FD_OUT] = outp[1];
	fd[FD_ERR] = o->merge_output ? outp[1] : errp[1];
	fd[FD_REP] = rep[1];
	s->start = clock_ms();
	sent = fdpass_send(sby->sock, &h, sizeof(h), fd, FD_N);
	close(fd[FD_ARGS]);
	if (sent < 0) { /* gone (killed from outside): spawn as usual */
		drop(sby, STOP_WAIT);
		return -EAGAIN;
	}
	s->pid = sby->pid;
	proc_forget(sby->pid); /* the spawn's warden now: its tree is killed */
	close(sby->sock);
	sby->sock = -1;
	sby->pid = 0;
	return proc_await_exec(s->pid, o->argv[0], outp, errp, rep, err);
}
