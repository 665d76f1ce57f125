/*
 * serve_impl.h: what serve.c and serve_http.c share.  Not for other modules.
 */
#ifndef LOOPGATE_SERVE_IMPL_H
#define LOOPGATE_SERVE_IMPL_H

#include <sys/types.h>
#include "base/buf.h"

struct serve_client {
	int fd;		/* -1: free slot */
	struct buf in;	/* the request so far */
	int sse;	/* following a run's events */
	char *events;	/* that run's events.jsonl */
	off_t off;	/* bytes of it sent (whole lines only) */
	double last_ms; /* last write, for keep-alives */
};

void serve_client_init(struct serve_client *c, int fd);
void serve_client_close(struct serve_client *c);
/* Writes all of p (blocking, with a send timeout); closes c on failure. */
void serve_client_write(struct serve_client *c, const void *p, size_t n);
double serve_now_ms(void);
/* 1 when host is 127.0.0.1:port or localhost:port. */
int serve_host_ok(const char *host, int port);
/* "GET /path HTTP/1.1" and the Host header (*host malloc'd, or NULL). */
int serve_parse_request(const struct buf *in, char *method, size_t mlen, char *path,
			size_t plen, char **host);
/* Sends the whole lines appended to c->events since c->off as SSE data. */
void serve_follow(struct serve_client *c, double keepalive_ms, size_t chunk_max);
/* The run list page (from the run store). */
void serve_index(const char *repo, const char *token, struct serve_client *c);
void serve_send_html(struct serve_client *c, const char *html, size_t len);

#endif
