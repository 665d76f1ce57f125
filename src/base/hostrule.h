/*
 * hostrule: the network allow-list's host rules, pure text (no I/O).
 * The policy checks rules with it at config time; the per-spawn proxy
 * (exec/netproxy.c) parses each request head and matches its host.
 */
#ifndef LOOPGATE_HOSTRULE_H
#define LOOPGATE_HOSTRULE_H

#include <stddef.h>
#include "base/strlist.h"

/*
 * host is lowercased, without a
 * trailing dot, IPv6 without brackets (hostrule_norm makes it so:
 * 0, or -1 for a host that is not a name or an IP literal).  Returns 1 when
 * a rule of hosts allows host:port, with *rule the rule's text; 0 when
 * none does.  A rule is NAME, *.SUFFIX or an IP, each optionally :PORT
 * ([V6]:PORT for IPv6); a malformed rule matches nothing.
 */
int hostrule_norm(const char *in, size_t n, char *out, size_t outsz);
int hostrule_match(const struct strlist *hosts, const char *host, int port,
		   const char **rule);
/* 0 when rule is NAME, *.SUFFIX or an IP with an optional :PORT; -1
 * otherwise (why says what is wrong). */
int hostrule_check(const char *rule, const char **why);
/* 1 when a rule names a loopback host (127.x, ::1, localhost). */
int hostrule_lists_loopback(const struct strlist *hosts);
/*
 * Parses a request head's first line: "CONNECT h:p HTTP/1.1" or
 * "GET http://h[:p]/path HTTP/1.1".  0 with host (normalized), *port, and
 * *path_off, *path_len the origin-form path within line (CONNECT: 0);
 * -1 with why set ("userinfo in the URL", ...).
 */
int hostrule_parse_request(const char *line, size_t len, char *host, size_t hostsz,
			   int *port, int *is_connect, size_t *path_off, size_t *path_len,
			   const char **why);

#endif
