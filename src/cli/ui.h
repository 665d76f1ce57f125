/*
 * ui: what the person watching sees on stderr.
 *
 *   ui_init(quiet);
 *   run_init(&r, &cfg);
 *   ui_watch(&r);              an observer of r.ev: progress lines from
 *   loop_run(&r, &err);        the run's records as they are written
 *   ui_finish();               stops watching, clears the status line
 *
 * The engine never prints: every progress line is derived from an event
 * record (the table in ui.c says which record gives which line).  On a
 * terminal: log lines plus one live status line at the bottom (iteration
 * k/N, phase, gate, elapsed, tokens, cost against budget), redrawn at every
 * phase change.  Otherwise: plain log lines only.  stdout is left alone so
 * --json output stays machine-readable.
 */
#ifndef LOOPGATE_UI_H
#define LOOPGATE_UI_H

#include "engine/run.h"

void ui_init(int quiet);
void ui_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Watches r's event log until ui_finish (r is borrowed until then). */
void ui_watch(struct run *r);
void ui_finish(void);

#endif
