/*
 * cmd_netprobe.c: `loopgate __netprobe HOST[:PORT]`, the hidden subcommand
 * the agent pre-flight runs inside the actor's sandbox (agent_turn.h): asks
 * the sandbox's proxy ($HTTPS_PROXY, set by `__netrelay`) for a CONNECT
 * tunnel to HOST:PORT (443 by default) and exits 0 when it is granted.  It
 * prints the proxy's status line either way.  Nothing is sent through the
 * tunnel: the check is that the allow-list admits the host and that the
 * host accepts a connection.
 */
#include "cli/cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROBE_WAIT_MS 20000

/* 127.0.0.1:PORT from "http://127.0.0.1:PORT" (what the relay sets). */
static int proxy_port(const char *url)
{
	const char *p = url ? strstr(url, "://127.0.0.1:") : NULL;
	long port = p ? strtol(p + strlen("://127.0.0.1:"), NULL, 10) : 0;
	return port > 0 && port < 65536 ? (int)port : -1;
}

static int read_head(int fd, char *buf, size_t size)
{
	size_t got = 0;
	struct pollfd pfd = {fd, POLLIN, 0};

	while (got + 1 < size && !memmem(buf, got, "\r\n\r\n", 4)) {
		ssize_t n;
		if (poll(&pfd, 1, PROBE_WAIT_MS) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + got, size - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = 0;
	}
	buf[got] = 0;
	return got ? 0 : -ECONNRESET;
}

static int probe(int argc, char **argv)
{
	struct sockaddr_in sa;
	char req[600], head[4096];
	const char *target = argc == 2 ? argv[1] : NULL;
	int port = proxy_port(getenv("HTTPS_PROXY")), fd, code = 0;

	if (!target || strlen(target) > 255) {
		fprintf(stderr, "usage: loopgate __netprobe HOST[:PORT]\n");
		return 2;
	}
	if (port < 0) {
		fprintf(stderr, "no sandbox proxy ($HTTPS_PROXY) to ask\n");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "cannot reach the sandbox proxy: %s\n", strerror(errno));
		return 1;
	}
	snprintf(req, sizeof(req), "CONNECT %s%s HTTP/1.1\r\nHost: %s%s\r\n\r\n", target,
		 strchr(target, ':') && target[0] != '[' ? "" : ":443", target,
		 strchr(target, ':') && target[0] != '[' ? "" : ":443");
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
	    read_head(fd, head, sizeof(head)) < 0) {
		fprintf(stderr, "no answer from the sandbox proxy\n");
		close(fd);
		return 1;
	}
	close(fd);
	head[strcspn(head, "\r\n")] = 0;
	printf("%s\n", head);
	if (sscanf(head, "HTTP/%*s %d", &code) != 1 || code < 200 || code > 299)
		return 1;
	return 0;
}

/* Leaves with _exit: a sanitizer's leak check at exit needs ptrace, which
 * the sandbox refuses (as in cmd_netrelay.c). */
int netprobe_main(int argc, char **argv)
{
	int code = probe(argc, argv);
	fflush(stdout);
	fflush(stderr);
	_exit(code);
}
