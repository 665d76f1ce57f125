/*
 * testcount_impl.h: PRIVATE to testcount.c and testcount_junit.c.
 * Nothing else includes it; the module's callers use testcount.h.
 *
 * testcount.c reads runner summary lines, testcount_junit.c reads JUnit
 * XML; both collect counts in a struct tally, read numbers through the same
 * capped cursor, and hand the tally to testcount_take, so a count means the
 * same thing whichever source it came from.
 */
#ifndef LOOPGATE_TESTCOUNT_IMPL_H
#define LOOPGATE_TESTCOUNT_IMPL_H

#include <stddef.h>
#include "judge/testcount.h"

#define NUM_MAX 1000000000L /* per-line cap: sums stay far from LONG_MAX */

/* The counts one runner (or one JUnit file) reported; seen once it did. */
struct tally {
	int seen;
	long passed, failed, skipped;
};

/* A cursor over one line. */
struct cur {
	const char *p, *e;
};

/* ---- cursor and tally helpers ------------------------------------------- */

/* Static inline: tiny, called per character, and both files need the very
 * same number cap. */
static inline int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static inline int num(struct cur *c, long *v)
{
	long n = 0;
	const char *start = c->p;

	while (c->p < c->e && is_digit(*c->p)) {
		n = n * 10 + (*c->p - '0');
		if (n > NUM_MAX)
			n = NUM_MAX;
		c->p++;
	}
	*v = n;
	return c->p > start;
}

static inline size_t spaces(struct cur *c)
{
	const char *start = c->p;

	while (c->p < c->e && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
	return (size_t)(c->p - start);
}

static inline int at_end(const struct cur *c)
{
	return c->p == c->e;
}

static inline long clamp(long v)
{
	return v < 0 ? 0 : v;
}

static inline void tally_add(struct tally *t, long passed, long failed, long skipped)
{
	t->seen = 1;
	t->passed += passed;
	t->failed += failed;
	t->skipped += skipped;
}

/* Adds tally t, under runner name (static), to tc with testcount_add. */
void testcount_take(struct testcount *tc, const struct tally *t, const char *name);

#endif
