/*
 * plant: where and how `loopgate gate check` plants a defect.
 *
 *   struct plant_opts o = { tree, cfg, &named_by_outputs };
 *   struct plant_site sites[5];
 *   size_t n = 0;
 *   plant_find(&o, sites, 5, &n, &err);      reads the tree, changes nothing
 *   plant_apply(tree, &sites[i], &err);      writes one mutant into the tree
 *   plant_sites_release(sites, n);
 *
 * Deterministic: the same tree gives the same sites.  Candidates are the
 * tracked regular files with a source extension (.c .h .cc .cpp .py .go .rs
 * .js .ts .java .rb .sh .pl .php .cs .kt .swift) that the protected set does
 * not cover (tests and CI files by the default globs, gate scripts,
 * --protect globs: what defines the gate is never mutated; no_protect is
 * ignored), ranked: files named by the gates' output first, then files whose
 * stem is a word of a test file's name (calc.py for test_calc.py,
 * calc_test.go, CalcTest.java), then the rest; by path within a rank.
 *
 * In each file, in line order, every eligible line gives one site: the
 * first mutation of plant_mutate_line that applies.  Not eligible (a
 * heuristic): blank lines, lines starting with #, //, / *, or *, lines in
 * a block comment or a Python triple-quoted string; within a line, text in
 * quotes and trailing comments are left alone.  Files over 1 MiB, binary
 * files and symlinks are skipped.
 */
#ifndef LOOPGATE_PLANT_H
#define LOOPGATE_PLANT_H

#include <stddef.h>
#include "base/buf.h"
#include "config/config.h"

struct plant_site {
	char *file;	      /* tracked path, relative to the tree */
	long line;	      /* 1-based */
	char *before, *after; /* the line, leading blanks trimmed */
	char *mutation;	      /* "' + ' -> ' - '" */
	struct buf content;   /* the whole mutated file */
};

struct plant_opts {
	const char *tree;	     /* a worktree (read only here) */
	const struct config *cfg;    /* gates and protect globs */
	const struct strlist *named; /* paths the gates' output names */
};

/* Fills sites[0..*n) with at most max sites; 0, or -errno when git could
 * not list the tree (err set). */
int plant_find(const struct plant_opts *o, struct plant_site *sites, size_t max,
	       size_t *n, struct buf *err);
/* Writes the site's mutated content over its file in tree, in place (the
 * file keeps its mode), never through a symlink. */
int plant_apply(const char *tree, const struct plant_site *s, struct buf *err);
void plant_sites_release(struct plant_site *sites, size_t n);

/* Internals, for the unit tests. */
enum { PLANT_HASH = 1, PLANT_SLASH = 2, PLANT_TRIPLE = 4 };
/* Comment syntax flags of a source file by extension; 0: not source. */
int plant_source_lang(const char *path);
/*
 * The mutation of one line s[0..n) (no newline): the first of ' + ' ->
 * ' - ', ' - ' -> ' + ', '==' -> '!=', ' < ' -> ' >= ', True/False and
 * true/false swapped (whole words), a decimal integer literal n -> n+1,
 * found in code (not in quotes or a trailing comment).  1 with *after the
 * mutated line and *desc (malloc'd) "'from' -> 'to'"; 0 when none applies.
 */
int plant_mutate_line(const char *s, size_t n, int lang, struct buf *after, char **desc);
/* The sites of one file's content (path gives the language), appended to
 * sites[*n..max). */
void plant_content_sites(const char *path, const char *data, size_t len,
			 struct plant_site *sites, size_t max, size_t *n);

#endif
