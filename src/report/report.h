/*
 * report: what a run leaves for people and programs at its end.
 *
 * report_handoff writes handoff.md into the run directory when a run
 * halts without converging (the CLI calls it after the engine returns; the
 * --json summary is the engine's: engine/summary.h): goal, status and reason, a table of iterations, the last gate
 * with its raw output, the cumulative diff, the branch, tokens and cost,
 * and how to continue.
 */
#ifndef LOOPGATE_REPORT_H
#define LOOPGATE_REPORT_H

#include "engine/run.h"

int report_handoff(const struct run *r, struct buf *err);

#endif
