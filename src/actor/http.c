/*
 * http: the contract of actor/http.h, and the choice of a transport for
 * each request: the own HTTP/1.1 client (http_wire.c), or libcurl
 * (http_curl.c) for what the own client does not do.
 */
#include "actor/http_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/clock.h"

/* The proxy variables libcurl reads (it ignores HTTP_PROXY in capitals,
 * which a CGI request header could set). */
static const char *const proxy_vars[] = {"http_proxy", "https_proxy", "HTTPS_PROXY",
					 "ALL_PROXY", "all_proxy"};

/* 1 when every request of the process goes through libcurl. */
static int curl_for_all(void)
{
	const char *v = getenv("LOOPGATE_HTTP");

	if (v && !strcmp(v, "curl"))
		return 1;
	for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(*proxy_vars); i++)
		if ((v = getenv(proxy_vars[i])) && *v)
			return 1;
	return 0;
}

static int needs_curl(const struct http_request *rq)
{
	return rq->tls.ca_pem || rq->tls.ca_file || rq->tls.cert_pem ||
	       rq->tls.cert_file || rq->tls.key_pem || rq->tls.key_file || curl_for_all();
}

int http_global_init(struct buf *err)
{
	return curl_for_all() ? http_curl_init(err) : 0;
}

/* RFC 9110's three forms of an HTTP date, all GMT. */
time_t http_date(const char *s)
{
	static const char *const forms[] = {
		"%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
		"%a %b %d %H:%M:%S %Y",	     /* asctime */
	};
	struct tm tm;
	const char *end;

	if (!s)
		return (time_t)-1;
	while (*s == ' ' || *s == '\t')
		s++;
	for (size_t i = 0; i < sizeof(forms) / sizeof(*forms); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, forms[i], &tm);
		if (!end)
			continue;
		while (*end == ' ' || *end == '\t')
			end++;
		if (!*end)
			return timegm(&tm);
	}
	return (time_t)-1;
}

void http_response_init(struct http_response *rs, size_t max_body)
{
	memset(rs, 0, sizeof(*rs));
	buf_init(&rs->body, max_body);
}

void http_clear_headers(struct http_response *rs)
{
	free(rs->retry_after);
	free(rs->retry_after_ms);
	free(rs->content_type);
	free(rs->request_id);
	rs->retry_after = rs->retry_after_ms = NULL;
	rs->content_type = rs->request_id = NULL;
}

void http_response_release(struct http_response *rs)
{
	http_clear_headers(rs);
	buf_release(&rs->body);
}

const char *http_shown(const struct http_request *rq)
{
	return rq->shown_url ? rq->shown_url : rq->url;
}

/* ---- limits ------------------------------------------------------------- */

void http_limits_init(struct http_limits *l, const struct http_request *rq,
		      struct http_response *rs)
{
	memset(l, 0, sizeof(*l));
	l->rq = rq;
	l->rs = rs;
	l->last_rx_ms = clock_ms();
	rs->status = 0;
	rs->failure = NULL;
	rs->received = 0;
	http_clear_headers(rs);
	buf_reset(&rs->body);
}

int http_limits_stop(struct http_limits *l, int code, const char *kind)
{
	if (!l->abort_code) {
		l->abort_code = code;
		l->abort_kind = kind;
	}
	return 1;
}

int http_limits_check(struct http_limits *l)
{
	long long now = clock_ms();
	long rto = l->rq->read_timeout_ms;

	if (l->abort_code)
		return 1;
	if (interrupt_pending())
		return http_limits_stop(l, -ECANCELED, "interrupted");
	if (l->rq->deadline_ms && now >= l->rq->deadline_ms)
		return http_limits_stop(l, -ETIME, "deadline");
	if (rto && now - l->last_rx_ms >= rto)
		return http_limits_stop(l, -ETIMEDOUT, "timeout");
	/* Headers come in one burst; a server trickling them a line at a time
	 * resets the silence clock forever: they get read_timeout in all. */
	if (rto && l->first_hdr_ms && !l->headers_done && now - l->first_hdr_ms >= rto)
		return http_limits_stop(l, -ETIMEDOUT, "timeout");
	return 0;
}

static const char *abort_what(const char *kind)
{
	if (!strcmp(kind, "interrupted"))
		return "interrupted while talking to";
	if (!strcmp(kind, "deadline"))
		return "reached the deadline while talking to";
	if (!strcmp(kind, "too_big"))
		return "got a reply larger than allowed from";
	return "stopped reading the reply from";
}

int http_limits_error(const struct http_limits *l, struct buf *err)
{
	const char *shown = http_shown(l->rq);
	long rto = l->rq->read_timeout_ms;

	l->rs->failure = l->abort_kind;
	if (strcmp(l->abort_kind, "timeout"))
		return err_set(err, l->abort_code, "%s %s", abort_what(l->abort_kind),
			       shown);
	if (l->first_hdr_ms && !l->headers_done)
		return err_set(err, l->abort_code,
			       "the reply headers from %s did not complete within "
			       "%ld ms (a server sending them too slowly)",
			       shown, rto);
	if (!l->first_hdr_ms)
		/* libcurl reports whole lines only: bytes may have come */
		return err_set(err, l->abort_code,
			       "no complete reply line for %ld ms from %s (nothing "
			       "came, or the status line trickled in too slowly)",
			       rto, shown);
	return err_set(err, l->abort_code, "heard nothing for %ld ms from %s", rto,
		       shown);
}

int http_deliver(struct http_limits *l, const char *p, size_t n)
{
	struct http_response *rs = l->rs;
	const struct http_request *rq = l->rq;
	int ret;

	rs->received += n;
	/* a stream is capped like a body: an endless one of tiny events,
	 * none of which any parser keeps, must end too */
	if (rs->body.max && rs->received > rs->body.max)
		return http_limits_stop(l, -E2BIG, "too_big");
	if (rq->on_data && rs->status >= 200 && rs->status < 300) {
		ret = rq->on_data(rq->ctx, p, n);
		return ret < 0 ? http_limits_stop(l, ret, "callback") : 0;
	}
	if (buf_add(&rs->body, p, n) < 0)
		return http_limits_stop(l, -E2BIG, "too_big");
	return 0;
}

/* ---- headers ------------------------------------------------------------ */

static char *header_value(const char *p, size_t n, size_t namelen)
{
	const char *v = p + namelen + 1, *end = p + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v &&
	       (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

void http_keep_header(struct http_response *rs, const char *p, size_t n)
{
	static const struct {
		const char *name;
		size_t off;
	} keep[] = {
		{"retry-after", offsetof(struct http_response, retry_after)},
		{"retry-after-ms", offsetof(struct http_response, retry_after_ms)},
		{"content-type", offsetof(struct http_response, content_type)},
		{"x-request-id", offsetof(struct http_response, request_id)},
		{"request-id", offsetof(struct http_response, request_id)},
	};

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		size_t len = strlen(keep[i].name);
		if (n > len && p[len] == ':' && !strncasecmp(p, keep[i].name, len)) {
			char **slot = (char **)((char *)rs + keep[i].off);
			free(*slot);
			*slot = header_value(p, n, len);
			return;
		}
	}
}

/* ---- requests ----------------------------------------------------------- */

int http_send(const struct http_request *rq, struct http_response *rs, struct buf *err)
{
	return http_post(rq, rs, err);
}

int http_post(const struct http_request *rq, struct http_response *rs, struct buf *err)
{
	int ret;

	if (!needs_curl(rq)) {
		ret = http_wire_send(rq, rs, err);
		if (ret != HTTP_WIRE_UNABLE)
			return ret;
	}
	return http_curl_send(rq, rs, err);
}
