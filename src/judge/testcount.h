/*
 * testcount: how many tests a gate actually ran, read from its output.
 *
 * The executed-test floor (docs/design/gates.md) compares a passing gate's
 * counts with its baseline counts: fewer executed or more skipped tests is
 * not convergence.  This module only counts; it never decides.
 *
 *   struct testcount tc = TESTCOUNT_INIT;
 *   if (testcount_parse(out, len, &tc)) ...          a gate's merged output
 *   testcount_parse_junit(xml, n, &j);                a JUnit file it wrote
 *   testcount_add(&tc, &j);
 *   testcount_describe(&tc, &line);                   one line for reports
 *
 * Recognised summaries, each matched as a whole line (after ANSI escapes
 * are removed and "\r" is treated as a line break), never as "a number
 * somewhere":
 *
 *   pytest    "==== 1 failed, 3 passed, 1 skipped in 0.12s ====", with or
 *             without the bars (-q); errors count as failed; xfailed and
 *             xpassed ran, so they count as executed and passed (a strict
 *             xpass is already reported as failed); deselected tests are
 *             not counted at all; "no tests ran" is a known zero.
 *   unittest  "Ran N tests in Xs" then "OK", "OK (skipped=1)" or
 *             "FAILED (failures=1, errors=1, skipped=2)": executed is N
 *             minus skipped; errors and unexpected successes are failures.
 *   go        go test -v: "--- PASS/FAIL/SKIP: Name" lines, subtests
 *             included, counted only when "=== RUN" lines show the run was
 *             verbose.  Without -v go prints no line per passing test, so
 *             counts would shrink as tests get fixed: such output gives
 *             known = 0 with runner "go", and the description says so.
 *   go-json   go test -json: events with "Test" and Action pass/fail/skip.
 *   cargo     "test result: ok. 3 passed; 0 failed; 1 ignored; ..." per
 *             test binary; ignored = skipped.
 *   ctest     "75% tests passed, 1 tests failed out of 4" and the list
 *             under "The following tests did not run:".  ctest counts a
 *             SKIP_RETURN_CODE test in the total (and as passed in the
 *             percentage) but leaves DISABLED tests out of it; both count
 *             here as skipped, neither as executed.
 *   jest      "Tests:       1 failed, 1 skipped, 1 todo, 4 passed, 7 total"
 *   vitest    "Tests  1 failed | 4 passed | 1 skipped | 1 todo (7)";
 *             "expected fail" counts as passed.
 *   mocha     "  3 passing (5ms)" with the "N pending" / "N failing" lines
 *             right after it; pending = skipped.
 *   tap       "ok" / "not ok" test points at any subtest depth (indented
 *             by multiples of 4 spaces, as node --test prints them), YAML
 *             diagnostics skipped; needs a top-level plan "1..N" or a
 *             "TAP version" line.  "# SKIP" is skipped.  "# TODO" also
 *             counts as skipped, not executed: TAP says a TODO result
 *             never fails the run, so marking a failing test TODO must
 *             show up at the floor the way skipping it would.  jest and
 *             vitest "todo" counts follow the same rule.
 *   plain     a line that is exactly "N passed, N failed" with an optional
 *             ", N skipped" and an optional "word: " in front.
 *
 * Several summaries are added up (cargo prints one per test binary, go
 * lists every package, a gate may run two runners; the runner is then
 * "several").  Precedence, because wrappers replay fragments of what they
 * run: ctest's own summary wins over everything else in the output (its
 * --output-on-failure shows inner output only for failures); otherwise the
 * runner-specific summaries are used; only without any of those the plain
 * line; only without that TAP.
 *
 * Counts are capped at 10^9 per line so sums cannot overflow.
 */
#ifndef LOOPGATE_TESTCOUNT_H
#define LOOPGATE_TESTCOUNT_H

#include <stddef.h>

#include "base/buf.h"

struct testcount {
	int known;	    /* 1 when a runner's summary was recognised */
	const char *runner; /* "pytest", "unittest", "go", "go-json",
				 * "cargo", "ctest", "jest", "vitest", "mocha",
				 * "tap", "junit", "plain", "several"; static */
	long executed;	    /* tests that ran: passed + failed */
	long passed, failed, skipped;
};
#define TESTCOUNT_INIT                                                                   \
	{                                                                                \
		.known = 0                                                               \
	}

/*
 * Parses one gate output.  Returns 1 when a summary was recognised (tc is
 * filled), 0 when not (tc is zeroed with known = 0; runner is "go" for
 * non-verbose go test output, NULL otherwise).
 */
int testcount_parse(const char *out, size_t len, struct testcount *tc);

/*
 * Parses a JUnit XML report: one <testsuite> or a <testsuites> wrapper.
 * Per outermost <testsuite>: executed = tests - skipped - disabled,
 * failed = failures + errors.  A suite without a tests attribute is
 * counted from its <testcase> elements instead; a <testsuites> wrapper's
 * attributes are used only when it holds no <testsuite>.  Comments, CDATA,
 * processing instructions and quoted '>' are skipped properly; everything
 * else about XML is ignored.  Returns 1 if recognised (runner "junit").
 */
int testcount_parse_junit(const char *xml, size_t len, struct testcount *tc);

/* Adds b into a; a is known if either is. */
void testcount_add(struct testcount *a, const struct testcount *b);

/*
 * Appends one line (no newline) for reports, e.g.
 * "pytest: 12 executed (10 passed, 2 failed), 1 skipped" or
 * "no recognised test runner".
 */
void testcount_describe(const struct testcount *tc, struct buf *out);

#endif
