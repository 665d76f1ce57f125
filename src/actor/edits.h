/*
 * edits: the edit blocks in a model's reply, parsed and applied exactly.
 *
 * Two block kinds (the syntax the system prompt teaches; docs/manual.md):
 *
 *   path/to/file.c
 *   <<<<<<< SEARCH
 *   exact existing lines
 *   =======
 *   replacement lines
 *   >>>>>>> REPLACE
 *
 *   <<<<<<< FILE path/to/new_or_rewritten.c
 *   whole new content
 *   >>>>>>> END
 *
 * The path line of a search/replace block is the last non-blank line before
 * "<<<<<<< SEARCH" that is not a code fence (``` lines are ignored, and a
 * path may be wrapped in backticks).  An empty SEARCH section on a file that
 * does not exist creates it.  A SEARCH text must occur exactly once in the
 * file; otherwise the edit is refused with the reason: no match (with the
 * nearest lines of the file, line-numbered), or N matches (with their line
 * numbers).  Paths are relative to the tree: absolute paths, ".." components,
 * paths through .git, and symlinks that lead out of the tree are refused.
 *
 *   struct edit_list l = EDIT_LIST_INIT;
 *   edits_parse(reply, len, &l, &problems);   problems: malformed blocks
 *   edits_apply(root, &l);                    fills each edit's outcome
 *   edits_feedback(&l, &fb);                  text for the next prompt
 *   edit_list_release(&l);
 */
#ifndef LOOPGATE_EDITS_H
#define LOOPGATE_EDITS_H

#include <stddef.h>
#include "base/buf.h"

enum edit_kind { EDIT_REPLACE, EDIT_WHOLE };

enum edit_status {
	EDIT_PENDING,
	EDIT_APPLIED,
	EDIT_NO_MATCH,	/* search text not found */
	EDIT_AMBIGUOUS, /* search text found more than once */
	EDIT_BAD_PATH,	/* absolute, .., .git, or a symlink out of the tree */
	EDIT_IO_ERROR,	/* could not read or write the file */
};

struct edit {
	enum edit_kind kind;
	char *path;
	char *search;	   /* EDIT_REPLACE only */
	char *replace;	   /* the new text, or the whole content */
	size_t reply_line; /* 1-based line of the block in the reply */
	enum edit_status status;
	char *message;	  /* why it was refused, exact and actionable */
	size_t file_line; /* applied search/replace: 1-based line of the
				 * replaced text in the file before the edit */
};

struct edit_list {
	struct edit *v;
	size_t n;
	size_t alloc;
};
#define EDIT_LIST_INIT                                                                   \
	{                                                                                \
		.v = NULL                                                                \
	}

/*
 * Parses every block.  Returns the number of well-formed blocks (>= 0).
 * Malformed blocks (unterminated, missing path, missing =======) are
 * described one per line in problems (may be NULL); they are not applied.
 */
int edits_parse(const char *reply, size_t len, struct edit_list *out,
		struct buf *problems);
/* Applies each edit in order (later edits see earlier ones).  Returns the
 * number applied.  Files are written to a temp file and renamed, keeping the
 * mode. */
int edits_apply(const char *root, struct edit_list *l);
/* A factual account of each edit's outcome, for the next prompt. */
void edits_feedback(const struct edit_list *l, struct buf *out);
const char *edit_status_name(enum edit_status s);
/*
 * Where file[0..flen) is most like text (a search text the model gave that
 * is not in it), appended to out as the edit blocks' refusal says it:
 * "; the most similar lines of the file are A-B:" and those lines numbered,
 * then "LABEL line I differs from file line J; ..." (label names text for
 * the model: "SEARCH", "search"); or "; none of its lines occur ...".
 */
void edits_nearest(const char *file, size_t flen, const char *text, const char *label,
		   struct buf *out);
void edit_list_release(struct edit_list *l);

/*
 * The path checks alone: 0 when rel is a safe path inside root (existing
 * components resolved, no symlink leaving the tree), -EPERM with a reason.
 */
int edits_check_path(const char *root, const char *rel, struct buf *why);

#endif
