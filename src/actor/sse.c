/*
 * sse: Server-Sent Events stream interpretation, incrementally.
 *
 * Bytes are gathered into s->line until a line end; each complete line is
 * then interpreted on its own.  Keeping only the current line and the
 * pending event means memory is bounded by one event, which s->max caps.
 */
#include "actor/sse.h"

#include <errno.h>
#include <string.h>

void sse_init(struct sse *s, size_t max, sse_event_fn fn, void *ctx)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->line, 0);
	buf_init(&s->event, 0);
	buf_init(&s->data, 0);
	buf_init(&s->id, 0);
	s->max = max;
	s->fn = fn;
	s->ctx = ctx;
}

void sse_release(struct sse *s)
{
	buf_release(&s->line);
	buf_release(&s->event);
	buf_release(&s->data);
	buf_release(&s->id);
}

static size_t pending(const struct sse *s)
{
	return s->line.len + s->event.len + s->data.len;
}

static int dispatch(struct sse *s)
{
	int ret = 0;

	if (s->have_data) {
		/* The spec appends "\n" after every data line and then removes
		 * the last one. */
		if (s->data.len)
			buf_setlen(&s->data, s->data.len - 1);
		ret = s->fn(s->ctx, s->event.len ? s->event.s : "message", s->data.s,
			    s->data.len);
		s->events++;
	}
	buf_reset(&s->event);
	buf_reset(&s->data);
	s->have_data = 0;
	return ret;
}

/* Interprets one complete line (without its line end). */
static int process_line(struct sse *s)
{
	const char *l = s->line.s, *colon, *val;
	size_t n = s->line.len, flen, vlen;

	if (!n)
		return dispatch(s);
	if (l[0] == ':')
		return 0; /* comment: keep-alives use these */
	colon = memchr(l, ':', n);
	flen = colon ? (size_t)(colon - l) : n;
	val = colon ? colon + 1 : l + n;
	vlen = n - (size_t)(val - l);
	if (vlen && val[0] == ' ') {
		val++;
		vlen--;
	}
	if (flen == 5 && !memcmp(l, "event", 5)) {
		buf_reset(&s->event);
		buf_add(&s->event, val, vlen);
	} else if (flen == 4 && !memcmp(l, "data", 4)) {
		buf_add(&s->data, val, vlen);
		buf_addch(&s->data, '\n');
		s->have_data = 1;
	} else if (flen == 2 && !memcmp(l, "id", 2)) {
		/* An id containing NUL is ignored, per spec. */
		if (!memchr(val, '\0', vlen)) {
			buf_reset(&s->id);
			buf_add(&s->id, val, vlen);
		}
	}
	/* "retry" and unknown fields are ignored: reconnection is the
	 * caller's business, not the stream's. */
	return 0;
}

/* Length of the run of bytes before the next "\r" or "\n". */
static size_t span_to_eol(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (p[i] == '\r' || p[i] == '\n')
			break;
	return i;
}

int sse_feed(struct sse *s, const char *p, size_t n)
{
	if (s->ret)
		return s->ret;
	if (!s->started && n) {
		s->started = 1;
		if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
			p += 3;
			n -= 3;
		}
	}
	while (n) {
		size_t k;

		if (s->after_cr) {
			s->after_cr = 0;
			if (*p == '\n') {
				p++;
				n--;
				continue;
			}
		}
		k = span_to_eol(p, n);
		if (k) {
			if (pending(s) + k > s->max)
				return s->ret = -E2BIG;
			buf_add(&s->line, p, k);
			p += k;
			n -= k;
			continue;
		}
		s->after_cr = *p == '\r';
		p++;
		n--;
		s->ret = process_line(s);
		buf_reset(&s->line);
		if (!s->ret && pending(s) > s->max)
			s->ret = -E2BIG;
		if (s->ret)
			return s->ret;
	}
	return 0;
}

int sse_finish(struct sse *s)
{
	int cut;

	if (s->ret)
		return s->ret;
	cut = s->line.len || s->have_data || s->event.len;
	buf_reset(&s->line);
	buf_reset(&s->event);
	buf_reset(&s->data);
	s->have_data = 0;
	return cut;
}
