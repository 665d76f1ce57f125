/*
 * netproxy: the HTTP(S) proxy behind `network: [HOST...]`, one per
 * sandboxed spawn (docs/design/sandbox.md, "Network allow-list").
 *
 *   struct netproxy np = NETPROXY_INIT;
 *   if (netproxy_start(sb, &np, err) < 0) ...    forks the proxy
 *   ... the child inherits np.relay_fd (clear FD_CLOEXEC), and its argv is
 *       `loopgate __netrelay FD -- CMD...` (sandbox_argv) ...
 *   netproxy_end(sb, &np);                       stops it, logs decisions
 *
 * netproxy_start is a no-op (np.relay_fd stays -1) unless the sandbox is on
 * with a host list.  netproxy_end appends one `policy` event (subject
 * "network") per decision to sb->ev when set, and the denied "host:port"s,
 * each once and ", "-separated, to *denied when that is not NULL (the
 * caller frees it); it is idempotent.
 *
 * The relay side, inside the sandbox, is netrelay_main (cmd_netrelay.c).
 */
#ifndef LOOPGATE_NETPROXY_H
#define LOOPGATE_NETPROXY_H

#include <sys/types.h>
#include "base/buf.h"
#include "config/config.h"
#include "base/hostrule.h"

struct sandbox;

struct netproxy {
	pid_t pid;    /* the proxy; 0: none */
	int relay_fd; /* the child's end of the socketpair */
	int log_fd;   /* memfd of JSON decision lines */
};
#define NETPROXY_INIT                                                                    \
	{                                                                                \
		.pid = 0, .relay_fd = -1, .log_fd = -1                                   \
	}

int netproxy_start(const struct sandbox *sb, struct netproxy *np, struct buf *err);
void netproxy_end(const struct sandbox *sb, struct netproxy *np, char **denied);
/* A proxy that serves many spawns (onejail.h): the decisions logged since
 * *seen, recorded and listed as netproxy_end does; *seen moves on. */
void netproxy_take(const struct sandbox *sb, const struct netproxy *np, off_t *seen,
		   char **denied);

/* `loopgate __netrelay FD -- CMD...` (cmd_netrelay.c). */
int netrelay_main(int argc, char **argv);

#endif
