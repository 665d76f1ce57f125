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
 * "network") per decision to sb->ev when set; it is idempotent.
 *
 * The relay side, inside the sandbox, is netrelay_main (cmd_netrelay.c).
 */
#ifndef LOOPGATE_NETPROXY_H
#define LOOPGATE_NETPROXY_H

#include <sys/types.h>
#include "buf.h"
#include "config.h"

struct sandbox;

struct netproxy {
	pid_t pid;		/* the proxy; 0: none */
	int relay_fd;		/* the child's end of the socketpair */
	int log_fd;		/* memfd of JSON decision lines */
};
#define NETPROXY_INIT { 0, -1, -1 }

int netproxy_start(const struct sandbox *sb, struct netproxy *np, struct buf *err);
void netproxy_end(const struct sandbox *sb, struct netproxy *np);

/*
 * Host matching, exposed for the tests.  host is lowercased, without a
 * trailing dot, IPv6 without brackets (netproxy_norm_host makes it so:
 * 0, or -1 for a host that is not a name or an IP literal).  Returns 1 when
 * a rule of hosts allows host:port, with *rule the rule's text; 0 when
 * none does.  A rule is NAME, *.SUFFIX or an IP, each optionally :PORT
 * ([V6]:PORT for IPv6); a malformed rule matches nothing.
 */
int netproxy_norm_host(const char *in, size_t n, char *out, size_t outsz);
int netproxy_match(const struct strlist *hosts, const char *host, int port,
		   const char **rule);
/* 0 when rule is NAME, *.SUFFIX or an IP with an optional :PORT; -1
 * otherwise (why says what is wrong). */
int netproxy_rule_check(const char *rule, const char **why);
/* 1 when a rule names a loopback host (127.x, ::1, localhost). */
int netproxy_lists_loopback(const struct strlist *hosts);
/*
 * Parses a request head's first line: "CONNECT h:p HTTP/1.1" or
 * "GET http://h[:p]/path HTTP/1.1".  0 with host (normalized), *port, and
 * *path_off, *path_len the origin-form path within line (CONNECT: 0);
 * -1 with why set ("userinfo in the URL", ...).
 */
int netproxy_parse_request(const char *line, size_t len, char *host,
			   size_t hostsz, int *port, int *is_connect,
			   size_t *path_off, size_t *path_len, const char **why);

/* `loopgate __netrelay FD -- CMD...` (cmd_netrelay.c). */
int netrelay_main(int argc, char **argv);

#endif
