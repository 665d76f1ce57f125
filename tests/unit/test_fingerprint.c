/*
 * Unit tests for src/fingerprint.c: normalisation rule by rule, failing
 * test ids per runner, and fingerprints that must (not) match.
 *
 * Outputs under fixtures/fingerprint/ were captured from real tools, each
 * run twice (see the README there); the samples written inline here are
 * hand-written from the runners' documented formats (jest, vitest, mocha,
 * googletest, nextest, older unittest, pytest's xdist and collection
 * errors) and say so.
 */
#include "unit.h"
#include "judge/fingerprint.h"

#include <stdlib.h>

/* ---- helpers ------------------------------------------------------------ */

static char *norm(const char *s)
{
	struct buf b = BUF_INIT;

	fingerprint_normalise(s, strlen(s), &b);
	return buf_detach(&b, NULL);
}

/* 1 when s normalises to want; says what it got otherwise. */
static int norm_is(const char *s, const char *want)
{
	char *got = norm(s);
	int ok = !strcmp(got, want);

	if (!ok)
		fprintf(stderr, "  normalise(\"%s\")\n    is \"%s\"\n    want \"%s\"\n",
			s, got, want);
	free(got);
	return ok;
}

static char *fp(int gate, const char *status, const char *out, int *count)
{
	char hex[65] = "";
	int n = fingerprint_gate(gate, status, out, strlen(out), hex);

	if (count)
		*count = n;
	return xstrdup(hex);
}

/* 1 when the two outputs fingerprint alike (same gate and status). */
static int same_fp(const char *a, const char *b)
{
	char *x = fp(0, "exit 1", a, NULL), *y = fp(0, "exit 1", b, NULL);
	int same = !strcmp(x, y);

	free(x);
	free(y);
	return same;
}

static struct buf fixture(const char *name)
{
	struct buf b = BUF_INIT;
	char *p = xasprintf("fixtures/fingerprint/%s", name);

	if (buf_read_file(&b, p) < 0) {
		fprintf(stderr, "cannot read %s (run from tests/)\n", p);
		exit(2);
	}
	free(p);
	return b;
}

/* 1 when out names exactly want[0..n) as failing tests, in that order. */
static int ids_are(const char *out, size_t len, const char *const *want,
		   size_t n)
{
	char **ids;
	size_t got = fingerprint_failed_tests(out, len, &ids, 100), i;
	int ok = got == n;

	for (i = 0; ok && i < n; i++)
		ok = !strcmp(ids[i], want[i]);
	if (!ok) {
		fprintf(stderr, "  ids: got %zu, want %zu\n", got, n);
		for (i = 0; i < got; i++)
			fprintf(stderr, "    got  [%s]\n", ids[i]);
		for (i = 0; i < n; i++)
			fprintf(stderr, "    want [%s]\n", want[i]);
	}
	fingerprint_free_list(ids, got);
	return ok;
}

#define IDS(out, ...) do { static const char *const w_[] = { __VA_ARGS__ }; \
	CHECK(ids_are(out, strlen(out), w_, sizeof(w_) / sizeof(w_[0]))); \
	} while (0)
#define NO_IDS(out) CHECK(ids_are(out, strlen(out), NULL, 0))

static void check_fixture_ids(const char *name, const char *const *want,
			      size_t n)
{
	struct buf b = fixture(name);

	if (!ids_are(b.s, b.len, want, n)) {
		fprintf(stderr, "  in fixture %s\n", name);
		unit_cur_failed = 1;
	}
	buf_release(&b);
}

#define FIXTURE_IDS(name, ...) do { static const char *const w_[] = { __VA_ARGS__ }; \
	check_fixture_ids(name, w_, sizeof(w_) / sizeof(w_[0])); } while (0)

/* ---- normalisation, one rule at a time ---------------------------------- */

TEST(normalise_addresses)
{
	CHECK(norm_is("<object object at 0x7f74389a47a0> is not None",
		      "<object object at 0xADDR> is not None"));
	CHECK(norm_is("on address 0x602000000018 at pc 0x7feefa048061",
		      "on address 0xADDR at pc 0xADDR"));
	CHECK(norm_is("handle 0xc00008a6b0", "handle 0xADDR"));
	CHECK(norm_is("region [0x602000000010,0x602000000018)",
		      "region [0xADDR,0xADDR)"));
	/* short hex is a value, not an address */
	CHECK(norm_is("expected 0x1f, got 0x20", "expected 0x1f, got 0x20"));
	CHECK(norm_is("main+0x1d", "main+0x1d"));
	CHECK(norm_is("crc 0x1234567", "crc 0x1234567"));
	CHECK(norm_is("id_0x7f74389a47a0", "id_0x7f74389a47a0"));
}

TEST(normalise_durations)
{
	CHECK(norm_is("--- FAIL: TestAdd (0.00s)", "--- FAIL: TestAdd (<DUR>)"));
	CHECK(norm_is("Ran 4 tests in 0.001s", "Ran 4 tests in <DUR>"));
	CHECK(norm_is("1 failed in 1.23s", "1 failed in <DUR>"));
	CHECK(norm_is("took 12ms", "took <DUR>"));
	CHECK(norm_is("done in 1.5 seconds", "done in <DUR>"));
	CHECK(norm_is("fails (3 ms)", "fails (<DUR>)"));
	CHECK(norm_is("sums (1.233917ms)", "sums (<DUR>)"));
	CHECK(norm_is("***Failed    0.01 sec", "***Failed    <DUR>"));
	CHECK(norm_is("timeout after 1m2.5s", "timeout after <DUR>"));
	CHECK(norm_is("elapsed 1h0m0s", "elapsed <DUR>"));
	CHECK(norm_is("12 \xc2\xb5s", "<DUR>"));
	CHECK(norm_is("  duration_ms: 1.768793", "  duration_ms: <DUR>"));
	CHECK(norm_is("# duration_ms 105.283794", "# duration_ms <DUR>"));
	/* not durations */
	CHECK(norm_is("expected 5, got 6", "expected 5, got 6"));
	CHECK(norm_is("wait 5 s", "wait 5 s"));
	CHECK(norm_is("test_5s.py", "test_5s.py"));
	CHECK(norm_is("version 1.2.3s", "version 1.2.3s"));
	CHECK(norm_is("3 sessions", "3 sessions"));
}

TEST(normalise_tmp_paths)
{
	CHECK(norm_is("  File \"/tmp/tmp.2HiMiHjoo5/test_calc.py\", line 23",
		      "  File \"<TMP>/test_calc.py\", line 23"));
	CHECK(norm_is("No such file: '/tmp/tmp_sr9nwhg/data.txt'",
		      "No such file: '<TMP>/data.txt'"));
	CHECK(norm_is("tmp_path = PosixPath('/tmp/pytest-of-user/pytest-12/test_x0/')",
		      "tmp_path = PosixPath('<TMP>')"));
	CHECK(norm_is("wrote /tmp/pytest-of-root/pytest-0/test_write_2_0/out.txt",
		      "wrote <TMP>/out.txt"));
	CHECK(norm_is("stat /tmp/TestScratch2503085373/001/missing: no such file",
		      "stat <TMP>: no such file"));
	CHECK(norm_is("/var/folders/x1/k2j3/T/tmpq8zz/out.log",
		      "<TMP>/out.log"));
	CHECK(norm_is("in /tmp/tmp23011.", "in <TMP>."));
	CHECK(norm_is("cache /home/u/.cache/tmpab12cd34/x.py:3",
		      "cache /home/u/.cache/<TMP>/x.py:3"));
	CHECK(norm_is("open /srv/tmpq8zz_k1w.json", "open /srv/<TMP>.json"));
	/* not temporary */
	CHECK(norm_is("src/tmp/a.c:3:1", "src/tmp/a.c:3:1"));
	CHECK(norm_is("/home/u/tmpfile.c", "/home/u/tmpfile.c"));
	CHECK(norm_is("cd /tmp", "cd /tmp"));
}

TEST(normalise_times)
{
	CHECK(norm_is("at 2026-11-24T22:25:09.013381684Z, handle",
		      "at <TIME>, handle"));
	CHECK(norm_is("2024-01-02 03:04:05,678 ERROR x", "<TIME> ERROR x"));
	CHECK(norm_is("2024-01-02T03:04:05+02:00 up", "<TIME> up"));
	CHECK(norm_is("2024/11/24 21:32:49 listening", "<TIME> listening"));
	CHECK(norm_is("[12:30:45.123] started", "[<TIME>] started"));
	CHECK(norm_is("in 61.2s (0:01:01)", "in <DUR> (<TIME>)"));
	CHECK(norm_is("built on 2024-11-24", "built on <TIME>"));
	/* line:col stays, and so do things that only look like dates */
	CHECK(norm_is("src/a.c:12:30: error", "src/a.c:12:30: error"));
	CHECK(norm_is("x.py:12:30:45", "x.py:12:30:45"));
	CHECK(norm_is("  12:30  error  no-undef", "  12:30  error  no-undef"));
	CHECK(norm_is("got 2024-13-01", "got 2024-13-01"));
	CHECK(norm_is("1.2.3:10:20:30", "1.2.3:10:20:30"));
}

TEST(normalise_seeds)
{
	CHECK(norm_is("seed=12345", "seed=<SEED>"));
	CHECK(norm_is("Random seed: 123", "Random seed=<SEED>"));
	CHECK(norm_is("rerun with --seed 123", "rerun with --seed=<SEED>"));
	CHECK(norm_is("-seed=123 ok", "-seed=<SEED> ok"));
	CHECK(norm_is("@seed(302934307671667531413257853548643485645)",
		      "@seed=<SEED>"));
	CHECK(norm_is("Using --randomly-seed=3141592",
		      "Using --randomly-seed=<SEED>"));
	CHECK(norm_is("Randomized with seed 48213", "Randomized with seed=<SEED>"));
	CHECK(norm_is("-test.shuffle 1700000000123", "-test.shuffle=<SEED>"));
	/* not seeds */
	CHECK(norm_is("seeded 5 rows", "seeded 5 rows"));
	CHECK(norm_is("PYTHONHASHSEED=0", "PYTHONHASHSEED=0"));
	CHECK(norm_is("seed value missing", "seed value missing"));
}

TEST(normalise_pids)
{
	CHECK(norm_is("killed pid 1234", "killed pid <PID>"));
	CHECK(norm_is("(pid=77) exited", "(pid=<PID>) exited"));
	CHECK(norm_is("==26229==ERROR: AddressSanitizer",
		      "==<PID>==ERROR: AddressSanitizer"));
	CHECK(norm_is("python3[12345]: segfault at 0",
		      "python3[<PID>]: segfault at 0"));
	CHECK(norm_is("Started server process [4242]",
		      "Started server process [<PID>]"));
	CHECK(norm_is("thread 'tests::zero' (23013) panicked at src/lib.rs:5:9:",
		      "thread 'tests::zero' (<PID>) panicked at src/lib.rs:5:9:"));
	/* values in brackets stay */
	CHECK(norm_is("expected [1234] got [1235]", "expected [1234] got [1235]"));
	CHECK(norm_is("a[1234] = 5", "a[1234] = 5"));
	CHECK(norm_is("make[1]: Leaving directory", "make[1]: Leaving directory"));
	CHECK(norm_is("== 5 ==", "== 5 =="));
}

TEST(normalise_run_dir)
{
	CHECK(norm_is("/home/u/p/.loopgate/runs/20261124-213249-00c490/tree/src/a.c:12:5: error",
		      "src/a.c:12:5: error"));
	CHECK(norm_is("File \".loopgate/runs/20261125-080000-abcdef/tree/x.py\", line 3",
		      "File \"x.py\", line 3"));
	/* a repository under /tmp: the run directory wins over <TMP> */
	CHECK(norm_is("/tmp/ci/.loopgate/runs/20261124-213249-00c490/tree/lib/m.go:7",
		      "lib/m.go:7"));
	CHECK(norm_is("cd /r/.loopgate/runs/20261124-213249-00c490/tree && make",
		      "cd . && make"));
	CHECK(norm_is("see .loopgate/runs/20261124-213249-00c490/events.jsonl",
		      "see .loopgate/runs/20261124-213249-00c490/events.jsonl"));
	CHECK(norm_is("docs/x.loopgate/runs/1/tree/a", "docs/x.loopgate/runs/1/tree/a"));
}

TEST(normalise_keeps_content)
{
	CHECK(norm_is("expected 5, got 6", "expected 5, got 6"));
	CHECK(norm_is("AssertionError: 6 != 5", "AssertionError: 6 != 5"));
	CHECK(norm_is("E       assert 3.5999999999999996 == 3",
		      "E       assert 3.5999999999999996 == 3"));
	CHECK(norm_is("src/parse.c:8:16: error: 'm' undeclared",
		      "src/parse.c:8:16: error: 'm' undeclared"));
	CHECK(norm_is("tests/test_x.py::test_a[1-2]", "tests/test_x.py::test_a[1-2]"));
	CHECK(norm_is("", ""));
	/* colour codes are not content */
	CHECK(norm_is("\x1b[31m\xe2\x9c\x95\x1b[39m fails \x1b[2m(3 ms)\x1b[22m",
		      "\xe2\x9c\x95 fails (<DUR>)"));
	/* NUL bytes in binary output pass through */
	{
		struct buf b = BUF_INIT;
		fingerprint_normalise("a\0b", 3, &b);
		CHECK_INT(b.len, 3);
		CHECK(!memcmp(b.s, "a\0b", 3));
		buf_release(&b);
	}
}

/* ---- failing test ids ---------------------------------------------------- */

TEST(ids_unittest)
{
	/* real: python3 -m unittest -v (3.11) */
	FIXTURE_IDS("unittest-1.txt", "test_calc.CalcTest.test_add",
		    "test_calc.CalcTest.test_handle",
		    "test_calc.CalcTest.test_scratch");
	/* hand-written: python < 3.11 names only the class; subTest params */
	IDS("ERROR: test_x (mod.Class)\nFAIL: test_y (pkg.mod.C.test_y) (i=1)\n"
	    "FAIL: test_y (pkg.mod.C.test_y) [odd] (i=3)\n",
	    "mod.Class.test_x", "pkg.mod.C.test_y (i=1)",
	    "pkg.mod.C.test_y [odd] (i=3)");
	NO_IDS("FAIL: something went wrong\nERROR: see log\n"
	       "FAILED (failures=2, errors=1)\n");
}

TEST(ids_pytest)
{
	/* real: pytest -v 7.2.1 */
	FIXTURE_IDS("pytest-1.txt", "tests/test_shop.py::test_total_two",
		    "tests/test_shop.py::test_write[2]",
		    "tests/test_shop.py::test_query");
	/* hand-written: short summary with a spaced parametrize id, xdist,
	 * a collection error, -v */
	IDS("FAILED tests/test_x.py::test_a[a - b] - AssertionError: assert 1 == 2\n"
	    "[gw1] [ 50%] FAILED tests/test_x.py::test_b \n"
	    "ERROR tests/test_y.py - ModuleNotFoundError: No module named 'z'\n"
	    "tests/test_x.py::C::test_c FAILED                [ 75%]\n"
	    "tests/test_x.py::test_d PASSED                   [100%]\n",
	    "tests/test_x.py::test_a[a - b]", "tests/test_x.py::test_b",
	    "tests/test_y.py", "tests/test_x.py::C::test_c");
	NO_IDS("ERROR std::runtime_error thrown\nFAILED to connect to db\n");
}

TEST(ids_go)
{
	/* real: go test -v (go1.19) */
	FIXTURE_IDS("go-1.txt", "TestAdd", "TestTable", "TestTable/zero",
		    "TestTable/one_plus_one", "TestScratch", "example.com/calc");
	/* hand-written: a build failure */
	IDS("# example.com/calc\n./calc.go:3:9: undefined: x\n"
	    "FAIL\texample.com/calc [build failed]\nFAIL\n",
	    "example.com/calc");
}

TEST(ids_cargo)
{
	/* real: cargo test --offline (cargo 1.95.0) */
	FIXTURE_IDS("cargo-1.txt", "tests::scratch", "tests::it_works");
	/* hand-written: a doctest, and cargo-nextest */
	IDS("test src/lib.rs - add (line 5) ... FAILED\n"
	    "test tests::ok ... ok\n"
	    "        FAIL [   0.003s] adder tests::it_works\n"
	    "test result: FAILED. 1 passed; 2 failed\n",
	    "src/lib.rs - add (line 5)", "adder tests::it_works");
}

TEST(ids_node)
{
	/* real: node --test (v20, TAP when not a terminal) and
	 * --test-reporter=spec */
	FIXTURE_IDS("node-1.txt", "adds small numbers", "sums a list",
		    "is empty for nothing", "totals");
	FIXTURE_IDS("node-spec-1.txt", "adds small numbers", "sums a list",
		    "is empty for nothing", "totals");
}

TEST(ids_jest_vitest)
{
	/* hand-written jest output (jest 29 format) */
	IDS(" FAIL  src/sum.test.js\n"
	    "  sum\n"
	    "    \xe2\x9c\x93 adds 1 + 2 to equal 3 (2 ms)\n"
	    "    \xe2\x9c\x95 handles negatives (3 ms)\n"
	    "    \xe2\x9c\x95 rounds\n"
	    "\n"
	    "  \xe2\x97\x8f sum \xe2\x80\xba handles negatives\n"
	    "\n"
	    "    expect(received).toBe(expected) // Object.is equality\n"
	    "  \xe2\x97\x8f Console\n"
	    "\n"
	    "Tests:       2 failed, 1 passed, 3 total\n",
	    "src/sum.test.js", "handles negatives", "rounds",
	    "sum \xe2\x80\xba handles negatives");
	/* hand-written vitest output (vitest 1.x format) */
	IDS(" \xe2\x9d\xaf src/sum.test.ts (2)\n"
	    "   \xe2\x9c\x93 adds\n"
	    "   \xc3\x97 fails 12ms\n"
	    " FAIL  src/sum.test.ts > math > fails\n"
	    "AssertionError: expected 3 to be 4\n",
	    "fails", "src/sum.test.ts > math > fails");
}

TEST(ids_mocha)
{
	/* hand-written mocha spec reporter output (mocha 10 format) */
	IDS("  Array\n"
	    "    #indexOf()\n"
	    "      \xe2\x9c\x94 should return -1 when absent\n"
	    "      1) should return the index\n"
	    "  2) top level\n"
	    "\n"
	    "  1 passing (8ms)\n"
	    "  2 failing\n"
	    "\n"
	    "  1) Array\n"
	    "       #indexOf()\n"
	    "         should return the index:\n"
	    "\n"
	    "      AssertionError [ERR_ASSERTION]: 1 == 2\n"
	    "      + expected - actual\n"
	    "\n"
	    "  2) top level:\n"
	    "     Error: boom\n"
	    "      at Context.<anonymous> (test/a.js:9:11)\n",
	    "Array #indexOf() should return the index", "top level");
	/* a numbered list without mocha's summary is not mocha */
	NO_IDS("Steps:\n  1) build:\n  2) test:\n");
}

TEST(ids_tap)
{
	/* hand-written TAP (TAP 13), plus our own unit.h's "not ok N - name" */
	IDS("TAP version 13\n1..7\n"
	    "ok 1 - parses\n"
	    "not ok 2 - rejects bad input\n"
	    "not ok 3 - later # TODO not written\n"
	    "not ok 4 - network # SKIP offline\n"
	    "not ok 5\n"
	    "not ok 6 - has a \\# hash # in it\n"
	    "  not ok 1 - nested sub\n"
	    "not okay 7\n",
	    "rejects bad input", "#5", "has a \\# hash", "nested sub");
}

TEST(ids_ctest_gtest)
{
	/* real: ctest --output-on-failure (3.25.1) */
	FIXTURE_IDS("ctest-1.txt", "failing_test", "slow_check");
	/* hand-written googletest output (1.12 format) */
	IDS("[ RUN      ] Math.Adds\n"
	    "a_test.cc:9: Failure\n"
	    "[  FAILED  ] Math.Adds (0 ms)\n"
	    "[  FAILED  ] Param/Round.Trip/1, where GetParam() = 4 (1 ms)\n"
	    "[  FAILED  ] 2 tests, listed below:\n"
	    "[  FAILED  ] Math.Adds\n",
	    "Math.Adds", "Param/Round.Trip/1");
}

TEST(ids_generic_and_none)
{
	IDS("FAIL test_foo\nFAILED: see above\nFAIL some words here\n"
	    "FAILED (errors=1)\nFAIL [x] y\n", "test_foo");
	/* gcc errors name locations, not tests */
	{
		struct buf b = fixture("gcc.txt");
		CHECK(ids_are(b.s, b.len, NULL, 0));
		buf_release(&b);
	}
	NO_IDS("");
	NO_IDS("everything is fine\n");
}

TEST(ids_dedupe_ansi_and_max)
{
	const char *out = "--- FAIL: TestB (0.00s)\n--- FAIL: TestA (0.01s)\n"
		"--- FAIL: TestB (0.02s)\n\x1b[31m--- FAIL: \x1b[0mTestC\r\n";
	char **ids;
	size_t n;

	IDS(out, "TestB", "TestA", "TestC");
	n = fingerprint_failed_tests(out, strlen(out), &ids, 2);
	CHECK_INT(n, 2);
	CHECK_STR(ids[1], "TestA");
	fingerprint_free_list(ids, n);
	n = fingerprint_failed_tests(out, strlen(out), &ids, 0);
	CHECK_INT(n, 0);
	fingerprint_free_list(ids, n);
}

/* ---- fingerprints --------------------------------------------------------- */

/* Each real tool ran twice on the same code: timings, addresses, temporary
 * directories, PIDs and timestamps differ, the fingerprint must not. */
TEST(fp_real_reruns_match)
{
	static const char *const tools[] = {
		"unittest", "pytest", "go", "cargo", "node", "node-spec",
		"ctest", "asan",
	};
	size_t t;

	for (t = 0; t < sizeof(tools) / sizeof(tools[0]); t++) {
		char *n1 = xasprintf("%s-1.txt", tools[t]);
		char *n2 = xasprintf("%s-2.txt", tools[t]);
		struct buf a = fixture(n1), b = fixture(n2);
		char h1[65], h2[65];
		int c1 = fingerprint_gate(0, "exit 1", a.s, a.len, h1);
		int c2 = fingerprint_gate(0, "exit 1", b.s, b.len, h2);
		if (a.len == b.len && !memcmp(a.s, b.s, a.len)) {
			fprintf(stderr, "  %s: the two runs are identical\n", tools[t]);
			unit_cur_failed = 1;
		}
		if (c1 <= 0 || c1 != c2 || strcmp(h1, h2)) {
			fprintf(stderr, "  %s: %d %s vs %d %s\n", tools[t], c1, h1,
				c2, h2);
			unit_cur_failed = 1;
		}
		free(n1);
		free(n2);
		buf_release(&a);
		buf_release(&b);
	}
}

TEST(fp_format_and_count)
{
	struct buf b = fixture("gcc.txt");
	char hex[65];
	int n = fingerprint_gate(2, "exit 1", b.s, b.len, hex), i;

	/* src/parse.c lines 5, 6, 8, 9 */
	CHECK_INT(n, 4);
	CHECK_INT(strlen(hex), 64);
	for (i = 0; i < 64; i++)
		CHECK((hex[i] >= '0' && hex[i] <= '9') ||
		      (hex[i] >= 'a' && hex[i] <= 'f'));
	buf_release(&b);
}

/* One failure, written with every volatile part varied. */
static const char tmpl_a[] =
	"=== RUN   TestParse\n"
	"2026-11-24T21:32:49.123Z /home/u/p/.loopgate/runs/20261124-213249-00c490/tree/parse_test.go:12: "
	"got 6, want 5 (obj 0x7ffd5c3a1b20, dir /tmp/TestParse1234/001, seed=41, pid 811)\n"
	"--- FAIL: TestParse (0.01s)\n"
	"FAIL\texample.com/p\t0.004s\n";
static const char tmpl_b[] =
	"=== RUN   TestParse\n"
	"2026-11-25T08:01:02.999Z /srv/ci/.loopgate/runs/20261125-080102-ffe001/tree/parse_test.go:12: "
	"got 6, want 5 (obj 0x7f0011223344, dir /tmp/TestParse98765/001, seed=977, pid 15)\n"
	"--- FAIL: TestParse (1.52s)\n"
	"FAIL\texample.com/p\t1.571s\n";

TEST(fp_volatile_parts_ignored)
{
	char *a, *b;
	int n;

	CHECK(same_fp(tmpl_a, tmpl_b));
	a = fp(0, "exit 1", tmpl_a, &n);
	CHECK_INT(n, 3);	/* TestParse, example.com/p, parse_test.go:12 */
	b = fp(0, "exit 1", "--- FAIL: TestParse (0.00s)\nparse_test.go:12: x\n"
	       "FAIL\texample.com/p\t0.1s\n", NULL);
	CHECK_STR(a, b);	/* absolute in the run's tree == relative */
	free(a);
	free(b);
	/* the same, through the fallback: no ids, no locations */
	CHECK(same_fp("[2024-01-02 03:04:05] check totals failed after 1.2s "
		      "(seed 4412, tmp /tmp/tmpa81kx0q2)\n",
		      "[2024-01-03 13:14:15] check totals failed after 0.9s "
		      "(seed 9, tmp /tmp/tmp0ppz3k1_)\n"));
}

TEST(fp_differences_count)
{
	const char *base = "--- FAIL: TestParse (0.01s)\nparse_test.go:12: got 6\n";
	char *x = fp(0, "exit 1", base, NULL), *y;

	/* a different failing test */
	CHECK(!same_fp(base, "--- FAIL: TestLex (0.01s)\nparse_test.go:12: got 6\n"));
	/* one more failing test */
	CHECK(!same_fp(base, "--- FAIL: TestParse (0.01s)\n--- FAIL: TestLex (0.01s)\n"
		       "parse_test.go:12: got 6\n"));
	/* a different location */
	CHECK(!same_fp(base, "--- FAIL: TestParse (0.01s)\nparse_test.go:13: got 6\n"));
	CHECK(!same_fp(base, "--- FAIL: TestParse (0.01s)\nlex_test.go:12: got 6\n"));
	/* a different gate, a different status */
	y = fp(1, "exit 1", base, NULL);
	CHECK(strcmp(x, y));
	free(y);
	y = fp(0, "killed by signal 9", base, NULL);
	CHECK(strcmp(x, y));
	free(y);
	y = fp(0, NULL, base, NULL);
	CHECK(strcmp(x, y));
	free(y);
	free(x);
}

/* Assertion values: kept by normalisation, so they count wherever the
 * output itself is hashed; with ids or locations only those count. */
TEST(fp_assertion_values)
{
	int n;
	char *x = fp(0, "exit 1", "check totals: expected 5, got 6\n", &n);
	char *y = fp(0, "exit 1", "check totals: expected 5, got 7\n", NULL);

	CHECK_INT(n, 0);
	CHECK(strcmp(x, y));
	free(x);
	free(y);
	CHECK(!same_fp("FAIL: total.sh\nexpected 0x1f, got 0x20\n",
		       "FAIL: total.sh\nexpected 0x1f, got 0x21\n"));
	/* the same test failing at the same line with another value is the
	 * same stall (by design: the set is tests and locations) */
	CHECK(same_fp("--- FAIL: TestAdd (0.00s)\n    calc_test.go:12: got 6, want 5\n",
		      "--- FAIL: TestAdd (0.00s)\n    calc_test.go:12: got 7, want 5\n"));
}

TEST(fp_order_does_not_matter)
{
	CHECK(same_fp("test a::one ... FAILED\ntest a::two ... FAILED\n"
		      "panicked at src/a.rs:3:5\npanicked at src/b.rs:9:1\n",
		      "test a::two ... FAILED\ntest a::one ... FAILED\n"
		      "panicked at src/b.rs:9:1\npanicked at src/a.rs:3:5\n"));
	/* duplicates collapse: it is a set */
	CHECK(same_fp("FAILED t.py::test_a - x\nt.py:3: AssertionError\n",
		      "t.py::test_a FAILED\nFAILED t.py::test_a - x\n"
		      "t.py:3: AssertionError\nt.py:3: AssertionError\n"));
}

TEST(fp_fallback)
{
	int n;
	char *x = fp(0, "exit 2", "Checking...\n\nbroken: totals\n   \n", &n);
	char *y = fp(0, "exit 2", "Checking...\nbroken: totals\n", NULL);
	char *z = fp(0, "exit 2", "broken: totals\nChecking...\n", NULL);
	char *e1 = fp(0, "exit 2", "", &n);
	char *e2 = fp(0, "exit 3", "", NULL);

	CHECK_INT(n, 0);
	CHECK_STR(x, y);	/* blank lines dropped */
	CHECK(strcmp(x, z));	/* but the output's order is its content */
	CHECK(strcmp(e1, e2));
	CHECK(strcmp(x, e1));
	CHECK_INT(strlen(e1), 64);
	/* colour and CRLF do not count */
	CHECK(same_fp("\x1b[1mbroken\x1b[0m: totals\r\n", "broken: totals\n"));
	free(x);
	free(y);
	free(z);
	free(e1);
	free(e2);
}

int main(void)
{
	RUN(normalise_addresses);
	RUN(normalise_durations);
	RUN(normalise_tmp_paths);
	RUN(normalise_times);
	RUN(normalise_seeds);
	RUN(normalise_pids);
	RUN(normalise_run_dir);
	RUN(normalise_keeps_content);
	RUN(ids_unittest);
	RUN(ids_pytest);
	RUN(ids_go);
	RUN(ids_cargo);
	RUN(ids_node);
	RUN(ids_jest_vitest);
	RUN(ids_mocha);
	RUN(ids_tap);
	RUN(ids_ctest_gtest);
	RUN(ids_generic_and_none);
	RUN(ids_dedupe_ansi_and_max);
	RUN(fp_real_reruns_match);
	RUN(fp_format_and_count);
	RUN(fp_volatile_parts_ignored);
	RUN(fp_differences_count);
	RUN(fp_assertion_values);
	RUN(fp_order_does_not_matter);
	RUN(fp_fallback);
	return unit_done();
}
