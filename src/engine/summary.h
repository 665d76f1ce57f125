/*
 * summary: the run's end in one JSON object.
 *
 *   json_t *sum = run_summary(&r, code);   the run_end record's body,
 *   ...                                   summary.json, and --json output
 *   json_decref(sum);
 *
 * Contract fields: run_id, status, reason, iterations, tokens_in,
 * tokens_out, cost_usd, elapsed_s, branch, run_dir, plus exit_code, calls,
 * base, resumed, sandbox, and review_requested when this converged run is
 * picked for human review (store.h: review_sample).
 */
#ifndef LOOPGATE_SUMMARY_H
#define LOOPGATE_SUMMARY_H

#include <jansson.h>
#include "engine/run.h"

json_t *run_summary(const struct run *r, int exit_code);

#endif
