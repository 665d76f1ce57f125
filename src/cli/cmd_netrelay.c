/*
 * cmd_netrelay.c: `loopgate __netrelay FD NO_PROXY -- CMD...`, the hidden
 * subcommand sandbox_argv puts in front of a command when the policy's
 * network is a host list (netproxy.h, docs/design/sandbox.md).
 *
 * Inside the sandbox's network namespace: listens on 127.0.0.1 (a port the
 * kernel picks), points the proxy variables of the environment at it
 * (NO_PROXY set to the second argument, unset when it is empty), runs CMD
 * as its child and hands each accepted connection to the proxy outside as
 * a descriptor over FD (SCM_RIGHTS).  Exits with CMD's status, 128+N when
 * CMD died of signal N.
 */
#include "exec/netproxy.h"
#include "base/fdpass.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int chld_pipe = -1;

static void on_chld(int sig)
{
	int e = errno;
	ssize_t w = write(chld_pipe, "c", 1);
	(void)sig;
	(void)w;
	errno = e;
}

static void hand_over(int ctl, int fd)
{
	char b = 'c';
	/* the proxy gone: the client sees its connection closed */
	(void)fdpass_send(ctl, &b, 1, &fd, 1);
}

static int set_env(int port, const char *no_proxy)
{
	static const char *const vars[] = {"HTTP_PROXY",  "HTTPS_PROXY", "http_proxy",
					   "https_proxy", "ALL_PROXY",	 "all_proxy",
					   NULL};
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	for (int i = 0; vars[i]; i++)
		if (setenv(vars[i], url, 1) < 0)
			return -1;
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
	if (*no_proxy &&
	    (setenv("NO_PROXY", no_proxy, 1) < 0 || setenv("no_proxy", no_proxy, 1) < 0))
		return -1;
	return 0;
}

static int relay(int argc, char **argv)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	struct sigaction sa;
	int ctl, ls, cp[2], st;
	char *end;
	pid_t pid;

	if (argc < 5 || strcmp(argv[3], "--")) {
		fprintf(stderr,
			"loopgate: usage: loopgate __netrelay FD NO_PROXY -- CMD... "
			"(internal: the sandbox runs it)\n");
		return 127;
	}
	ctl = (int)strtol(argv[1], &end, 10);
	if (*end || ctl < 3 || fcntl(ctl, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "loopgate __netrelay: %s is not an open descriptor\n",
			argv[1]);
		return 127;
	}
	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(ls, 64) < 0 || getsockname(ls, (struct sockaddr *)&a, &al) < 0 ||
	    set_env(ntohs(a.sin_port), argv[2]) < 0 ||
	    pipe2(cp, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr,
			"loopgate __netrelay: cannot listen on 127.0.0.1 for the "
			"network proxy: %s\n",
			strerror(errno));
		return 127;
	}
	chld_pipe = cp[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "loopgate __netrelay: cannot fork: %s\n",
			strerror(errno));
		return 127;
	}
	if (pid == 0) {
		signal(SIGCHLD, SIG_DFL);
		execvp(argv[4], argv + 4);
		fprintf(stderr, "loopgate: cannot run %s: %s\n", argv[4],
			strerror(errno));
		_exit(127);
	}
	for (;;) {
		struct pollfd p[2] = {{ls, POLLIN, 0}, {cp[0], POLLIN, 0}};
		char drain[64];
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents) {
			while (read(cp[0], drain, sizeof(drain)) > 0)
				;
			if (waitpid(pid, &st, WNOHANG) == pid)
				return WIFEXITED(st)	 ? WEXITSTATUS(st)
				       : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
							 : 127;
		}
		if (p[0].revents & POLLIN) {
			while ((fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
				hand_over(ctl, fd);
				close(fd);
			}
		}
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* _exit: no atexit handlers in the sandbox (a sanitizer's leak check
 * there needs ptrace, which the seccomp filter refuses). */
int netrelay_main(int argc, char **argv)
{
	fflush(NULL);
	_exit(relay(argc, argv));
}
