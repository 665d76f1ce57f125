/*
 * testcount: counts of executed, failed and skipped tests from the summary
 * lines of common runners (JUnit XML is read in testcount_junit.c).  See
 * testcount.h for the formats and the rules.
 *
 * Every matcher works on one line with explicit bounds (gate output may
 * hold NULs) and accepts only the whole line in the runner's own shape:
 * a floor built on "any number near the word passed" would move whenever a
 * program prints prose.
 */
#include "judge/testcount.h"
#include "judge/testcount_impl.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

enum runner {
	R_PYTEST,
	R_UNITTEST,
	R_GO,
	R_GOJSON,
	R_CARGO,
	R_JEST,
	R_VITEST,
	R_MOCHA, /* the runner-specific ones end here */
	R_CTEST,
	R_PLAIN,
	R_TAP,
	R_N
};
#define R_SPECIFIC_END R_CTEST

static const char *const runner_name[R_N] = {
	"pytest", "unittest", "go",    "go-json", "cargo", "jest",
	"vitest", "mocha",    "ctest", "plain",	  "tap",
};

struct scan {
	struct tally t[R_N];
	long ut_ran; /* "Ran N tests" waiting for its status line */
	int ut_wait;
	int mocha_left; /* lines after "N passing" that may follow */
	int ct_list, ct_list_seen;
	long ct_line_skip, ct_line_disabled;
	int go_run, go_pkg;
	int tap_head, tap_zero, tap_yaml, tap_prev;
};

static int lit(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->e - c->p) < n || memcmp(c->p, s, n))
		return 0;
	c->p += n;
	return 1;
}

static struct cur trim(const char *s, size_t n)
{
	struct cur c = {s, s + n};

	spaces(&c);
	while (c.e > c.p && (c.e[-1] == ' ' || c.e[-1] == '\t'))
		c.e--;
	return c;
}

/* A lower-case word; 1 when it is exactly w (not just a prefix of it). */
static int word(struct cur *c, const char *w)
{
	struct cur s = *c;

	if (!lit(&s, w) || (s.p < s.e && *s.p >= 'a' && *s.p <= 'z'))
		return 0;
	*c = s;
	return 1;
}

/* "0.12s", "1s": the durations runners print after "in". */
static int duration(struct cur *c)
{
	long v;

	if (!num(c, &v))
		return 0;
	if (lit(c, ".") && !num(c, &v))
		return 0;
	return lit(c, "s");
}

/* ---- pytest ------------------------------------------------------------ */

/* Takes the "==== " and " ====" bars off; 1 when both were there. */
static int pytest_bars(struct cur *c)
{
	if (c->p == c->e || *c->p != '=')
		return 0;
	while (c->p < c->e && *c->p == '=')
		c->p++;
	if (!lit(c, " "))
		return 0;
	if (c->e == c->p || c->e[-1] != '=')
		return 0;
	while (c->e > c->p && c->e[-1] == '=')
		c->e--;
	if (c->e == c->p || c->e[-1] != ' ')
		return 0;
	c->e--;
	return 1;
}

/* " in 0.12s" or " in 62.00s (0:01:02)", to the end of the line. */
static int pytest_tail(struct cur *c)
{
	if (!lit(c, " in ") || !duration(c))
		return 0;
	if (lit(c, " (")) {
		while (c->p < c->e && (is_digit(*c->p) || *c->p == ':'))
			c->p++;
		if (!lit(c, ")"))
			return 0;
	}
	return at_end(c);
}

static void pytest_line(struct scan *sc, const char *s, size_t n)
{
	static const char *const words[] = {
		"passed", "failed", "skipped",	"deselected", "xfailed", "xpassed",
		"errors", "error",  "warnings", "warning",    "rerun",
	};
	long cnt[sizeof(words) / sizeof(words[0])] = {0};
	struct cur c = trim(s, n);
	size_t w;
	long v;

	if (c.p < c.e && *c.p == '=' && !pytest_bars(&c))
		return;
	if (lit(&c, "no tests ran")) {
		if (pytest_tail(&c))
			tally_add(&sc->t[R_PYTEST], 0, 0, 0);
		return;
	}
	do {
		if (!num(&c, &v) || !lit(&c, " "))
			return;
		for (w = 0; w < sizeof(words) / sizeof(words[0]); w++)
			if (word(&c, words[w]))
				break;
		if (w == sizeof(words) / sizeof(words[0]))
			return;
		cnt[w] += v;
	} while (lit(&c, ", "));
	if (!pytest_tail(&c))
		return;
	tally_add(&sc->t[R_PYTEST], cnt[0] + cnt[4] + cnt[5], cnt[1] + cnt[6] + cnt[7],
		  cnt[2]);
}

/* ---- unittest ---------------------------------------------------------- */

/* "(failures=1, errors=1, skipped=2)"; adds into fail and skip. */
static int unittest_details(struct cur *c, long *fail, long *skip)
{
	long v;

	if (!lit(c, " ("))
		return at_end(c);
	do {
		long *into = fail;

		if (lit(c, "skipped="))
			into = skip;
		else if (!lit(c, "failures=") && !lit(c, "errors=") &&
			 !lit(c, "unexpected successes=")) {
			if (!lit(c, "expected failures="))
				return 0;
			into = NULL; /* ran as expected: passed */
		}
		if (!num(c, &v))
			return 0;
		if (into)
			*into += v;
	} while (lit(c, ", "));
	return lit(c, ")") && at_end(c);
}

static int unittest_line(struct scan *sc, const char *s, size_t n)
{
	struct cur c = trim(s, n);
	long ran, fail = 0, skip = 0;

	if (lit(&c, "Ran ") && num(&c, &ran) && lit(&c, " test") &&
	    (lit(&c, "s ") || lit(&c, " ")) && lit(&c, "in ") && duration(&c) &&
	    at_end(&c)) {
		sc->ut_wait = 1;
		sc->ut_ran = ran;
		return 1;
	}
	if (!sc->ut_wait)
		return 0;
	c = trim(s, n);
	if (at_end(&c))
		return 1; /* the blank line before "OK" */
	sc->ut_wait = 0;
	if (!lit(&c, "OK") && !lit(&c, "FAILED") && !lit(&c, "NO TESTS RAN"))
		return 0;
	if (!unittest_details(&c, &fail, &skip))
		return 0;
	ran = clamp(sc->ut_ran - skip);
	fail = fail > ran ? ran : fail;
	tally_add(&sc->t[R_UNITTEST], ran - fail, fail, skip);
	return 1;
}

/* ---- cargo ------------------------------------------------------------- */

static void cargo_line(struct scan *sc, const char *s, size_t n)
{
	struct cur c = trim(s, n);
	long v, passed = -1, failed = -1, ignored = 0;

	if (!lit(&c, "test result: ") || !(lit(&c, "ok") || lit(&c, "FAILED")) ||
	    !lit(&c, ". "))
		return;
	for (;;) {
		if (lit(&c, "finished in ")) {
			if (!duration(&c))
				return;
			break;
		}
		if (!num(&c, &v) || !lit(&c, " "))
			return;
		if (word(&c, "passed"))
			passed = v;
		else if (word(&c, "failed"))
			failed = v;
		else if (word(&c, "ignored"))
			ignored = v;
		else if (!word(&c, "measured") && !lit(&c, "filtered out"))
			return;
		if (at_end(&c))
			break;
		if (!lit(&c, "; "))
			return;
	}
	if (at_end(&c) && passed >= 0 && failed >= 0)
		tally_add(&sc->t[R_CARGO], passed, failed, ignored);
}

/* ---- jest, vitest, mocha ----------------------------------------------- */

static void jest_line(struct scan *sc, const char *s, size_t n)
{
	struct cur c = trim(s, n);
	long v, passed = 0, failed = 0, skipped = 0;

	if (!lit(&c, "Tests:") || !spaces(&c))
		return;
	for (;;) {
		if (!num(&c, &v) || !lit(&c, " "))
			return;
		if (word(&c, "total"))
			break;
		if (word(&c, "passed"))
			passed += v;
		else if (word(&c, "failed"))
			failed += v;
		else if (word(&c, "skipped") || word(&c, "todo"))
			skipped += v;
		else
			return;
		if (!lit(&c, ", "))
			return;
	}
	if (at_end(&c))
		tally_add(&sc->t[R_JEST], passed, failed, skipped);
}

static void vitest_line(struct scan *sc, const char *s, size_t n)
{
	struct cur c = trim(s, n);
	long v, passed = 0, failed = 0, skipped = 0;

	if (!lit(&c, "Tests") || !spaces(&c))
		return;
	if (lit(&c, "no tests")) {
		if (at_end(&c))
			tally_add(&sc->t[R_VITEST], 0, 0, 0);
		return;
	}
	for (;;) {
		if (!num(&c, &v) || !lit(&c, " "))
			return;
		if (word(&c, "passed") || lit(&c, "expected fail"))
			passed += v;
		else if (word(&c, "failed"))
			failed += v;
		else if (word(&c, "skipped") || word(&c, "todo"))
			skipped += v;
		else
			return;
		if (!lit(&c, " | "))
			break;
	}
	if (lit(&c, " (") && num(&c, &v) && lit(&c, ")") && at_end(&c))
		tally_add(&sc->t[R_VITEST], passed, failed, skipped);
}

static void mocha_line(struct scan *sc, const char *s, size_t n)
{
	struct cur c = trim(s, n);
	long v;

	if (num(&c, &v) && lit(&c, " passing (") && c.e > c.p && c.e[-1] == ')' &&
	    !memchr(c.p, ')', (size_t)(c.e - c.p - 1))) {
		tally_add(&sc->t[R_MOCHA], v, 0, 0);
		sc->mocha_left = 2;
		return;
	}
	if (!sc->mocha_left)
		return;
	sc->mocha_left--;
	c = trim(s, n);
	if (!num(&c, &v))
		sc->mocha_left = 0;
	else if (lit(&c, " pending") && at_end(&c))
		sc->t[R_MOCHA].skipped += v;
	else if (lit(&c, " failing") && at_end(&c))
		sc->t[R_MOCHA].failed += v;
	else
		sc->mocha_left = 0;
}

/* ---- ctest ------------------------------------------------------------- */

/* "\t  4 - skips (Skipped)" under "The following tests did not run:". */
static int ctest_list_entry(struct scan *sc, const char *s, size_t n)
{
	struct cur c = trim(s, n);
	const char *open;
	long v;

	if (!num(&c, &v) || !lit(&c, " - ") || c.e == c.p || c.e[-1] != ')')
		return 0;
	for (open = c.e - 1; open > c.p && *open != '('; open--)
		;
	if (*open != '(' || open == c.p || open[-1] != ' ')
		return 0;
	sc->t[R_CTEST].skipped++;
	/* A disabled test is outside "out of N"; a skipped one was counted
	 * there, and as passed. */
	if ((size_t)(c.e - open) != sizeof("(Disabled)") - 1 ||
	    memcmp(open, "(Disabled)", sizeof("(Disabled)") - 1))
		sc->t[R_CTEST].passed--;
	return 1;
}

static void ctest_line(struct scan *sc, const char *s, size_t n)
{
	struct cur c = trim(s, n);
	long pct, failed, total;

	if (sc->ct_list && ctest_list_entry(sc, s, n))
		return;
	sc->ct_list = 0;
	if (lit(&c, "The following tests did not run:") && at_end(&c)) {
		sc->ct_list = sc->ct_list_seen = 1;
		return;
	}
	c = trim(s, n);
	if (lit(&c, "No tests were found!!!") && at_end(&c)) {
		tally_add(&sc->t[R_CTEST], 0, 0, 0);
		return;
	}
	c = trim(s, n);
	if (num(&c, &pct) && lit(&c, "% tests passed, ") && num(&c, &failed) &&
	    lit(&c, " test") &&
	    (lit(&c, "s failed out of ") || lit(&c, " failed out of ")) &&
	    num(&c, &total) && at_end(&c)) {
		tally_add(&sc->t[R_CTEST], total - failed, failed, 0);
		return;
	}
	/* "4/5 Test #4: skips ....***Skipped   0.00 sec": used only when the
	 * did-not-run list is missing (a truncated log). */
	c = trim(s, n);
	if (num(&c, &pct) && lit(&c, "/") && num(&c, &pct) && lit(&c, " Test") &&
	    spaces(&c) && lit(&c, "#") && num(&c, &pct) && lit(&c, ":")) {
		size_t rest = (size_t)(c.e - c.p);

		if (memmem(c.p, rest, "***Skipped", 10))
			sc->ct_line_skip++;
		else if (memmem(c.p, rest, "***Not Run (Disabled)", 21))
			sc->ct_line_disabled++;
	}
}

/* ---- go ---------------------------------------------------------------- */

static void go_line(struct scan *sc, const char *s, size_t n)
{
	struct cur c = {s, s + n};
	struct tally *t = &sc->t[R_GO];

	if (lit(&c, "=== RUN ")) {
		sc->go_run = 1;
		return;
	}
	if (lit(&c, "ok  \t") || lit(&c, "FAIL\t")) {
		sc->go_pkg = 1;
		return;
	}
	c = (struct cur){s, s + n};
	while (c.p < c.e && *c.p == ' ')
		c.p++;
	if (!lit(&c, "--- ") || c.e - c.p < 7 || c.p[4] != ':' || c.p[5] != ' ' ||
	    c.p[6] == ' ')
		return;
	if (lit(&c, "PASS"))
		t->passed++;
	else if (lit(&c, "FAIL"))
		t->failed++;
	else if (lit(&c, "SKIP"))
		t->skipped++;
}

static void gojson_line(struct scan *sc, const char *s, size_t n)
{
	json_t *ev, *test;
	const char *action;

	if (!n || *s != '{')
		return;
	ev = json_loadb(s, n, 0, NULL);
	if (!json_is_object(ev))
		goto out;
	action = json_string_value(json_object_get(ev, "Action"));
	test = json_object_get(ev, "Test");
	if (!action || !json_is_string(json_object_get(ev, "Package")))
		goto out;
	sc->t[R_GOJSON].seen = 1;
	if (!json_is_string(test))
		goto out; /* package-level events are not tests */
	if (!strcmp(action, "pass"))
		sc->t[R_GOJSON].passed++;
	else if (!strcmp(action, "fail"))
		sc->t[R_GOJSON].failed++;
	else if (!strcmp(action, "skip"))
		sc->t[R_GOJSON].skipped++;
out:
	json_decref(ev);
}

/* ---- TAP --------------------------------------------------------------- */

/* The directive after the first unescaped '#': 1 SKIP, 2 TODO, 0 none. */
static int tap_directive(struct cur c)
{
	for (; c.p < c.e; c.p++) {
		if (*c.p == '\\' && c.p + 1 < c.e) {
			c.p++;
			continue;
		}
		if (*c.p != '#')
			continue;
		c.p++;
		spaces(&c);
		if (c.e - c.p >= 4 && !strncasecmp(c.p, "skip", 4))
			return 1;
		if (c.e - c.p >= 4 && !strncasecmp(c.p, "todo", 4))
			return 2;
		return 0;
	}
	return 0;
}

static void tap_line(struct scan *sc, const char *s, size_t n)
{
	struct cur c = {s, s + n}, t = trim(s, n);
	size_t indent = 0;
	int prev = sc->tap_prev, ok, d;
	long v;

	sc->tap_prev = 0;
	if (sc->tap_yaml) {
		if (t.e - t.p == 3 && !memcmp(t.p, "...", 3))
			sc->tap_yaml = 0;
		return;
	}
	if (prev && t.e - t.p == 3 && !memcmp(t.p, "---", 3)) {
		sc->tap_yaml = 1;
		return;
	}
	while (c.p < c.e && *c.p == ' ')
		c.p++, indent++;
	if (indent % 4)
		return;
	if (!indent && lit(&c, "1..") && num(&c, &v)) {
		spaces(&c);
		if (at_end(&c) || *c.p == '#') {
			sc->tap_head = 1;
			sc->tap_zero |= v == 0;
		}
		return;
	}
	if (!indent && lit(&c, "TAP version ")) {
		sc->tap_head = 1;
		return;
	}
	ok = lit(&c, "ok");
	if (!ok && !lit(&c, "not ok"))
		return;
	if (!at_end(&c) && *c.p != ' ')
		return; /* "okay", "not okay" */
	sc->tap_prev = 1;
	d = tap_directive(c);
	if (d)
		sc->t[R_TAP].skipped++;
	else if (ok)
		sc->t[R_TAP].passed++;
	else
		sc->t[R_TAP].failed++;
}

/* ---- plain ------------------------------------------------------------- */

static void plain_line(struct scan *sc, const char *s, size_t n)
{
	struct cur c = trim(s, n), w;
	long passed, failed, skipped = 0;

	w = c;
	while (w.p < w.e &&
	       (is_digit(*w.p) || *w.p == '_' || *w.p == '-' ||
		(*w.p >= 'a' && *w.p <= 'z') || (*w.p >= 'A' && *w.p <= 'Z')))
		w.p++;
	if (w.p > c.p && lit(&w, ":") && spaces(&w))
		c = w;
	if (!num(&c, &passed) || !lit(&c, " passed, ") || !num(&c, &failed) ||
	    !lit(&c, " failed"))
		return;
	if (lit(&c, ", ") && !(num(&c, &skipped) && lit(&c, " skipped")))
		return;
	if (at_end(&c))
		tally_add(&sc->t[R_PLAIN], passed, failed, skipped);
}

/* ---- the whole output -------------------------------------------------- */

/*
 * Copies out without terminal escapes: CSI ("ESC [ ... final"), OSC
 * ("ESC ] ... BEL" or "ESC \"), charset designations ("ESC ( B", which
 * cargo's colours end with) and other two-byte escapes.  A malformed
 * sequence ends at a line break so it cannot swallow the next line.
 */
static size_t strip_ansi(const char *in, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (in[i] != '\033') {
			out[o++] = in[i++];
			continue;
		}
		if (++i == n)
			break;
		if (in[i] == '[') {
			for (i++; i < n && in[i] >= 0x20 && in[i] < 0x40; i++)
				;
			if (i < n && in[i] >= 0x40 && in[i] <= 0x7e)
				i++;
		} else if (in[i] == ']') {
			for (i++; i < n && in[i] != '\a' && in[i] != '\n'; i++)
				if (in[i] == '\033' && i + 1 < n && in[i + 1] == '\\') {
					i++;
					break;
				}
			if (i < n && in[i] != '\n')
				i++;
		} else if (strchr("()*+", in[i]) && in[i] != '\0') {
			i += i + 1 < n && in[i + 1] != '\n' ? 2 : 1;
		} else if (in[i] != '\n') {
			i++;
		}
	}
	return o;
}

static void scan_line(struct scan *sc, const char *s, size_t n)
{
	if (unittest_line(sc, s, n))
		return;
	pytest_line(sc, s, n);
	cargo_line(sc, s, n);
	jest_line(sc, s, n);
	vitest_line(sc, s, n);
	mocha_line(sc, s, n);
	ctest_line(sc, s, n);
	go_line(sc, s, n);
	gojson_line(sc, s, n);
	tap_line(sc, s, n);
	plain_line(sc, s, n);
}

/* Go and ctest facts that are only complete at the end of the output. */
static void scan_finish(struct scan *sc)
{
	struct tally *go = &sc->t[R_GO], *ct = &sc->t[R_CTEST], *tap;

	go->seen = sc->go_run;
	if (!sc->ct_list_seen && ct->seen) {
		ct->skipped += sc->ct_line_skip + sc->ct_line_disabled;
		ct->passed -= sc->ct_line_skip;
	}
	ct->passed = clamp(ct->passed);
	/* A lone "1..5" in prose is not a TAP stream: it needs test points
	 * or the explicit empty plan. */
	tap = &sc->t[R_TAP];
	tap->seen = sc->tap_head &&
		    (sc->tap_zero || tap->passed + tap->failed + tap->skipped);
}

void testcount_take(struct testcount *tc, const struct tally *t, const char *name)
{
	struct testcount one = TESTCOUNT_INIT;

	one.known = 1;
	one.runner = name;
	one.passed = t->passed;
	one.failed = t->failed;
	one.skipped = t->skipped;
	one.executed = t->passed + t->failed;
	testcount_add(tc, &one);
}

int testcount_parse(const char *out, size_t len, struct testcount *tc)
{
	struct scan sc;
	char *txt = xmalloc(len + 1);
	size_t n = strip_ansi(out, len, txt), i, start = 0;
	int r;

	memset(&sc, 0, sizeof(sc));
	for (i = 0; i <= n; i++) {
		if (i < n && txt[i] != '\n' && txt[i] != '\r')
			continue;
		scan_line(&sc, txt + start, i - start);
		/* "\r\n" is one break; a lone "\r" (progress redraw) too. */
		if (i + 1 < n && txt[i] == '\r' && txt[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	free(txt);
	scan_finish(&sc);

	/* Precedence (see testcount.h): a wrapper's total over the inner
	 * fragments it replays, a runner's own summary over generic lines. */
	*tc = (struct testcount)TESTCOUNT_INIT;
	if (sc.t[R_CTEST].seen) {
		testcount_take(tc, &sc.t[R_CTEST], runner_name[R_CTEST]);
		return 1;
	}
	for (r = 0; r < R_SPECIFIC_END; r++)
		if (sc.t[r].seen)
			testcount_take(tc, &sc.t[r], runner_name[r]);
	if (!tc->known && sc.t[R_PLAIN].seen)
		testcount_take(tc, &sc.t[R_PLAIN], runner_name[R_PLAIN]);
	if (!tc->known && sc.t[R_TAP].seen)
		testcount_take(tc, &sc.t[R_TAP], runner_name[R_TAP]);
	if (!tc->known && sc.go_pkg)
		tc->runner = runner_name[R_GO];
	return tc->known;
}

/* testcount_add may be called any number of times: saturate, never wrap. */
#define SUM_MAX (4 * NUM_MAX * NUM_MAX)

static long add_sat(long a, long b)
{
	return a > SUM_MAX - b ? SUM_MAX : a + b;
}

void testcount_add(struct testcount *a, const struct testcount *b)
{
	if (!b->known)
		return;
	if (!a->known)
		a->runner = b->runner;
	else if (a->runner != b->runner &&
		 (!a->runner || !b->runner || strcmp(a->runner, b->runner)))
		a->runner = "several";
	a->known = 1;
	a->executed = add_sat(a->executed, b->executed);
	a->passed = add_sat(a->passed, b->passed);
	a->failed = add_sat(a->failed, b->failed);
	a->skipped = add_sat(a->skipped, b->skipped);
}

void testcount_describe(const struct testcount *tc, struct buf *out)
{
	if (!tc->known && tc->runner && !strcmp(tc->runner, "go")) {
		buf_adds(out, "go: no per-test counts without go test -v or "
			      "-json, so no executed-test floor");
		return;
	}
	if (!tc->known) {
		buf_adds(out, "no recognised test runner");
		return;
	}
	buf_addf(out, "%s: %ld executed (%ld passed, %ld failed), %ld skipped",
		 tc->runner ? tc->runner : "tests", tc->executed, tc->passed, tc->failed,
		 tc->skipped);
}
