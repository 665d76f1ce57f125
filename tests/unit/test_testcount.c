/*
 * Unit tests for src/testcount.c.  Most cases are output captured from
 * the real runners (tests/fixtures/testcount/README says how each was
 * made); the inline strings cover edges no runner prints on demand.
 */
#include "unit.h"
#include "judge/testcount.h"

#include <stdlib.h>

#define FIX "fixtures/testcount/"

static struct testcount tc;

/* Parses a fixture; 1 when recognised.  Fixtures ending in .xml go
 * through the JUnit parser. */
static int parse_file(const char *name)
{
	struct buf b = BUF_INIT;
	char *path = xasprintf(FIX "%s", name);
	size_t n = strlen(name);
	int r;

	if (buf_read_file(&b, path) < 0) {
		fprintf(stderr, "cannot read %s (run from tests/)\n", path);
		exit(2);
	}
	if (n > 4 && !strcmp(name + n - 4, ".xml"))
		r = testcount_parse_junit(b.s, b.len, &tc);
	else
		r = testcount_parse(b.s, b.len, &tc);
	buf_release(&b);
	free(path);
	return r;
}

static int parse_str(const char *s)
{
	return testcount_parse(s, strlen(s), &tc);
}

static int junit_str(const char *s)
{
	return testcount_parse_junit(s, strlen(s), &tc);
}

/* Checks the whole record: recognised, runner, and the four counts. */
#define CHECK_TC(name, ex, pa, fa, sk) do { CHECK_INT(tc.known, 1); \
	CHECK_STR(tc.runner, name); CHECK_INT(tc.executed, ex); \
	CHECK_INT(tc.passed, pa); CHECK_INT(tc.failed, fa); \
	CHECK_INT(tc.skipped, sk); } while (0)

/* Output captured from the real runners, recognised: the runner and the
 * four counts of each (tests/fixtures/testcount/README says how each was
 * made).  Each row is a case of its own (RUN_CASE). */
static const struct fixture {
	const char *file, *runner;
	int executed, passed, failed, skipped;
} fixtures[] = {
	/* 1 failed, 3 passed, 1 skipped, 1 xfailed, 1 error */
	{ "pytest-fail.txt", "pytest", 6, 4, 2, 1 },
	{ "pytest-q.txt", "pytest", 6, 4, 2, 1 },
	{ "pytest-pass.txt", "pytest", 2, 2, 0, 0 },
	/* 1 passed, 1 xpassed, 1 warning */
	{ "pytest-warn.txt", "pytest", 2, 2, 0, 0 },
	{ "pytest-deselected.txt", "pytest", 0, 0, 0, 0 },
	{ "pytest-none.txt", "pytest", 0, 0, 0, 0 },
	{ "pytest-color.txt", "pytest", 6, 4, 2, 1 },
	/* Ran 6, failures=1, errors=1, skipped=2 */
	{ "unittest-fail.txt", "unittest", 4, 2, 2, 2 },
	/* Ran 4, OK (skipped=1) */
	{ "unittest-skip.txt", "unittest", 3, 3, 0, 1 },
	{ "unittest-ok.txt", "unittest", 2, 2, 0, 0 },
	/* cargo stops after the failing binary without --no-fail-fast */
	{ "cargo-fail.txt", "cargo", 3, 2, 1, 1 },
	/* lib (2+1 fail, 1 ignored) + tests/integ.rs (2, 1 ignored) + doc */
	{ "cargo-two.txt", "cargo", 5, 4, 1, 2 },
	{ "cargo-pass.txt", "cargo", 5, 5, 0, 2 },
	/* --color=always: "ESC[31mFAILED ESC(B ESC[m" */
	{ "cargo-color.txt", "cargo", 5, 4, 1, 2 },
	/* 2 pass, 1 fail, 1 SKIP_RETURN_CODE, 1 DISABLED: "out of 4" */
	{ "ctest-fail.txt", "ctest", 3, 2, 1, 2 },
	{ "ctest-pass.txt", "ctest", 3, 3, 0, 0 },
	/* TestAdd, TestBroken, TestSkipped, TestTable{zero,one,wrong},
	 * TestTwice, TestTwiceEmpty: parents and subtests both count. */
	{ "go-verbose.txt", "go", 8, 5, 3, 1 },
	{ "go-json.txt", "go-json", 8, 5, 3, 1 },
	/* 1 failed, 1 skipped, 1 todo, 4 passed, 7 total */
	{ "jest-fail.txt", "jest", 5, 4, 1, 2 },
	{ "jest-color.txt", "jest", 5, 4, 1, 2 },
	{ "jest-pass.txt", "jest", 1, 1, 0, 0 },
	/* vitest colours even into a file; "Test Files" must not count */
	{ "vitest-fail.txt", "vitest", 5, 4, 1, 2 },
	{ "vitest-nocolor.txt", "vitest", 5, 4, 1, 2 },
	{ "vitest-pass.txt", "vitest", 1, 1, 0, 0 },
	/* 3 passing, 2 pending, 1 failing */
	{ "mocha-fail.txt", "mocha", 4, 3, 1, 2 },
	{ "mocha-pass.txt", "mocha", 2, 2, 0, 0 },
	/* node --test: 8 points at two depths; SKIP x2, TODO x1 */
	{ "node-tap.txt", "tap", 5, 4, 1, 3 },
	{ "mocha-tap.txt", "tap", 4, 3, 1, 2 },
	{ "tap-unit.txt", "tap", 3, 2, 1, 0 },
	{ "plain-runsh.txt", "plain", 16, 16, 0, 0 },
	/* run.sh replays a failing unit test's TAP: the total wins */
	{ "plain-runsh-fail.txt", "plain", 19, 18, 1, 0 },
	/* pytest: tests=7 errors=1 failures=1 skipped=2 (xfail is skipped
	 * there, unlike pytest's own summary line) */
	{ "pytest-junit.xml", "junit", 5, 3, 2, 2 },
	/* vitest: wrapper without skipped=, two suites */
	{ "vitest-junit.xml", "junit", 5, 4, 1, 2 },
	/* ctest --output-junit: tests=5 failures=1 disabled=1 skipped=1 */
	{ "ctest-junit.xml", "junit", 3, 2, 1, 2 },
};

static void check_fixture(const struct fixture *f)
{
	CHECK_INT(parse_file(f->file), 1);
	CHECK_TC(f->runner, f->executed, f->passed, f->failed, f->skipped);
}

TEST(pytest_ansi)
{
	/* An OSC hyperlink and a charset switch around the numbers. */
	CHECK_INT(parse_str("\033]8;;http://x\033\\\033(B= \033[1m2 passed"
			    "\033[0m, 1 skipped in 62.00s (0:01:02) =\n"), 1);
	CHECK_TC("pytest", 2, 2, 0, 1);
}

TEST(pytest_anchored)
{
	CHECK_INT(parse_str("hello 3 passed in 0.1s\n"), 0);
	CHECK_INT(parse_str("3 passed in 0.1s and more\n"), 0);
	CHECK_INT(parse_str("3 passed in a hurry\n"), 0);
	CHECK_INT(parse_str("= 3 passed, 2 bananas in 0.1s =\n"), 0);
	CHECK_INT(parse_str("=3 passed in 0.1s=\n"), 0);
	CHECK_INT(parse_str("3 passeder in 0.1s\n"), 0);
}

TEST(unittest_edges)
{
	CHECK_INT(parse_str("Ran 5 tests in 0.010s\n\nFAILED (failures=1, "
			    "expected failures=1, unexpected successes=1)\n"), 1);
	CHECK_TC("unittest", 5, 3, 2, 0);
	CHECK_INT(parse_str("Ran 1 test in 0.000s\r\n\r\nOK\r\n"), 1);
	CHECK_TC("unittest", 1, 1, 0, 0);
	CHECK_INT(parse_str("Ran 0 tests in 0.000s\n\nNO TESTS RAN\n"), 1);
	CHECK_TC("unittest", 0, 0, 0, 0);
	/* No status line, or something else in its place. */
	CHECK_INT(parse_str("Ran 3 tests in 0.1s\n"), 0);
	CHECK_INT(parse_str("Ran 3 tests in 0.1s\nsomething\nOK\n"), 0);
	CHECK_INT(parse_str("Ran 3 tests in 0.1s\n\nOK (bananas=2)\n"), 0);
}

TEST(cargo_anchored)
{
	CHECK_INT(parse_str("test result: ok. 3 passed; 0 failed; 1 ignored; "
			    "0 measured; 0 filtered out\n"), 1);
	CHECK_TC("cargo", 3, 3, 0, 1);
	CHECK_INT(parse_str("test result: ok. 3 passed; 1 ignored\n"), 0);
	CHECK_INT(parse_str("test result: maybe. 3 passed; 0 failed\n"), 0);
	CHECK_INT(parse_str("test result: ok. 3 passed; 0 failed; 2 cats\n"), 0);
}

TEST(ctest_wins_and_fallback)
{
	/* --output-on-failure replays a failing test's own summary: ctest's
	 * count is the one that does not change when that test passes. */
	CHECK_INT(parse_str("2/2 Test #2: py ....***Failed  0.1 sec\n"
			    "==== 1 failed, 9 passed in 0.1s ====\n\n"
			    "50% tests passed, 1 tests failed out of 2\n"), 1);
	CHECK_TC("ctest", 2, 1, 1, 0);
	/* The did-not-run list cut off: the per-test lines stand in. */
	CHECK_INT(parse_str("1/3 Test #1: a ....   Passed    0.00 sec\n"
			    "2/3 Test #2: b ....***Skipped   0.00 sec\n"
			    "3/3 Test #3: c ....***Not Run (Disabled)   0 sec\n"
			    "100% tests passed, 0 tests failed out of 2\n"), 1);
	CHECK_TC("ctest", 1, 1, 0, 2);
}

TEST(go_not_verbose)
{
	struct buf b = BUF_INIT;

	/* Only failures get a line without -v: no floor, and say why. */
	CHECK_INT(parse_file("go-plain.txt"), 0);
	CHECK_INT(tc.known, 0);
	CHECK_STR(tc.runner, "go");
	CHECK_INT(tc.executed, 0);
	testcount_describe(&tc, &b);
	CHECK_CONTAINS(b.s, "go test -v");
	buf_release(&b);
	CHECK_INT(parse_file("go-pass.txt"), 0);
	CHECK_STR(tc.runner, "go");
}

TEST(go_json_edges)
{
	CHECK_INT(parse_str("{\"Action\":\"skip\",\"Package\":\"p\"}\n"
			    "{not json\n"
			    "{\"Action\":\"pass\",\"Test\":\"T\"}\n"), 1);
	CHECK_TC("go-json", 0, 0, 0, 0);
	CHECK_INT(parse_str("{\"Action\":\"pass\",\"Package\":\"p\",\"Test\":1}\n"
			    "{\"Action\":\"fail\",\"Package\":\"p\","
			    "\"Test\":\"TestA\"}\n"), 1);
	CHECK_TC("go-json", 1, 0, 1, 0);
}

TEST(vitest_edges)
{
	CHECK_INT(parse_str(" Tests  2 passed | 1 expected fail (3)\n"), 1);
	CHECK_TC("vitest", 3, 3, 0, 0);
}

TEST(mocha_edges)
{
	/* CRLF line ends keep the three lines together */
	CHECK_INT(parse_str("  3 passing (5ms)\r\n  1 failing\r\n"), 1);
	CHECK_TC("mocha", 4, 3, 1, 0);
	/* "N failing" alone is not mocha's summary */
	CHECK_INT(parse_str("  1 failing\n  2 pending\n"), 0);
}

TEST(tap_edges)
{
	/* YAML diagnostics are not test points. */
	CHECK_INT(parse_str("TAP version 14\nnot ok 1 - a\n  ---\n"
			    "  message: |\n    ok 7 - not a test\n  ...\n"
			    "ok 2 - b # skip: slow\nok 3 - c \\# SKIP not\n"
			    "1..3\n"), 1);
	CHECK_TC("tap", 2, 1, 1, 1);
	CHECK_INT(parse_str("not ok 1 - a\r\n  ---\r\n    ok 2\r\n  ...\r\n"
			    "1..1\r\n"), 1);
	CHECK_TC("tap", 1, 0, 1, 0);
	CHECK_INT(parse_str("1..0 # SKIP no database\n"), 1);
	CHECK_TC("tap", 0, 0, 0, 0);
	/* No plan, no header: prose that starts with "ok". */
	CHECK_INT(parse_str("ok 1 - fine\nnot ok 2 - bad\n"), 0);
	/* A plan alone is a version range in prose. */
	CHECK_INT(parse_str("1..5\n"), 0);
	/* Indented by 2: someone's log, not a subtest. */
	CHECK_INT(parse_str("  ok 1 - x\nok 1 - y\n1..1\n"), 1);
	CHECK_TC("tap", 1, 1, 0, 0);
}

TEST(plain)
{
	CHECK_INT(parse_str("tests: 3 passed, 1 failed, 2 skipped\n"), 1);
	CHECK_TC("plain", 4, 3, 1, 2);
	CHECK_INT(parse_str("3 passed, 1 failed, 2 skipped later\n"), 0);
	CHECK_INT(parse_str("my tests: 3 passed, 1 failed\n"), 0);
}

TEST(false_positives)
{
	CHECK_INT(parse_file("prose.txt"), 0);
	CHECK_INT(tc.known, 0);
	CHECK(tc.runner == NULL);
	CHECK_INT(parse_str(""), 0);
	CHECK_INT(testcount_parse(NULL, 0, &tc), 0);
	/* A NUL in the middle of a line is not a space. */
	CHECK_INT(testcount_parse("3 passed,\0 1 failed\n", 20, &tc), 0);
	CHECK_INT(testcount_parse("x\0\n2 passed, 0 failed\n", 22, &tc), 1);
	CHECK_TC("plain", 2, 2, 0, 0);
}

TEST(several_runners_add_up)
{
	CHECK_INT(parse_str("== 2 passed in 0.1s ==\n"
			    "test result: ok. 3 passed; 0 failed; 1 ignored; "
			    "0 measured; 0 filtered out; finished in 0.00s\n"
			    "9 passed, 9 failed\n"), 1);
	CHECK_TC("several", 5, 5, 0, 1);
	/* Huge numbers are capped, not wrapped. */
	CHECK_INT(parse_str("99999999999999999999999 passed, 0 failed\n"), 1);
	CHECK_INT(tc.passed, 1000000000L);
}

TEST(junit_edges)
{
	/* Comments, CDATA, a quoted '>' and a nested suite do not count. */
	CHECK_INT(junit_str("<?xml version='1.0'?><!-- <testsuite tests=\"99\">"
			    " --><testsuites><testsuite name=\"a>b\" tests='4' "
			    "failures=\"1\" skipped=\"1\"><testsuite tests=\"50\">"
			    "</testsuite><testcase><failure><![CDATA[<testsuite "
			    "tests=\"7\"/>]]></failure></testcase></testsuite>"
			    "<testsuite tests=\"2\" errors=\"1\"/></testsuites>"),
		  1);
	CHECK_TC("junit", 5, 3, 2, 1);
	/* No tests attribute: count the testcases. */
	CHECK_INT(junit_str("<testsuite><testcase name=\"a\"/><testcase>"
			    "<skipped/></testcase><testcase><error/><skipped/>"
			    "</testcase><testcase></testcase></testsuite>"), 1);
	CHECK_TC("junit", 3, 2, 1, 1);
	/* Wrapper only; a truncated file keeps what its start tag said. */
	CHECK_INT(junit_str("<testsuites tests=\"3\" failures=\"1\">"
			    "</testsuites>"), 1);
	CHECK_TC("junit", 3, 2, 1, 0);
	CHECK_INT(junit_str("<testsuite tests=\"6\" failures=\"2\"><testca"), 1);
	CHECK_TC("junit", 6, 4, 2, 0);
	/* Not JUnit, or nonsense numbers. */
	CHECK_INT(junit_str("<html><body>tests=\"3\"</body></html>"), 0);
	CHECK_INT(junit_str("<testsuites"), 0);
	CHECK_INT(junit_str("<!-- unterminated <testsuite tests=\"1\">"), 0);
	CHECK_INT(junit_str("<testsuite tests=\"2\" failures=\"9\" "
			    "skipped=\"x\"/>"), 1);
	CHECK_TC("junit", 2, 0, 2, 0);
	CHECK_INT(junit_str(""), 0);
}

TEST(add_and_describe)
{
	struct testcount a = TESTCOUNT_INIT, b = TESTCOUNT_INIT;
	struct buf line = BUF_INIT;

	testcount_describe(&a, &line);
	CHECK_STR(line.s, "no recognised test runner");
	testcount_add(&a, &b);
	CHECK_INT(a.known, 0);
	CHECK(parse_str("==== 2 failed, 10 passed, 1 skipped in 1s ====\n"));
	testcount_add(&a, &tc);
	CHECK_TC("pytest", 12, 10, 2, 1);
	tc = a;
	buf_reset(&line);
	testcount_describe(&a, &line);
	CHECK_STR(line.s, "pytest: 12 executed (10 passed, 2 failed), 1 skipped");
	testcount_add(&a, &tc);
	CHECK_STR(a.runner, "pytest");
	CHECK_INT(a.executed, 24);
	CHECK(junit_str("<testsuite tests=\"1\"/>"));
	testcount_add(&a, &tc);
	CHECK_STR(a.runner, "several");
	CHECK_INT(a.executed, 25);
	buf_release(&line);
}

int main(void)
{
	for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
		RUN_CASE(check_fixture(&fixtures[i]), fixtures[i].file);
	RUN(pytest_ansi);
	RUN(pytest_anchored);
	RUN(unittest_edges);
	RUN(cargo_anchored);
	RUN(ctest_wins_and_fallback);
	RUN(go_not_verbose);
	RUN(go_json_edges);
	RUN(vitest_edges);
	RUN(mocha_edges);
	RUN(tap_edges);
	RUN(plain);
	RUN(false_positives);
	RUN(several_runners_add_up);
	RUN(junit_edges);
	RUN(add_and_describe);
	return unit_done();
}
