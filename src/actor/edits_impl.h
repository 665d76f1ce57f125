/*
 * edits_impl.h: PRIVATE to edits.c, edits_path.c and edits_match.c.
 * Nothing else includes it; the module's callers use edits.h.
 *
 * edits.c parses the blocks and runs the apply; for each search/replace
 * edit it calls edits_path_resolve (where may the write go?), reads the
 * file, then edits_match_replace (what is the new content?), and writes.
 * The whitespace helpers are shared because the parser and the fallback
 * match must agree on what "trailing whitespace" is.
 */
#ifndef LOOPGATE_EDITS_IMPL_H
#define LOOPGATE_EDITS_IMPL_H

#include <stddef.h>
#include "base/buf.h"
#include "actor/edits.h"

/* ---- whitespace (edits.c) ----------------------------------------------- */

/* 1 for space, tab, CR, form feed and vertical tab; '\n' is not included. */
int edits_is_ws(char c);
/* The length of p[0, n) without its trailing whitespace. */
size_t edits_rtrim_len(const char *p, size_t n);

/* ---- paths (edits_path.c) ----------------------------------------------- */

/*
 * Checks rel like edits_check_path against the real (realpath'd) root
 * rroot, and returns in *ret_target (caller frees) the real path the write
 * must go to: the target of a final symlink, missing components appended as
 * given.  Negative errno with the reason in why on refusal.
 */
int edits_path_resolve(const char *rroot, const char *rel, char **ret_target,
		       struct buf *why);

/* ---- matching (edits_match.c) ------------------------------------------- */

/*
 * The new content of search/replace edit e over file content f (exists: 0
 * when the file is missing) into out, and e->file_line.  On refusal (no
 * match, ambiguous, empty SEARCH over a non-empty file) sets e->status and
 * e->message and returns -1.
 */
int edits_match_replace(struct edit *e, const struct buf *f, int exists, struct buf *out);

#endif
