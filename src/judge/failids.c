/*
 * failids: the failing test ids named in a gate output (see failids.h).
 *
 * Works on whole lines after ANSI escapes and carriage returns are dropped.
 * A runner is recognised only by a shape it alone prints: a false test id
 * makes two different failures look alike to the stall detector.
 */
#include "judge/failids.h"
#include "base/textscan.h"

#include <stdlib.h>
#include <string.h>

/* Continuation lines of one mocha failure title. */
#define MOCHA_TITLE_MAX 16

struct idlist {
	char **v;
	size_t n, max;
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
		    textscan_duration_len(p, n - 1, (size_t)(o - p) + 1) ==
			    n - 2 - (size_t)(o - p))
			return (size_t)(o - p) - 1;
		return n;
	}
	o = memrchr(p, ' ', n);
	if (o &&
	    textscan_duration_len(p, n, (size_t)(o - p) + 1) == n - 1 - (size_t)(o - p))
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
	w = has_prefix(p + i, n - i, "FAILED ")	 ? 7
	    : has_prefix(p + i, n - i, "ERROR ") ? 6
						 : 0;
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
	w = has_prefix(p + i, n - i, "FAILED")	? 6
	    : has_prefix(p + i, n - i, "ERROR") ? 5
						: 0;
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
	size_t w = has_prefix(p, n, "FAIL: ")	 ? 6
		   : has_prefix(p, n, "ERROR: ") ? 7
						 : 0,
	       k;
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
		if (textscan_duration_len(p, n, d) != (size_t)(e - p) - d)
			return 0;
		add_id(l, e + 1, (size_t)(p + n - e - 1));
		return 1;
	}
	if (!has_prefix(p, n, "[  FAILED  ] "))
		return 0;
	p += 13;
	n -= 13;
	if (n && !is_digit(p[0])) { /* not "1 test, listed below:" */
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

	if (!k || !has_prefix(p + i + k, n - i - k, " - ") || !n || p[n - 1] != ')' ||
	    !(o = memrchr(p, '(', n)) || o[-1] != ' ')
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
		char *num_id = xasprintf("#%.*s", (int)count_digits(p, n, num), p + num);
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
		"\xe2\x9c\x95 ",
		"\xe2\x9c\x96 ",
		"\xc3\x97 ",
		"\xe2\x9c\x97 ",
	};
	size_t i = lead_ws(p, n), u, k;

	for (u = 0; u < sizeof(marks) / sizeof(marks[0]); u++) {
		if (!has_prefix(p + i, n - i, marks[u]))
			continue;
		i += strlen(marks[u]);
		k = strip_duration(p + i, n - i);
		if (k && p[i + k - 1] != ':') /* "✖ failing tests:" */
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

	w = has_prefix(p + i, n - i, "FAILED") ? 6
	    : has_prefix(p + i, n - i, "FAIL") ? 4
					       : 0;
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
static int rule_mocha(const struct textscan_line *v, size_t nv, size_t i,
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
	rule_pytest, rule_unittest, rule_go,	rule_rust_gtest,
	rule_ctest,  rule_tap,	    rule_cross, rule_generic,
};

size_t failids_extract(const char *out, size_t len, char ***ids, size_t max)
{
	struct buf clean = BUF_INIT;
	struct idlist l = {NULL, 0, max};
	struct textscan_line *v;
	size_t nv, i, r;
	int mocha = 0, ctest = 0;

	textscan_clean(out, len, &clean);
	v = textscan_lines(clean.s, clean.len, &nv);
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

void failids_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
