/*
 * feedback: raw gate output made fit for a prompt, never reworded.
 *
 * feedback_condense keeps the output byte for byte when it fits max bytes.
 * Otherwise it keeps whole lines exactly: the head, the tail, and every line
 * that names a location (file:line) or a failure marker (error, FAIL,
 * Traceback, assert, panic, ...), in their original order, with a line
 *   [... N lines elided ...]
 * in place of each gap.  Only a single line longer than the whole budget is
 * cut, marked "[... N bytes elided ...]".  Invalid UTF-8 bytes and NULs are
 * replaced with U+FFFD (the prompt is JSON text); feedback_is_binary tells
 * the caller when that happened so it can say so.  The result is at most
 * max bytes (for max >= 192).  feedback_condense_file does the same to a
 * file of any size in memory bounded by a few times max.  Both are the one
 * condenser (condense.h: the exact rule, streaming) with the key lines of
 * feedback_line_is_key.
 *
 * feedback_locations finds file:line[:col] references (gcc/clang, python
 * tracebacks 'File "x", line N', go, rustc "--> x:N:M", tsc "x(N,M)", ...).
 * feedback_excerpts renders line-numbered excerpts of those files that exist
 * in the tree, for the prompt's "where to look" section.
 */
#ifndef LOOPGATE_FEEDBACK_H
#define LOOPGATE_FEEDBACK_H

#include <stddef.h>
#include "base/buf.h"

int feedback_condense(const char *out, size_t len, size_t max, struct buf *dst);
/* 0, or -errno when the file cannot be read (dst then unchanged).
 * *not_text: 1 when any byte of the file was not UTF-8 text (the result
 * then shows U+FFFD; the caller may say so, as for feedback_is_binary). */
int feedback_condense_file(const char *path, size_t max, struct buf *dst, int *not_text);
int feedback_is_binary(const char *out, size_t len);
/* 1 when the line names a location or a failure (what condense keeps). */
int feedback_line_is_key(const char *line, size_t len);

struct location {
	char *path; /* as printed, relative paths kept relative */
	long line;
	long col; /* 0 when absent */
};

/* Returns the number found (deduplicated by path+line, first seen order),
 * at most max. */
size_t feedback_locations(const char *out, size_t len, struct location **ret, size_t max);
void feedback_locations_free(struct location *v, size_t n);

/*
 * Line-numbered excerpts ("  41 | text") of context lines around each
 * location whose path resolves to a regular file inside root (absolute paths
 * under root are made relative).  Nearby locations in one file merge into one
 * excerpt.  Stops adding at max bytes.
 */
void feedback_excerpts(const char *root, const struct location *v, size_t n, int context,
		       size_t max, struct buf *dst);

#endif
