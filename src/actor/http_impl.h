/*
 * http_impl: what actor/http.c shares with its two transports, the own
 * HTTP/1.1 client (http_wire.c) and libcurl (http_curl.c).  Not for other
 * modules: they include actor/http.h.
 *
 * Both transports keep the same limits (http_limits_check), the same header
 * values (http_keep_header) and the same body rules (http_deliver), so a
 * caller cannot tell which one carried its request but by the libraries
 * the process loaded.
 */
#ifndef LOOPGATE_HTTP_IMPL_H
#define LOOPGATE_HTTP_IMPL_H

#include "actor/http.h"

/* How long one wait on the network may sleep: the precision of every limit. */
#define HTTP_POLL_SLICE_MS 20

/* One transfer's clocks and the decision to stop it. */
struct http_limits {
	const struct http_request *rq;
	struct http_response *rs;
	long long last_rx_ms;	/* last byte received (or sent) */
	long long first_hdr_ms; /* first byte of the reply headers; 0: none */
	int headers_done;	/* the blank line after the headers arrived */
	int abort_code;		/* set once we decided to stop */
	const char *abort_kind;
};

void http_limits_init(struct http_limits *l, const struct http_request *rq,
		      struct http_response *rs);
/* Non-zero when the transfer must end now (interrupt, deadline, silence,
 * headers trickling in): l->abort_code and abort_kind say why. */
int http_limits_check(struct http_limits *l);
/* Records a decision to stop (the first one wins); returns 1. */
int http_limits_stop(struct http_limits *l, int code, const char *kind);
/* The sentence for a transfer stopped by its limits, into err; returns
 * l->abort_code and sets rs->failure. */
int http_limits_error(const struct http_limits *l, struct buf *err);

/* Body bytes of the reply: counted against the cap, streamed to on_data
 * (a 2xx with on_data set) or collected.  0, or non-zero when the transfer
 * must stop (l->abort_code says why). */
int http_deliver(struct http_limits *l, const char *p, size_t n);

/* One header line "name: value" (no CRLF needed): kept when it is one the
 * caller needs (http.h). */
void http_keep_header(struct http_response *rs, const char *p, size_t n);
void http_clear_headers(struct http_response *rs);

/* The URL as messages show it. */
const char *http_shown(const struct http_request *rq);

/* The transports: the same contract as http_post.  http_curl_init loads
 * libcurl (http_global_init's work when every request goes through it). */
int http_curl_init(struct buf *err);
int http_curl_send(const struct http_request *rq, struct http_response *rs,
		   struct buf *err);
/* 1 when the own client cannot carry the request (an https URL and no
 * libssl): the caller then uses libcurl; else as http_post. */
int http_wire_send(const struct http_request *rq, struct http_response *rs,
		   struct buf *err);
#define HTTP_WIRE_UNABLE 1

#endif
