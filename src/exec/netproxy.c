/*
 * netproxy.c: the proxy process of `network: [HOST...]` (netproxy.h):
 * its start and end in loopgate, and its single-threaded poll loop.
 */
#include "exec/netproxy.h"
#include "record/evkind.h"
#include "base/clock.h"
#include "record/events.h"
#include "exec/sandbox.h"
#include "base/fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define HEAD_MAX   16384
#define CONN_BUF   32768
#define MAX_CONN   64
#define HEAD_MS	   30000
#define IDLE_MS	   300000
#define CONNECT_MS 10000
#define LOG_MAX	   10000 /* decisions recorded per spawn */

struct conn {
	int fd[2];    /* client, upstream (-1: none yet) */
	int head;     /* reading the request head */
	char *buf[2]; /* [d]: read from fd[d], written to fd[!d] */
	size_t len[2], off[2];
	int eof[2], shut[2];
	long long deadline;
};

struct proxy {
	const struct strlist *hosts;
	int log_fd;
	long logged;
	struct conn c[MAX_CONN];
	int n;
};

/* ---- the decision log --------------------------------------------------- */

static void log_decision(struct proxy *px, const char *method, const char *host, int port,
			 int allow, const char *rule)
{
	json_t *o;
	char *s;

	/* bounded: a loop of requests cannot fill memory and the log */
	if (px->logged >= LOG_MAX)
		return;
	o = json_pack("{s:o,s:o,s:i,s:s,s:o}", "method", events_str(method), "host",
		      events_str(host), "port", port, "decision",
		      allow ? "allow" : "deny", "rule", events_str(rule));
	if (o && ++px->logged == LOG_MAX)
		json_object_set_new(o, "note",
				    json_string("the proxy records at most "
						"10000 decisions per process run: the "
						"rest are not recorded"));
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (s) {
		/* one write per line: a SIGKILL cannot tear it */
		char *line = xasprintf("%s\n", s);
		ssize_t w = write(px->log_fd, line, strlen(line));
		(void)w;
		free(line);
		free(s);
	}
	json_decref(o);
}

/* ---- connections -------------------------------------------------------- */

static void conn_close(struct conn *c)
{
	for (int i = 0; i < 2; i++) {
		if (c->fd[i] >= 0)
			close(c->fd[i]);
		free(c->buf[i]);
	}
	memset(c, 0, sizeof(*c));
	c->fd[0] = c->fd[1] = -1;
}

/* Answers and closes: the reason is one line of the body. */
static void refuse(struct conn *c, int code, const char *reason)
{
	char *r = xasprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n"
			    "loopgate: %s\n",
			    code,
			    code == 403	  ? "Forbidden"
			    : code == 502 ? "Bad Gateway"
					  : "Bad Request",
			    strlen(reason) + 11, reason);
	ssize_t w = send(c->fd[0], r, strlen(r), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w;
	free(r);
	shutdown(c->fd[0], SHUT_WR);
	conn_close(c);
}

/* A connected, non-blocking socket to host:port, or -errno. */
static int dial(const char *host, int port)
{
	struct addrinfo hints, *res, *ai;
	char ps[8];
	int fd = -1, ret = -EHOSTUNREACH;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(ps, sizeof(ps), "%d", port);
	if (getaddrinfo(host, ps, &hints, &res))
		return -ENOENT;
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd p;
		int e = 0;
		socklen_t el = sizeof(e);
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			p = (struct pollfd){fd, POLLOUT, 0};
			if (poll(&p, 1, CONNECT_MS) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && !e)
				break;
			ret = e ? -e : -ETIMEDOUT;
		} else {
			ret = -errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd >= 0 ? fd : ret;
}

static int header_dropped(const char *h, size_t n)
{
	static const char *const drop[] = {"host:",
					   "connection:",
					   "keep-alive:",
					   "proxy-connection:",
					   "proxy-authorization:",
					   NULL};
	for (int i = 0; drop[i]; i++) {
		size_t dn = strlen(drop[i]);
		if (n >= dn && !strncasecmp(h, drop[i], dn))
			return 1;
	}
	return 0;
}

/* The origin-form request for upstream, into out (CONN_BUF sized). */
static size_t rewrite_head(const char *head, size_t head_len, const char *line_end,
			   size_t path_off, size_t path_len, const char *host, int port,
			   char *out)
{
	const char *sp = memchr(head, ' ', head_len), *p, *e;
	const char *ver = line_end - 8;
	int v6 = strchr(host, ':') != NULL;
	size_t n;

	n = (size_t)snprintf(out, CONN_BUF, "%.*s %.*s %.8s\r\nHost: %s%s%s",
			     (int)(sp - head), head, path_len ? (int)path_len : 1,
			     path_len ? head + path_off : "/", ver, v6 ? "[" : "", host,
			     v6 ? "]" : "");
	if (port != 80)
		n += (size_t)snprintf(out + n, CONN_BUF - n, ":%d", port);
	n += (size_t)snprintf(out + n, CONN_BUF - n, "\r\n");
	for (p = line_end + 2; p < head + head_len; p = e + 2) {
		e = strstr(p, "\r\n");
		if (!e || e == p)
			break;
		if (!header_dropped(p, (size_t)(e - p)) &&
		    n + (size_t)(e - p) + 2 < CONN_BUF) {
			memcpy(out + n, p, (size_t)(e - p) + 2);
			n += (size_t)(e - p) + 2;
		}
	}
	n += (size_t)snprintf(out + n, CONN_BUF - n, "Connection: close\r\n\r\n");
	return n;
}

/* The request head is in buf[0] up to and with "\r\n\r\n" at hend. */
static void on_head(struct proxy *px, struct conn *c, size_t hend)
{
	char host[256], method[16], *out;
	const char *line = c->buf[0], *why, *rule = NULL;
	const char *le = strstr(line, "\r\n");
	size_t path_off, path_len, rest = c->len[0] - hend, n;
	int port = 0, is_connect = 0, fd;

	n = strcspn(line, " \r");
	snprintf(method, sizeof(method), "%.*s", (int)(n < 15 ? n : 15), line);
	if (hostrule_parse_request(line, (size_t)(le - line), host, sizeof(host), &port,
				   &is_connect, &path_off, &path_len, &why) < 0) {
		log_decision(px, method, "", 0, 0, why);
		refuse(c, 400, why);
		return;
	}
	if (!hostrule_match(px->hosts, host, port, &rule)) {
		char *r = xasprintf("%s%s%s port %d is not in policy.network",
				    strchr(host, ':') ? "[" : "", host,
				    strchr(host, ':') ? "]" : "", port);
		log_decision(px, method, host, port, 0, "not in policy.network");
		refuse(c, 403, r);
		free(r);
		return;
	}
	log_decision(px, method, host, port, 1, rule);
	if ((fd = dial(host, port)) < 0) {
		char *r = xasprintf("cannot connect to %s port %d: %s", host, port,
				    fd == -ENOENT ? "the name does not resolve"
						  : strerror(-fd));
		refuse(c, 502, r);
		free(r);
		return;
	}
	c->fd[1] = fd;
	c->head = 0;
	c->buf[1] = xmalloc(CONN_BUF);
	if (is_connect) {
		static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
		memcpy(c->buf[1], ok, sizeof(ok) - 1);
		c->len[1] = sizeof(ok) - 1;
		memmove(c->buf[0], c->buf[0] + hend, rest);
		c->len[0] = rest;
	} else {
		out = xmalloc(CONN_BUF);
		n = rewrite_head(line, hend, le, path_off, path_len, host, port, out);
		if (n + rest > CONN_BUF)
			rest = CONN_BUF - n;
		memcpy(out + n, c->buf[0] + hend, rest);
		free(c->buf[0]);
		c->buf[0] = out;
		c->len[0] = n + rest;
	}
	c->off[0] = 0;
}

static void on_head_bytes(struct proxy *px, struct conn *c)
{
	ssize_t r = recv(c->fd[0], c->buf[0] + c->len[0], HEAD_MAX - c->len[0], 0);
	char *end;

	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (r < 0)
		return;
	c->len[0] += (size_t)r;
	c->buf[0][c->len[0]] = 0;
	if (memchr(c->buf[0], 0, c->len[0])) {
		log_decision(px, "", "", 0, 0, "a NUL byte in the request head");
		refuse(c, 400, "a NUL byte in the request head");
	} else if ((end = strstr(c->buf[0], "\r\n\r\n"))) {
		on_head(px, c, (size_t)(end + 4 - c->buf[0]));
	} else if (c->len[0] >= HEAD_MAX) {
		log_decision(px, "", "", 0, 0, "request head too large");
		refuse(c, 400, "the request head is over 16 KiB");
	}
}

/* Moves bytes for direction d (fd[d] -> fd[!d]); -1: close the conn. */
static int pump_dir(struct conn *c, int d, short rev_src, short rev_dst)
{
	ssize_t r;

	if (c->off[d] < c->len[d] && (rev_dst & (POLLOUT | POLLERR | POLLHUP))) {
		r = send(c->fd[!d], c->buf[d] + c->off[d], c->len[d] - c->off[d],
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (r > 0)
			c->off[d] += (size_t)r;
		if (c->off[d] == c->len[d])
			c->off[d] = c->len[d] = 0;
	}
	if (!c->len[d] && !c->eof[d] && (rev_src & (POLLIN | POLLERR | POLLHUP))) {
		r = recv(c->fd[d], c->buf[d], CONN_BUF, MSG_DONTWAIT);
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (r == 0)
			c->eof[d] = 1;
		if (r > 0)
			c->len[d] = (size_t)r;
	}
	if (c->eof[d] && !c->len[d] && !c->shut[d]) {
		shutdown(c->fd[!d], SHUT_WR);
		c->shut[d] = 1;
	}
	return 0;
}

static short want(const struct conn *c, int fdi)
{
	short ev = 0;
	if (c->head)
		return POLLIN;
	/* fdi reads for direction fdi and writes for direction !fdi */
	if (!c->len[fdi] && !c->eof[fdi])
		ev |= POLLIN;
	if (c->off[!fdi] < c->len[!fdi])
		ev |= POLLOUT;
	return ev;
}

/* -1: the relay is gone. */
static int take_conn(struct proxy *px, int ctl)
{
	char b;
	int fd = -1, i, n;
	ssize_t got = fdpass_recv(ctl, &b, 1, &fd, 1, &n, MSG_DONTWAIT);

	if (got == 0 || (got < 0 && got != -EAGAIN && got != -EBADMSG))
		return -1;
	if (got < 0 || n != 1)
		return 0; /* nothing yet, or a message without one descriptor */
	for (i = 0; i < MAX_CONN && px->c[i].fd[0] >= 0; i++)
		;
	if (i == MAX_CONN) {
		close(fd);
		return 0;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	px->c[i].fd[0] = fd;
	px->c[i].head = 1;
	px->c[i].buf[0] = xmalloc(CONN_BUF);
	px->c[i].deadline = clock_ms() + HEAD_MS;
	return 0;
}

static void proxy_loop(struct proxy *px, int ctl)
{
	struct pollfd p[1 + 2 * MAX_CONN];

	for (;;) {
		long long now = clock_ms(), next = now + IDLE_MS;
		int i, n;

		p[0] = (struct pollfd){ctl, POLLIN, 0};
		for (i = 0; i < MAX_CONN; i++) {
			struct conn *c = &px->c[i];
			p[1 + 2 * i] = (struct pollfd){-1, 0, 0};
			p[2 + 2 * i] = (struct pollfd){-1, 0, 0};
			if (c->fd[0] < 0)
				continue;
			if (now >= c->deadline) {
				conn_close(c);
				continue;
			}
			if (c->deadline < next)
				next = c->deadline;
			p[1 + 2 * i] = (struct pollfd){c->fd[0], want(c, 0), 0};
			if (c->fd[1] >= 0)
				p[2 + 2 * i] = (struct pollfd){c->fd[1], want(c, 1), 0};
		}
		n = poll(p, 1 + 2 * MAX_CONN, (int)(next - now));
		if (n < 0 && errno != EINTR)
			_exit(1);
		if (n <= 0)
			continue;
		/* the relay gone: serve what is open */
		if ((p[0].revents & (POLLHUP | POLLERR) && !(p[0].revents & POLLIN)) ||
		    ((p[0].revents & POLLIN) && take_conn(px, ctl) < 0))
			ctl = -1;
		for (i = 0; i < MAX_CONN; i++) {
			struct conn *c = &px->c[i];
			short r0 = p[1 + 2 * i].revents, r1 = p[2 + 2 * i].revents;
			if (c->fd[0] < 0 || p[1 + 2 * i].fd != c->fd[0] || !(r0 | r1))
				continue;
			if (c->head) {
				on_head_bytes(px, c);
				continue;
			}
			c->deadline = clock_ms() + IDLE_MS;
			if (pump_dir(c, 0, r0, r1) < 0 || pump_dir(c, 1, r1, r0) < 0 ||
			    (c->shut[0] && c->shut[1]))
				conn_close(c);
		}
	}
}

static void proxy_main(const struct sandbox *sb, int ctl, int log_fd)
{
	static struct proxy px;
	int keep_lo = ctl < log_fd ? ctl : log_fd, keep_hi = ctl < log_fd ? log_fd : ctl;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 1; i < 32; i++)
		signal(i, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* nothing of loopgate's but the two descriptors */
	if (keep_lo > 3)
		close_range(3, (unsigned)keep_lo - 1, 0);
	if (keep_hi > keep_lo + 1)
		close_range((unsigned)keep_lo + 1, (unsigned)keep_hi - 1, 0);
	close_range((unsigned)keep_hi + 1, ~0U, 0);
	px.hosts = &sb->hosts;
	px.log_fd = log_fd;
	for (int i = 0; i < MAX_CONN; i++)
		px.c[i].fd[0] = px.c[i].fd[1] = -1;
	proxy_loop(&px, ctl);
}

/* ---- in loopgate -------------------------------------------------------- */

int netproxy_start(const struct sandbox *sb, struct netproxy *np, struct buf *err)
{
	int sp[2];
	pid_t pid;

	*np = (struct netproxy)NETPROXY_INIT;
	if (!sb->bwrap_on || sb->network != POLICY_NET_HOSTS)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return err_set(err, -errno,
			       "cannot create the network proxy's socket: %s",
			       strerror(errno));
	np->log_fd = memfd_create("loopgate-netlog", MFD_CLOEXEC);
	if (np->log_fd < 0) {
		int e = errno;
		close(sp[0]);
		close(sp[1]);
		return err_set(err, -e, "cannot create the network proxy's log: %s",
			       strerror(e));
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sp[0]);
		close(sp[1]);
		close(np->log_fd);
		np->log_fd = -1;
		return err_set(err, -e, "cannot start the network proxy: %s",
			       strerror(e));
	}
	if (pid == 0) {
		close(sp[1]);
		proxy_main(sb, sp[0], np->log_fd);
		_exit(0);
	}
	close(sp[0]);
	np->pid = pid;
	np->relay_fd = sp[1];
	return 0;
}

/* "host:port" into the ", "-separated list, once; at most 8 of them. */
static void add_denied(struct buf *list, json_t *o)
{
	const char *host = json_string_value(json_object_get(o, "host"));
	char *hp;
	if (!host || !*host)
		return;
	hp = xasprintf("%s:%lld", host,
		       (long long)json_integer_value(json_object_get(o, "port")));
	if (!strstr(list->s ? list->s : "", hp)) {
		size_t commas = 0;
		for (const char *c = list->s; c && *c; c++)
			commas += *c == ',';
		if (commas < 7)
			buf_addf(list, "%s%s", list->len ? ", " : "", hp);
	}
	free(hp);
}

/* The decisions from offset *seen on; *seen moves past the whole lines
 * read (a torn last one is read again next time). */
static void record(const struct sandbox *sb, int fd, off_t *seen, char **denied)
{
	off_t size = lseek(fd, 0, SEEK_END);
	struct buf b = BUF_INIT, list = BUF_INIT;
	char *line, *nl;

	if (size <= *seen || (!sb->ev && !denied))
		return;
	buf_init(&b, (size_t)(size - *seen) + 1);
	if (lseek(fd, *seen, SEEK_SET) < 0 || buf_read_fd(&b, fd) < 0) {
		buf_release(&b);
		return;
	}
	for (line = b.s; line && *line; line = nl ? nl + 1 : NULL) {
		json_t *o;
		nl = strchr(line, '\n');
		if (!nl)
			break; /* a torn last line: not a decision */
		*nl = 0;
		*seen += nl + 1 - line;
		o = json_loads(line, 0, NULL);
		if (!json_is_object(o)) {
			json_decref(o);
			continue;
		}
		if (!strcmp(json_string_value(json_object_get(o, "decision"))
				    ? json_string_value(json_object_get(o, "decision"))
				    : "",
			    "deny"))
			add_denied(&list, o);
		json_object_set_new(o, "subject", json_string("network"));
		if (sb->ev)
			events_append(sb->ev, EV_POLICY, o);
		else
			json_decref(o);
	}
	buf_release(&b);
	if (denied && list.len)
		*denied = buf_detach(&list, NULL);
	buf_release(&list);
}

void netproxy_end(const struct sandbox *sb, struct netproxy *np, char **denied)
{
	if (np->relay_fd >= 0)
		close(np->relay_fd);
	if (np->pid > 0) {
		/* decisions are written before they are acted on: nothing to
		 * flush, so no grace */
		kill(np->pid, SIGKILL);
		waitpid(np->pid, NULL, 0);
	}
	if (np->log_fd >= 0) {
		off_t seen = 0;
		record(sb, np->log_fd, &seen, denied);
		close(np->log_fd);
	}
	*np = (struct netproxy)NETPROXY_INIT;
}

void netproxy_take(const struct sandbox *sb, const struct netproxy *np, off_t *seen,
		   char **denied)
{
	if (np->log_fd >= 0)
		record(sb, np->log_fd, seen, denied);
}
