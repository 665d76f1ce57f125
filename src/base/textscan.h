/*
 * textscan.h: PRIVATE to fingerprint.c, failids.c and textscan.c.
 * Nothing else includes it; callers use fingerprint.h or failids.h.
 *
 * The lexical ground both the failing-test-id recognisers (failids.c) and
 * the stall fingerprint's normaliser (fingerprint.c) stand on.  They share
 * it so they agree on what a line, a colour code and a duration are: a
 * duration the id recogniser strips from "name (3 ms)" must be the same
 * one the normaliser replaces with <DUR>.
 *
 *   struct buf clean = BUF_INIT;
 *   struct textscan_line *v;
 *   size_t nv;
 *
 *   textscan_clean(out, len, &clean);          no ANSI escapes, no '\r'
 *   v = textscan_lines(clean.s, clean.len, &nv);
 *   ... v[i].s, v[i].n (no newline) ...
 *   free(v);
 *   buf_release(&clean);
 */
#ifndef LOOPGATE_TEXTSCAN_H
#define LOOPGATE_TEXTSCAN_H

#include <stddef.h>
#include <string.h>
#include <strings.h>
#include "base/buf.h"

/* One line of a text: s points into it, n excludes the newline. */
struct textscan_line {
	const char *s;
	size_t n;
};

/* Appends out to dst without ANSI escapes and carriage returns. */
void textscan_clean(const char *out, size_t len, struct buf *dst);

/* The lines of s[0, len), split at '\n' (a final line without one counts;
 * a trailing newline adds no empty line).  Returns a malloc'd array (NULL
 * for empty input) of *ret_n lines; free it with free(). */
struct textscan_line *textscan_lines(const char *s, size_t len, size_t *ret_n);

/* The length of the duration at p[i] ("12ms", "0.12s", "1.5 seconds",
 * "3 ms", go's "1m2.5s"), 0 when none starts there. */
size_t textscan_duration_len(const char *p, size_t n, size_t i);

/* ---- character classes and prefixes ------------------------------------- */

/* Static inline: the matchers call these for every byte of every line, and
 * a call into another object file for each would cost more than the test. */
static inline int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline int is_alnum(char c)
{
	return is_letter(c) || is_digit(c);
}

static inline int is_word(char c)
{
	return is_alnum(c) || c == '_';
}
static inline int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static inline int has_prefix(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && !memcmp(p, s, k);
}

static inline int has_prefix_ci(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && !strncasecmp(p, s, k);
}

static inline int has_suffix(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && !memcmp(p + n - k, s, k);
}

static inline size_t count_digits(const char *p, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && is_digit(p[j]))
		j++;
	return j - i;
}

#endif
