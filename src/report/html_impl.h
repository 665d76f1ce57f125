/*
 * html_impl.h: what html.c and html_iter.c share.  Not for other modules.
 */
#ifndef LOOPGATE_HTML_IMPL_H
#define LOOPGATE_HTML_IMPL_H

#include "report/runlog.h"
#include "report/svg.h"
#include "base/fileio.h"

/* Per-iteration text shown in the page at most (the files stay whole). */
#define HTML_TEXT_MAX (32u << 10)
/* Iterations shown in full: the first HTML_FULL_HEAD and the last
 * HTML_FULL_TAIL; the others get their summary line only. */
#define HTML_FULL_HEAD 20
#define HTML_FULL_TAIL 80

/* report_html_write writes the page out each time it holds this much, so
 * a long run's page is never whole in memory. */
#define HTML_FLUSH_AT (64u << 10)

struct page {
	struct buf *b;
	const struct runlog *rl;
	struct fileio_atomic *file; /* the page's file, or NULL: all in b */
	struct buf *err;	    /* why writing it failed */
};

/* Moves what b holds to the file once it passes HTML_FLUSH_AT (every
 * byte when all is set); nothing without a file. */
void html_flush(const struct page *pg, int all);

/* "1.2 s", "3m04s" */
void html_duration(struct buf *b, double ms);
/* The gate_end body of gate k (1-based) in it, the last one run; NULL. */
const json_t *html_gate(const struct runlog_iter *it, int k);
/* The number of gates the run was configured with. */
int html_ngates(const struct runlog *rl);
/* "baseline" or "iteration N" (with the lane when there are several). */
void html_iter_name(const struct page *pg, const struct runlog_iter *it);

/* The per-iteration section (html_iter.c). */
void html_iterations(const struct page *pg);

#endif
