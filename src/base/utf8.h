/*
 * utf8: the one place that decides what valid UTF-8 is.
 *
 *   struct buf out = BUF_INIT;
 *   utf8_clean(s, len, &out);     out holds s with every invalid sequence
 *                                 and NUL replaced by U+FFFD
 *
 * Used wherever outside bytes (gate output, model replies, diffs) reach
 * JSON, a prompt or a report.
 */
#ifndef LOOPGATE_UTF8_H
#define LOOPGATE_UTF8_H

#include <stddef.h>
#include "base/buf.h"

/*
 * Length of the valid sequence at p (1..4), or 0 when it is invalid, with
 * *bad set to the length of the maximal invalid prefix (replaced by a
 * single U+FFFD, as Unicode recommends).  NUL counts as invalid.
 */
size_t utf8_seq(const unsigned char *p, size_t n, size_t *bad);
/* 1 when the C string s (NULL: empty) is valid UTF-8, as JSON needs it. */
int utf8_valid(const char *s);
/* Appends s with invalid UTF-8 and NUL replaced by U+FFFD. */
void utf8_clean(const char *s, size_t len, struct buf *dst);

#endif
