/*
 * ui: what the person watching sees on stderr.
 *
 *   ui_init(flags);            UI_QUIET, UI_NO_PROGRESS
 *   run_init(&r, &cfg);
 *   ui_watch(&r);              an observer of r.ev: progress lines from
 *   loop_run(&r, &err);        the run's records as they are written
 *   ui_finish();               stops watching, clears the status line
 *
 * The engine never prints: every progress line is derived from an event
 * record (the table in ui.c says which record gives which line).  On a
 * terminal: log lines plus one live status line at the bottom (iteration
 * k/N, the phase with its own elapsed time, spend against each ceiling:
 * tokens, cost, wall clock; the last gate result), redrawn at every phase
 * change and while waiting.  Otherwise, or with UI_NO_PROGRESS
 * (--no-progress): plain log lines only, one per step.  NO_COLOR (set and
 * not empty) drops the colours, never the text.  stdout is left alone so
 * --json output stays machine-readable.
 */
#ifndef LOOPGATE_UI_H
#define LOOPGATE_UI_H

#include "engine/run.h"

#include "base/buf.h"

enum { UI_QUIET = 1, UI_NO_PROGRESS = 2 };
void ui_init(int flags);
void ui_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Watches r's event log until ui_finish (r is borrowed until then). */
void ui_watch(struct run *r);
void ui_finish(void);
/* "loopgate: warning: MSG" on stderr, even when quiet; ctx unused (the
 * shape of run.h's warn and store.h's store_warn_fn). */
void ui_warn(void *ctx, const char *msg);

/* What the status line says, apart from the run (unit-tested). */
struct ui_facts {
	long iteration, max_iterations;	       /* iteration 0: the baseline */
	const char *phase;		       /* "model call", "gate 1/3"... */
	double phase_s, elapsed_s, deadline_s; /* deadline_s <= 0: none */
	long tokens, max_tokens;	       /* max <= 0: none */
	double cost, max_cost;		       /* max < 0: none */
	int cost_known;			       /* 0: an agent CLI's spend */
	const char *last;		       /* last gate result, or NULL */
	int color;
};
void ui_status_text(const struct ui_facts *f, struct buf *out);

#endif
