/*
 * sse: an incremental Server-Sent Events parser (WHATWG HTML, "event stream
 * interpretation"), fed with whatever byte chunks the network delivers.
 *
 *   struct sse s;
 *   sse_init(&s, 8 << 20, on_event, ctx);
 *   while (bytes arrive)
 *           if ((ret = sse_feed(&s, p, n)) != 0) ... stop;
 *   sse_finish(&s);                   end of stream; see below
 *   sse_release(&s);
 *
 * Lines end in "\n", "\r\n" or "\r", and a chunk may split anywhere, even
 * between the "\r" and "\n" of one line end.  "event:", "data:" and "id:"
 * fields are collected (one leading space after the colon is dropped;
 * several data lines are joined with "\n"); lines starting with ":" are
 * comments; a blank line dispatches the event to the callback, unless no
 * data line was seen.  The event name is "message" when none was given.
 *
 * The callback's data is NUL-terminated for convenience (len excludes the
 * NUL).  A non-zero return from the callback stops parsing: sse_feed returns
 * that value, and so does every later call (the error is sticky).  More than
 * max bytes pending in one event (or one line) gives -E2BIG.
 */
#ifndef LOOPGATE_SSE_H
#define LOOPGATE_SSE_H

#include <stddef.h>

#include "base/buf.h"

typedef int (*sse_event_fn)(void *ctx, const char *event, const char *data, size_t len);

struct sse {
	struct buf line;  /* the line being received */
	struct buf event; /* "event:" of the pending event */
	struct buf data;  /* "data:" lines of the pending event, each + "\n" */
	struct buf id;	  /* last event id (kept across events, per spec) */
	size_t max;
	int after_cr;	      /* last byte was "\r": a "\n" now ends nothing */
	int have_data;	      /* a data line was seen for the pending event */
	int started;	      /* first byte seen (a leading BOM is skipped) */
	int ret;	      /* sticky: the first non-zero result */
	unsigned long events; /* events dispatched so far */
	sse_event_fn fn;
	void *ctx;
};

void sse_init(struct sse *s, size_t max, sse_event_fn fn, void *ctx);
int sse_feed(struct sse *s, const char *p, size_t n);
/*
 * End of stream.  Per the spec an event not closed by a blank line is
 * discarded: returns 1 when something was pending (a partial line or an
 * undispatched event) so the caller can tell a cut stream, else the sticky
 * result (0 normally).
 */
int sse_finish(struct sse *s);
void sse_release(struct sse *s);

#endif
