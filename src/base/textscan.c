/*
 * textscan: ANSI stripping, line splitting and duration recognition for
 * gate output, shared by failids.c and fingerprint.c (see textscan.h).
 */
#include "base/textscan.h"

#include <stdlib.h>
#include <string.h>

/* Length of the escape sequence starting at p[i] (an ESC byte): CSI
 * ("\e[1;31m"), OSC ("\e]...\a") or a two-byte escape. */
static size_t ansi_len(const char *p, size_t n, size_t i)
{
	size_t j = i + 1;

	if (j >= n)
		return 1;
	if (p[j] == '[') {
		for (j++;
		     j < n && (unsigned char)p[j] >= 0x20 && (unsigned char)p[j] <= 0x3f;
		     j++)
			;
		if (j < n && (unsigned char)p[j] >= 0x40 && (unsigned char)p[j] <= 0x7e)
			j++;
		return j - i;
	}
	if (p[j] == ']') {
		for (j++; j < n && p[j] != '\a' && p[j] != '\x1b'; j++)
			;
		if (j < n)
			j += p[j] == '\a' ? 1 : 2;
		return (j > n ? n : j) - i;
	}
	return 2;
}

/* The output without ANSI escapes and carriage returns: colour codes
 * split the words the matchers look for, and "\r\n" endings are noise. */
void textscan_clean(const char *out, size_t len, struct buf *dst)
{
	size_t i = 0, start = 0;

	while (i < len) {
		if (out[i] != '\x1b' && out[i] != '\r') {
			i++;
			continue;
		}
		buf_add(dst, out + start, i - start);
		i += out[i] == '\r' ? 1 : ansi_len(out, len, i);
		start = i;
	}
	buf_add(dst, out + start, len - start);
}

static const char *const units[] = {
	"seconds", "second", "secs", "sec",	  "minutes",   "minute", "mins",
	"min",	   "ms",     "us",   "\xc2\xb5s", "\xce\xbcs", "ns",	 "s",
};

/* The duration unit at p[j]: a whole word; "s" and "us" only when glued
 * to the number ("5 s" and "2 us" are too likely to be prose). */
static size_t unit_len(const char *p, size_t n, size_t j, int spaced)
{
	size_t u, k;

	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		k = strlen(units[u]);
		if (!has_prefix(p + j, n - j, units[u]) ||
		    (j + k < n && is_word(p[j + k])))
			continue;
		if (spaced && (!strcmp(units[u], "s") || !strcmp(units[u], "us")))
			return 0;
		return k;
	}
	return 0;
}

/* 12ms, 0.12s, 1.5 seconds, 3 ms, go's 1m2.5s and 1h0m0s. */
size_t textscan_duration_len(const char *p, size_t n, size_t i)
{
	size_t j = i, k, u;

	for (;;) {
		k = count_digits(p, n, j);
		if (!k)
			return 0;
		j += k;
		if (j + 1 < n && p[j] == '.' && is_digit(p[j + 1]))
			j += 1 + count_digits(p, n, j + 1);
		if (j + 1 < n && (p[j] == 'h' || p[j] == 'm') && is_digit(p[j + 1])) {
			j++;
			continue;
		}
		break;
	}
	if ((u = unit_len(p, n, j, 0)) != 0)
		return j + u - i;
	if (j + 1 < n && p[j] == ' ' && (u = unit_len(p, n, j + 1, 1)) != 0)
		return j + 1 + u - i;
	return 0;
}

/* ---- lines ------------------------------------------------------------- */

struct textscan_line *textscan_lines(const char *s, size_t len, size_t *ret_n)
{
	struct textscan_line *v = NULL;
	size_t n = 0, alloc = 0, i = 0;

	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t k = nl ? (size_t)(nl - s) - i : len - i;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[n].s = s + i;
		v[n++].n = k;
		i += k + 1;
	}
	*ret_n = n;
	return v;
}
