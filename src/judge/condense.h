/*
 * condense: the one condenser of gate output, streaming, in bounded memory.
 *
 *   struct condense *c = condense_begin(max, feedback_line_is_key);
 *   condense_feed(c, p, n);          as often as output arrives, any sizes
 *   condense_end(c, &dst);           appends the result to dst, frees c
 *
 *   condense_file(path, max, feedback_line_is_key, &dst, NULL);   a file
 *
 * Callers normally go through feedback.h (feedback_condense for a buffer,
 * feedback_condense_file for a file), which pass the key-line classifier;
 * this module only selects.  The rule (feedback.h states it for users):
 *
 * - Invalid UTF-8 and NUL become U+FFFD first (the prompt is JSON text);
 *   every size below is of the cleaned bytes.
 * - A line longer than max keeps its first and last bytes around
 *   "[... N bytes elided ...]", to max/4 bytes (to max when it is the only
 *   line).  Every other line is kept whole or dropped whole.
 * - When the lines then total at most max, all are kept: an output that
 *   fits comes back byte for byte.
 * - Otherwise: the head (lines within max/4, or the first 20 within 40%),
 *   the tail (lines within 35%, or the last line alone when it fits beside
 *   the head), and key lines (is_key) from between them, taken one line
 *   at a time alternately nearest the head and nearest the tail while the
 *   budget lasts; each run of dropped lines is one "[... N lines elided
 *   ...]" line counting the real output's lines.  The result is at most
 *   max bytes when max >= 192 (at most max + 48 below that).
 *
 * Memory stays within a few times max whatever the output's size: the
 * current line is held to max bytes plus a ring of its last max/2; lines
 * are held until they pass max in total, then only the head, the tail ring
 * and the key lines of the middle that could fit (the first 2 * max bytes
 * of them and a ring of the last 2 * max bytes: the pick takes those
 * nearest the ends, so it is the middle of a huge run of key lines that is
 * lost).  The result depends only on the bytes, never on how they were
 * cut into feeds.
 */
#ifndef LOOPGATE_CONDENSE_H
#define LOOPGATE_CONDENSE_H

#include <stddef.h>
#include "base/buf.h"

/* 1 when the line (with its '\n', if any) is worth keeping from the middle. */
typedef int condense_key_fn(const char *line, size_t len);

struct condense;

struct condense *condense_begin(size_t max, condense_key_fn *is_key);
void condense_feed(struct condense *c, const void *p, size_t n);
/* Appends the condensed output to dst and frees c.  0, or the first error
 * of adding to dst (-E2BIG when dst is capped). */
int condense_end(struct condense *c, struct buf *dst);
/* The most bytes c has held so far (line text, queues, line buffer, ring):
 * what the bound above is about. */
size_t condense_peak(const struct condense *c);
/* How many invalid sequences and NULs became U+FFFD so far (in the whole
 * output, kept or not). */
size_t condense_replaced(const struct condense *c);

/* The file at path, condensed into dst; *replaced (when not NULL) as
 * condense_replaced.  0, or -errno when it cannot be read (dst then
 * unchanged). */
int condense_file(const char *path, size_t max, condense_key_fn *is_key, struct buf *dst,
		  size_t *replaced);

#endif
