/*
 * gate.c: one gate command, run and described.  See gate.h.
 */
#include "judge/gate.h"
#include "base/utf8.h"
#include "judge/feedback.h"
#include "config/policy.h"
#include "exec/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Raw output kept in memory; past it the output is condensed from the
 * file (gate.h).  Small on purpose: the prompt shows a few KiB anyway. */
#define GATE_MEMORY_MAX (1u << 20)
/* As feedback.c: the longest gap marker line. */
#define MARK_MAX 48

void gate_outcome_release(struct gate_outcome *g)
{
	free(g->describe);
	free(g->output_file);
	buf_release(&g->output);
	memset(g, 0, sizeof(*g));
	buf_init(&g->output, 0);
}

int gate_program_missing(const struct gate_outcome *g, char *name, size_t n)
{
	static const char *const tails[] = {": command not found", ": not found"};
	const char *s = g->output.s, *end, *start;

	if (!s || g->status != PROC_EXITED || g->exit_code != 127)
		return 0;
	for (size_t t = 0; t < sizeof(tails) / sizeof(*tails); t++) {
		if (!(end = strstr(s, tails[t])))
			continue;
		/* the name: back to the ": " (or line start) before it */
		for (start = end;
		     start > s && start[-1] != '\n' &&
		     !(start[-1] == ' ' && start - 1 > s && start[-2] == ':');
		     start--)
			;
		if (end == start || (size_t)(end - start) >= n ||
		    memchr(start, '/', (size_t)(end - start)) ||
		    memchr(start, ' ', (size_t)(end - start)))
			return 0;
		memcpy(name, start, (size_t)(end - start));
		name[end - start] = 0;
		return 1;
	}
	return 0;
}

int gate_module_missing(const struct gate_outcome *g, char *name, size_t n)
{
	static const char mark[] = ": No module named ";
	const char *s = g->output.s, *hit, *start, *end;

	if (!s || g->status != PROC_EXITED || g->exit_code == 0)
		return 0;
	for (hit = strstr(s, mark); hit; hit = strstr(hit + 1, mark)) {
		const char *base = hit;
		for (start = hit; start > s && start[-1] != '\n'; start--)
			;
		while (base > start && base[-1] != '/')
			base--;
		end = hit + sizeof(mark) - 1;
		end += strcspn(end, "\n");
		hit += sizeof(mark) - 1;
		if (strncmp(base, "python", 6) || end == hit || *hit == '\'' ||
		    (size_t)(end - hit) >= n || memchr(hit, ' ', (size_t)(end - hit)))
			continue;
		memcpy(name, hit, (size_t)(end - hit));
		name[end - hit] = 0;
		return 1;
	}
	return 0;
}

/* ---- condensing an output too large for memory ------------------------- */

/*
 * The selection is feedback_condense's (feedback.h), made in one pass over
 * the file with memory bounded by a few times max: the head lines, a ring
 * of the last lines for the tail, and the key lines in between (the first
 * ones, and a ring of the last ones; the pick takes those nearest the head
 * and the tail, so the ones in the middle of a huge run are the ones that
 * can go).  Every line is kept whole, with its original bytes; sizes are
 * measured after UTF-8 cleaning, so that feedback_condense(result, max)
 * finds it fits and passes it through untouched.  A line longer than a
 * quarter of max keeps its first and last bytes around a
 * "[... N bytes elided ...]" marker.  Gaps read "[... N lines elided ...]",
 * counting lines of the real output.
 */
struct cline {
	char *p; /* raw bytes, '\n' included when present */
	size_t len;
	size_t clen; /* length after UTF-8 cleaning */
	size_t no;   /* 0-based line number in the output */
};

/* A queue of lines with a byte budget: pushing past it drops the oldest. */
struct lineq {
	struct cline *v;
	size_t start, n, alloc, bytes;
};

struct condense {
	size_t max, cut_part;
	size_t nlines;
	struct lineq head, first, last, tail;
	int head_done, first_full;
	struct buf cur; /* the line being read, capped */
	char *ring;	/* its last cut_part bytes */
	size_t ring_pos, line_total;
};

static size_t clean_len(const char *p, size_t n)
{
	struct buf c = BUF_INIT;
	size_t i, len;

	for (i = 0; i < n; i++)
		if (!p[i] || (unsigned char)p[i] >= 0x80)
			break;
	if (i == n)
		return n;
	utf8_clean(p, n, &c);
	len = c.len;
	buf_release(&c);
	return len;
}

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
	q->bytes += l.clen;
}

static struct cline lineq_pop(struct lineq *q)
{
	struct cline l = q->v[q->start++];
	q->n--;
	q->bytes -= l.clen;
	return l;
}

static void lineq_release(struct lineq *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->v[q->start + i].p);
	free(q->v);
	memset(q, 0, sizeof(*q));
}

/* A line that is neither head nor tail: a candidate if it is key. */
static void middle_line(struct condense *c, struct cline l)
{
	if (!feedback_line_is_key(l.p, l.len)) {
		free(l.p);
		return;
	}
	if (!c->first_full && c->first.bytes + l.clen <= c->max) {
		lineq_push(&c->first, l);
		return;
	}
	c->first_full = 1;
	lineq_push(&c->last, l);
	while (c->last.bytes > c->max)
		free(lineq_pop(&c->last).p);
}

static void add_line(struct condense *c, struct cline l)
{
	size_t h = c->head.bytes + l.clen;

	if (!c->head_done && (h <= c->max / 4 || (l.no < 20 && h <= c->max / 5 * 2))) {
		lineq_push(&c->head, l);
		return;
	}
	c->head_done = 1;
	lineq_push(&c->tail, l);
	/* the tail keeps 35% of max, and always the latest line */
	while (c->tail.n > 1 && c->tail.bytes > c->max / 20 * 7)
		middle_line(c, lineq_pop(&c->tail));
}

/* The last min(line_total, cut_part) bytes of the line, oldest first. */
static size_t ring_copy(const struct condense *c, char *t)
{
	size_t k = c->cut_part, have = c->line_total < k ? c->line_total : k;
	size_t from = c->line_total < k ? 0 : c->ring_pos;

	for (size_t i = 0; i < have; i++)
		t[i] = c->ring[(from + i) % k];
	return have;
}

/* The line just read, cut around a marker when it is too long. */
static struct cline take_line(struct condense *c)
{
	struct cline l = {NULL, 0, 0, c->nlines++};
	struct buf b = BUF_INIT;
	size_t head, have, skip, k = c->cut_part;
	char *t;

	if (c->line_total == c->cur.len) {
		l.clen = clean_len(c->cur.s, c->cur.len);
		if (l.clen <= c->max / 4) {
			l.p = buf_detach(&c->cur, &l.len);
			goto out;
		}
	}
	/* its first and last cut_part bytes, moved to character starts */
	head = k < c->cur.len ? k : c->cur.len;
	while (head && ((unsigned char)c->cur.s[head] & 0xC0) == 0x80)
		head--;
	t = xmalloc(k);
	have = ring_copy(c, t);
	skip = c->line_total - head < have ? have - (c->line_total - head) : 0;
	while (skip < have && ((unsigned char)t[skip] & 0xC0) == 0x80)
		skip++;
	buf_add(&b, c->cur.s, head);
	buf_addf(&b, "[... %zu bytes elided ...]", c->line_total - head - (have - skip));
	buf_add(&b, t + skip, have - skip);
	free(t);
	l.clen = clean_len(b.s, b.len);
	l.p = buf_detach(&b, &l.len);
out:
	buf_reset(&c->cur);
	c->line_total = 0;
	c->ring_pos = 0;
	return l;
}

static void feed(struct condense *c, const char *p, size_t n)
{
	size_t k = c->cut_part;

	c->line_total += n;
	buf_add(&c->cur, p, n); /* capped: past it, the ring has the end */
	if (n >= k) {
		memcpy(c->ring, p + n - k, k);
		c->ring_pos = 0;
	} else {
		for (size_t i = 0; i < n; i++) {
			c->ring[c->ring_pos] = p[i];
			c->ring_pos = (c->ring_pos + 1) % k;
		}
	}
}

static void emit_gap(struct buf *dst, size_t from, size_t to)
{
	if (to > from)
		buf_addf(dst, "[... %zu lines elided ...]\n", to - from);
}

static void emit(struct buf *dst, const struct cline *l, size_t *next)
{
	emit_gap(dst, *next, l->no);
	buf_add(dst, l->p, l->len);
	*next = l->no + 1;
}

/* Picks key lines within avail, nearest the head or the tail first. */
static void pick(const struct cline *v, size_t n, size_t head_end, size_t tail_start,
		 size_t avail, char *keep)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		int from_lo = v[lo].no - head_end <= tail_start - 1 - v[hi - 1].no;
		size_t i = from_lo ? lo++ : --hi, cost = v[i].clen + MARK_MAX;
		if (cost <= avail) {
			keep[i] = 1;
			avail -= cost;
		}
	}
}

static void assemble(struct condense *c, struct buf *dst)
{
	struct lineq *h = &c->head, *t = &c->tail;
	size_t n = c->first.n + c->last.n, i, next = 0, used, avail;
	size_t head_end = h->n ? h->v[h->start + h->n - 1].no + 1 : 0;
	size_t tail_start = t->n ? t->v[t->start].no : c->nlines;
	struct cline *v = xcalloc(n ? n : 1, sizeof(*v));
	char *keep = xcalloc(n ? n : 1, 1);

	for (i = 0; i < c->first.n; i++)
		v[i] = c->first.v[c->first.start + i];
	for (i = 0; i < c->last.n; i++)
		v[c->first.n + i] = c->last.v[c->last.start + i];
	used = h->bytes + t->bytes + MARK_MAX;
	avail = c->max > used ? c->max - used : 0;
	pick(v, n, head_end, tail_start, avail, keep);
	for (i = 0; i < h->n; i++)
		emit(dst, &h->v[h->start + i], &next);
	for (i = 0; i < n; i++)
		if (keep[i])
			emit(dst, &v[i], &next);
	for (i = 0; i < t->n; i++)
		emit(dst, &t->v[t->start + i], &next);
	emit_gap(dst, next, c->nlines);
	free(v);
	free(keep);
}

/*
 * Condenses the file at path into dst (at most max bytes once cleaned,
 * for max >= 1024).  0, or -errno when the file cannot be read.
 */
static int condense_file(const char *path, size_t max, struct buf *dst)
{
	struct condense c;
	char tmp[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	memset(&c, 0, sizeof(c));
	c.max = max;
	c.cut_part = max / 24 ? max / 24 : 1;
	buf_init(&c.cur, max / 4 + 1);
	c.ring = xmalloc(c.cut_part);
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		const char *p = tmp, *e;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		e = tmp + n;
		while (p < e) {
			const char *nl = memchr(p, '\n', (size_t)(e - p));
			const char *end = nl ? nl + 1 : e;
			feed(&c, p, (size_t)(end - p));
			if (nl)
				add_line(&c, take_line(&c));
			p = end;
		}
	}
	close(fd);
	if (c.line_total)
		add_line(&c, take_line(&c));
	if (!ret)
		assemble(&c, dst);
	lineq_release(&c.head);
	lineq_release(&c.first);
	lineq_release(&c.last);
	lineq_release(&c.tail);
	buf_release(&c.cur);
	free(c.ring);
	return ret;
}

/* ---- running a gate ---------------------------------------------------- */

/* s->env plus the policy's env names that loopgate's environment has. */
static void gate_env(const struct gate_spec *s, struct proc_env *env)
{
	for (const char *const *e = s->env; e && *e; e++) {
		size_t n = strcspn(*e, "=");
		char *name = xstrndup(*e, n);
		proc_env_set(env, name, (*e)[n] ? *e + n + 1 : "");
		free(name);
	}
	for (size_t i = 0; s->policy && i < s->policy->env.n; i++) {
		const char *v = getenv(s->policy->env.v[i]);
		if (v)
			proc_env_set(env, s->policy->env.v[i], v);
	}
}

int gate_run(const struct gate_spec *s, struct gate_outcome *g, struct buf *err)
{
	const char *argv[] = {"/bin/sh", "-c", s->cmd, NULL};
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	struct buf what = BUF_INIT, small = BUF_INIT;
	struct proc_env env = PROC_ENV_INIT;
	int ret;

	gate_env(s, &env);
	o.argv = argv;
	o.cwd = s->tree;
	o.env = (const char *const *)env.v;
	o.sandbox = s->sandbox;
	o.merge_output = 1;
	o.output_path = s->output_path;
	o.max_output = s->feedback_max > GATE_MEMORY_MAX ? s->feedback_max
							 : GATE_MEMORY_MAX;
	o.timeout_ms = s->timeout_ms;
	o.deadline_ms = s->deadline_ms;
	ret = proc_run(&o, &r, err);
	proc_env_release(&env);
	if (ret < 0) {
		proc_result_release(&r);
		return ret;
	}
	/* Too much for memory: the head alone would lose the tail (where
	 * test runners put their summary) and every failure past the cap. */
	if (r.out_total > r.out.len && s->feedback_max &&
	    condense_file(s->output_path, s->feedback_max, &small) == 0) {
		buf_release(&r.out);
		r.out = small;
		r.out.truncated = 1;
	} else {
		buf_release(&small);
	}
	gate_outcome_release(g);
	g->ran = 1;
	g->index = s->index;
	g->status = r.status;
	g->exit_code = r.exit_code;
	g->term_signal = r.term_signal;
	g->passed = r.status == PROC_EXITED && r.exit_code == 0;
	proc_describe(&r, s->timeout_ms, &what);
	g->describe = buf_detach(&what, NULL);
	g->output = r.out; /* moves the buffer */
	buf_init(&r.out, 0);
	g->output_total = r.out_total;
	g->output_file = xstrdup(s->output_rel);
	g->elapsed_ms = r.elapsed_ms;
	proc_result_release(&r);
	return 0;
}
