/*
 * http: one HTTP request, with the timeouts a model call needs.  A POST
 * unless rq.method says otherwise (the Kubernetes client sends GET and
 * DELETE, with a CA and client certificate of its own: rq.tls).
 *
 * Two transports carry requests, the same contract for both:
 *  - loopgate's own HTTP/1.1 client (actor/http_wire.c), for http:// and
 *    https:// URLs: TLS through OpenSSL's libssl, loaded at the first https
 *    URL (actor/ssl_api.h), the peer verified against the system's CAs
 *    (SSL_CERT_FILE / SSL_CERT_DIR as for any OpenSSL program) and its host
 *    name; idle connections kept per scheme, host and port.  A model run
 *    never loads libcurl (docs/design/heap.md, Session 11).
 *  - libcurl (actor/http_curl.c, loaded when first needed), for a request
 *    with rq.tls set, for every request when a proxy variable is set
 *    (http_proxy, https_proxy, HTTPS_PROXY, ALL_PROXY, all_proxy: libcurl
 *    applies them and no_proxy), for credentials in the URL, when libssl
 *    cannot be loaded, and for every request when LOOPGATE_HTTP=curl (to
 *    compare the two).  libcurl uses its own CA bundle: SSL_CERT_FILE is
 *    the own client's.
 *
 *   const char *hdrs[] = { "content-type: application/json", NULL };
 *   struct http_request rq = HTTP_REQUEST_INIT;
 *   rq.url = url; rq.headers = hdrs; rq.body = json; rq.body_len = n;
 *   rq.read_timeout_ms = 120000; rq.deadline_ms = clock_ms() + 600000;
 *   rq.on_data = fn; rq.ctx = ctx;         optional: stream a 2xx body
 *   struct http_response rs;
 *   http_response_init(&rs, 16 << 20);     cap on the body, streamed or collected
 *   ret = http_post(&rq, &rs, &err);
 *   ... rs.status, rs.body, rs.retry_after, rs.failure ...
 *   http_response_release(&rs);
 *
 * http_post returns 0 when a whole response arrived, whatever its status:
 * an HTTP error is data for the caller.  It returns a negative errno when
 * the transfer failed, with rs.failure naming the kind of failure (below),
 * rs.status set if a status line had arrived, and err set to a sentence:
 *
 *   -ECONNREFUSED  "connect_failed"  could not resolve or connect
 *   -ETIMEDOUT     "timeout"         connect timeout, or no byte received
 *                                    for read_timeout_ms
 *   -ECONNRESET    "reset"           connection reset, nothing received, ...
 *   -EPIPE         "truncated"       the body ended before its announced end
 *   -ECANCELED     "interrupted"     interrupt_pending() became set
 *   -ETIME         "deadline"        clock_ms() passed deadline_ms
 *   -E2BIG         "too_big"         the body passed the cap (streamed: counted)
 *   -EINVAL        "bad_url"         malformed URL or unsupported scheme
 *   -EPROTO        "tls"             TLS certificate or protocol failure
 *   -EIO           "error"           anything else (a reply that cannot be
 *                                    read, anything libcurl reported)
 *   (callback's)   "callback"        on_data returned a negative value
 *
 * With on_data set, the body of a 2xx response goes to on_data as it
 * arrives (SSE); any other body is collected into rs.body, so an error reply
 * can always be read.  The header values kept are those a caller needs to
 * retry well and to report: retry-after, retry-after-ms, content-type and a
 * request id (x-request-id or request-id).  Headers are never logged: the
 * API key travels in one of them.
 */
#ifndef LOOPGATE_HTTP_H
#define LOOPGATE_HTTP_H

#include <stddef.h>

#include <time.h>
#include "base/buf.h"

/* Returns 0 to go on, a negative errno to abort the transfer. */
typedef int (*http_data_fn)(void *ctx, const char *p, size_t n);

struct http_request {
	const char *url;
	const char *const *headers; /* "name: value", NULL-terminated */
	const char *body;
	size_t body_len;
	long connect_timeout_ms; /* 0: 300 s (libcurl's default) */
	long read_timeout_ms;	 /* longest silence; 0: none */
	long long deadline_ms;	 /* absolute clock_ms(); 0: none */
	http_data_fn on_data;
	void *ctx;
	const char *shown_url; /* url as messages show it (redacted); NULL: url */
	const char *method;    /* NULL: POST; "GET", "DELETE", "PUT", "PATCH" */
	/* TLS beyond the system's CAs, PEM in memory or in files (NULL: not
	 * used): a cluster's own CA, a client certificate and its key. */
	struct {
		const char *ca_pem, *ca_file;
		const char *cert_pem, *cert_file;
		const char *key_pem, *key_file;
	} tls;
};
#define HTTP_REQUEST_INIT                                                                \
	{                                                                                \
		.url = NULL                                                              \
	}

struct http_response {
	long status;	   /* 0 until a status line arrived */
	struct buf body;   /* collected body (see above) */
	char *retry_after; /* header values, or NULL */
	char *retry_after_ms;
	char *content_type;
	char *request_id;
	const char *failure; /* NULL, or the failure kind above */
	size_t received;     /* body bytes received, streamed or not */
};

void http_response_init(struct http_response *rs, size_t max_body);
void http_response_release(struct http_response *rs);

/* When every request goes through libcurl (a proxy variable or
 * LOOPGATE_HTTP=curl), loads it (actor/curl_api.h) and initialises it, once
 * per process; else does nothing.  Thread-safe and idempotent.  A provider
 * calls it at creation so that a missing libcurl is reported before the
 * run. */
int http_global_init(struct buf *err);
/* An HTTP date (Retry-After: Wed, 21 Oct 2026 07:28:00 GMT) as a time_t,
 * (time_t)-1 when it does not parse. */
time_t http_date(const char *s);

int http_post(const struct http_request *rq, struct http_response *rs, struct buf *err);
/* The same call, named for a request that is not a POST. */
int http_send(const struct http_request *rq, struct http_response *rs, struct buf *err);

#endif
