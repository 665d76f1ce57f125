/*
 * http_conn: the connections of the own HTTP client (actor/http_wire.c):
 * TCP to a host and port, TLS over it for https, reads and writes that
 * wait in short slices so that the caller's limits act at once, and a small
 * pool of idle connections shared by the process's threads.
 *
 *   struct http_target t;                   from http_conn_target(url...)
 *   struct http_conn *c = http_pool_take(&t);  an idle one, or NULL
 *   if (!c) ret = http_conn_open(&t, connect_ms, check, ctx, &c, err);
 *   n = http_conn_write(c, p, len, more, check, ctx);
 *   n = http_conn_read(c, p, size, check, ctx);
 *   http_pool_put(c);       the reply was read to its end, nothing left over
 *   http_conn_close(c);     anything else
 *
 * check(ctx) is called between waits (every HTTP_POLL_SLICE_MS at most):
 * non-zero stops the call with -ECANCELED (the caller knows why).  Errors
 * are a negative errno; http_conn_why(c) or err has the sentence:
 *   open: -ECONNREFUSED (not resolved, not connected, TLS handshake failed),
 *         -ETIMEDOUT (connect_ms passed), -EPROTO (the certificate did not
 *         verify: the verify error is in err), -ELIBACC (no libssl)
 *   read/write: -ECONNRESET (reset, TLS error), other errnos as the socket
 *         gave them; read returns 0 at the end of the stream.
 *
 * Sockets are close-on-exec: a gate or agent never inherits a connection.
 */
#ifndef LOOPGATE_HTTP_CONN_H
#define LOOPGATE_HTTP_CONN_H

#include <stddef.h>
#include <sys/types.h>
#include "base/buf.h"

struct http_target {
	int tls;
	char host[256]; /* without the brackets of an IPv6 literal */
	char port[8];
	char key[300]; /* "https://host:port": what the pool matches on */
};

struct http_conn;
typedef int (*http_conn_check_fn)(void *ctx);

int http_conn_open(const struct http_target *t, long connect_ms, http_conn_check_fn check,
		   void *ctx, struct http_conn **out, struct buf *err);
ssize_t http_conn_read(struct http_conn *c, void *p, size_t size,
		       http_conn_check_fn check, void *ctx);
/* more: more bytes follow at once (the body after the head) */
ssize_t http_conn_write(struct http_conn *c, const void *p, size_t n, int more,
			http_conn_check_fn check, void *ctx);
const char *http_conn_why(const struct http_conn *c);
/* 1 when the connection came from the pool (served a request before). */
int http_conn_reused(const struct http_conn *c);
void http_conn_close(struct http_conn *c);

/* An idle connection to t's scheme, host and port that is still open, or
 * NULL.  Thread-safe. */
struct http_conn *http_pool_take(const struct http_target *t);
/* Keeps c for the next request to its target (closes the oldest idle one
 * when the pool is full).  Thread-safe. */
void http_pool_put(struct http_conn *c);

#endif
