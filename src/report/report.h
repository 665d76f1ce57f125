/*
 * report: what a run leaves for people and programs at its end.
 *
 * report_summary returns the --json object (contract fields: run_id,
 * status, reason, iterations, tokens_in, tokens_out, cost_usd, elapsed_s,
 * branch, run_dir, plus exit_code, calls, base, gates).  report_handoff
 * writes handoff.md into the run directory when a run halts without
 * converging: goal, status and reason, a table of iterations, the last gate
 * with its raw output, the cumulative diff, the branch, tokens and cost,
 * and how to continue.
 */
#ifndef LOOPGATE_REPORT_H
#define LOOPGATE_REPORT_H

#include <jansson.h>
#include "engine/run.h"

json_t *report_summary(const struct run *r, int exit_code);
int report_handoff(const struct run *r, struct buf *err);

#endif
