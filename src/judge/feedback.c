/*
 * feedback: gate output condensed by keeping whole lines, the locations it
 * names, and excerpts of those files.
 *
 * Nothing here rewords output.  Condensing only drops whole lines (marking
 * each gap) and, for a line larger than the whole budget, cuts out its
 * middle (marking the cut); the only bytes ever changed are invalid UTF-8
 * and NULs, which become U+FFFD because the prompt travels as JSON text.
 */
#include "judge/feedback.h"
#include "base/saferead.h"
#include "base/utf8.h"
#include "judge/condense.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Larger files get no excerpt (no source file is this big). */
#define EXCERPT_FILE_MAX (16u << 20)
/* Longer source lines are shortened in excerpts. */
#define EXCERPT_LINE_MAX 400
/* The binary sniff looks at this much. */
#define SNIFF_MAX 65536

int feedback_is_binary(const char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)out;
	size_t n = len < SNIFF_MAX ? len : SNIFF_MAX, i = 0, bad, invalid = 0;

	if (memchr(out, '\0', n))
		return 1;
	while (i < n) {
		size_t k = utf8_seq(p + i, n - i, &bad);
		if (k) {
			i += k;
			continue;
		}
		/* a sequence cut by the sniff window is not evidence */
		if (i + bad >= n && n < len)
			break;
		invalid += bad;
		i += bad;
	}
	return invalid * 10 > n;
}

/* ---- locations ---------------------------------------------------------- */

struct found {
	const char *path;
	size_t plen;
	long line, col;
};

#define LINE_FOUND_MAX 8

static int is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_path_char(char c)
{
	return is_alnum(c) || c == '.' || c == '/' || c == '-' || c == '+' || c == '@' ||
	       c == '~';
}

/* Reads 1-9 digits at p[*i] not followed by a word character. */
static int read_number(const char *p, size_t n, size_t *i, long *ret)
{
	size_t j = *i;
	long v = 0;

	while (j < n && is_digit(p[j]) && j - *i < 9)
		v = v * 10 + (p[j++] - '0');
	if (j == *i || (j < n && is_alnum(p[j])) || v == 0)
		return 0;
	*i = j;
	*ret = v;
	return 1;
}

/* A path needs a slash or a dot-extension with a letter in it: that is
 * what tells "src/a.c:12" from "12:30:45" or "10.0.0.1:80". */
static int plausible_path(const char *p, size_t n)
{
	const char *dot;
	size_t i;

	if (!n || p[n - 1] == '/' || p[n - 1] == '.')
		return 0;
	if (n >= 2 && p[0] == '/' && p[1] == '/')
		return 0;
	if (memchr(p, '/', n))
		return 1;
	dot = memrchr(p, '.', n);
	if (!dot)
		return 0;
	for (i = (size_t)(dot - p) + 1; i < n; i++)
		if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z'))
			return 1;
	return 0;
}

/*
 * The path token that ends just before p[end]: path characters back from
 * there.  A token right after ':' is part of a URL or "node:internal"
 * and is refused, except node's "file:///abs/x.js" which names a file.
 */
static int token_before(const char *p, size_t end, const char **tp, size_t *tn)
{
	size_t s = end;

	while (s && is_path_char(p[s - 1]))
		s--;
	if (s && p[s - 1] == ':') {
		if (s >= 5 && !memcmp(p + s - 5, "file:", 5) && end - s > 3 &&
		    !memcmp(p + s, "///", 3))
			s += 2;
		else
			return 0;
	}
	if (!plausible_path(p + s, end - s))
		return 0;
	*tp = p + s;
	*tn = end - s;
	return 1;
}

/* path:line[:col] at each ':' followed by a digit. */
static size_t scan_colon(const char *p, size_t n, struct found *f, size_t k)
{
	size_t i;

	for (i = 1; i + 1 < n && k < LINE_FOUND_MAX; i++) {
		size_t j = i + 1;
		struct found x = {NULL, 0, 0, 0};
		if (p[i] != ':' || !is_digit(p[j]))
			continue;
		if (!token_before(p, i, &x.path, &x.plen) ||
		    !read_number(p, n, &j, &x.line))
			continue;
		if (j + 1 < n && p[j] == ':' && is_digit(p[j + 1])) {
			size_t c = j + 1;
			if (read_number(p, n, &c, &x.col))
				j = c;
		}
		f[k++] = x;
		i = j - 1;
	}
	return k;
}

/* tsc and MSVC: path(line,col) or path(line). */
static size_t scan_paren(const char *p, size_t n, struct found *f, size_t k)
{
	size_t i;

	for (i = 1; i + 2 < n && k < LINE_FOUND_MAX; i++) {
		size_t j = i + 1;
		struct found x = {NULL, 0, 0, 0};
		if (p[i] != '(' || !token_before(p, i, &x.path, &x.plen) ||
		    !read_number(p, n, &j, &x.line))
			continue;
		if (j + 1 < n && p[j] == ',') {
			j++;
			if (!read_number(p, n, &j, &x.col))
				continue;
		}
		if (j < n && p[j] == ')')
			f[k++] = x;
	}
	return k;
}

/* Python: File "path", line N */
static size_t scan_python(const char *p, size_t n, struct found *f, size_t k)
{
	const char *s = memmem(p, n, "File \"", 6), *q;
	size_t i;
	struct found x = {NULL, 0, 0, 0};

	if (!s || k >= LINE_FOUND_MAX)
		return k;
	s += 6;
	q = memchr(s, '"', (size_t)(p + n - s));
	if (!q || q == s || (size_t)(p + n - q) < 8 || memcmp(q, "\", line ", 8))
		return k;
	i = (size_t)(q - p) + 8;
	if (!read_number(p, n, &i, &x.line))
		return k;
	x.path = s;
	x.plen = (size_t)(q - s);
	f[k++] = x;
	return k;
}

static size_t line_locations(const char *p, size_t n, struct found *f)
{
	size_t k = scan_python(p, n, f, 0);

	k = scan_colon(p, n, f, k);
	return scan_paren(p, n, f, k);
}

/* ---- key lines ---------------------------------------------------------- */

static const char *const markers[] = {
	"error",  "Error",     "ERROR",		 "FAIL",   "FAILED", "Fail",
	"failed", "Traceback", "AssertionError", "assert", "panic:", "fatal",
	"Fatal",  "FATAL",     "Exception",	 "not ok",
};

static int has_word(const char *p, size_t n, const char *w)
{
	size_t wn = strlen(w);
	const char *s = p, *e = p + n;

	while ((s = memmem(s, (size_t)(e - s), w, wn)) != NULL) {
		int pre = s == p || !is_alnum(s[-1]);
		int post = s + wn == e || !is_alnum(s[wn]) || w[wn - 1] == ':';
		if (pre && post)
			return 1;
		s++;
	}
	return 0;
}

/* "TypeError: x", "java.io.IOException: y": exception names, which are
 * whole words of their own and so escape has_word. */
static int has_exception_name(const char *p, size_t n)
{
	static const char *const suffix[] = {"Error:", "Exception:"};
	size_t i;

	for (i = 0; i < 2; i++) {
		size_t sn = strlen(suffix[i]);
		const char *s = p, *e = p + n;
		while ((s = memmem(s, (size_t)(e - s), suffix[i], sn)) != NULL) {
			if (s > p && is_alnum(s[-1]))
				return 1;
			s++;
		}
	}
	return 0;
}

int feedback_line_is_key(const char *line, size_t len)
{
	struct found f[LINE_FOUND_MAX];
	size_t i;

	for (i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (has_word(line, len, markers[i]))
			return 1;
	return has_exception_name(line, len) || line_locations(line, len, f) > 0;
}

/* ---- location list ------------------------------------------------------ */

static void add_location(struct location **v, size_t *n, size_t max,
			 const struct found *x)
{
	size_t i;

	if (*n >= max)
		return;
	for (i = 0; i < *n; i++)
		if ((*v)[i].line == x->line && strlen((*v)[i].path) == x->plen &&
		    !memcmp((*v)[i].path, x->path, x->plen))
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].path = xstrndup(x->path, x->plen);
	(*v)[*n].line = x->line;
	(*v)[*n].col = x->col;
	(*n)++;
}

/* eslint's stylish format names the file once, on a line of its own, then
 * "  3:7  error  message  rule" lines under it until a blank line. */
static int eslint_row(const char *p, size_t n, struct found *x)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == 0 || !read_number(p, n, &i, &x->line) || i >= n || p[i] != ':')
		return 0;
	i++;
	if (!read_number(p, n, &i, &x->col) || i >= n || p[i] != ' ')
		return 0;
	while (i < n && p[i] == ' ')
		i++;
	return (n - i >= 5 && !memcmp(p + i, "error", 5)) ||
	       (n - i >= 7 && !memcmp(p + i, "warning", 7));
}

static int path_only_line(const char *p, size_t n)
{
	size_t i;

	while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	for (i = 0; i < n; i++)
		if (!is_path_char(p[i]))
			return 0;
	return plausible_path(p, n) && memchr(p, '/', n);
}

size_t feedback_locations(const char *out, size_t len, struct location **ret, size_t max)
{
	struct location *v = NULL;
	struct found f[LINE_FOUND_MAX], x;
	const char *eslint = NULL;
	size_t n = 0, i = 0, eslint_n = 0;

	while (i < len && n < max) {
		const char *p = out + i, *nl = memchr(p, '\n', len - i);
		size_t ln = nl ? (size_t)(nl - p) : len - i, k, j;
		k = line_locations(p, ln, f);
		for (j = 0; j < k; j++)
			add_location(&v, &n, max, &f[j]);
		if (!k && eslint && eslint_row(p, ln, &x)) {
			x.path = eslint;
			x.plen = eslint_n;
			add_location(&v, &n, max, &x);
		} else if (!k && path_only_line(p, ln)) {
			eslint = p;
			eslint_n = ln;
			while (eslint_n &&
			       (p[eslint_n - 1] == '\r' || p[eslint_n - 1] == ' '))
				eslint_n--;
		} else if (!ln || (ln == 1 && p[0] == '\r')) {
			eslint = NULL;
		}
		i = nl ? i + ln + 1 : len;
	}
	*ret = v;
	return n;
}

void feedback_locations_free(struct location *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* ---- condensing --------------------------------------------------------- */

/* The selection is condense.c's, the one condenser; what it keeps from the
 * middle is feedback_line_is_key's. */
int feedback_condense(const char *out, size_t len, size_t max, struct buf *dst)
{
	struct condense *c = condense_begin(max, feedback_line_is_key);

	condense_feed(c, out, len);
	return condense_end(c, dst);
}

int feedback_condense_file(const char *path, size_t max, struct buf *dst, int *not_text)
{
	size_t replaced = 0;
	int ret = condense_file(path, max, feedback_line_is_key, dst, &replaced);

	*not_text = replaced > 0;
	return ret;
}

/* ---- excerpts ----------------------------------------------------------- */

/* The real path of a location's file when it is a regular file inside the
 * tree; *shown gets the path relative to the tree. */
static char *resolve_in(const char *root, const char *rroot, const char *path,
			const char **shown)
{
	size_t rn = strlen(rroot), gn = strlen(root);
	char *full, *real;
	struct stat st;

	if (path[0] == '/') {
		if (!strncmp(path, rroot, rn) && path[rn] == '/')
			path += rn + 1;
		else if (gn && !strncmp(path, root, gn) && path[gn] == '/')
			path += gn + 1;
		else
			return NULL;
	}
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	while (path[0] == '/')
		path++;
	if (!*path)
		return NULL;
	full = xasprintf("%s/%s", rroot, path);
	real = realpath(full, NULL);
	free(full);
	if (!real || strncmp(real, rroot, rn) || real[rn] != '/' || stat(real, &st) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size > (off_t)EXCERPT_FILE_MAX) {
		free(real);
		return NULL;
	}
	*shown = path;
	return real;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static void excerpt_line(struct buf *b, const char *p, size_t n, long no, int width,
			 int mark)
{
	if (n && p[n - 1] == '\r')
		n--;
	buf_addf(b, "%s%*ld | ", mark ? "> " : "  ", width, no);
	if (n > EXCERPT_LINE_MAX) {
		size_t k = EXCERPT_LINE_MAX;
		while (k && ((unsigned char)p[k] & 0xC0) == 0x80)
			k--;
		utf8_clean(p, k, b);
		buf_addf(b, "[... %zu bytes elided ...]", n - k);
	} else {
		utf8_clean(p, n, b);
	}
	buf_addch(b, '\n');
}

/* Start of each line, plus one entry past the end; NULL for an empty file. */
static const char **index_lines(const struct buf *f, size_t *ret_n)
{
	const char **v = NULL;
	size_t n = 0, alloc = 0, pos = 0;

	while (pos < f->len) {
		const char *nl = memchr(f->s + pos, '\n', f->len - pos);
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			v = xrealloc(v, (alloc + 1) * sizeof(*v));
		}
		v[n++] = f->s + pos;
		pos = nl ? (size_t)(nl - f->s) + 1 : f->len;
	}
	if (v)
		v[n] = f->s + f->len;
	*ret_n = n;
	return v;
}

struct excerpt_out {
	struct buf *dst;
	size_t start; /* dst->len on entry */
	size_t max;
	int full; /* once one excerpt does not fit, stop */
};

static void emit(struct excerpt_out *o, const struct buf *x)
{
	size_t sep = o->dst->len > o->start;

	if (o->full || o->dst->len - o->start + sep + x->len > o->max) {
		o->full = 1;
		return;
	}
	if (sep)
		buf_addch(o->dst, '\n');
	buf_add(o->dst, x->s, x->len);
}

/* One excerpt: lines from..to with the targets t[0..nt) marked. */
static void render_window(struct buf *b, const char *shown, const char **starts,
			  long from, long to, const long *t, size_t nt)
{
	int width = snprintf(NULL, 0, "%ld", to);
	size_t i;

	buf_addf(b, "%s:", shown);
	for (i = 0; i < nt; i++)
		buf_addf(b, "%s%ld", i ? "," : "", t[i]);
	buf_addch(b, '\n');
	for (i = 0; from <= to; from++) {
		const char *p = starts[from - 1];
		size_t n = (size_t)(starts[from] - p);
		int mark = i < nt && t[i] == from;
		if (n && p[n - 1] == '\n')
			n--;
		excerpt_line(b, p, n, from, width, mark);
		i += (size_t)mark;
	}
}

/* Excerpts of one file for its sorted, unique target lines; windows that
 * overlap or touch merge into one. */
static void render_file(struct excerpt_out *o, const char *shown, const struct buf *f,
			const long *t, size_t nt, int context)
{
	struct buf x = BUF_INIT;
	size_t nlines, k = 0;
	const char **starts = index_lines(f, &nlines);

	while (k < nt && t[k] <= (long)nlines && !o->full) {
		long from = t[k] - context < 1 ? 1 : t[k] - context, to;
		size_t first = k;
		while (k + 1 < nt && t[k + 1] <= (long)nlines &&
		       t[k + 1] - context <= t[k] + context + 1)
			k++;
		to = t[k] + context > (long)nlines ? (long)nlines : t[k] + context;
		buf_reset(&x);
		render_window(&x, shown, starts, from, to, t + first, k - first + 1);
		emit(o, &x);
		k++;
	}
	buf_release(&x);
	free(starts);
}

/* The sorted, unique lines of every location j >= i naming the same file. */
static long *lines_for(char **real, const struct location *v, size_t n, size_t i,
		       size_t *ret_n)
{
	long *t = xmalloc((n - i) * sizeof(*t));
	size_t j, k = 0, u = 0;

	for (j = i; j < n; j++)
		if (real[j] && !strcmp(real[j], real[i]) && v[j].line > 0)
			t[k++] = v[j].line;
	qsort(t, k, sizeof(*t), cmp_long);
	for (j = 0; j < k; j++)
		if (!u || t[u - 1] != t[j])
			t[u++] = t[j];
	*ret_n = u;
	return t;
}

void feedback_excerpts(const char *root, const struct location *v, size_t n, int context,
		       size_t max, struct buf *dst)
{
	struct excerpt_out o = {dst, dst->len, max, 0};
	char *rroot = realpath(root, NULL), **real;
	const char **shown;
	size_t i, j;

	if (!rroot || !n) {
		free(rroot);
		return;
	}
	if (context < 0)
		context = 0;
	real = xcalloc(n, sizeof(*real));
	shown = xcalloc(n, sizeof(*shown));
	for (i = 0; i < n; i++)
		real[i] = resolve_in(root, rroot, v[i].path, &shown[i]);
	for (i = 0; i < n && !o.full; i++) {
		struct buf f = BUF_INIT;
		size_t nt;
		long *t;
		for (j = 0; j < i && real[i]; j++)
			if (real[j] && !strcmp(real[j], real[i]))
				break;
		if (!real[i] || j < i)
			continue; /* outside the tree, or done already */
		/* realpath checked the tree; saferead holds that while it
		 * opens (the actor may swap a symlink in between) */
		if (saferead_tree(rroot, real[i] + strlen(rroot) + 1, EXCERPT_FILE_MAX, 0,
				  &f, NULL, NULL) < 0) {
			buf_release(&f);
			continue;
		}
		if (!feedback_is_binary(f.s, f.len)) {
			t = lines_for(real, v, n, i, &nt);
			render_file(&o, shown[i], &f, t, nt, context);
			free(t);
		}
		buf_release(&f);
	}
	for (i = 0; i < n; i++)
		free(real[i]);
	free(real);
	free(shown);
	free(rroot);
}
