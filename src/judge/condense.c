/*
 * condense.c: the selection of condense.h, one pass, bounded memory.
 *
 * Three stages, each fed by the one before: UTF-8 cleaning (a sequence
 * cut by a feed waits for its next bytes), lines (the current one held to
 * max bytes, plus a ring of its last bytes for a cut), and the selection
 * over whole lines (every line until they pass max in total; then the
 * head, a tail ring, and the key lines of the middle).  Each stage sees
 * the same bytes whatever the feeds were, so the result does too.
 */
#include "judge/condense.h"
#include "base/utf8.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Upper bound of one marker line, "[... N lines elided ...]\n" with a
 * 20-digit N is 43 bytes; rounded up. */
#define MARK_MAX 48
/* Bytes of key-line candidates held from each end of the middle. */
#define KEYS_MAX(c) (2 * (c)->max)

struct cline {
	char *p; /* cleaned bytes, '\n' included when present */
	size_t len;
	size_t no; /* 0-based line number in the output */
};

/* A queue of lines: pushed at the back, popped at the front. */
struct lineq {
	struct cline *v;
	size_t start, n, alloc, bytes;
};

struct condense {
	size_t max;
	condense_key_fn *is_key;
	unsigned char carry[4]; /* a UTF-8 sequence cut by the last feed */
	size_t ncarry;
	/* the current line: its first max bytes in cur, its later ones in
	 * the ring (the last ring_size of them) */
	struct buf cur;
	char *ring;
	size_t ring_size, line_len;
	int line_ended; /* its '\n' came: it ends when a byte follows */
	size_t nlines;	/* lines ended so far */
	/* the selection */
	int over;		  /* the lines passed max in total: selecting */
	struct lineq all;	  /* every line, until over */
	struct lineq head;	  /* the head, complete once head_done */
	struct lineq tail;	  /* the last lines within 35% (at least one) */
	struct lineq first, last; /* key lines of the middle */
	int head_done, first_full;
	size_t peak, replaced;
};

/* ---- line queues -------------------------------------------------------- */

static void lineq_push(struct lineq *q, struct cline l)
{
	if (q->start + q->n == q->alloc) {
		if (q->start > q->alloc / 2) {
			memmove(q->v, q->v + q->start, q->n * sizeof(*q->v));
			q->start = 0;
		} else {
			q->alloc = q->alloc ? q->alloc * 2 : 64;
			q->v = xrealloc(q->v, q->alloc * sizeof(*q->v));
		}
	}
	q->v[q->start + q->n++] = l;
	q->bytes += l.len;
}

static struct cline lineq_pop(struct lineq *q)
{
	struct cline l = q->v[q->start++];

	q->n--;
	q->bytes -= l.len;
	return l;
}

static const struct cline *lineq_at(const struct lineq *q, size_t i)
{
	return &q->v[q->start + i];
}

static void lineq_release(struct lineq *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->v[q->start + i].p);
	free(q->v);
	memset(q, 0, sizeof(*q));
}

static size_t lineq_held(const struct lineq *q)
{
	return q->bytes + q->alloc * sizeof(struct cline);
}

static void note_peak(struct condense *c)
{
	size_t held = c->cur.alloc + (c->ring ? c->ring_size : 0) + lineq_held(&c->all) +
		      lineq_held(&c->head) + lineq_held(&c->tail) +
		      lineq_held(&c->first) + lineq_held(&c->last);

	if (held > c->peak)
		c->peak = held;
}

/* ---- the selection over whole lines ------------------------------------- */

/* A line between head and tail: a candidate when it is a key line that
 * could fit beside the head (the pick never takes one larger).  The first
 * 2 * max bytes of candidates are kept, then a ring of the last 2 * max
 * bytes.  The pick takes less than max bytes, nearest the ends first, so
 * it reaches past a window only when it has skipped candidates too large
 * for what budget was left: then a smaller key line deeper in a huge
 * middle is the one lost. */
static void middle_line(struct condense *c, struct cline l)
{
	if (c->head.bytes + l.len + MARK_MAX > c->max || !c->is_key(l.p, l.len)) {
		free(l.p);
		return;
	}
	if (!c->first_full && c->first.bytes + l.len <= KEYS_MAX(c)) {
		lineq_push(&c->first, l);
		return;
	}
	c->first_full = 1;
	lineq_push(&c->last, l);
	while (c->last.bytes > KEYS_MAX(c))
		free(lineq_pop(&c->last).p);
}

/* Head while it lasts: lines within a quarter of max, or the first 20
 * lines within 40%; then the tail ring, whose oldest lines fall into the
 * middle once it passes 35% (the latest line always stays). */
static void select_line(struct condense *c, struct cline l)
{
	size_t h = c->head.bytes + l.len;

	if (!c->head_done && (h <= c->max / 4 || (l.no < 20 && h <= c->max / 5 * 2))) {
		lineq_push(&c->head, l);
		return;
	}
	c->head_done = 1;
	lineq_push(&c->tail, l);
	while (c->tail.n > 1 && c->tail.bytes > c->max / 20 * 7)
		middle_line(c, lineq_pop(&c->tail));
}

/* Every line is held until they pass max together; from then on, select. */
static void accept_line(struct condense *c, struct cline l)
{
	if (c->over) {
		select_line(c, l);
	} else {
		lineq_push(&c->all, l);
		if (c->all.bytes > c->max) {
			c->over = 1;
			note_peak(c);
			while (c->all.n)
				select_line(c, lineq_pop(&c->all));
			lineq_release(&c->all);
		}
	}
	note_peak(c);
}

/* ---- lines -------------------------------------------------------------- */

static char line_byte(const struct condense *c, size_t off)
{
	return off < c->max ? c->cur.s[off] : c->ring[(off - c->max) % c->ring_size];
}

static int is_cont(char ch)
{
	return ((unsigned char)ch & 0xC0) == 0x80;
}

static size_t cut_marker_len(size_t elided)
{
	int k = snprintf(NULL, 0, "[... %zu bytes elided ...]", elided);

	return k > 0 ? (size_t)k : 0;
}

/*
 * The current line, longer than max: its first and last bytes kept, the
 * middle replaced by a marker, the result at most target bytes when target
 * leaves room for the marker.  Cut points move to UTF-8 character starts.
 * The head is at most max/2 bytes (in cur) and the tail at most max/2 + 1
 * (in cur or the ring, which holds the last max/2 + 8).
 */
static void cut_line(const struct condense *c, size_t target, struct cline *l)
{
	size_t len = c->line_len, mlen = cut_marker_len(len), keep, head, tail;
	size_t nl = line_byte(c, len - 1) == '\n';
	struct buf b = BUF_INIT;

	keep = target > mlen + nl ? target - mlen : nl;
	head = (keep - nl) / 2;
	tail = keep - head;
	while (head && is_cont(line_byte(c, head)))
		head--;
	while (tail > nl && is_cont(line_byte(c, len - tail)))
		tail--;
	assert(head <= c->max / 2 && tail <= c->ring_size);
	buf_add(&b, c->cur.s, head);
	buf_addf(&b, "[... %zu bytes elided ...]", len - head - tail);
	for (size_t off = len - tail; off < len; off++)
		buf_addch(&b, line_byte(c, off));
	l->p = buf_detach(&b, &l->len);
}

/* Ends the current line; only says it is the output's only line, which
 * may then be cut to max rather than max/4. */
static void end_line(struct condense *c, int only)
{
	struct cline l = {NULL, 0, c->nlines++};

	if (c->line_len <= c->max) {
		l.p = xmalloc(c->line_len + 1);
		memcpy(l.p, c->cur.s, c->line_len);
		l.len = c->line_len;
	} else {
		cut_line(c, only ? c->max : c->max / 4, &l);
	}
	buf_reset(&c->cur);
	c->line_len = 0;
	c->line_ended = 0;
	accept_line(c, l);
}

/* Bytes of the current line from offset o on: into cur below max, into
 * the ring past it (only its last ring_size bytes matter). */
static void line_add(struct condense *c, const char *s, size_t n)
{
	size_t o = c->line_len;

	c->line_len += n;
	if (o < c->max) {
		size_t a = n < c->max - o ? n : c->max - o;
		buf_add(&c->cur, s, a);
		s += a, n -= a, o += a;
	}
	if (!n)
		return;
	if (!c->ring)
		c->ring = xmalloc(c->ring_size);
	if (n > c->ring_size) {
		s += n - c->ring_size, o += n - c->ring_size;
		n = c->ring_size;
	}
	while (n) {
		size_t at = (o - c->max) % c->ring_size;
		size_t k = n < c->ring_size - at ? n : c->ring_size - at;
		memcpy(c->ring + at, s, k);
		s += k, n -= k, o += k;
	}
}

/* Cleaned bytes, split into lines.  A line ends when the byte after its
 * '\n' arrives (or at the end): only then is it known not to be the last. */
static void take(struct condense *c, const char *s, size_t n)
{
	while (n) {
		const char *nl;
		size_t k;
		if (c->line_ended)
			end_line(c, 0);
		nl = memchr(s, '\n', n);
		k = nl ? (size_t)(nl - s) + 1 : n;
		line_add(c, s, k);
		c->line_ended = nl != NULL;
		s += k, n -= k;
	}
	note_peak(c);
}

/* ---- UTF-8 cleaning, as utf8_clean does it, across feeds ---------------- */

static const char fffd[] = "\xEF\xBF\xBD";

/* One U+FFFD for an invalid sequence or a NUL, counted. */
static void replace(struct condense *c)
{
	take(c, fffd, 3);
	c->replaced++;
}

/* A sequence the last feed cut: its bytes one at a time until it is whole
 * or proves invalid.  Returns how many of p it used. */
static size_t finish_carry(struct condense *c, const unsigned char *p, size_t n)
{
	size_t i = 0, k, bad;

	while (c->ncarry && i < n) {
		c->carry[c->ncarry++] = p[i++];
		k = utf8_seq(c->carry, c->ncarry, &bad);
		if (k) {
			take(c, (const char *)c->carry, k);
			c->ncarry = 0;
		} else if (bad < c->ncarry) {
			/* only the byte just added can break it: it starts anew */
			assert(c->ncarry - bad == 1);
			replace(c);
			c->ncarry = 0;
			i--;
		}
	}
	return i;
}

void condense_feed(struct condense *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i = finish_carry(c, p, n), run = i, k, bad;

	while (i < n) {
		if (p[i] && p[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i, &bad);
		if (k) {
			i += k;
			continue;
		}
		take(c, (const char *)p + run, i - run);
		if (i + bad == n) { /* maybe cut by the feed: wait */
			memcpy(c->carry, p + i, bad);
			c->ncarry = bad;
			return;
		}
		replace(c);
		i += bad;
		run = i;
	}
	take(c, (const char *)p + run, n - run);
}

/* ---- the result --------------------------------------------------------- */

static int emit(struct buf *dst, const struct cline *l, size_t *next)
{
	int ret = 0;

	if (l->no > *next)
		ret = buf_addf(dst, "[... %zu lines elided ...]\n", l->no - *next);
	if (!ret)
		ret = buf_add(dst, l->p, l->len);
	*next = l->no + 1;
	return ret;
}

struct span {
	size_t head_end, tail_start, nlines;
};

/* Whether candidate i would sit beside a kept line (then it cannot split
 * a gap in two and costs no marker). */
static int beside_kept(const struct cline *v, size_t n, const char *keep, size_t i,
		       const struct span *s)
{
	size_t no = v[i].no;

	if (no > 0 &&
	    (no == s->head_end || (i > 0 && keep[i - 1] && v[i - 1].no + 1 == no)))
		return 1;
	return no + 1 < s->nlines &&
	       (no + 1 == s->tail_start ||
		(i + 1 < n && keep[i + 1] && v[i + 1].no == no + 1));
}

/*
 * Takes candidates within avail one line at a time, nearest the head or
 * the tail first (head side on a tie): compilers put the first
 * (root-cause) errors first, test runners put their summary last.  A line
 * costs its bytes, plus MARK_MAX when neither neighbour is kept yet: only
 * then can it split a gap in two.  (A neighbour kept later only ever
 * merges gaps, so the charge made at pick time stays an upper bound.)
 */
static void pick(const struct cline *v, size_t n, const struct span *s, size_t avail,
		 char *keep)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		int from_lo = v[lo].no - s->head_end <= s->tail_start - 1 - v[hi - 1].no;
		size_t i = from_lo ? lo++ : --hi, cost = v[i].len;
		if (!beside_kept(v, n, keep, i, s))
			cost += MARK_MAX;
		if (cost <= avail) {
			keep[i] = 1;
			avail -= cost;
		}
	}
}

/*
 * The bound: head and tail take at most 40% and 35% of max, one MARK_MAX
 * is set aside for the gap between them, and a middle line that may split
 * a gap is charged MARK_MAX on top of its bytes; so the result is at most
 * max when max >= 4 * MARK_MAX.
 */
static int assemble(struct condense *c, struct buf *dst)
{
	struct lineq *h = &c->head, *t = &c->tail;
	struct span s = {h->n ? lineq_at(h, h->n - 1)->no + 1 : 0, 0, c->nlines};
	size_t n = c->first.n + c->last.n, i, next = 0, avail;
	struct cline *v = xcalloc(n ? n : 1, sizeof(*v));
	char *keep = xcalloc(n ? n : 1, 1);
	int ret = 0;

	/* the last line alone is the tail only if it fits beside the head;
	 * else it is too big for the middle too */
	if (t->n == 1 && t->bytes > c->max / 20 * 7 &&
	    h->bytes + t->bytes + MARK_MAX > c->max)
		free(lineq_pop(t).p);
	s.tail_start = t->n ? lineq_at(t, 0)->no : c->nlines;
	for (i = 0; i < c->first.n; i++)
		v[i] = *lineq_at(&c->first, i);
	for (i = 0; i < c->last.n; i++)
		v[c->first.n + i] = *lineq_at(&c->last, i);
	avail = c->max - h->bytes - t->bytes;
	avail = avail > MARK_MAX ? avail - MARK_MAX : 0; /* the gap marker */
	pick(v, n, &s, avail, keep);
	for (i = 0; i < h->n && !ret; i++)
		ret = emit(dst, lineq_at(h, i), &next);
	for (i = 0; i < n && !ret; i++)
		if (keep[i])
			ret = emit(dst, &v[i], &next);
	for (i = 0; i < t->n && !ret; i++)
		ret = emit(dst, lineq_at(t, i), &next);
	if (!ret && c->nlines > next)
		ret = buf_addf(dst, "[... %zu lines elided ...]\n", c->nlines - next);
	free(v);
	free(keep);
	return ret;
}

/* ---- the API ------------------------------------------------------------ */

struct condense *condense_begin(size_t max, condense_key_fn *is_key)
{
	struct condense *c = xcalloc(1, sizeof(*c));

	c->max = max;
	c->is_key = is_key;
	buf_init(&c->cur, 0);
	c->ring_size = max / 2 + 8;
	return c;
}

size_t condense_peak(const struct condense *c)
{
	return c->peak;
}

static void condense_free(struct condense *c)
{
	lineq_release(&c->all);
	lineq_release(&c->head);
	lineq_release(&c->tail);
	lineq_release(&c->first);
	lineq_release(&c->last);
	buf_release(&c->cur);
	free(c->ring);
	free(c);
}

int condense_end(struct condense *c, struct buf *dst)
{
	int ret = 0;

	if (c->ncarry) /* a sequence the output itself cut */
		replace(c);
	if (c->line_len)
		end_line(c, c->nlines == 0);
	for (size_t i = 0; !c->over && i < c->all.n && !ret; i++)
		ret = buf_add(dst, lineq_at(&c->all, i)->p, lineq_at(&c->all, i)->len);
	if (c->over)
		ret = assemble(c, dst);
	condense_free(c);
	return ret;
}

size_t condense_replaced(const struct condense *c)
{
	return c->replaced;
}

int condense_file(const char *path, size_t max, condense_key_fn *is_key, struct buf *dst,
		  size_t *replaced)
{
	struct condense *c;
	char tmp[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	c = condense_begin(max, is_key);
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		condense_feed(c, tmp, (size_t)n);
	}
	close(fd);
	if (ret) {
		condense_free(c);
		return ret;
	}
	if (replaced)
		*replaced = c->replaced;
	return condense_end(c, dst);
}
