/*
 * utf8: validation and cleaning of UTF-8 text (see utf8.h).
 */
#include "base/utf8.h"

#include <string.h>

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/*
 * Length of the valid UTF-8 sequence at p (1-4), or 0 when it is invalid,
 * with *bad set to the length of the maximal invalid prefix (replaced by a
 * single U+FFFD, as Unicode recommends).  NUL counts as invalid.
 */
size_t utf8_seq(const unsigned char *p, size_t n, size_t *bad)
{
	unsigned c = p[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (c && c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c == 0xE0)
		need = 2, lo = 0xA0;
	else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
		need = 2;
	else if (c == 0xED)
		need = 2, hi = 0x9F; /* no surrogates */
	else if (c == 0xF0)
		need = 3, lo = 0x90;
	else if (c >= 0xF1 && c <= 0xF3)
		need = 3;
	else if (c == 0xF4)
		need = 3, hi = 0x8F; /* nothing past U+10FFFF */
	else {
		*bad = 1;
		return 0;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

void utf8_clean(const char *s, size_t len, struct buf *dst)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, bad = 0, k;

	while (i < len) {
		k = utf8_seq(p + i, len - i, &bad);
		if (k) {
			i += k;
			continue;
		}
		buf_add(dst, s + run, i - run);
		buf_add(dst, replacement, 3);
		i += bad;
		run = i;
	}
	buf_add(dst, s + run, len - run);
}

int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), i = 0, bad;

	while (i < n) {
		size_t k = utf8_seq(p + i, n - i, &bad);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}
