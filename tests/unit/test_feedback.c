/* Unit tests for src/feedback.c: condensing, key lines, locations, excerpts. */
#include "unit.h"
#include "judge/feedback.h"
#include "judge/gate.h"
#include "base/utf8.h"

#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARK_MAX 48	/* the bound documented in feedback.c */

static char tmpl[] = "/tmp/loopgate-feedback.XXXXXX";
static char *top;

static void put(const char *rel, const char *content, size_t len)
{
	char *p = xasprintf("%s/%s", top, rel);
	FILE *f = fopen(p, "wb");
	if (!f) {
		perror(p);
		exit(2);
	}
	fwrite(content, 1, len, f);
	fclose(f);
	free(p);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *w)
{
	(void)st; (void)flag; (void)w;
	return remove(p);
}

static int is_marker(const char *p, size_t n, size_t *count)
{
	char tail[32];
	unsigned long long c;
	if (n < 6 || memcmp(p, "[... ", 5) || p[n - 1] != '\n')
		return 0;
	if (sscanf(p, "[... %llu lines elided ...%31[]]", &c, tail) != 2)
		return 0;
	*count = (size_t)c;
	return 1;
}

/* 1 when o is the input line i, or that line with its middle replaced by
 * "[... N bytes elided ...]" where N is exactly what is missing. */
static int same_or_cut(const char *i, size_t in, const char *o, size_t on)
{
	const char *m = memmem(o, on, "[... ", 5), *e;
	unsigned long long cut;
	size_t head, tail;

	if (in == on && !memcmp(i, o, in))
		return 1;
	if (!m || sscanf(m, "[... %llu bytes elided ...]", &cut) != 1)
		return 0;
	e = memmem(m, on - (size_t)(m - o), "elided ...]", 11);
	if (!e)
		return 0;
	e += 11;
	head = (size_t)(m - o);
	tail = on - (size_t)(e - o);
	return head + tail + cut == in && !memcmp(i, o, head) &&
		!memcmp(i + in - tail, e, tail);
}

/*
 * 1 when out is in, with runs of dropped lines replaced by markers whose
 * counts are exact (no two markers in a row, no empty runs) and over-long
 * lines cut in the middle.  *content gets the bytes that are not marker
 * lines.
 */
static int is_condensation(const char *in, size_t inlen, const char *out,
			   size_t outlen, size_t *content)
{
	size_t i = 0, o = 0, skip = 0;
	int prev_marker = 0;

	*content = 0;
	while (o < outlen) {
		const char *nl = memchr(out + o, '\n', outlen - o);
		size_t n = nl ? (size_t)(nl - out - o) + 1 : outlen - o;
		const char *inl = memchr(in + i, '\n', inlen - i);
		size_t k, ilen = inl ? (size_t)(inl - in - i) + 1 : inlen - i;
		if (is_marker(out + o, n, &skip)) {
			if (prev_marker || !skip)
				return 0;
			for (k = 0; k < skip; k++) {
				if (i >= inlen)
					return 0;
				inl = memchr(in + i, '\n', inlen - i);
				i = inl ? (size_t)(inl - in) + 1 : inlen;
			}
			prev_marker = 1;
		} else {
			if (i >= inlen || !same_or_cut(in + i, ilen, out + o, n))
				return 0;
			i += ilen;
			*content += n;
			prev_marker = 0;
		}
		o += n;
	}
	return i == inlen;
}

/* ---- UTF-8 ---- */

/* What JSON takes as a string: the prompt is refused before any request
 * when it is not. */
TEST(utf8_valid_table)
{
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
		{"", 1},
		{"plain ascii", 1},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 1},
		{"\xc3", 0},		  /* cut sequence */
		{"\xc0\xaf", 0},	  /* overlong */
		{"\xed\xa0\x80", 0},	  /* surrogate */
		{"\xf4\x90\x80\x80", 0}, /* past U+10FFFF */
		{"ok \xff then", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(utf8_valid(cases[i].s), cases[i].ok);
	CHECK_INT(utf8_valid(NULL), 1);
}

TEST(utf8_clean)
{
	struct buf b = BUF_INIT;
	static const char in[] = "a\xff" "b\0c\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
		"\xC0\xAF\xED\xA0\x80z\xE2\x82";
	utf8_clean(in, sizeof(in) - 1, &b);
	CHECK_STR(b.s, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xC3\xA9\xE2\x82\xAC"
		  "\xF0\x9F\x98\x80" "\xEF\xBF\xBD\xEF\xBF\xBD"
		  "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "z\xEF\xBF\xBD");
	buf_release(&b);
}

TEST(is_binary)
{
	struct buf b = BUF_INIT;
	size_t i;
	CHECK_INT(feedback_is_binary("plain text\n", 11), 0);
	CHECK_INT(feedback_is_binary("caf\xC3\xA9\n", 6), 0);
	CHECK_INT(feedback_is_binary("a\0b", 3), 1);
	/* one latin-1 byte in 40 is text with a glitch; every other is not */
	for (i = 0; i < 40; i++)
		buf_addch(&b, i == 7 ? '\xe9' : 'x');
	CHECK_INT(feedback_is_binary(b.s, b.len), 0);
	buf_reset(&b);
	for (i = 0; i < 40; i++)
		buf_addch(&b, i % 2 ? '\x9c' : 'x');
	CHECK_INT(feedback_is_binary(b.s, b.len), 1);
	buf_release(&b);
}

/* ---- condense ---- */

TEST(condense_fits_is_identical)
{
	struct buf b = BUF_INIT;
	const char *in = "line one\n  trailing spaces   \nno newline at end";
	CHECK_INT(feedback_condense(in, strlen(in), strlen(in), &b), 0);
	CHECK_INT(b.len, strlen(in));
	CHECK_STR(b.s, in);
	buf_reset(&b);
	feedback_condense("a\xff\n", 3, 100, &b);
	CHECK_STR(b.s, "a\xEF\xBF\xBD\n");
	buf_release(&b);
}

/* 1000 noise lines of 24 bytes; errors at lines 500 and 700 (1-based). */
static void build_big(struct buf *in)
{
	int i;
	for (i = 1; i <= 1000; i++) {
		if (i == 500)
			buf_adds(in, "src/a.c:12:5: error: 'y' undeclared\n");
		else if (i == 700)
			buf_adds(in, "FAILED tests/test_x.py::test_one\n");
		else
			buf_addf(in, "compiling unit %04d ...\n", i);
	}
}

TEST(condense_keeps_key_lines_and_counts_gaps)
{
	struct buf in = BUF_INIT, out = BUF_INIT, want = BUF_INIT;
	size_t content;
	int i;
	build_big(&in);
	CHECK_INT(feedback_condense(in.s, in.len, 4000, &out), 0);
	/* head: 1000 bytes = 41 lines; tail: 1400 bytes = 58 lines */
	for (i = 1; i <= 41; i++)
		buf_addf(&want, "compiling unit %04d ...\n", i);
	buf_adds(&want, "[... 458 lines elided ...]\n"
		 "src/a.c:12:5: error: 'y' undeclared\n"
		 "[... 199 lines elided ...]\n"
		 "FAILED tests/test_x.py::test_one\n"
		 "[... 242 lines elided ...]\n");
	for (i = 943; i <= 1000; i++)
		buf_addf(&want, "compiling unit %04d ...\n", i);
	CHECK_STR(out.s, want.s);
	CHECK(out.len <= 4000);
	CHECK(is_condensation(in.s, in.len, out.s, out.len, &content));
	buf_release(&in);
	buf_release(&out);
	buf_release(&want);
}

TEST(condense_prefers_keys_near_head_and_tail)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	size_t content;
	int i;
	/* 300 lines, every one in the middle a key line: not all fit */
	for (i = 1; i <= 300; i++)
		buf_addf(&in, "t.c:%d: error: e%03d\n", i, i);
	feedback_condense(in.s, in.len, 2000, &out);
	CHECK(out.len <= 2000);
	CHECK(is_condensation(in.s, in.len, out.s, out.len, &content));
	/* the lines right after the head and right before the tail are kept,
	 * the very middle is not */
	CHECK_CONTAINS(out.s, "e035\n");
	CHECK_CONTAINS(out.s, "e260\n");
	CHECK(!strstr(out.s, "e150\n"));
	buf_release(&in);
	buf_release(&out);
}

TEST(condense_bound_holds)
{
	static const size_t maxes[] = { 10, 50, 100, 191, 192, 500, 1000, 3333 };
	unsigned long seed = 12345;
	size_t m, trial;
	for (trial = 0; trial < 20; trial++) {
		struct buf in = BUF_INIT;
		int i, nlines = 50 + (int)(trial * 37 % 400);
		for (i = 0; i < nlines; i++) {
			int len;
			seed = seed * 1103515245 + 12345;
			len = (int)((seed >> 16) % 120);
			if ((seed >> 8) % 5 == 0)
				buf_addf(&in, "x/f%d.c:%d: error: ", i, i + 1);
			while (len--)
				buf_addch(&in, (char)('a' + len % 26));
			if (trial % 3 || i + 1 < nlines)
				buf_addch(&in, '\n');
		}
		for (m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
			struct buf out = BUF_INIT;
			size_t content = 0, lim = maxes[m];
			feedback_condense(in.s, in.len, lim, &out);
			CHECK(is_condensation(in.s, in.len, out.s, out.len, &content));
			CHECK(content <= lim);
			CHECK(out.len <= (lim >= 4 * MARK_MAX ? lim : lim + MARK_MAX));
			/* never ends mid-line unless the input did */
			CHECK(in.s[in.len - 1] != '\n' || out.s[out.len - 1] == '\n');
			buf_release(&out);
		}
		buf_release(&in);
	}
}

TEST(condense_giant_line)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	size_t i, a = 0, z = 0;
	unsigned long long n = 0;
	const char *m;
	for (i = 0; i < 50000; i++)
		buf_addch(&in, 'a');
	for (i = 0; i < 50000; i++)
		buf_addch(&in, 'z');
	buf_addch(&in, '\n');
	feedback_condense(in.s, in.len, 1000, &out);
	CHECK(out.len <= 1000);
	CHECK(out.len > 900);
	m = strstr(out.s, "[... ");
	CHECK(m != NULL);
	if (m) {
		CHECK(sscanf(m, "[... %llu bytes elided ...]", &n) == 1);
		a = strspn(out.s, "a");
		z = strspn(strchr(m, ']') + 1, "z");
		CHECK_INT(a, (size_t)(m - out.s));
		CHECK_INT(a + z + n, 100000);
	}
	CHECK(out.s[out.len - 1] == '\n' && out.s[out.len - 2] == 'z');
	/* among other lines it is cut to a quarter of the budget */
	buf_reset(&out);
	buf_sets(&in, "first\n");
	for (i = 0; i < 5000; i++)
		buf_addch(&in, 'q');
	buf_adds(&in, "\nlast\n");
	feedback_condense(in.s, in.len, 1000, &out);
	CHECK(!strncmp(out.s, "first\nqqq", 9));
	CHECK(out.len <= 1000 && out.len > 250);
	CHECK_CONTAINS(out.s, "bytes elided ...]qqq");
	CHECK(out.len >= 5 && !strcmp(out.s + out.len - 5, "last\n"));
	buf_release(&in);
	buf_release(&out);
}

TEST(condense_cleans_invalid_utf8)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	int i;
	for (i = 0; i < 200; i++)
		buf_adds(&in, "noise \xff\xfe line\n");
	buf_add(&in, "last line with NUL \0 here", 25);
	feedback_condense(in.s, in.len, 600, &out);
	CHECK(!strstr(out.s, "\xff"));
	CHECK_CONTAINS(out.s, "noise \xEF\xBF\xBD\xEF\xBF\xBD line\n");
	CHECK(out.len <= 600);
	buf_release(&in);
	buf_release(&out);
}

/* ---- key lines ---- */

TEST(key_lines)
{
	static const char *const yes[] = {
		"src/a.c:5:16: error: 'y' undeclared",
		"main.c:3: warning: unused variable",	/* it has a location */
		"error: aborting due to 1 previous error",
		"--- FAIL: TestParse (0.00s)",
		"FAILED tests/test_x.py::test_one - assert 1 == 2",
		"Traceback (most recent call last):",
		"ZeroDivisionError: division by zero",
		"java.lang.IllegalStateException: boom",
		"panic: runtime error: index out of range",
		"fatal: not a git repository",
		"not ok 3 - parses dates",
		"    assert x == 2",
		"1 failed, 2 passed in 0.03s",
		"  File \"/abs/x.py\", line 3, in f",
		"  --> src/main.rs:4:5",
		"src/a.ts(3,7): error TS2322",
		"    at f (/tmp/fx/x.js:1:22)",
	};
	static const char *const no[] = {
		"warning: unused import",
		"12:30:45 server started",
		"listening on http://localhost:8080/ and https://example.com:443/x",
		"connected to 10.0.0.1:5432",
		"0 errors, 0 failures",
		"cc -Werror -c a.c",
		"assertEqual is deprecated",
		"stderr was empty",
		"ok 1 - all good",
		"    at Module._compile (node:internal/modules/cjs/loader:1521:14)",
		"took 1.5:20 minutes",
	};
	size_t i;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!feedback_line_is_key(yes[i], strlen(yes[i]))) {
			fprintf(stderr, "not key but should be: %s\n", yes[i]);
			CHECK(0);
		}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (feedback_line_is_key(no[i], strlen(no[i]))) {
			fprintf(stderr, "key but should not be: %s\n", no[i]);
			CHECK(0);
		}
}

/* ---- locations ---- */

struct want { const char *path; long line, col; };

static void check_locations(const char *out, const struct want *w, size_t nw)
{
	struct location *v = NULL;
	size_t n = feedback_locations(out, strlen(out), &v, 100), i;
	CHECK_INT(n, nw);
	for (i = 0; i < n && i < nw; i++) {
		CHECK_STR(v[i].path, w[i].path);
		CHECK_INT(v[i].line, w[i].line);
		CHECK_INT(v[i].col, w[i].col);
	}
	feedback_locations_free(v, n);
}

/* Captured from gcc 12 on this machine (gcc -c src/a.c). */
TEST(locations_gcc)
{
	static const struct want w[] = {
		{ "src/a.c", 4, 17 }, { "src/a.c", 5, 16 },
	};
	check_locations(
		"src/a.c: In function \xE2\x80\x98main\xE2\x80\x99:\n"
		"src/a.c:4:17: warning: initialization of \xE2\x80\x98int\xE2\x80\x99 "
		"from \xE2\x80\x98" "char *\xE2\x80\x99 makes integer from pointer "
		"without a cast [-Wint-conversion]\n"
		"    4 |         int x = \"s\";\n"
		"      |                 ^~~\n"
		"src/a.c:5:16: error: \xE2\x80\x98y\xE2\x80\x99 undeclared (first use "
		"in this function)\n"
		"    5 |         return y;\n"
		"      |                ^\n"
		"src/a.c:5:16: note: each undeclared identifier is reported only "
		"once for each function it appears in\n", w, 2);
}

/* Captured from python 3.11 on this machine. */
TEST(locations_python_traceback)
{
	static const struct want w[] = {
		{ "/tmp/fx/x.py", 4, 0 }, { "/tmp/fx/x.py", 2, 0 },
	};
	check_locations(
		"Traceback (most recent call last):\n"
		"  File \"/tmp/fx/x.py\", line 4, in <module>\n"
		"    f()\n"
		"  File \"/tmp/fx/x.py\", line 2, in f\n"
		"    return 1 / 0\n"
		"           ~~^~~\n"
		"ZeroDivisionError: division by zero\n", w, 2);
}

/* pytest is not installed here: written as pytest 7 prints it. */
TEST(locations_pytest)
{
	static const struct want w[] = { { "tests/test_x.py", 3, 0 } };
	check_locations(
		"    def test_one():\n"
		"        x = 1\n"
		">       assert x == 2\n"
		"E       assert 1 == 2\n"
		"\n"
		"tests/test_x.py:3: AssertionError\n"
		"=========================== short test summary info ============\n"
		"FAILED tests/test_x.py::test_one - assert 1 == 2\n", w, 1);
}

/* go is not installed here: written as go vet / go test print it. */
TEST(locations_go)
{
	static const struct want w[] = {
		{ "./x.go", 7, 2 }, { "x_test.go", 15, 0 },
	};
	check_locations(
		"# example.com/x\n"
		"./x.go:7:2: declared and not used: y\n"
		"--- FAIL: TestX (0.00s)\n"
		"    x_test.go:15: got 1, want 2\n"
		"FAIL\n"
		"FAIL\texample.com/x\t0.003s\n", w, 2);
}

/* Captured from rustc 1.x on this machine. */
TEST(locations_rustc)
{
	static const struct want w[] = { { "main.rs", 2, 18 } };
	check_locations(
		"error[E0308]: mismatched types\n"
		" --> main.rs:2:18\n"
		"  |\n"
		"2 |     let x: i32 = \"a\";\n"
		"  |            ---   ^^^ expected `i32`, found `&str`\n"
		"  |            |\n"
		"  |            expected due to this\n"
		"\n"
		"error: aborting due to 1 previous error\n", w, 1);
}

/* tsc is not installed here: written as tsc prints it (--pretty false). */
TEST(locations_tsc_and_eslint)
{
	static const struct want w[] = {
		{ "src/a.ts", 3, 7 }, { "/home/u/proj/src/b.js", 3, 7 },
		{ "/home/u/proj/src/b.js", 12, 1 },
	};
	check_locations(
		"src/a.ts(3,7): error TS2322: Type 'string' is not assignable to "
		"type 'number'.\n"
		"\n"
		"/home/u/proj/src/b.js\n"
		"   3:7   error  'x' is assigned a value but never used  no-unused-vars\n"
		"  12:1   warning  Unexpected console statement  no-console\n"
		"\n"
		"  99:1   error  this row has no file above it\n"
		"\xE2\x9C\x96 2 problems (1 error, 1 warning)\n", w, 3);
}

/* Captured from node 18 on this machine. */
TEST(locations_node)
{
	/* dedupe by path+line: the second x.js:1 goes, x.js:2 stays */
	static const struct want w2[] = {
		{ "/tmp/fx/x.js", 1, 0 }, { "/tmp/fx/x.js", 2, 1 },
		{ "/abs/m.mjs", 3, 9 },
	};
	check_locations(
		"/tmp/fx/x.js:1\n"
		"function f() { throw new Error(\"boom\"); }\n"
		"               ^\n"
		"\n"
		"Error: boom\n"
		"    at f (/tmp/fx/x.js:1:22)\n"
		"    at Object.<anonymous> (/tmp/fx/x.js:2:1)\n"
		"    at Module._compile (node:internal/modules/cjs/loader:1521:14)\n"
		"    at Module._extensions..js (node:internal/modules/cjs/loader:1623:10)\n"
		"    at file:///abs/m.mjs:3:9\n", w2, 3);
}

/* Captured from javac 17 on this machine. */
TEST(locations_javac)
{
	static const struct want w[] = { { "X.java", 1, 0 } };
	check_locations(
		"X.java:1: error: incompatible types: String cannot be converted "
		"to int\n"
		"public class X { void f() { int a = \"s\"; } }\n"
		"                                    ^\n"
		"1 error\n", w, 1);
}

TEST(locations_cap_and_false_positives)
{
	struct location *v = NULL;
	const char *out = "a.c:1:1: e\nb.c:2: e\nc.c:3: e\n12:30:45 x\n"
		"http://h.com:80/p\n";
	size_t n = feedback_locations(out, strlen(out), &v, 2);
	CHECK_INT(n, 2);
	CHECK_STR(v[1].path, "b.c");
	feedback_locations_free(v, n);
	out = "at 12:30:45 on 2024-01-02T10:11:12 from 10.0.0.1:8080 see "
		"https://example.com:8443/x and file.c:0: and a.c:12abc\n";
	n = feedback_locations(out, strlen(out), &v, 10);
	CHECK_INT(n, 0);
	feedback_locations_free(v, n);
}

/* ---- excerpts ---- */

TEST(excerpts_number_mark_merge)
{
	struct buf b = BUF_INIT, src = BUF_INIT;
	struct location loc[8];
	char *abs = NULL, *root = NULL;
	int i;
	for (i = 1; i <= 30; i++)
		buf_addf(&src, "line %d\n", i);
	root = xasprintf("%s/tree", top);
	CHECK(mkdir(root, 0755) == 0);
	put("tree/f.c", src.s, src.len);
	put("tree/bin.dat", "x\0y\n", 4);
	put("outside.c", "secret\n", 7);
	abs = xasprintf("%s/f.c", root);
	{
		char *l = xasprintf("%s/tree/link.c", top), *t =
			xasprintf("%s/outside.c", top);
		CHECK(symlink(t, l) == 0);
		free(l);
		free(t);
	}
	loc[0] = (struct location){ "f.c", 10, 0 };
	loc[1] = (struct location){ "../outside.c", 1, 0 };
	loc[2] = (struct location){ "link.c", 1, 0 };
	loc[3] = (struct location){ "bin.dat", 1, 0 };
	loc[4] = (struct location){ "./f.c", 12, 3 };
	loc[5] = (struct location){ abs, 29, 0 };
	loc[6] = (struct location){ "missing.c", 1, 0 };
	loc[7] = (struct location){ "f.c", 99, 0 };
	feedback_excerpts(root, loc, 8, 2, 10000, &b);
	CHECK_STR(b.s,
		"f.c:10,12\n"
		"   8 | line 8\n"
		"   9 | line 9\n"
		"> 10 | line 10\n"
		"  11 | line 11\n"
		"> 12 | line 12\n"
		"  13 | line 13\n"
		"  14 | line 14\n"
		"\n"
		"f.c:29\n"
		"  27 | line 27\n"
		"  28 | line 28\n"
		"> 29 | line 29\n"
		"  30 | line 30\n");
	/* the cap: only whole excerpts, and stop at the first that does not fit */
	buf_reset(&b);
	feedback_excerpts(root, loc, 8, 2, 120, &b);
	CHECK_INT(b.len, 113);
	CHECK(!strncmp(b.s, "f.c:10,12\n", 10));
	CHECK(!strstr(b.s, "f.c:29"));
	buf_reset(&b);
	loc[0] = (struct location){ "f.c", 1, 0 };
	feedback_excerpts(root, loc, 1, 0, 100, &b);
	CHECK_STR(b.s, "f.c:1\n> 1 | line 1\n");
	free(abs);
	free(root);
	buf_release(&b);
	buf_release(&src);
}

/* gate_program_missing and gate_module_missing on an output and exit code:
 * what dash, bash and Python print */
static int scan(int (*fn)(const struct gate_outcome *, char *, size_t), const char *out,
		int code, char *name)
{
	struct gate_outcome g = {.status = PROC_EXITED, .exit_code = code};
	int r;
	buf_init(&g.output, 0);
	buf_adds(&g.output, out);
	r = fn(&g, name, 32);
	buf_release(&g.output);
	return r;
}
#define missing(out, code, name)   scan(gate_program_missing, out, code, name)
#define no_module(out, code, name) scan(gate_module_missing, out, code, name)

TEST(gate_program_missing)
{
	char name[32] = "";
	CHECK_INT(missing("sh: 1: nosuchtool: not found\n", 127, name), 1);
	CHECK_STR(name, "nosuchtool");
	CHECK_INT(missing("building...\nbash: line 1: go: command not found\n", 127, name), 1);
	CHECK_STR(name, "go");
	CHECK_INT(missing("/bin/sh: 1: pytest: not found", 127, name), 1);
	CHECK_STR(name, "pytest");
	/* a path in the tree: the actor may create it */
	CHECK_INT(missing("sh: 1: ./t: not found\n", 127, name), 0);
	CHECK_INT(missing("sh: 1: bin/run: not found\n", 127, name), 0);
	/* not the shell's 127, or no such line */
	CHECK_INT(missing("sh: 1: nosuchtool: not found\n", 1, name), 0);
	CHECK_INT(missing("test failed: expected 5\n", 127, name), 0);
	CHECK_INT(missing("error: file not found\n", 127, name), 0);
	CHECK_INT(missing("", 127, name), 0);
}

TEST(gate_module_missing)
{
	char name[32] = "";
	CHECK_INT(no_module("/usr/bin/python3: No module named pytest\n", 1, name), 1);
	CHECK_STR(name, "pytest");
	CHECK_INT(no_module("x\n/root/.pyenv/versions/3.11.7/bin/python3.11: No module named mypy\n",
			    1, name), 1);
	CHECK_STR(name, "mypy");
	/* the code's own import error quotes the name: not the -m case */
	CHECK_INT(no_module("ModuleNotFoundError: No module named 'calc'\n", 1, name), 0);
	/* not Python, or a passing gate */
	CHECK_INT(no_module("node: No module named x\n", 1, name), 0);
	CHECK_INT(no_module("/usr/bin/python3: No module named pytest\n", 0, name), 0);
}

int main(void)
{
	top = mkdtemp(tmpl);
	if (!top) {
		perror("mkdtemp");
		return 2;
	}
	RUN(utf8_valid_table);
	RUN(utf8_clean);
	RUN(is_binary);
	RUN(condense_fits_is_identical);
	RUN(condense_keeps_key_lines_and_counts_gaps);
	RUN(condense_prefers_keys_near_head_and_tail);
	RUN(condense_bound_holds);
	RUN(condense_giant_line);
	RUN(condense_cleans_invalid_utf8);
	RUN(key_lines);
	RUN(locations_gcc);
	RUN(locations_python_traceback);
	RUN(locations_pytest);
	RUN(locations_go);
	RUN(locations_rustc);
	RUN(locations_tsc_and_eslint);
	RUN(locations_node);
	RUN(locations_javac);
	RUN(locations_cap_and_false_positives);
	RUN(excerpts_number_mark_merge);
	RUN(gate_program_missing);
	RUN(gate_module_missing);
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return unit_done();
}
