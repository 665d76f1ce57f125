/*
 * fingerprint: "is this the same failure as last time?" for stall detection.
 *
 * The loop fingerprints each failing gate run and halts as `stalled` when the
 * same fingerprint comes back stall_after times in a row.  For that to work
 * the same failure must hash the same from run to run, while a different
 * failure must not:
 *
 *   char hex[65];
 *   int n = fingerprint_gate(gate_index, "exit 1", out, len, hex);
 *   if (n < 0) ... hashing failed (hex untouched)
 *   if (!strcmp(hex, previous)) ... same failure again
 *
 * What is hashed: the gate index, the status description, and the sorted,
 * deduplicated set of failing test ids plus "path:line" error locations
 * (feedback_locations), each passed through fingerprint_normalise.  The
 * assertion text around them does not count: the same test failing at the
 * same line with another value is the same stall.  When the output names no
 * test and no location, the whole output is hashed instead, line by line,
 * normalised, blank lines dropped, in order.
 *
 * fingerprint_normalise replaces what changes between two runs of an
 * unchanged program with placeholders: 0x addresses of 8+ hex digits
 * (0xADDR), durations (<DUR>), temporary paths (<TMP>), timestamps, dates
 * and clock times (<TIME>), random seeds (seed=<SEED>), PIDs (<PID>) and
 * the loopgate run directory prefix ".../.loopgate/runs/<id>/tree/" (removed,
 * so absolute paths into the run's tree equal their relative form).  Plain
 * numbers, line:col pairs and short hex values are kept: "expected 5, got 6"
 * stays different from "expected 5, got 7".  ANSI colour codes are dropped.
 *
 * fingerprint_failed_tests recognises the failure lines of pytest, unittest,
 * go test, cargo test, jest/vitest, node --test (TAP and spec), mocha, TAP,
 * ctest and googletest, plus lone "FAIL name" lines; see failids.h.
 */
#ifndef LOOPGATE_FINGERPRINT_H
#define LOOPGATE_FINGERPRINT_H

#include <stddef.h>
#include "base/buf.h"

/* Failing test ids named in a gate output, deduplicated, first-seen order,
 * at most max.  *ids is a malloc'd array of malloc'd strings (NULL when
 * none); free with fingerprint_free_list. */
size_t fingerprint_failed_tests(const char *out, size_t len, char ***ids, size_t max);
void fingerprint_free_list(char **v, size_t n);

/*
 * The fingerprint of a failing gate run: hex SHA-256 (65 bytes with NUL)
 * over the gate index, its exit status description (NULL is ""), and the
 * SORTED set of (failing test ids + "path:line" locations), each
 * normalised; when the output names neither, over the normalised output
 * itself (every line normalised, blank lines dropped).  Returns the number
 * of elements hashed (0 when it fell back to the whole output), or -EIO
 * when the digest failed, with hex untouched.
 */
int fingerprint_gate(int gate_index, const char *status_desc, const char *out, size_t len,
		     char hex[65]);

/* Appends one line to dst with its volatile parts replaced by
 * placeholders (see above).  len excludes any newline. */
void fingerprint_normalise(const char *line, size_t len, struct buf *dst);

#endif
