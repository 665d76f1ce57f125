/*
 * hostrule.c: which host a request names, and whether the policy's host
 * list allows it (hostrule.h).  No I/O: unit-tested.
 */
#include "base/hostrule.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define HOST_MAX 256

int hostrule_norm(const char *in, size_t n, char *out, size_t outsz)
{
	char tmp[HOST_MAX];
	unsigned char a6[16];
	struct in_addr a4;
	size_t i;

	if (!n || n >= sizeof(tmp) || n >= outsz)
		return -1;
	for (i = 0; i < n; i++)
		tmp[i] = (char)tolower((unsigned char)in[i]);
	tmp[n] = 0;
	if (strchr(tmp, ':')) {
		if (inet_pton(AF_INET6, tmp, a6) != 1 ||
		    !inet_ntop(AF_INET6, a6, out, (socklen_t)outsz))
			return -1;
		return 0;
	}
	if (n > 1 && tmp[n - 1] == '.')
		tmp[--n] = 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)tmp[i]) && tmp[i] != '.' && tmp[i] != '-' &&
		    tmp[i] != '_')
			return -1;
	if (tmp[0] == '.' || tmp[0] == '-' || strstr(tmp, ".."))
		return -1;
	/* "2130706433", "0x7f.1", "127.1": numbers the resolver would take
	 * for an address; only the dotted quad is accepted */
	if (inet_aton(tmp, &a4) && inet_pton(AF_INET, tmp, &a4) != 1)
		return -1;
	memcpy(out, tmp, n + 1);
	return 0;
}

static int is_ip(const char *h)
{
	unsigned char a[16];
	return inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1;
}

/* Splits "h", "h:p", "[v6]", "[v6]:p", "v6": 0 with *hp, *hn, *port (0:
 * any); -1 when malformed. */
static int split_hostport(const char *s, size_t len, const char **hp, size_t *hn,
			  int *port, int port_required)
{
	const char *colon = NULL, *end = s + len;
	long p = 0;
	char *e;

	*port = 0;
	if (len && s[0] == '[') {
		const char *rb = memchr(s, ']', len);
		if (!rb)
			return -1;
		*hp = s + 1;
		*hn = (size_t)(rb - s - 1);
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return -1;
			colon = rb + 1;
		}
	} else {
		const char *c = memchr(s, ':', len);
		if (c && memchr(c + 1, ':', (size_t)(end - c - 1))) {
			/* a bare IPv6 address: no port */
			if (port_required)
				return -1;
			*hp = s;
			*hn = len;
			return 0;
		}
		colon = c;
		*hp = s;
		*hn = c ? (size_t)(c - s) : len;
	}
	if (colon) {
		char num[8];
		size_t dn = (size_t)(end - colon - 1);
		if (!dn || dn >= sizeof(num))
			return -1;
		memcpy(num, colon + 1, dn);
		num[dn] = 0;
		for (size_t i = 0; i < dn; i++)
			if (!isdigit((unsigned char)num[i]))
				return -1;
		p = strtol(num, &e, 10);
		if (p < 1 || p > 65535)
			return -1;
		*port = (int)p;
	} else if (port_required) {
		return -1;
	}
	return 0;
}

/* 1: rule allows host:port. */
static int rule_allows(const char *rule, const char *host, int port)
{
	char rh[HOST_MAX];
	const char *hp;
	size_t hn, hl, rl;
	int rport, wild = 0;

	if (split_hostport(rule, strlen(rule), &hp, &hn, &rport, 0) < 0)
		return 0;
	if (rport && rport != port)
		return 0;
	if (hn > 2 && hp[0] == '*' && hp[1] == '.') {
		wild = 1;
		hp += 2;
		hn -= 2;
	}
	if (hostrule_norm(hp, hn, rh, sizeof(rh)) < 0)
		return 0;
	if (!wild)
		return !strcmp(rh, host);
	if (is_ip(host) || is_ip(rh))
		return 0;
	hl = strlen(host);
	rl = strlen(rh);
	return hl > rl + 1 && host[hl - rl - 1] == '.' && !strcmp(host + hl - rl, rh);
}

int hostrule_match(const struct strlist *hosts, const char *host, int port,
		   const char **rule)
{
	for (size_t i = 0; i < hosts->n; i++)
		if (rule_allows(hosts->v[i], host, port)) {
			if (rule)
				*rule = hosts->v[i];
			return 1;
		}
	if (rule)
		*rule = NULL;
	return 0;
}

int hostrule_check(const char *rule, const char **why)
{
	char h[HOST_MAX];
	const char *hp;
	size_t hn;
	int port;

	if (strpbrk(rule, "/@ ")) {
		*why = "not a host name or an IP address (no scheme, path or user@)";
		return -1;
	}
	if (split_hostport(rule, strlen(rule), &hp, &hn, &port, 0) < 0) {
		*why = "a bad port or brackets (use HOST, HOST:PORT, *.SUFFIX or "
		       "[V6]:PORT)";
		return -1;
	}
	if (hn > 2 && hp[0] == '*' && hp[1] == '.') {
		hp += 2;
		hn -= 2;
	}
	if (memchr(hp, '*', hn)) {
		*why = "'*' is only allowed as a leading '*.' (*.example.com)";
		return -1;
	}
	if (hostrule_norm(hp, hn, h, sizeof(h)) < 0) {
		*why = "not a host name or an IP address (no scheme, path or user@)";
		return -1;
	}
	return 0;
}

int hostrule_lists_loopback(const struct strlist *hosts)
{
	for (size_t i = 0; i < hosts->n; i++) {
		const char *hp;
		size_t hn;
		int port;
		char h[HOST_MAX];
		if (split_hostport(hosts->v[i], strlen(hosts->v[i]), &hp, &hn, &port, 0) <
			    0 ||
		    hostrule_norm(hp, hn, h, sizeof(h)) < 0)
			continue;
		if (!strcmp(h, "localhost") || !strcmp(h, "::1") ||
		    (!strncmp(h, "127.", 4) && is_ip(h)))
			return 1;
	}
	return 0;
}

int hostrule_parse_request(const char *line, size_t len, char *host, size_t hostsz,
			   int *port, int *is_connect, size_t *path_off, size_t *path_len,
			   const char **why)
{
	const char *sp1 = memchr(line, ' ', len), *sp2, *t, *end, *a, *hp;
	size_t an, tn, hn;

	*why = "not an HTTP proxy request";
	if (!sp1 || sp1 == line)
		return -1;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(line + len - sp1 - 1));
	if (!sp2 || (size_t)(line + len - sp2 - 1) != 8 ||
	    (memcmp(sp2 + 1, "HTTP/1.1", 8) && memcmp(sp2 + 1, "HTTP/1.0", 8)))
		return -1;
	for (t = line; t < sp1; t++)
		if (*t < 'A' || *t > 'Z')
			return -1;
	t = sp1 + 1;
	tn = (size_t)(sp2 - t);
	*is_connect = (size_t)(sp1 - line) == 7 && !memcmp(line, "CONNECT", 7);
	*path_off = *path_len = 0;
	if (*is_connect) {
		a = t;
		an = tn;
		if (memchr(a, '@', an)) {
			*why = "userinfo in the address";
			return -1;
		}
		if (split_hostport(a, an, &hp, &hn, port, 1) < 0) {
			*why = "CONNECT needs host:port";
			return -1;
		}
	} else {
		if (tn >= 8 && !strncasecmp(t, "https://", 8)) {
			*why = "https:// URLs go through CONNECT";
			return -1;
		}
		if (tn < 7 || strncasecmp(t, "http://", 7)) {
			*why = "not an absolute http:// URL";
			return -1;
		}
		a = t + 7;
		end = sp2;
		for (t = a; t < end && *t != '/' && *t != '?' && *t != '#'; t++)
			;
		an = (size_t)(t - a);
		if (memchr(a, '@', an)) {
			*why = "userinfo in the URL";
			return -1;
		}
		if (t < end && *t != '/') {
			*why = "the URL's path must start with '/'";
			return -1;
		}
		*path_off = (size_t)(t - line);
		*path_len = (size_t)(end - t);
		if (split_hostport(a, an, &hp, &hn, port, 0) < 0) {
			*why = "bad host or port in the URL";
			return -1;
		}
		if (!*port)
			*port = 80;
	}
	if (hostrule_norm(hp, hn, host, hostsz) < 0) {
		*why = "not a host name or an IP address";
		return -1;
	}
	*why = NULL;
	return 0;
}
