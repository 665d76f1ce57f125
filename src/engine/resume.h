/*
 * resume: continuing a run whose loopgate process died, from its event log.
 *
 *   struct config cfg;
 *   struct run r;
 *   config_init(&cfg);
 *   run_init(&r, &cfg);
 *   int code = resume_run(&r, &cfg, ".", "20261124-2301", &err);
 *   ... report as `loopgate run` does (r.status, r.reason, summary) ...
 *   run_release(&r);
 *   config_release(&cfg);
 *
 * spec is a run id or a unique prefix of one, looked up under the
 * repository's .loopgate/runs/.  resume_run takes the run lock, verifies
 * the log (events_reopen: a torn last line is cut and recorded), rebuilds
 * the run's state from the records alone (config from run_start, spend from
 * the model_attempt records, stall counters, the test floor, the latest
 * gate outcome, the branch head; see docs/design/resume.md), fills cfg from
 * the logged configuration, rolls the tree back to the last recorded
 * commit, writes a `resume` record, and continues the loop from the phase
 * the crash interrupted, to the end (handoff.md, summary.json, run_end).
 * The log is read once and reduced (resume_state.h); the run is built from
 * the reduced state.
 *
 * Returns the run's exit code as loop_run does (0, 1, 3), or 2 when nothing
 * was resumed: no such run, an ambiguous prefix, a run that already ended,
 * a run another live process holds (its pid is named), a log that fails
 * verification.  err says why.  r->run_dir is set once the run is found;
 * r->ev.fd >= 0 once the log is open for appending.
 */
#ifndef LOOPGATE_RESUME_H
#define LOOPGATE_RESUME_H

#include "engine/run.h"

int resume_run(struct run *r, struct config *cfg, const char *dir, const char *spec,
	       struct buf *err);

#endif
