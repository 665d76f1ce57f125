/*
 * report: what a run leaves for people and programs at its end.
 *
 * report_handoff_begin writes handoff.md into the run directory when a run
 * halts without converging (the CLI calls it after the engine returns; the
 * --json summary is the engine's: engine/summary.h): goal, status and reason, a table of iterations, the last gate
 * with its raw output, the cumulative diff, the branch, tokens and cost,
 * and how to continue.
 */
#ifndef LOOPGATE_REPORT_H
#define LOOPGATE_REPORT_H

#include "engine/run.h"
#include "base/fileio.h"

/* handoff.md written to its temporary and its fsync begun (fileio.h), so
 * that the caller can go on meanwhile; fileio_atomic_close(file, err)
 * puts it in place.  0, or -errno with nothing to close. */
int report_handoff_begin(const struct run *r, struct fileio_atomic *file,
			 struct buf *err);

#endif
