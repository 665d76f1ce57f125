/*
 * ui: what the person watching sees on stderr.
 *
 * On a terminal: log lines plus one live status line at the bottom
 * (iteration k/N, phase, gate, elapsed, tokens, cost against budget),
 * redrawn at every phase change.  Otherwise: plain log lines only.  stdout
 * is left alone so --json output stays machine-readable.
 */
#ifndef LOOPGATE_UI_H
#define LOOPGATE_UI_H

#include "engine/run.h"

void ui_init(int quiet);
void ui_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Updates the status line (terminal only). */
void ui_status(const struct run *r, const char *phase);
void ui_finish(void);

#endif
