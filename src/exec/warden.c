/*
 * warden.c: the per-child warden.  See warden.h.  Between fork and exec in
 * a process that may have had threads (curl's resolver): no malloc, no
 * stdio, system calls only.
 */
#include "exec/warden.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* SIGKILLs every child listed in /proc/thread-self/children; returns how
 * many there were, or -1 when the list cannot be read. */
static int kill_listed_children(void)
{
	char b[4096];
	int fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC), n = 0;
	ssize_t got;
	long pid = 0;

	if (fd < 0)
		return -1;
	got = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (got < 0)
		return -1;
	for (ssize_t i = 0; i <= got; i++) {
		if (i < got && b[i] >= '0' && b[i] <= '9') {
			pid = pid * 10 + (b[i] - '0');
			continue;
		}
		if (pid > 0) {
			kill((pid_t)pid, SIGKILL);
			n++;
		}
		pid = 0;
	}
	/* a list longer than the buffer: the rest are killed next round */
	return n;
}

/*
 * loopgate is gone: every descendant goes, and the warden waits for each to
 * be reaped.  As a subreaper it inherits the orphans of every child it
 * reaps (before their parent turns zombie), so killing what is listed, then
 * reaping one, until no child is left, ends the whole tree, processes that
 * left the group with setsid included.
 */
static void __attribute__((noreturn)) kill_all(void)
{
	for (int round = 0; round < 100000; round++) {
		if (kill_listed_children() < 0)
			kill(0, SIGKILL); /* no /proc: the group at least */
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			break;
	}
	_exit(128 + SIGKILL);
}

/* Exits as the command did: its code, or death by its signal. */
static void __attribute__((noreturn)) exit_as(int st)
{
	sigset_t one;
	int sig;

	if (WIFEXITED(st))
		_exit(WEXITSTATUS(st));
	sig = WTERMSIG(st);
	prctl(PR_SET_DUMPABLE, 0); /* no core of the warden */
	signal(sig, SIG_DFL);
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	kill(getpid(), sig);
	_exit(128 + sig); /* a signal whose default is not to die */
}

/* The run lock and such (warden_keep_fd); read between fork and exec. */
#define KEEP_MAX 16
static int keep[KEEP_MAX];
static int nkeep;
static int reexec_ok;

void warden_keep_fd(int fd)
{
	if (fd > 2 && nkeep < KEEP_MAX)
		keep[nkeep++] = fd;
}

void warden_drop_fd(int fd)
{
	for (int i = 0; i < nkeep; i++)
		if (keep[i] == fd) {
			keep[i] = keep[--nkeep];
			return;
		}
}

void warden_close_except(const int *also, int n)
{
	int k[KEEP_MAX + 8], m = 0;
	unsigned lo = 3;

	for (int i = 0; i < nkeep; i++)
		k[m++] = keep[i];
	for (int i = 0; i < n && m < KEEP_MAX + 8; i++)
		if (also[i] > 2)
			k[m++] = also[i];
	for (int i = 1; i < m; i++) /* insertion sort: a handful */
		for (int j = i; j > 0 && k[j - 1] > k[j]; j--) {
			int t = k[j];
			k[j] = k[j - 1];
			k[j - 1] = t;
		}
	for (int i = 0; i <= m; i++) {
		unsigned hi = i < m ? (unsigned)k[i] : ~0U;
		if (hi > lo && close_range(lo, hi - 1, 0) < 0)
			for (unsigned fd = lo; fd < hi && fd < 65536; fd++)
				close((int)fd); /* no close_range: one by one */
		if (i < m && hi + 1 > lo)
			lo = hi + 1;
	}
}

void warden_enable_reexec(void)
{
	reexec_ok = 1;
}

/* Waits for the command: exits as it does, or kills the tree when
 * loopgate dies.  SIGCHLD and SIGHUP are blocked (a pending one is
 * taken here). */
static void __attribute__((noreturn)) watch(pid_t loopgate, pid_t cmd)
{
	sigset_t set;
	int st;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	prctl(PR_SET_NAME, "loopgate-warden");
	if (getppid() != loopgate)
		kill_all(); /* loopgate died before (or while) the warden re-exec'd */
	for (;;) {
		siginfo_t si;
		pid_t w;
		int sig = sigwaitinfo(&set, &si);

		if (sig == SIGHUP && getppid() != loopgate)
			kill_all();
		if (sig != SIGCHLD)
			continue; /* EINTR, or a SIGHUP from someone else */
		while ((w = waitpid(-1, &st, WNOHANG)) > 0)
			if (w == cmd)
				exit_as(st);
	}
}

/* The re-exec (warden.h): returns only when it failed. */
static void reexec(pid_t loopgate, pid_t cmd)
{
	static const char *const env[] = {NULL};
	char a[24], b[24];
	const char *argv[] = {"loopgate", "__warden", a, b, NULL};
	char *p;
	unsigned long v;

	/* decimal by hand: no stdio between fork and exec */
	for (int k = 0; k < 2; k++) {
		char *out = k ? b : a, tmp[24];
		int n = 0;
		v = (unsigned long)(k ? cmd : loopgate);
		do
			tmp[n++] = (char)('0' + v % 10);
		while ((v /= 10) && n < 23);
		p = out;
		while (n)
			*p++ = tmp[--n];
		*p = 0;
	}
	for (int i = 0; i < nkeep; i++)
		if (fcntl(keep[i], F_SETFD, 0) < 0)
			return;
	execve("/proc/self/exe", (char *const *)argv, (char *const *)env);
	for (int i = 0; i < nkeep; i++)
		fcntl(keep[i], F_SETFD, FD_CLOEXEC);
}

int warden_start(pid_t loopgate, const int *close_fds, int nclose,
		 void (*exec_cmd)(void *), void *arg, int lean)
{
	static const int ignored[] = {SIGTERM, SIGINT, SIGQUIT, SIGPIPE, SIGTSTP};
	sigset_t set;
	pid_t self = getpid(), cmd;

	/* signals before the fork: the command inherits the mask and the
	 * ignored dispositions, and proc.c resets both before exec */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (size_t i = 0; i < sizeof(ignored) / sizeof(*ignored); i++)
		signal(ignored[i], SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGHUP);
	if (getppid() != loopgate)
		_exit(128 + SIGKILL); /* died before the signal was armed */
	/* vfork: the warden waits anyway, and nothing between here and the
	 * command's exec touches memory but its own stack frames, so its
	 * page tables (a copy of loopgate's) need not be copied again */
	cmd = vfork();
	if (cmd < 0)
		return -errno;
	if (cmd == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != self)
			_exit(128 + SIGKILL);
		exec_cmd(arg); /* execs or _exits: a vfork child never returns */
		_exit(127);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (int i = 0; i < nclose; i++)
		if (close_fds[i] > 2)
			close(close_fds[i]);
	if (lean && reexec_ok)
		reexec(loopgate, cmd);
	watch(loopgate, cmd);
}

pid_t warden_direct(pid_t loopgate, void (*exec_cmd)(void *), void *arg)
{
	sigset_t all, old;
	pid_t pid;
	int e;

	/* no handler of loopgate's may run in the child, which shares its
	 * memory until the exec: exec_cmd resets them, then unblocks */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = vfork();
	if (pid == 0) {
		setsid();
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != loopgate)
			_exit(128 + SIGKILL); /* died before the signal was armed */
		/* the run lock: held while the command lives */
		for (int i = 0; i < nkeep; i++)
			if (fcntl(keep[i], F_SETFD, 0) < 0)
				_exit(127);
		exec_cmd(arg); /* execs or _exits */
		_exit(127);
	}
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid < 0 ? -e : pid;
}

/* ---- `loopgate __warden LOOPGATE_PID CMD_PID` ---------------------------- */

static pid_t pid_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return *s && !*end && v > 0 ? (pid_t)v : 0;
}

int warden_main(int argc, char **argv)
{
	pid_t loopgate = argc == 3 ? pid_arg(argv[1]) : 0,
	      cmd = argc == 3 ? pid_arg(argv[2]) : 0;
	siginfo_t si;

	/* only the re-exec of a warden: the command is its child (alive or
	 * a zombie not yet reaped); loopgate its parent, or dead */
	si.si_pid = 0;
	if (!loopgate || !cmd ||
	    waitid(P_PID, (id_t)cmd, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
		fprintf(stderr, "loopgate __warden: loopgate starts this itself; "
				"it is not a command\n");
		return 2;
	}
	watch(loopgate, cmd);
}
