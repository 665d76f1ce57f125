/*
 * unit.h: the smallest test harness that can fail.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_STR(s, "a"); }
 *   int main(void) { RUN(name); return unit_done(); }
 *
 * Same-shape cases are a table, each row run as its own case (RUN_CASE).
 *
 * Prints "ok N - name" or "not ok N - name" per test (TAP), with the failing
 * check's file:line and values on stderr; exits non-zero when any failed.
 */
#ifndef LOOPGATE_UNIT_H
#define LOOPGATE_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed, unit_cur_failed;

#define TEST(name) static void test_##name(void)
#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
	unit_cur_failed = 1; } } while (0)
#define CHECK_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) { fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", \
	__FILE__, __LINE__, #a, a_, b_); unit_cur_failed = 1; } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_)) { fprintf(stderr, \
	"%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
	a_ ? a_ : "(null)", b_ ? b_ : "(null)"); unit_cur_failed = 1; } } while (0)
#define CHECK_CONTAINS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
	if (!h_ || !strstr(h_, n_)) { fprintf(stderr, \
	"%s:%d: %s does not contain \"%s\":\n%s\n", __FILE__, __LINE__, #hay, \
	n_, h_ ? h_ : "(null)"); unit_cur_failed = 1; } } while (0)
#define RUN(name) RUN_CASE(test_##name(), #name)
/* RUN_CASE(call, label): one case of a table, its own TAP line:
 *   for (i = 0; i < N; i++) RUN_CASE(check_row(&rows[i]), rows[i].name); */
#define RUN_CASE(call, label) do { unit_cur_failed = 0; call; unit_n++; \
	if (unit_cur_failed) unit_failed++; \
	printf("%s %d - %s\n", unit_cur_failed ? "not ok" : "ok", unit_n, label); \
	fflush(stdout); } while (0)

static inline int unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}

#endif
