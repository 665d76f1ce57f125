/*
 * html: the run report, one self-contained HTML page rendered from a run
 * directory alone (events.jsonl, checkpoints.jsonl, summary.json, the files
 * the records name, and the run branch's diffs from the repository).
 *
 *   struct buf page = BUF_INIT;
 *   if (report_html(".loopgate/runs/ID", NULL, &page, &err) < 0) ...
 *   report_html_write(".loopgate/runs/ID", NULL, &err);   report.html there
 *
 * The page needs no network and no script: inline CSS, inline SVG plots,
 * <details> for what is folded; a Content-Security-Policy meta tag forbids
 * every script and every request.  Every string from the run is escaped
 * (svg_esc).  See docs/design/report.md for the sections.
 */
#ifndef LOOPGATE_HTML_H
#define LOOPGATE_HTML_H

#include "base/buf.h"
#include "base/fileio.h"
#include "record/rundir.h"

#define REPORT_HTML_FILE RUNDIR_REPORT /* record/rundir.h */

struct report_html_opts {
	/* loopgate serve: a same-origin script that follows the run live
	 * (the CSP then allows script-src 'self'); NULL for the file report */
	const char *live_script;
	const char *base_href; /* links back to the run list, or NULL */
};

int report_html(const char *run_dir, const struct report_html_opts *o, struct buf *out,
		struct buf *err);
/* Renders into path (NULL: run_dir/report.html), written atomically. */
int report_html_write(const char *run_dir, const char *path, struct buf *err);
/* The same into run_dir/report.html in two steps: rendered and written to
 * its temporary, its fsync begun (fileio.h); fileio_atomic_close(file, err)
 * ends it.  0, or -errno (-ENOENT: no run there) with nothing to close. */
int report_html_write_begin(const char *run_dir, struct fileio_atomic *file,
			    struct buf *err);

#endif
