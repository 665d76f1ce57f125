/*
 * edits_match.c: finding the SEARCH text of a search/replace edit in the
 * file and computing the new content (edits_match_replace of edits_impl.h).
 *
 * The match is exact first (at line starts), then line-wise with trailing
 * whitespace ignored.  A refusal is made useful to the model: for no match,
 * the most similar lines of the file, line-numbered, and the first SEARCH
 * line that differs; for several matches, their line numbers.
 */
#include "actor/edits.h"
#include "actor/edits_impl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many match line numbers an ambiguity message lists. */
#define EDITS_MAX_LISTED 20
/* Lines of context around the nearest window in a no-match message. */
#define EDITS_NEAR_CONTEXT   3
#define EDITS_NEAR_MAX_LINES 40
/* Longer file lines are shortened in messages. */
#define EDITS_SHOW_LINE_MAX 300

struct line {
	const char *p;
	size_t len; /* without the '\n' */
};

struct lines {
	struct line *v;
	size_t n;
};

/* Splits text into lines; a final line without '\n' counts, a final '\n'
 * does not start an empty line. */
static void split_lines(const char *s, size_t len, struct lines *out)
{
	size_t i = 0, alloc = 16;

	out->n = 0;
	out->v = xmalloc(alloc * sizeof(*out->v));
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - s) : len;
		if (out->n == alloc) {
			alloc *= 2;
			out->v = xrealloc(out->v, alloc * sizeof(*out->v));
		}
		out->v[out->n].p = s + i;
		out->v[out->n].len = end - i;
		out->n++;
		i = nl ? end + 1 : len;
	}
}

/* ---- matching ----------------------------------------------------------- */

static size_t line_of(const char *s, size_t off)
{
	size_t n = 1, i;

	for (i = 0; i < off; i++)
		n += s[i] == '\n';
	return n;
}

/* Exact occurrences that start at a line start (blocks hold whole lines).
 * Returns the count; the first EDITS_MAX_LISTED offsets go to offs. */
static size_t find_exact(const char *f, size_t flen, const char *s, size_t slen,
			 size_t *offs)
{
	size_t n = 0, pos = 0;

	while (pos < flen && slen <= flen - pos) {
		const char *m = memmem(f + pos, flen - pos, s, slen);
		size_t off;
		if (!m)
			break;
		off = (size_t)(m - f);
		if (off == 0 || f[off - 1] == '\n') {
			if (n < EDITS_MAX_LISTED)
				offs[n] = off;
			n++;
		}
		pos = off + 1;
	}
	return n;
}

static int eq_rtrim(const struct line *a, const struct line *b)
{
	size_t na = edits_rtrim_len(a->p, a->len);
	size_t nb = edits_rtrim_len(b->p, b->len);

	return na == nb && !memcmp(a->p, b->p, na);
}

/* Occurrences of s's lines in f with trailing whitespace (and so CR)
 * ignored on both sides; first line indexes into starts. */
static size_t find_fuzzy(const struct lines *f, const struct lines *s, size_t *starts)
{
	size_t i, j, n = 0;

	if (!s->n || s->n > f->n)
		return 0;
	for (i = 0; i + s->n <= f->n; i++) {
		for (j = 0; j < s->n && eq_rtrim(&f->v[i + j], &s->v[j]); j++)
			;
		if (j < s->n)
			continue;
		if (n < EDITS_MAX_LISTED)
			starts[n] = i;
		n++;
	}
	return n;
}

static void add_line_numbers(struct buf *b, const size_t *v, size_t n, size_t total)
{
	size_t i;

	for (i = 0; i < n && i < EDITS_MAX_LISTED; i++)
		buf_addf(b, "%s%zu", i ? ", " : "", v[i]);
	if (total > n)
		buf_addf(b, ", ... (%zu more)", total - n);
}

static void refuse_ambiguous(struct edit *e, size_t count, const size_t *lines, int fuzzy)
{
	struct buf m = BUF_INIT;

	buf_addf(&m, "the SEARCH text occurs %zu times in %s%s, at lines ", count,
		 e->path, fuzzy ? " (ignoring trailing whitespace)" : "");
	add_line_numbers(&m, lines, count < EDITS_MAX_LISTED ? count : EDITS_MAX_LISTED,
			 count);
	buf_adds(&m, "; include more of the surrounding lines so that it "
		     "matches exactly once");
	e->status = EDIT_AMBIGUOUS;
	e->message = buf_detach(&m, NULL);
}

/* ---- nearest lines for a no-match message ---------------------------------- */

static uint64_t hash_trimmed(const struct line *l)
{
	uint64_t h = 1469598103934665603ull;
	const char *p = l->p;
	size_t n = edits_rtrim_len(l->p, l->len), i;

	while (n && edits_is_ws(*p))
		p++, n--;
	if (!n)
		return 0; /* blank lines carry no evidence */
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h | 1;
}

static size_t common_affix(const struct line *a, const struct line *b)
{
	size_t na = edits_rtrim_len(a->p, a->len);
	size_t nb = edits_rtrim_len(b->p, b->len);
	size_t m = na < nb ? na : nb, pre = 0, suf = 0;

	while (pre < m && a->p[pre] == b->p[pre])
		pre++;
	while (suf < m - pre && a->p[na - 1 - suf] == b->p[nb - 1 - suf])
		suf++;
	return pre + suf;
}

/* When no line matches exactly: the file line most like the first
 * non-blank SEARCH line, if it shares at least a third of it. */
static int nearest_by_first_line(const struct lines *f, const struct lines *s,
				 size_t *ret)
{
	size_t j = 0, i, best = 0, at = 0, want;

	while (j < s->n && !hash_trimmed(&s->v[j]))
		j++;
	if (j == s->n)
		return 0;
	want = edits_rtrim_len(s->v[j].p, s->v[j].len) / 3;
	for (i = 0; i < f->n; i++) {
		size_t c = common_affix(&f->v[i], &s->v[j]);
		if (c > best)
			best = c, at = i;
	}
	if (best < 3 || best < want)
		return 0;
	*ret = at > j ? at - j : 0;
	return 1;
}

/*
 * The start of the file window that best matches the SEARCH lines: every
 * file line equal (whitespace-trimmed) to SEARCH line j votes for the window
 * starting j lines above it, and votes within +-2 lines are pooled so a
 * SEARCH text with a missing or extra line still finds its place.  Ties
 * go to the window with the most votes of its own, then the earliest.
 */
static int nearest(const struct lines *f, const struct lines *s, size_t *ret)
{
	size_t k = s->n < 200 ? s->n : 200, i, j, best = 0, best_own = 0, at = 0;
	uint64_t *sh = xcalloc(k, sizeof(*sh));
	size_t *votes = xcalloc(f->n + 1, sizeof(*votes));

	for (j = 0; j < k; j++)
		sh[j] = hash_trimmed(&s->v[j]);
	for (i = 0; i < f->n; i++) {
		uint64_t h = hash_trimmed(&f->v[i]);
		for (j = 0; h && j < k; j++)
			if (sh[j] == h)
				votes[i >= j ? i - j : 0]++;
	}
	for (i = 0; i < f->n; i++) {
		size_t score = 0, lo = i >= 2 ? i - 2 : 0;
		for (j = lo; j <= i + 2 && j < f->n; j++)
			score += votes[j];
		/* pooled votes decide; a window's own votes break ties */
		if (score > best || (score == best && votes[i] > best_own))
			best = score, best_own = votes[i], at = i;
	}
	free(sh);
	free(votes);
	if (best)
		*ret = at;
	return best ? 1 : nearest_by_first_line(f, s, ret);
}

static void show_line(struct buf *m, const struct line *l, size_t no, int width)
{
	size_t n = l->len && l->p[l->len - 1] == '\r' ? l->len - 1 : l->len;

	if (n > EDITS_SHOW_LINE_MAX)
		buf_addf(m, "%*zu | %.*s[... %zu bytes elided ...]\n", width, no,
			 EDITS_SHOW_LINE_MAX, l->p, n - EDITS_SHOW_LINE_MAX);
	else
		buf_addf(m, "%*zu | %.*s\n", width, no, (int)n, l->p);
}

/* Appends where the file is most like s: "; the most similar lines of the
 * file are A-B:" with them numbered, and the first line of s (called label)
 * that differs; or that none of its lines occur. */
static void near_lines(const struct lines *f, const struct lines *s, const char *label,
		       struct buf *m)
{
	size_t at, from, to, i;
	int width;

	if (!nearest(f, s, &at)) {
		buf_addf(m, "; none of its lines occur in the file (%zu lines)", f->n);
		return;
	}
	from = at > EDITS_NEAR_CONTEXT ? at - EDITS_NEAR_CONTEXT : 0;
	to = at + s->n + EDITS_NEAR_CONTEXT;
	if (to > f->n)
		to = f->n;
	if (to - from > EDITS_NEAR_MAX_LINES)
		to = from + EDITS_NEAR_MAX_LINES;
	width = snprintf(NULL, 0, "%zu", to);
	buf_addf(m, "; the most similar lines of the file are %zu-%zu:\n", from + 1, to);
	for (i = from; i < to; i++)
		show_line(m, &f->v[i], i + 1, width);
	/* The first line that differs is usually the whole story. */
	for (i = 0; i < s->n && at + i < f->n; i++)
		if (!eq_rtrim(&f->v[at + i], &s->v[i]))
			break;
	if (i < s->n && at + i < f->n) {
		size_t n = edits_rtrim_len(s->v[i].p, s->v[i].len);
		buf_addf(m,
			 "%s line %zu differs from file line %zu; the "
			 "%s line is:\n%.*s\n",
			 label, i + 1, at + i + 1, label,
			 (int)(n > EDITS_SHOW_LINE_MAX ? EDITS_SHOW_LINE_MAX : n),
			 s->v[i].p);
	}
	buf_rtrim(m);
}

static void refuse_no_match(struct edit *e, const struct lines *f, const struct lines *s)
{
	struct buf m = BUF_INIT;

	e->status = EDIT_NO_MATCH;
	buf_addf(&m,
		 "the SEARCH text is not in %s, not even ignoring trailing "
		 "whitespace",
		 e->path);
	near_lines(f, s, "SEARCH", &m);
	e->message = buf_detach(&m, NULL);
}

void edits_nearest(const char *file, size_t flen, const char *text, const char *label,
		   struct buf *out)
{
	struct lines fl, sl;

	split_lines(file, flen, &fl);
	split_lines(text, strlen(text), &sl);
	near_lines(&fl, &sl, label, out);
	free(fl.v);
	free(sl.v);
}

/* ---- the new content ------------------------------------------------- */

/* Replaces f[off, end) with rep; rep's line ends become CRLF when the file
 * uses CRLF there, and its final newline is dropped when the replaced text
 * was the file's unterminated last line. */
static void splice_text(struct buf *out, const struct buf *f, size_t off, size_t end,
			const char *rep, int crlf, int no_final_nl)
{
	size_t n = strlen(rep), i;

	buf_add(out, f->s, off);
	if (no_final_nl && n && rep[n - 1] == '\n')
		n--;
	for (i = 0; i < n; i++) {
		if (crlf && rep[i] == '\n' && (i == 0 || rep[i - 1] != '\r'))
			buf_addch(out, '\r');
		buf_addch(out, rep[i]);
	}
	buf_add(out, f->s + end, f->len - end);
}

/* The fallback match: line-wise, trailing whitespace ignored. */
static int replace_fuzzy(struct edit *e, const struct buf *f, struct buf *out)
{
	struct lines fl, sl;
	size_t starts[EDITS_MAX_LISTED], count, i;
	int ret = -1;

	split_lines(f->s, f->len, &fl);
	split_lines(e->search, strlen(e->search), &sl);
	count = find_fuzzy(&fl, &sl, starts);
	if (count == 1) {
		const struct line *first = &fl.v[starts[0]];
		const struct line *last = &fl.v[starts[0] + sl.n - 1];
		size_t off = (size_t)(first->p - f->s);
		size_t end = (size_t)(last->p - f->s) + last->len;
		int nl = end < f->len;
		int crlf = first->len && first->p[first->len - 1] == '\r';
		splice_text(out, f, off, end + nl, e->replace, crlf, !nl);
		e->file_line = starts[0] + 1;
		ret = 0;
	} else if (count > 1) {
		for (i = 0; i < count && i < EDITS_MAX_LISTED; i++)
			starts[i]++;
		refuse_ambiguous(e, count, starts, 1);
	} else {
		refuse_no_match(e, &fl, &sl);
	}
	free(fl.v);
	free(sl.v);
	return ret;
}

/* Computes the new content of a search/replace edit into out; on refusal
 * sets e->status and e->message and returns -1. */
int edits_match_replace(struct edit *e, const struct buf *f, int exists, struct buf *out)
{
	size_t offs[EDITS_MAX_LISTED], slen = strlen(e->search), count, i;

	if (!slen) {
		if (exists && f->len) {
			e->status = EDIT_NO_MATCH;
			e->message = xasprintf(
				"the SEARCH section is empty but %s "
				"exists and is not empty; put the lines to replace "
				"in SEARCH, or use a FILE block to rewrite the whole "
				"file",
				e->path);
			return -1;
		}
		buf_adds(out, e->replace);
		e->file_line = 1;
		return 0;
	}
	if (!exists) {
		e->status = EDIT_NO_MATCH;
		e->message = xasprintf("%s does not exist; to create it, leave "
				       "SEARCH empty or use a FILE block",
				       e->path);
		return -1;
	}
	count = find_exact(f->s, f->len, e->search, slen, offs);
	if (count == 1) {
		splice_text(out, f, offs[0], offs[0] + slen, e->replace, 0, 0);
		e->file_line = line_of(f->s, offs[0]);
		return 0;
	}
	if (count > 1) {
		for (i = 0; i < count && i < EDITS_MAX_LISTED; i++)
			offs[i] = line_of(f->s, offs[i]);
		refuse_ambiguous(e, count, offs, 0);
		return -1;
	}
	return replace_fuzzy(e, f, out);
}
