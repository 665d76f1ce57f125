/*
 * failids: the failing test ids a gate output names.
 *
 * The judge shows them to the model and the stall fingerprint hashes them
 * (via fingerprint_failed_tests, which wraps this module):
 *
 *   char **ids;
 *   size_t n = failids_extract(out, len, &ids, 200);
 *   for (i = 0; i < n; i++) ... ids[i] ...
 *   failids_free(ids, n);
 *
 * Recognised, line by line after ANSI escapes and carriage returns are
 * dropped: pytest (plain, -v and xdist), unittest, go test, cargo test and
 * nextest, googletest, jest/vitest and node --test spec marks ("✕ name"),
 * jest's "● Suite › name", mocha's numbered failure list, TAP "not ok"
 * (without TODO/SKIP), ctest's progress and summary lines, and lone
 * "FAIL name" lines.  Only a shape a runner alone prints counts: a false
 * id would make two different failures look alike.
 */
#ifndef LOOPGATE_FAILIDS_H
#define LOOPGATE_FAILIDS_H

#include <stddef.h>

/* Failing test ids named in out[0, len) (may hold NULs), deduplicated, in
 * first-seen order, at most max.  *ids is a malloc'd array of malloc'd
 * strings (NULL when none); free with failids_free. */
size_t failids_extract(const char *out, size_t len, char ***ids, size_t max);

/* Frees the n strings of v and v itself; v may be NULL when n is 0. */
void failids_free(char **v, size_t n);

#endif
