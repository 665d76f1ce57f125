/*
 * ckd: checked arithmetic for budgets, usage, sizes and durations.
 *
 * Numbers from outside (a server's reported usage, a flag, a config value)
 * can be anything up to INT64_MAX; a wrapped total would turn a spent
 * budget into a negative one and stop nothing.  Every sum or product of
 * such numbers goes through one of these: they saturate at the type's
 * limit instead of wrapping (a saturated total is still "too much", which
 * is the right answer for every ceiling).  UBSan in `make check` catches
 * a signed overflow that bypasses them.
 *
 *   b->tokens_in = ckd_add(b->tokens_in, tin);
 *   long n = ckd_dtol(ceil(bytes / bpt));
 */
#ifndef LOOPGATE_CKD_H
#define LOOPGATE_CKD_H

#include <limits.h>

static inline long ckd_add(long a, long b)
{
	long r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? LONG_MAX : LONG_MIN;
	return r;
}

static inline long ckd_sub(long a, long b)
{
	long r;
	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? LONG_MAX : LONG_MIN;
	return r;
}

static inline long ckd_mul(long a, long b)
{
	long r;
	if (__builtin_mul_overflow(a, b, &r))
		return (a < 0) != (b < 0) ? LONG_MIN : LONG_MAX;
	return r;
}

static inline long long ckd_addll(long long a, long long b)
{
	long long r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? LLONG_MAX : LLONG_MIN;
	return r;
}

/* A double to long, saturating (NaN counts as too much: LONG_MAX). */
static inline long ckd_dtol(double d)
{
	if (!(d < 9.2e18))
		return LONG_MAX;
	if (d < -9.2e18)
		return LONG_MIN;
	return (long)d;
}

#endif
