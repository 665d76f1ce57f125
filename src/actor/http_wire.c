/*
 * http_wire: the own HTTP/1.1 client, for http:// and https:// URLs (the
 * common case: a model call).  It keeps the whole contract of actor/http.h
 * with sockets and, for https, libssl (actor/ssl_api.h): a model run never
 * loads libcurl and the 27 libraries it brings (docs/design/heap.md,
 * Session 11).
 *
 * One request: a connection from the idle pool (actor/http_conn.h) or a new
 * one; the head (method, Host, User-Agent, the caller's headers,
 * Content-Length) and the body; the reply's status line and headers
 * (interim 1xx replies skipped), then its body by Content-Length, by
 * chunks, or up to the close.  A connection whose reply was read to its end
 * goes back to the pool; any other is closed.  A pooled connection that
 * fails before any byte of the reply came (the server closed it while it
 * was idle) is replaced by a new one, once, as libcurl does.
 */
#include "actor/http_conn.h"
#include "actor/http_impl.h"
#include "base/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* a reply's headers, all of them: more is not a server we talk to */
#define HEAD_MAX (256 << 10)

enum framing { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

struct wire {
	struct http_limits l;
	struct http_conn *c;
	const char *shown;
	struct buf *err;
	size_t got; /* reply bytes received on this connection */
	int minor;  /* HTTP/1.minor */
	int close;  /* "connection: close" */
	enum framing framing;
	unsigned long long length; /* BODY_LENGTH: bytes announced */
	size_t off, len;	   /* unread bytes of in */
	char in[16384];
};

static int check(void *ctx)
{
	return http_limits_check(ctx);
}

static int fail(struct wire *w, int code, const char *kind, const char *what,
		const char *detail)
{
	w->l.rs->failure = kind;
	return err_set(w->err, code, "%s %s: %s", what, w->shown, detail);
}

/* An error of the connection (a negative errno from http_conn) as the
 * contract's failure. */
static int conn_fail(struct wire *w, int code)
{
	if (code == -ECANCELED && w->l.abort_code)
		return http_limits_error(&w->l, w->err);
	return fail(w, -ECONNRESET, "reset", "lost the connection to",
		    http_conn_why(w->c));
}

/* ---- the URL ------------------------------------------------------------ */

/* scheme://host[:port][/path][?query][#fragment] into t and the request
 * target.  0; -EINVAL for a URL that is not one; HTTP_WIRE_UNABLE for
 * credentials in it (libcurl's job). */
static int parse_url(const char *url, struct http_target *t, const char **target,
		     const char **why)
{
	const char *p, *auth, *end, *colon = NULL, *host_end;
	size_t hl;
	long port;
	char *pe;

	memset(t, 0, sizeof(*t));
	if (!strncasecmp(url, "http://", 7)) {
		p = url + 7;
	} else if (!strncasecmp(url, "https://", 8)) {
		p = url + 8;
		t->tls = 1;
	} else {
		*why = "only http:// and https:// URLs are supported";
		return -EINVAL;
	}
	auth = p;
	end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(end - auth)))
		return HTTP_WIRE_UNABLE;
	if (*auth == '[') {
		host_end = memchr(auth, ']', (size_t)(end - auth));
		if (!host_end) {
			*why = "an IPv6 address without its closing bracket";
			return -EINVAL;
		}
		auth++;
		colon = host_end + 1 < end && host_end[1] == ':' ? host_end + 1 : NULL;
		if (!colon && host_end + 1 != end) {
			*why = "text after the IPv6 address";
			return -EINVAL;
		}
	} else {
		colon = memchr(auth, ':', (size_t)(end - auth));
		host_end = colon ? colon : end;
	}
	hl = (size_t)(host_end - auth);
	if (!hl || hl >= sizeof(t->host) || strcspn(auth, " \t\r\n") < hl) {
		*why = "no host, or not a host name";
		return -EINVAL;
	}
	memcpy(t->host, auth, hl);
	if (colon && colon + 1 < end) {
		port = strtol(colon + 1, &pe, 10);
		if (pe != end || port < 1 || port > 65535 || colon[1] == '-' ||
		    colon[1] == '+') {
			*why = "the port is not a number from 1 to 65535";
			return -EINVAL;
		}
	} else {
		port = t->tls ? 443 : 80;
	}
	snprintf(t->port, sizeof(t->port), "%ld", port);
	snprintf(t->key, sizeof(t->key), "%s://%s:%s", t->tls ? "https" : "http", t->host,
		 t->port);
	*target = end;
	return 0;
}

/* ---- the request -------------------------------------------------------- */

static int has_header(const char *const *h, const char *name)
{
	size_t n = strlen(name);

	for (; h && *h; h++)
		if (!strncasecmp(*h, name, n) && (*h)[n] == ':')
			return 1;
	return 0;
}

static void make_head(const struct http_request *rq, const struct http_target *t,
		      const char *target, struct buf *h)
{
	const char *m = rq->method ? rq->method : "POST";
	int v6 = strchr(t->host, ':') != NULL;
	int dflt = !strcmp(t->port, t->tls ? "443" : "80");
	size_t tl = strcspn(target, "#");

	buf_addf(h, "%s %s%.*s HTTP/1.1\r\n", m, *target == '/' ? "" : "/", (int)tl,
		 target);
	buf_addf(h, "Host: %s%s%s%s%s\r\n", v6 ? "[" : "", t->host, v6 ? "]" : "",
		 dflt ? "" : ":", dflt ? "" : t->port);
	buf_adds(h, "User-Agent: loopgate/" LOOPGATE_VERSION "\r\n");
	if (!has_header(rq->headers, "accept"))
		buf_adds(h, "Accept: */*\r\n");
	for (const char *const *p = rq->headers; p && *p; p++) {
		const char *colon = strchr(*p, ':');
		if (!colon || !colon[1 + strspn(colon + 1, " \t")])
			continue; /* "name:" with no value: not sent (libcurl's way) */
		buf_addf(h, "%s\r\n", *p);
	}
	if (strcmp(m, "GET") || rq->body_len)
		buf_addf(h, "Content-Length: %zu\r\n", rq->body_len);
	buf_adds(h, "\r\n");
}

static int send_all(struct wire *w, const char *p, size_t n, int more)
{
	ssize_t k;

	while (n) {
		if (http_limits_check(&w->l))
			return -ECANCELED;
		k = http_conn_write(w->c, p, n, more, check, &w->l);
		if (k < 0)
			return (int)k;
		w->l.last_rx_ms = clock_ms(); /* sending is progress too */
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* ---- reading ------------------------------------------------------------ */

/* More bytes into in (which must be empty): > 0, 0 at the end, or a
 * negative errno of the connection. */
static ssize_t fill(struct wire *w)
{
	ssize_t n;

	/* a reply that never pauses never waits: the limits are checked
	 * between reads too (an endless stream must still meet its deadline) */
	if (http_limits_check(&w->l))
		return -ECANCELED;
	n = http_conn_read(w->c, w->in, sizeof(w->in), check, &w->l);

	w->off = 0;
	w->len = n > 0 ? (size_t)n : 0;
	if (n > 0) {
		w->l.last_rx_ms = clock_ms();
		if (!w->got)
			w->l.first_hdr_ms = w->l.last_rx_ms;
		w->got += (size_t)n;
	}
	return n;
}

static int header_is(const char *line, size_t n, const char *name, const char **value)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':' || strncasecmp(line, name, k))
		return 0;
	*value = line + k + 1;
	return 1;
}

/* A comma-separated list value contains token (case-insensitive). */
static int has_token(const char *v, size_t n, const char *token)
{
	size_t k = strlen(token);

	for (size_t i = 0; i + k <= n; i++)
		if (!strncasecmp(v + i, token, k) &&
		    (i == 0 || v[i - 1] == ' ' || v[i - 1] == ',' || v[i - 1] == '\t') &&
		    (i + k == n || strchr(" ,\t\r;", v[i + k])))
			return 1;
	return 0;
}

/* One header block (status line and headers, its blank line excluded).
 * 0, or a failure. */
static int parse_head(struct wire *w, char *s, size_t n)
{
	char *line = s, *nl, *end = s + n, *pe;
	const char *v;
	size_t ll;
	long status;
	int chunked = 0, have_length = 0;

	http_clear_headers(w->l.rs);
	if (n < 12 || memcmp(s, "HTTP/1.", 7) || s[8] != ' ')
		return fail(w, -ECONNRESET, "reset", "got a reply it cannot read from",
			    "not an HTTP/1.x status line");
	w->minor = s[7] - '0';
	status = strtol(s + 9, &pe, 10);
	if (pe != s + 12 || status < 100 || status > 999)
		return fail(w, -ECONNRESET, "reset", "got a reply it cannot read from",
			    "a status line without a status code");
	w->close = w->minor < 1;
	w->framing = BODY_CLOSE;
	for (; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		ll = (size_t)(nl - line);
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (line == s)
			continue;
		http_keep_header(w->l.rs, line, ll);
		if (header_is(line, ll, "transfer-encoding", &v)) {
			chunked = has_token(v, ll - (size_t)(v - line), "chunked");
		} else if (header_is(line, ll, "content-length", &v)) {
			while (*v == ' ' || *v == '\t')
				v++;
			w->length = strtoull(v, &pe, 10);
			if (pe == v || (*v < '0' || *v > '9'))
				return fail(w, -ECONNRESET, "reset",
					    "got a reply it cannot read from",
					    "a Content-Length that is not a number");
			have_length = 1;
		} else if (header_is(line, ll, "connection", &v)) {
			if (has_token(v, ll - (size_t)(v - line), "close"))
				w->close = 1;
			else if (has_token(v, ll - (size_t)(v - line), "keep-alive"))
				w->close = w->close && w->minor >= 1;
		}
	}
	w->l.rs->status = status;
	if (chunked)
		w->framing = BODY_CHUNKED;
	else if (have_length)
		w->framing = BODY_LENGTH;
	if (status == 204 || status == 304 ||
	    (w->l.rq->method && !strcmp(w->l.rq->method, "HEAD")))
		w->framing = BODY_NONE;
	return 0;
}

/* A read of the head or body that returned n <= 0: the failure. */
static int read_fail(struct wire *w, ssize_t n, const char *eof_what,
		     const char *eof_kind, int eof_code, const char *eof_detail)
{
	if (n < 0)
		return conn_fail(w, (int)n);
	return fail(w, eof_code, eof_kind, eof_what, eof_detail);
}

/* The end of a header block in s[from..n): the index after its blank
 * line, or 0. */
static size_t block_end(const char *s, size_t n, size_t from)
{
	for (size_t i = from; i + 1 < n; i++) {
		if (s[i] != '\n')
			continue;
		if (s[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Reads the reply's head: 0 with w->framing set, or a failure. */
static int read_head(struct wire *w)
{
	struct buf h;
	size_t from = 0, e;
	ssize_t n;
	int ret;

	buf_init(&h, HEAD_MAX);
	for (;;) {
		if (w->off == w->len && (n = fill(w)) <= 0) {
			ret = read_fail(
				w, n, "lost the connection to", "reset", -ECONNRESET,
				h.len ? "the connection closed in the middle of the "
					"reply headers"
				      : "the server closed the connection without "
					"a reply");
			break;
		}
		if (buf_add(&h, w->in + w->off, w->len - w->off) < 0) {
			ret = fail(w, -EIO, "error", "got a reply it cannot read from",
				   "the reply headers are larger than 256 KiB");
			break;
		}
		w->off = w->len;
		if (memcmp(h.s, "HTTP/", h.len < 5 ? h.len : 5)) {
			ret = fail(
				w, -ECONNRESET, "reset",
				"got a reply without an HTTP status line (HTTP/0.9) from",
				"the server sent something else");
			break;
		}
		e = block_end(h.s, h.len, from);
		from = h.len > 2 ? h.len - 2 : 0;
		if (!e)
			continue;
		/* the blank line takes at least one byte just read (else the
		 * last search had found it): what follows it is still in in */
		w->off = w->len - (h.len - e);
		if ((ret = parse_head(w, h.s, e)))
			break;
		if (w->l.rs->status < 200 && w->l.rs->status != 101) {
			/* "100 Continue" and the like: the reply follows */
			w->l.rs->status = 0;
			buf_reset(&h);
			from = 0;
			continue;
		}
		w->l.headers_done = 1;
		break;
	}
	buf_release(&h);
	return ret;
}

/* Up to want bytes of the reply, at *p: their count, 0 at the end of the
 * stream, or a negative errno of the connection. */
static ssize_t take(struct wire *w, size_t want, const char **p)
{
	ssize_t n;
	size_t k;

	if (w->off == w->len && (n = fill(w)) <= 0)
		return n;
	k = w->len - w->off < want ? w->len - w->off : want;
	*p = w->in + w->off;
	w->off += k;
	return (ssize_t)k;
}

static int truncated(struct wire *w, const char *detail)
{
	return fail(w, -EPIPE, "truncated", "got a cut-off reply from", detail);
}

/* One line of the chunked framing (a size, a CRLF, a trailer) into line. */
static int chunk_line(struct wire *w, char *line, size_t size)
{
	size_t n = 0;
	ssize_t k;
	const char *p;

	for (;;) {
		if ((k = take(w, 1, &p)) <= 0)
			return k < 0 ? conn_fail(w, (int)k)
				     : truncated(w, "the connection closed in the middle "
						    "of the chunked body");
		if (*p == '\n')
			break;
		if (n + 1 >= size)
			return fail(w, -EIO, "error", "got a reply it cannot read from",
				    "a chunk header line too long");
		line[n++] = *p;
	}
	if (n && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return 0;
}

static int body_chunked(struct wire *w)
{
	char line[1024], *pe;
	unsigned long long size;
	const char *p;
	ssize_t k;
	int ret;

	for (;;) {
		if ((ret = chunk_line(w, line, sizeof(line))))
			return ret;
		size = strtoull(line, &pe, 16);
		if (pe == line || (*pe && *pe != ';' && *pe != ' ' && *pe != '\t') ||
		    line[0] == '-' || line[0] == '+')
			return fail(w, -EIO, "error", "got a reply it cannot read from",
				    "a chunk size that is not a hex number");
		if (!size)
			break;
		while (size) {
			k = take(w, size > sizeof(w->in) ? sizeof(w->in) : (size_t)size,
				 &p);
			if (k <= 0)
				return k < 0 ? conn_fail(w, (int)k)
					     : truncated(w,
							 "the connection closed in the "
							 "middle of a chunk");
			if (http_deliver(&w->l, p, (size_t)k))
				return http_limits_error(&w->l, w->err);
			size -= (unsigned long long)k;
		}
		if ((ret = chunk_line(w, line, sizeof(line))))
			return ret;
		if (line[0])
			return fail(w, -EIO, "error", "got a reply it cannot read from",
				    "a chunk longer than its size");
	}
	do /* trailers, up to the blank line */
		if ((ret = chunk_line(w, line, sizeof(line))))
			return ret;
	while (line[0]);
	return 0;
}

/* The body by Content-Length (until 0 left) or up to the close. */
static int body_plain(struct wire *w)
{
	unsigned long long left = w->length;
	char detail[160];
	const char *p;
	ssize_t k;

	while (w->framing == BODY_CLOSE || left) {
		k = take(w,
			 w->framing == BODY_CLOSE || left > sizeof(w->in) ? sizeof(w->in)
									  : (size_t)left,
			 &p);
		if (k == 0 && w->framing == BODY_CLOSE)
			return 0;
		if (k < 0)
			return conn_fail(w, (int)k);
		if (k == 0) {
			snprintf(detail, sizeof(detail),
				 "the connection closed after %llu of %llu bytes",
				 w->length - left, w->length);
			return truncated(w, detail);
		}
		if (http_deliver(&w->l, p, (size_t)k))
			return http_limits_error(&w->l, w->err);
		if (w->framing == BODY_LENGTH)
			left -= (unsigned long long)k;
	}
	return 0;
}

/* One exchange on w->c: 0 when the whole reply came, or a failure. */
static int exchange(struct wire *w, const char *head, size_t head_len)
{
	const struct http_request *rq = w->l.rq;
	int ret;

	w->got = 0;
	w->off = w->len = 0;
	if ((ret = send_all(w, head, head_len, rq->body_len > 0)) < 0 ||
	    (rq->body_len && (ret = send_all(w, rq->body, rq->body_len, 0)) < 0))
		return conn_fail(w, ret);
	if ((ret = read_head(w)))
		return ret;
	if (w->framing == BODY_CHUNKED)
		return body_chunked(w);
	if (w->framing != BODY_NONE)
		return body_plain(w);
	return 0;
}

/* http_conn_open's failure (its sentence in w->err) as the contract's. */
static int open_fail(struct wire *w, int ret)
{
	char detail[512];

	if (ret == -ECANCELED && w->l.abort_code)
		return http_limits_error(&w->l, w->err);
	snprintf(detail, sizeof(detail), "%s", w->err ? w->err->s : "");
	if (ret == -ETIMEDOUT)
		return fail(w, ret, "timeout", "timed out connecting to", detail);
	if (ret == -EPROTO)
		return fail(w, ret, "tls", "could not verify TLS for", detail);
	return fail(w, -ECONNREFUSED, "connect_failed", "could not connect to", detail);
}

int http_wire_send(const struct http_request *rq, struct http_response *rs,
		   struct buf *err)
{
	struct http_target t;
	struct buf head = BUF_INIT;
	const char *target = NULL, *why = NULL;
	struct wire *w;
	int ret, tries;

	ret = parse_url(rq->url, &t, &target, &why);
	if (ret == HTTP_WIRE_UNABLE)
		return ret;
	if (ret < 0) {
		struct http_limits l;
		http_limits_init(&l, rq, rs);
		rs->failure = "bad_url";
		return err_set(err, ret, "cannot use the URL %s: %s", http_shown(rq),
			       why);
	}
	w = xcalloc(1, sizeof(*w));
	http_limits_init(&w->l, rq, rs);
	w->shown = http_shown(rq);
	w->err = err;
	make_head(rq, &t, target, &head);
	for (tries = 0; tries < 2; tries++) {
		if (!(w->c = http_pool_take(&t))) {
			ret = http_conn_open(&t, rq->connect_timeout_ms, check, &w->l,
					     &w->c, err);
			if (ret == -ELIBACC) {
				ret = HTTP_WIRE_UNABLE; /* no libssl: libcurl has TLS */
				break;
			}
			if (ret < 0) {
				w->c = NULL;
				ret = open_fail(w, ret);
				break;
			}
		}
		ret = exchange(w, head.s, head.len);
		/* a pooled connection the server had closed: once more, anew */
		if (ret == -ECONNRESET && !w->got && http_conn_reused(w->c) &&
		    !w->l.abort_code) {
			http_conn_close(w->c);
			w->c = NULL;
			rs->failure = NULL;
			continue;
		}
		break;
	}
	if (w->c && ret == 0 && !w->close && w->framing != BODY_CLOSE && w->off == w->len)
		http_pool_put(w->c);
	else
		http_conn_close(w->c);
	buf_release(&head);
	free(w);
	return ret;
}
