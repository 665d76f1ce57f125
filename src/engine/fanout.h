/*
 * fanout: a run of several workers, coordinated (docs/design/fanout.md).
 *
 * The coordinator is an ordinary run up to its baseline (loop_run); then,
 * when the config asks for more than one worker, fanout_run starts each
 * worker as its own process (`loopgate __worker`, a run of one loop with
 * its own log, tree and branch), at most max_parallel at once, all
 * sharing the run's budget through the ledger (ledger.h).  A worker that
 * ends converged has made a claim: the coordinator re-verifies its commit
 * in a clean checkout (reverify.h) before it counts.  `select: first` takes
 * the first verified candidate and stops the others; `best` waits for all
 * and takes the smallest verified diff.  The winner's commit becomes the
 * run's branch loopgate/<id>.
 *
 *   if (code < 0 && fanout_wanted(cfg)) code = fanout_run(r, err);
 *   ... loop_finish ...                 run_summary adds fanout_json(r->fan)
 *
 * Records: fanout_start, worker_start, worker_end (with the hash of the
 * worker's last record and its final checkpoint: the coordinator's signed
 * chain commits to each worker's), reverify_start/_end with "worker",
 * candidate, selected.  Resume (fanout_resume) continues from them.
 */
#ifndef LOOPGATE_FANOUT_H
#define LOOPGATE_FANOUT_H

#include <jansson.h>
#include "base/buf.h"
#include "config/config.h"

struct run;
struct fanout;
struct resume_state;

/* More than one worker asked for (--workers N > 1, or a workers: list). */
int fanout_wanted(const struct config *c);
/* After the baseline: the workers to their end, the choice, the branch.
 * Returns the run's exit code (0 converged, 1 halted, 3 could not). */
int fanout_run(struct run *r, struct buf *err);
/*
 * `loopgate resume` of a coordinator past its baseline (s: its log
 * reduced, engine/resume_state.h).  Without a fanout_start record, fanout_run.  Else the
 * workers that ended are taken as the log recorded them (spend, claim and
 * its check), those whose run ended while the coordinator was dead are
 * read now, those that started are continued (`__worker --resume`: their
 * own resume, spend from their own logs) and the others started; the
 * ledger is kept.  Returns as fanout_run.
 */
int fanout_resume(struct run *r, const struct resume_state *s, struct buf *err);
/* Every worker for summary.json, handoff.md and show: an array. */
json_t *fanout_json(const struct fanout *f);
/* A worker's "vote" from fanout_json as "2 of 3 (0.81)": the briefs that
 * accepted, of how many, and the panel's score; "-" when none was taken. */
void fanout_vote_text(const json_t *vote, char *out, size_t n);
/* "first" or "best". */
const char *fanout_select(const struct fanout *f);
void fanout_free(struct fanout *f);

#endif
