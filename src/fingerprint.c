/*
 * fingerprint: failing test ids, normalisation and the stall fingerprint.
 *
 * Everything here works on whole lines of gate output after ANSI escapes and
 * carriage returns are dropped.  Two rules of thumb shape the matchers:
 * recognise a runner only by a shape it alone prints (a false test id makes
 * two different failures look alike), and normalise only what provably
 * changes between runs of unchanged code (a false placeholder hides the
 * progress the stall detector must not miss).
 */
#include "fingerprint.h"
#include "feedback.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

/* Bounds on what one gate output contributes (ids, locations). */
#define FP_LIST_MAX 1024
/* Continuation lines of one mocha failure title. */
#define MOCHA_TITLE_MAX 16

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
	return is_letter(c) || is_digit(c);
}

static int is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_path_char(char c)
{
	return is_word(c) || c == '.' || c == '/' || c == '-' || c == '+' ||
		c == '@' || c == '~' || c == '%';
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int has_prefix(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && !memcmp(p, s, k);
}

static int has_prefix_ci(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && !strncasecmp(p, s, k);
}

static int has_suffix(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && !memcmp(p + n - k, s, k);
}

static size_t count_digits(const char *p, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && is_digit(p[j]))
		j++;
	return j - i;
}

static long value_of(const char *p, size_t k)
{
	long v = 0;

	while (k--)
		v = v * 10 + (*p++ - '0');
	return v;
}

/* Length of the escape sequence starting at p[i] (an ESC byte): CSI
 * ("\e[1;31m"), OSC ("\e]...\a") or a two-byte escape. */
static size_t ansi_len(const char *p, size_t n, size_t i)
{
	size_t j = i + 1;

	if (j >= n)
		return 1;
	if (p[j] == '[') {
		for (j++; j < n && (unsigned char)p[j] >= 0x20 &&
		     (unsigned char)p[j] <= 0x3f; j++)
			;
		if (j < n && (unsigned char)p[j] >= 0x40 &&
		    (unsigned char)p[j] <= 0x7e)
			j++;
		return j - i;
	}
	if (p[j] == ']') {
		for (j++; j < n && p[j] != '\a' && p[j] != '\x1b'; j++)
			;
		if (j < n)
			j += p[j] == '\a' ? 1 : 2;
		return (j > n ? n : j) - i;
	}
	return 2;
}

/* The output without ANSI escapes and carriage returns: colour codes
 * split the words the matchers look for, and "\r\n" endings are noise. */
static void clean_output(const char *out, size_t len, struct buf *dst)
{
	size_t i = 0, start = 0;

	while (i < len) {
		if (out[i] != '\x1b' && out[i] != '\r') {
			i++;
			continue;
		}
		buf_add(dst, out + start, i - start);
		i += out[i] == '\r' ? 1 : ansi_len(out, len, i);
		start = i;
	}
	buf_add(dst, out + start, len - start);
}

/* ---- normalisation: times and durations --------------------------------- */

/* [H]H:MM:SS with an optional .fff or ,fff fraction; 0 when absent. */
static size_t clock_len(const char *p, size_t n, size_t i, int need_secs)
{
	size_t h = count_digits(p, n, i), j = i + h, m, s = 0;

	if (h < 1 || h > 2 || j >= n || p[j] != ':')
		return 0;
	m = count_digits(p, n, j + 1);
	if (m != 2 || value_of(p + j + 1, 2) > 59 || value_of(p + i, h) > 23)
		return 0;
	j += 3;
	if (j + 2 < n && p[j] == ':')
		s = count_digits(p, n, j + 1);
	if (s == 2 && value_of(p + j + 1, 2) <= 60)
		j += 3;
	else if (s || need_secs)
		return 0;
	if (j + 1 < n && (p[j] == '.' || p[j] == ',') && is_digit(p[j + 1]))
		j += 1 + count_digits(p, n, j + 1);
	return j - i;
}

/* A time zone after an ISO time: Z, +HH:MM, -HHMM, +HH. */
static size_t zone_len(const char *p, size_t n, size_t j)
{
	size_t k;

	if (j < n && p[j] == 'Z')
		return 1;
	if (j >= n || (p[j] != '+' && p[j] != '-') ||
	    count_digits(p, n, j + 1) < 2)
		return 0;
	k = j + 3;
	if (k < n && p[k] == ':' && count_digits(p, n, k + 1) == 2)
		return 6;
	k = count_digits(p, n, j + 1);
	return k == 2 || k == 4 ? k + 1 : 0;
}

/* YYYY-MM-DD or YYYY/MM/DD, with an optional time ("T" or " ") and zone. */
static size_t date_len(const char *p, size_t n, size_t i)
{
	size_t j = i + 4, c;
	long mon, day;

	if (count_digits(p, n, i) != 4 || j + 5 >= n ||
	    (p[j] != '-' && p[j] != '/') || count_digits(p, n, j + 1) != 2 ||
	    p[j + 3] != p[j] || count_digits(p, n, j + 4) != 2)
		return 0;
	mon = value_of(p + j + 1, 2);
	day = value_of(p + j + 4, 2);
	if (mon < 1 || mon > 12 || day < 1 || day > 31)
		return 0;
	j += 6;
	if (j + 1 < n && (p[j] == 'T' || p[j] == ' ') &&
	    (c = clock_len(p, n, j + 1, 0)) != 0) {
		j += 1 + c;
		j += zone_len(p, n, j);
	}
	if (j < n && is_word(p[j]))
		return 0;
	return j - i;
}

static const char *const units[] = {
	"seconds", "second", "secs", "sec", "minutes", "minute", "mins",
	"min", "ms", "us", "\xc2\xb5s", "\xce\xbcs", "ns", "s",
};

/* The duration unit at p[j]: a whole word; "s" and "us" only when glued
 * to the number ("5 s" and "2 us" are too likely to be prose). */
static size_t unit_len(const char *p, size_t n, size_t j, int spaced)
{
	size_t u, k;

	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		k = strlen(units[u]);
		if (!has_prefix(p + j, n - j, units[u]) ||
		    (j + k < n && is_word(p[j + k])))
			continue;
		if (spaced && (!strcmp(units[u], "s") || !strcmp(units[u], "us")))
			return 0;
		return k;
	}
	return 0;
}

/* 12ms, 0.12s, 1.5 seconds, 3 ms, go's 1m2.5s and 1h0m0s. */
static size_t duration_len(const char *p, size_t n, size_t i)
{
	size_t j = i, k, u;

	for (;;) {
		k = count_digits(p, n, j);
		if (!k)
			return 0;
		j += k;
		if (j + 1 < n && p[j] == '.' && is_digit(p[j + 1]))
			j += 1 + count_digits(p, n, j + 1);
		if (j + 1 < n && (p[j] == 'h' || p[j] == 'm') &&
		    is_digit(p[j + 1])) {
			j++;
			continue;
		}
		break;
	}
	if ((u = unit_len(p, n, j, 0)) != 0)
		return j + u - i;
	if (j + 1 < n && p[j] == ' ' && (u = unit_len(p, n, j + 1, 1)) != 0)
		return j + 1 + u - i;
	return 0;
}

/* ---- normalisation: keywords -------------------------------------------- */

/* A number after a keyword: decimal (with a fraction when frac), or 0x hex,
 * optionally negative, not glued to a following word. */
static size_t number_len(const char *p, size_t n, size_t j, int frac)
{
	size_t s = j;

	if (j < n && p[j] == '-')
		j++;
	if (j + 2 < n && p[j] == '0' && (p[j + 1] == 'x' || p[j + 1] == 'X') &&
	    is_hex(p[j + 2])) {
		for (j += 2; j < n && is_hex(p[j]); j++)
			;
	} else {
		size_t k = count_digits(p, n, j);
		if (!k)
			return 0;
		j += k;
		if (frac && j + 1 < n && p[j] == '.' && is_digit(p[j + 1]))
			j += 1 + count_digits(p, n, j + 1);
	}
	return j < n && is_word(p[j]) ? 0 : j - s;
}

/*
 * "kw<sep>number" at p[i] with kw a whole word (case-insensitive) and sep
 * up to three of " =:(".  Returns the whole length, with the separator's
 * in *sn.
 */
static size_t keyword_number(const char *p, size_t n, size_t i,
			     const char *kw, int frac, size_t *sn)
{
	size_t k = strlen(kw), j = i + k, s, num;

	if ((i && is_alnum(p[i - 1])) || !has_prefix_ci(p + i, n - i, kw) ||
	    (j < n && is_word(p[j])))
		return 0;
	for (s = 0; s < 3 && j + s < n && p[j + s] && strchr(" =:(", p[j + s]);
	     s++)
		;
	if (!s || !(num = number_len(p, n, j + s, frac)))
		return 0;
	*sn = s;
	return k + s + num;
}

/* seed=12345, Random seed: 123, --seed 123, -seed=123, @seed(123),
 * -test.shuffle 1700000000: all become "<kw>=<SEED>". */
static size_t match_seed(const char *p, size_t n, size_t i, struct buf *dst)
{
	static const char *const kws[] = { "seed", "shuffle" };
	size_t u, sn, m;

	for (u = 0; u < 2; u++) {
		m = keyword_number(p, n, i, kws[u], 0, &sn);
		if (!m)
			continue;
		if (memchr(p + i + strlen(kws[u]), '(', sn) && i + m < n &&
		    p[i + m] == ')')
			m++;
		buf_add(dst, p + i, strlen(kws[u]));
		buf_adds(dst, "=<SEED>");
		return m;
	}
	return 0;
}

/* "pid 1234", "pid=1234" and node's "duration_ms: 1.23": the keyword and
 * separator stay, the number becomes the placeholder. */
static size_t match_keyed(const char *p, size_t n, size_t i, struct buf *dst)
{
	static const struct {
		const char *kw, *ph;
		int frac;
	} keys[] = {
		{ "pid", "<PID>", 0 },
		{ "duration_ms", "<DUR>", 1 },
		{ "duration", "<DUR>", 1 },
	};
	size_t u, sn, m, k;

	for (u = 0; u < sizeof(keys) / sizeof(keys[0]); u++) {
		m = keyword_number(p, n, i, keys[u].kw, keys[u].frac, &sn);
		if (!m)
			continue;
		k = strlen(keys[u].kw);
		buf_add(dst, p + i, k + sn);
		buf_adds(dst, keys[u].ph);
		return m;
	}
	return 0;
}

/*
 * PIDs in brackets and fences: AddressSanitizer's "==1234==", syslog's
 * "prog[1234]:", uvicorn's "process [1234]" and rust's "thread 'x' (1234)
 * panicked".  A bare "[1234]" is left alone: it is as likely a value.
 */
static size_t match_pid_mark(const char *p, size_t n, size_t i,
			     struct buf *dst)
{
	size_t k, e;

	if (p[i] == '=') {
		if (i + 1 >= n || p[i + 1] != '=' || (i && p[i - 1] == '='))
			return 0;
		k = count_digits(p, n, i + 2);
		if (!k || i + 3 + k >= n || memcmp(p + i + 2 + k, "==", 2))
			return 0;
		buf_adds(dst, "==<PID>==");
		return k + 4;
	}
	k = count_digits(p, n, i + 1);
	e = i + 1 + k;
	if (!k || e >= n)
		return 0;
	if (p[i] == '[' && p[e] == ']' && k >= 3 &&
	    ((i && is_word(p[i - 1]) && e + 1 < n && p[e + 1] == ':') ||
	     (i >= 8 && !strncasecmp(p + i - 8, "process ", 8)))) {
		buf_adds(dst, "[<PID>]");
		return k + 2;
	}
	if (p[i] == '(' && has_prefix(p + e, n - e, ") panicked")) {
		buf_adds(dst, "(<PID>)");
		return k + 2;
	}
	return 0;
}

/* ---- normalisation: paths ----------------------------------------------- */

static const char *const tmp_roots[] = {
	"/tmp/", "/var/tmp/", "/private/tmp/", "/private/var/folders/",
	"/var/folders/", "/dev/shm/",
};

/* Python's tempfile names: tmp + 6 or more of [a-z0-9_], maybe ".ext". */
static int is_tmp_name(const char *p, size_t n)
{
	const char *dot = memchr(p, '.', n);
	size_t i, stem = dot ? (size_t)(dot - p) : n;

	if (stem < 9 || memcmp(p, "tmp", 3))
		return 0;
	for (i = 3; i < stem; i++)
		if (!(is_digit(p[i]) || (p[i] >= 'a' && p[i] <= 'z') ||
		      p[i] == '_'))
			return 0;
	return 1;
}

/* A file name worth keeping under <TMP>: "test_x.py", "out.txt"; not
 * "tmp.2HiMiHjoo5" or "missing". */
static int keeps_name(const char *p, size_t n)
{
	const char *dot = memrchr(p, '.', n);
	size_t i, ext, letters = 0;

	if (!dot || dot == p || is_tmp_name(p, n))
		return 0;
	ext = n - (size_t)(dot - p) - 1;
	if (ext < 1 || ext > 5)
		return 0;
	for (i = (size_t)(dot - p) + 1; i < n; i++) {
		if (p[i] >= 'a' && p[i] <= 'z')
			letters++;
		else if (!is_digit(p[i]))
			return 0;
	}
	return letters > 0;
}

/* Appends p with each tmp-named component replaced; 1 when it replaced. */
static int add_components(const char *p, size_t n, struct buf *dst)
{
	size_t i = 0, e;
	int changed = 0;

	while (i < n) {
		const char *sl = memchr(p + i, '/', n - i);
		e = sl ? (size_t)(sl - p) : n;
		if (is_tmp_name(p + i, e - i)) {
			const char *dot = memchr(p + i, '.', e - i);
			buf_adds(dst, "<TMP>");
			if (dot)
				buf_add(dst, dot, (size_t)(p + e - dot));
			changed = 1;
		} else {
			buf_add(dst, p + i, e - i);
		}
		if (e < n)
			buf_addch(dst, '/');
		i = e + 1;
	}
	return changed;
}

/* The length of ".../.loopgate/runs/<id>/tree/" at the start of p, 0 if
 * p does not name the run's tree. */
static size_t run_prefix_len(const char *p, size_t n)
{
	static const char mark[] = ".loopgate/runs/";
	const char *m = memmem(p, n, mark, sizeof(mark) - 1);
	size_t j, id;

	if (!m || (m > p && m[-1] != '/'))
		return 0;
	j = (size_t)(m - p) + sizeof(mark) - 1;
	for (id = j; j < n && (is_alnum(p[j]) || p[j] == '-' || p[j] == '_'); j++)
		;
	if (j == id || !has_prefix(p + j, n - j, "/tree") ||
	    (j + 5 < n && p[j + 5] != '/'))
		return 0;
	return j + 5 < n ? j + 6 : n;
}

/* One path token: 1 and the normalised form in dst when anything in it is
 * volatile, 0 (dst untouched) otherwise. */
static int normalise_path(const char *p, size_t n, struct buf *dst)
{
	size_t k = run_prefix_len(p, n), u;

	if (k) {
		if (k == n)
			buf_addch(dst, '.');
		else
			add_components(p + k, n - k, dst);
		return 1;
	}
	for (u = 0; u < sizeof(tmp_roots) / sizeof(tmp_roots[0]); u++) {
		const char *base;
		if (!has_prefix(p, n, tmp_roots[u]))
			continue;
		base = memrchr(p, '/', n) + 1;
		buf_adds(dst, "<TMP>");
		if (keeps_name(base, (size_t)(p + n - base))) {
			buf_addch(dst, '/');
			buf_add(dst, base, (size_t)(p + n - base));
		}
		return 1;
	}
	k = dst->len;
	if (add_components(p, n, dst))
		return 1;
	buf_setlen(dst, k);
	return 0;
}

/* The path token starting at p[i]; trailing dots are sentence, not path. */
static size_t path_token(const char *p, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && is_path_char(p[j]))
		j++;
	while (j > i && p[j - 1] == '.')
		j--;
	return j - i;
}

/* ---- normalisation: the scanner ----------------------------------------- */

static size_t match_number(const char *p, size_t n, size_t i, struct buf *dst)
{
	size_t k;

	if (i && (is_word(p[i - 1]) || p[i - 1] == '.'))
		return 0;
	k = date_len(p, n, i);
	if (!k && (i == 0 || p[i - 1] != ':'))
		k = clock_len(p, n, i, 1);
	if (k) {
		if (i + k < n && p[i + k] == ':' && i + k + 1 < n &&
		    is_digit(p[i + k + 1]))
			return 0;
		buf_adds(dst, "<TIME>");
		return k;
	}
	if (p[i] == '0' && i + 1 < n && (p[i + 1] == 'x' || p[i + 1] == 'X')) {
		for (k = i + 2; k < n && is_hex(p[k]); k++)
			;
		if (k - i - 2 < 8 || (k < n && is_word(p[k])))
			return 0;
		buf_adds(dst, "0xADDR");
		return k - i;
	}
	if ((k = duration_len(p, n, i)) != 0) {
		buf_adds(dst, "<DUR>");
		return k;
	}
	return 0;
}

static size_t match_at(const char *p, size_t n, size_t i, struct buf *dst)
{
	size_t k;

	if (is_path_char(p[i]) && (i == 0 || !is_path_char(p[i - 1])) &&
	    (k = path_token(p, n, i)) != 0 && memchr(p + i, '/', k) &&
	    normalise_path(p + i, k, dst))
		return k;
	if (is_digit(p[i]))
		return match_number(p, n, i, dst);
	if (is_letter(p[i])) {
		if ((k = match_seed(p, n, i, dst)) != 0)
			return k;
		return match_keyed(p, n, i, dst);
	}
	if (p[i] == '=' || p[i] == '[' || p[i] == '(')
		return match_pid_mark(p, n, i, dst);
	return 0;
}

/* fingerprint_normalise on a line without escapes or carriage returns. */
static void normalise_clean(const char *line, size_t len, struct buf *dst)
{
	size_t i = 0, start = 0, k, mark;

	while (i < len) {
		char c = line[i];
		/* Plain text is copied in runs; only bytes that can start a
		 * match are tried. */
		if (is_path_char(c) || c == '=' || c == '[' || c == '(') {
			buf_add(dst, line + start, i - start);
			start = i;
			mark = dst->len;
			k = match_at(line, len, i, dst);
			if (k) {
				i += k;
				start = i;
				continue;
			}
			buf_setlen(dst, mark);
		}
		i++;
	}
	buf_add(dst, line + start, len - start);
}

void fingerprint_normalise(const char *line, size_t len, struct buf *dst)
{
	struct buf clean = BUF_INIT;

	/* Escapes go first: "\e[31m0.5s" must look like " 0.5s", not "m0.5s". */
	if (!memchr(line, '\x1b', len) && !memchr(line, '\r', len)) {
		normalise_clean(line, len, dst);
		return;
	}
	clean_output(line, len, &clean);
	normalise_clean(clean.s, clean.len, dst);
	buf_release(&clean);
}

/* ---- failing test ids --------------------------------------------------- */

struct idlist {
	char **v;
	size_t n, max;
};

struct line {
	const char *s;
	size_t n;
};

static void trim(const char **p, size_t *n)
{
	while (*n && is_space(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_space((*p)[*n - 1]))
		(*n)--;
}

static size_t lead_ws(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && is_space(p[i]))
		i++;
	return i;
}

static void add_id(struct idlist *l, const char *p, size_t n)
{
	size_t i;

	trim(&p, &n);
	if (!n || l->n >= l->max)
		return;
	for (i = 0; i < l->n; i++)
		if (strlen(l->v[i]) == n && !memcmp(l->v[i], p, n))
			return;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrndup(p, n);
}

/* The length of p without a trailing duration: jest's "name (3 ms)",
 * node's "name (1.79ms)", vitest's "name 305ms". */
static size_t strip_duration(const char *p, size_t n)
{
	const char *o;

	if (n && p[n - 1] == ')') {
		o = memrchr(p, '(', n);
		if (o && o > p && o[-1] == ' ' &&
		    duration_len(p, n - 1, (size_t)(o - p) + 1) ==
		    n - 2 - (size_t)(o - p))
			return (size_t)(o - p) - 1;
		return n;
	}
	o = memrchr(p, ' ', n);
	if (o && duration_len(p, n, (size_t)(o - p) + 1) ==
	    n - 1 - (size_t)(o - p))
		return (size_t)(o - p);
	return n;
}

/* A pytest node id: up to the first blank outside [...], because
 * parametrize ids may hold spaces ("test_a[a b]"). */
static size_t pytest_token(const char *p, size_t n)
{
	size_t i;
	int depth = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '[')
			depth++;
		else if (p[i] == ']' && depth)
			depth--;
		else if (is_space(p[i]) && !depth)
			break;
	}
	return i;
}

static int is_pytest_id(const char *p, size_t n)
{
	return memmem(p, n, ".py::", 5) || has_suffix(p, n, ".py");
}

/* pytest: "FAILED t.py::test - msg", "ERROR t.py::test", xdist's
 * "[gw0] [ 50%] FAILED t.py::test", and -v's "t.py::test FAILED  [ 50%]". */
static int rule_pytest(const char *p, size_t n, struct idlist *l)
{
	size_t i = 0, k, w;
	const char *e;

	while (i < n && p[i] == '[' && (e = memchr(p + i, ']', n - i)) &&
	       (size_t)(e - p) + 1 < n && e[1] == ' ')
		i = (size_t)(e - p) + 1 + lead_ws(e + 1, n - (size_t)(e - p) - 1);
	w = has_prefix(p + i, n - i, "FAILED ") ? 7 :
		has_prefix(p + i, n - i, "ERROR ") ? 6 : 0;
	if (w) {
		i += w;
		k = pytest_token(p + i, n - i);
		if (!is_pytest_id(p + i, k) ||
		    (i + k + lead_ws(p + i + k, n - i - k) < n &&
		     !has_prefix(p + i + k, n - i - k, " - ")))
			return 0;
		add_id(l, p + i, k);
		return 1;
	}
	k = pytest_token(p, n);
	if (i || !is_pytest_id(p, k))
		return 0;
	i = k + lead_ws(p + k, n - k);
	w = has_prefix(p + i, n - i, "FAILED") ? 6 :
		has_prefix(p + i, n - i, "ERROR") ? 5 : 0;
	if (i == k || !w || (i + w < n && p[i + w] != ' '))
		return 0;
	add_id(l, p, k);
	return 1;
}

/* unittest's "name (dotted)": the length consumed, the id into b
 * ("mod.Class.name"; python < 3.11 prints only "(mod.Class)"). */
static size_t unittest_name(const char *p, size_t n, struct buf *b)
{
	size_t k = 0, d = 0, s;

	while (k < n && is_word(p[k]))
		k++;
	if (!k || is_digit(p[0]) || k + 2 >= n || memcmp(p + k, " (", 2))
		return 0;
	s = k + 2;
	while (s + d < n && (is_word(p[s + d]) || p[s + d] == '.'))
		d++;
	if (!d || s + d >= n || p[s + d] != ')')
		return 0;
	buf_add(b, p + s, d);
	if (!(d > k && p[s + d - k - 1] == '.' && !memcmp(p + s + d - k, p, k))) {
		buf_addch(b, '.');
		buf_add(b, p, k);
	}
	return s + d + 1;
}

/* unittest: "FAIL: test_x (mod.Class.test_x)", "ERROR: test_x (mod.Class)",
 * a subTest's trailing "(i=1)", and -v's "test_x (mod.C.test_x) ... FAIL". */
static int rule_unittest(const char *p, size_t n, struct idlist *l)
{
	struct buf b = BUF_INIT;
	size_t w = has_prefix(p, n, "FAIL: ") ? 6 :
		has_prefix(p, n, "ERROR: ") ? 7 : 0, k;
	int hit = 0;

	if (w && (k = unittest_name(p + w, n - w, &b)) != 0) {
		const char *t = p + w + k;
		size_t tn = n - w - k;
		trim(&t, &tn);
		if (tn && (*t == '(' || *t == '[')) {
			buf_addch(&b, ' ');
			buf_add(&b, t, tn);
		}
		hit = 1;
	} else if (!w && (k = unittest_name(p, n, &b)) != 0) {
		hit = (n - k == 9 && !memcmp(p + k, " ... FAIL", 9)) ||
			(n - k == 10 && !memcmp(p + k, " ... ERROR", 10));
	}
	if (hit)
		add_id(l, b.s, b.len);
	buf_release(&b);
	return hit;
}

/* go test: "--- FAIL: TestX (0.00s)", subtests indented "TestX/case",
 * and the package line "FAIL\tpkg\t0.004s" or "FAIL\tpkg [build failed]". */
static int rule_go(const char *p, size_t n, struct idlist *l)
{
	size_t i = lead_ws(p, n), k;
	const char *e;

	if (has_prefix(p + i, n - i, "--- FAIL: ")) {
		i += 10;
		e = memmem(p + i, n - i, " (", 2);
		add_id(l, p + i, e ? (size_t)(e - p) - i : n - i);
		return 1;
	}
	if (!has_prefix(p, n, "FAIL\t"))
		return 0;
	for (k = 5; k < n && !is_space(p[k]); k++)
		;
	add_id(l, p + 5, k - 5);
	return k > 5;
}

/* cargo test: "test tests::it_works ... FAILED"; nextest: "FAIL [ 0.003s]
 * crate tests::it_works"; googletest: "[  FAILED  ] Suite.Name (0 ms)". */
static int rule_rust_gtest(const char *p, size_t n, struct idlist *l)
{
	size_t i = lead_ws(p, n);
	const char *e;

	if (has_prefix(p, n, "test ") && n > 16 && has_suffix(p, n, " ... FAILED")) {
		add_id(l, p + 5, n - 16);
		return 1;
	}
	if (has_prefix(p + i, n - i, "FAIL [") &&
	    (e = memchr(p + i, ']', n - i)) != NULL) {
		size_t d = i + 6 + lead_ws(p + i + 6, n - i - 6);
		if (duration_len(p, n, d) != (size_t)(e - p) - d)
			return 0;
		add_id(l, e + 1, (size_t)(p + n - e - 1));
		return 1;
	}
	if (!has_prefix(p, n, "[  FAILED  ] "))
		return 0;
	p += 13;
	n -= 13;
	if (n && !is_digit(p[0])) {	/* not "1 test, listed below:" */
		e = memmem(p, n, ", where ", 8);
		if (!e)
			e = memmem(p, n, " (", 2);
		add_id(l, p, e ? (size_t)(e - p) : n);
	}
	return 1;
}

/* ctest's progress line "2/3 Test #2: name ......***Failed  0.01 sec". */
static int rule_ctest(const char *p, size_t n, struct idlist *l)
{
	const char *t = memmem(p, n, "Test #", 6);
	size_t i, k;

	if (!t || !memmem(t, (size_t)(p + n - t), "***", 3))
		return 0;
	i = (size_t)(t - p) + 6;
	i += count_digits(p, n, i);
	if (!has_prefix(p + i, n - i, ": "))
		return 0;
	i += 2;
	for (k = i; k < n && !is_space(p[k]); k++)
		;
	add_id(l, p + i, k - i);
	return 1;
}

/* ctest's summary, after "The following tests FAILED:": "  2 - name (Failed)". */
static int rule_ctest_list(const char *p, size_t n, struct idlist *l)
{
	size_t i = lead_ws(p, n), k = count_digits(p, n, i);
	const char *o;

	if (!k || !has_prefix(p + i + k, n - i - k, " - ") || !n ||
	    p[n - 1] != ')' || !(o = memrchr(p, '(', n)) || o[-1] != ' ')
		return 0;
	i += k + 3;
	if ((size_t)(o - p) <= i + 1)
		return 0;
	add_id(l, p + i, (size_t)(o - p) - 1 - i);
	return 1;
}

/* TAP: "not ok 3 - description", nested by indentation (node --test);
 * "# TODO" and "# SKIP" directives are not failures. */
static int rule_tap(const char *p, size_t n, struct idlist *l)
{
	size_t i = lead_ws(p, n), k, num;
	const char *d, *h;

	if (!has_prefix(p + i, n - i, "not ok "))
		return 0;
	i += 7;
	num = i;
	k = count_digits(p, n, i);
	if (!k || (i + k < n && p[i + k] != ' '))
		return 0;
	i += k + lead_ws(p + i + k, n - i - k);
	if (i < n && p[i] == '-')
		i++;
	d = p + i;
	for (h = d; (h = memchr(h, '#', (size_t)(p + n - h))) != NULL; h++) {
		if (h == d || h[-1] == ' ') {
			const char *x = h + 1 + lead_ws(h + 1, (size_t)(p + n - h - 1));
			size_t xn = (size_t)(p + n - x);
			if (has_prefix_ci(x, xn, "todo") || has_prefix_ci(x, xn, "skip"))
				return 1;
			break;
		}
	}
	k = h ? (size_t)(h - d) : (size_t)(p + n - d);
	trim(&d, &k);
	if (k) {
		add_id(l, d, k);
	} else {
		char *num_id = xasprintf("#%.*s", (int)count_digits(p, n, num),
					 p + num);
		add_id(l, num_id, strlen(num_id));
		free(num_id);
	}
	return 1;
}

/* jest/vitest/node's spec reporter: "✕ name (3 ms)" (also ✖, ×, ✗), and
 * jest's failure header "● Suite › name" (only with a "›": "● Console"
 * heads console.log output). */
static int rule_cross(const char *p, size_t n, struct idlist *l)
{
	static const char *const marks[] = {
		"\xe2\x9c\x95 ", "\xe2\x9c\x96 ", "\xc3\x97 ", "\xe2\x9c\x97 ",
	};
	size_t i = lead_ws(p, n), u, k;

	for (u = 0; u < sizeof(marks) / sizeof(marks[0]); u++) {
		if (!has_prefix(p + i, n - i, marks[u]))
			continue;
		i += strlen(marks[u]);
		k = strip_duration(p + i, n - i);
		if (k && p[i + k - 1] != ':')	/* "✖ failing tests:" */
			add_id(l, p + i, k);
		return 1;
	}
	if (has_prefix(p + i, n - i, "\xe2\x97\x8f ") &&
	    memmem(p + i, n - i, " \xe2\x80\xba ", 5)) {
		add_id(l, p + i + 4, n - i - 4);
		return 1;
	}
	return 0;
}

/* A lone "FAIL name" / "FAILED name": jest's " FAIL  src/a.test.js",
 * vitest's " FAIL  src/a.test.ts > suite > name".  Anything with more words
 * ("FAILED (failures=1)", "FAIL some message") is not a name. */
static int rule_generic(const char *p, size_t n, struct idlist *l)
{
	size_t i = lead_ws(p, n), w, k, j;

	w = has_prefix(p + i, n - i, "FAILED") ? 6 :
		has_prefix(p + i, n - i, "FAIL") ? 4 : 0;
	if (!w || i + w >= n || !is_space(p[i + w]))
		return 0;
	i += w + lead_ws(p + i + w, n - i - w);
	k = strip_duration(p + i, n - i);
	while (k && is_space(p[i + k - 1]))
		k--;
	if (!k || p[i] == '(' || p[i] == '[')
		return 0;
	for (j = i; j < i + k && !is_space(p[j]); j++)
		;
	if (j < i + k && !memmem(p + i, k, " > ", 3))
		return 0;
	add_id(l, p + i, k);
	return 1;
}

/* mocha's "  3 failing", which heads its numbered failure list. */
static int is_mocha_summary(const char *p, size_t n)
{
	size_t k;

	trim(&p, &n);
	k = count_digits(p, n, 0);
	return k && n == k + 8 && has_suffix(p, n, " failing");
}

/*
 * mocha's failure list, after "  N failing": "  1) Suite" then deeper
 * indented lines, the last ending with ':', make the title "Suite title".
 * The same "1) title" in the progress tree above the summary has no colon
 * and no deeper lines, so it is never taken.
 */
static int rule_mocha(const struct line *v, size_t nv, size_t i,
		      struct idlist *l)
{
	const char *p = v[i].s, *t;
	size_t n = v[i].n, ind = lead_ws(p, n), k = count_digits(p, n, ind), j, tn;
	struct buf b = BUF_INIT;
	int hit = 0;

	if (!k || !has_prefix(p + ind + k, n - ind - k, ") "))
		return 0;
	t = p + ind + k + 2;
	tn = n - ind - k - 2;
	for (j = i;;) {
		trim(&t, &tn);
		if (b.len)
			buf_addch(&b, ' ');
		buf_add(&b, t, tn);
		if (tn && t[tn - 1] == ':') {
			add_id(l, b.s, b.len - 1);
			hit = 1;
			break;
		}
		if (++j >= nv || j - i > MOCHA_TITLE_MAX || !v[j].n ||
		    lead_ws(v[j].s, v[j].n) <= ind)
			break;
		t = v[j].s;
		tn = v[j].n;
	}
	buf_release(&b);
	return hit;
}

typedef int (*id_rule)(const char *p, size_t n, struct idlist *l);

/* Most specific first: the first rule that claims a line ends its turn. */
static const id_rule rules[] = {
	rule_pytest, rule_unittest, rule_go, rule_rust_gtest, rule_ctest,
	rule_tap, rule_cross, rule_generic,
};

static struct line *split_lines(const char *s, size_t len, size_t *ret_n)
{
	struct line *v = NULL;
	size_t n = 0, alloc = 0, i = 0;

	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t k = nl ? (size_t)(nl - s) - i : len - i;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[n].s = s + i;
		v[n++].n = k;
		i += k + 1;
	}
	*ret_n = n;
	return v;
}

size_t fingerprint_failed_tests(const char *out, size_t len, char ***ids,
				size_t max)
{
	struct buf clean = BUF_INIT;
	struct idlist l = { NULL, 0, max };
	struct line *v;
	size_t nv, i, r;
	int mocha = 0, ctest = 0;

	clean_output(out, len, &clean);
	v = split_lines(clean.s, clean.len, &nv);
	for (i = 0; i < nv && l.n < max; i++) {
		const char *p = v[i].s;
		size_t n = v[i].n;
		if ((mocha && rule_mocha(v, nv, i, &l)) ||
		    (ctest && rule_ctest_list(p, n, &l)))
			continue;
		mocha |= is_mocha_summary(p, n);
		ctest |= has_prefix(p, n, "The following tests FAILED:");
		for (r = 0; r < sizeof(rules) / sizeof(rules[0]); r++)
			if (rules[r](p, n, &l))
				break;
	}
	free(v);
	buf_release(&clean);
	*ids = l.v;
	return l.n;
}

void fingerprint_free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- the fingerprint ---------------------------------------------------- */

/* One hashed element: "test <id>" or "loc <path>:<line>", normalised. */
static char *element(const char *tag, const char *s, long line)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, tag);
	if (line && s[0] == '.' && s[1] == '/')
		s += 2;		/* "./src/a.rs:3" is "src/a.rs:3" */
	fingerprint_normalise(s, strlen(s), &b);
	if (line)
		buf_addf(&b, ":%ld", line);
	return buf_detach(&b, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted, deduplicated element set of a cleaned output. */
static char **collect(const char *s, size_t len, size_t *ret_n)
{
	char **ids, **el;
	struct location *locs;
	size_t nid = fingerprint_failed_tests(s, len, &ids, FP_LIST_MAX);
	size_t nloc = feedback_locations(s, len, &locs, FP_LIST_MAX);
	size_t n = 0, i, u = 0;

	el = xcalloc(nid + nloc + 1, sizeof(*el));
	for (i = 0; i < nid; i++)
		el[n++] = element("test ", ids[i], 0);
	for (i = 0; i < nloc; i++)
		el[n++] = element("loc ", locs[i].path, locs[i].line);
	fingerprint_free_list(ids, nid);
	feedback_locations_free(locs, nloc);
	qsort(el, n, sizeof(*el), cmp_str);
	for (i = 0; i < n; i++) {
		if (u && !strcmp(el[u - 1], el[i]))
			free(el[i]);
		else
			el[u++] = el[i];
	}
	*ret_n = u;
	return el;
}

/* Fields are framed as "<len>:<bytes>," so no two inputs hash alike. */
static int hash_field(EVP_MD_CTX *c, const char *s, size_t n)
{
	char len[32];
	int k = snprintf(len, sizeof(len), "%zu:", n);

	return EVP_DigestUpdate(c, len, (size_t)k) &&
		EVP_DigestUpdate(c, s, n) && EVP_DigestUpdate(c, ",", 1);
}

static int hash_output(EVP_MD_CTX *c, const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	struct line *v;
	size_t nv, i;
	int ok = 1;

	v = split_lines(s, len, &nv);
	for (i = 0; i < nv && ok; i++) {
		buf_reset(&b);
		normalise_clean(v[i].s, v[i].n, &b);
		buf_rtrim(&b);
		if (b.len)
			ok = hash_field(c, b.s, b.len);
	}
	free(v);
	buf_release(&b);
	return ok;
}

int fingerprint_gate(int gate_index, const char *status_desc, const char *out,
		     size_t len, char hex[65])
{
	static const char version[] = "loopgate-fingerprint-1";
	struct buf clean = BUF_INIT;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdn = 0, i;
	char gate[24], **el;
	size_t n, u;
	int ok;

	if (!status_desc)
		status_desc = "";
	clean_output(out, len, &clean);
	el = collect(clean.s, clean.len, &n);
	snprintf(gate, sizeof(gate), "%d", gate_index);
	ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
		hash_field(c, version, sizeof(version) - 1) &&
		hash_field(c, gate, strlen(gate)) &&
		hash_field(c, status_desc, strlen(status_desc));
	if (n) {
		ok = ok && hash_field(c, "set", 3);
		for (u = 0; u < n && ok; u++)
			ok = hash_field(c, el[u], strlen(el[u]));
	} else {
		ok = ok && hash_field(c, "output", 6) &&
			hash_output(c, clean.s, clean.len);
	}
	ok = ok && EVP_DigestFinal_ex(c, md, &mdn) && mdn == 32;
	EVP_MD_CTX_free(c);
	fingerprint_free_list(el, n);
	buf_release(&clean);
	if (!ok)
		return -EIO;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return (int)n;
}
