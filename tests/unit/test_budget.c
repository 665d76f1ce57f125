/*
 * test_budget.c: checked arithmetic (base/ckd.h) and the budget's totals
 * when a server reports absurd usage: saturated, never wrapped.
 */
#include "unit.h"
#include "base/ckd.h"
#include "engine/budget.h"

#include <errno.h>
#include <limits.h>
#include <math.h>

TEST(ckd_table)
{
	static const struct {
		char op;
		long a, b, want;
	} t[] = {
		{'+', 1, 2, 3},
		{'+', LONG_MAX, 1, LONG_MAX},
		{'+', LONG_MAX, LONG_MAX, LONG_MAX},
		{'+', LONG_MIN, -1, LONG_MIN},
		{'-', 5, 7, -2},
		{'-', LONG_MIN, 1, LONG_MIN},
		{'-', 0, LONG_MIN, LONG_MAX},
		{'-', 100, LONG_MAX, 100 - LONG_MAX},
		{'*', 3, 4, 12},
		{'*', LONG_MAX, 2, LONG_MAX},
		{'*', LONG_MIN, 2, LONG_MIN},
		{'*', -2, LONG_MAX, LONG_MIN},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		long got = t[i].op == '+'   ? ckd_add(t[i].a, t[i].b)
			   : t[i].op == '-' ? ckd_sub(t[i].a, t[i].b)
					    : ckd_mul(t[i].a, t[i].b);
		if (got != t[i].want)
			fprintf(stderr, "case %zu: %ld %c %ld = %ld\n", i, t[i].a, t[i].op,
				t[i].b, got);
		CHECK_INT(got, t[i].want);
	}
	CHECK_INT(ckd_addll(LLONG_MAX, 5), LLONG_MAX);
	CHECK_INT(ckd_dtol(1e300), LONG_MAX);
	CHECK_INT(ckd_dtol(NAN), LONG_MAX);
	CHECK_INT(ckd_dtol(INFINITY), LONG_MAX);
	CHECK_INT(ckd_dtol(-1e300), LONG_MIN);
	CHECK_INT(ckd_dtol(42.9), 42);
}

TEST(usage_int64_max_saturates_and_stops)
{
	struct budget b;
	struct buf why = BUF_INIT;

	budget_init(&b);
	b.max_tokens = 1000;
	budget_charge(&b, LONG_MAX, LONG_MAX, 4000);
	CHECK(b.tokens_in == LONG_MAX && b.tokens_out == LONG_MAX);
	CHECK_INT(budget_tokens_used(&b), LONG_MAX);
	CHECK(budget_spent(&b, &why) > 0);
	CHECK_CONTAINS(why.s, "--max-tokens 1000 reached");
	/* a second absurd report stays saturated */
	budget_charge(&b, LONG_MAX, 1, 10);
	CHECK_INT(budget_tokens_used(&b), LONG_MAX);
	/* the measured bytes/token is floored: estimates stay finite */
	CHECK(budget_estimate_tokens(&b, 1000) > 0);
	CHECK(budget_estimate_tokens(&b, 1000) <= 4000);
	CHECK_INT(budget_precheck(&b, 100, 10, &why), -ENOSPC);
	buf_release(&why);
}

TEST(max_output_near_int64_max_refused)
{
	struct budget b;
	struct buf why = BUF_INIT;

	budget_init(&b);
	b.max_tokens = 1000000;
	CHECK_INT(budget_precheck(&b, 3000, LONG_MAX - 10, &why), -ENOSPC);
	CHECK_CONTAINS(why.s, "could use up to 9223372036854775807 tokens");
	CHECK_INT(budget_precheck(&b, 3000, 1000, &why), 0);
	buf_release(&why);
}

int main(void)
{
	RUN(ckd_table);
	RUN(usage_int64_max_saturates_and_stops);
	RUN(max_output_near_int64_max_refused);
	return unit_done();
}
