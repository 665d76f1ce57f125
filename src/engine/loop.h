/*
 * loop: `loopgate run` from setup to its final status.
 *
 *   struct run r;
 *   run_init(&r, &cfg);
 *   int code = loop_run(&r, &err);   0 converged / already satisfied,
 *                                    1 halted (the CLI then writes
 *                                      handoff.md: report.h),
 *                                    2 usage or configuration error,
 *                                    3 could not run
 *   ... run_summary(&r, code) for --json (summary.h) ...
 *
 * The engine never prints: progress reaches the terminal, the run store and
 * any other watcher through observers of r.ev (events.h), which the caller
 * registers before loop_run (cli/ui.c is the terminal's).
 *   run_release(&r);
 *
 * Setup: find the repository, refuse a dirty tree unless allow_dirty, make
 * the run id, the run directory .loopgate/runs/<id>/ and a worktree on
 * branch loopgate/<id> from HEAD (the user's tree and branch are never
 * touched).  Baseline: the gates on the untouched tree; all passing ends the
 * run as already_satisfied with no model call.  Then each iteration: prompt,
 * actor, commit, gates in order stopping at the first failure, record,
 * budgets.  Only the gates' exit codes end the loop as converged.
 */
#ifndef LOOPGATE_LOOP_H
#define LOOPGATE_LOOP_H

#include "engine/run.h"

/*
 * The steps, for `loopgate resume` (resume.c), which rebuilds r from the
 * log and enters the loop where the crash left it:
 *   loop_baseline   the baseline round; -1 to go on, else an exit code
 *   loop_iterate    one iteration (from NULL: a fresh one); -1 to go on
 *   loop_continue   iterations until a status, then loop_finish
 *   loop_finish     summary.json, run_end, the final checkpoint
 */
enum loop_from {
	LOOP_FROM_ACTOR, /* the actor's turn again (the tree rolled back) */
	LOOP_FROM_REPLY, /* apply the saved reply; no model call */
	LOOP_FROM_GATES, /* the change is committed: the gate round again */
};
struct loop_resume {
	enum loop_from from;
	struct iteration it; /* what the iteration did before the crash (its
				   spend; with LOOP_FROM_GATES its commit and
				   edits too); moved into r->w->its */
	struct buf reply;    /* LOOP_FROM_REPLY: the saved response.md */
};

void run_init(struct run *r, const struct config *cfg);
/* Ends the run: sets r->status and r->reason (printf-style); returns code. */
int loop_halt(struct run *r, const char *status, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void run_release(struct run *r);
int loop_run(struct run *r, struct buf *err);
/* run_setup.c: 0, or 2 (usage: not a repository, dirty tree, bad model)
 * or 3 (could not create the run) with err set. */
int run_setup(struct run *r, struct buf *err);
/* The actor: a command, or the model's provider (API key from the
 * environment); 0, EXIT_USAGE (2) or, when libcurl cannot be loaded,
 * EXIT_CANNOT (3), with err set. */
int run_setup_actor(struct run *r, struct buf *err);
/* The sandbox for the gates and the command actor (run->sandbox), with its
 * `sandbox` and `policy` records; 3 (EXIT_CANNOT) when it cannot be made. */
int run_setup_sandbox(struct run *r, struct buf *err);
/* The Agent Skills index for a model with tools (skillset.h), with its
 * `skills` record; never fails the run. */
void run_setup_skills(struct run *r);
int loop_baseline(struct run *r, struct buf *err);
int loop_iterate(struct run *r, struct loop_resume *from, struct buf *err);
int loop_continue(struct run *r, int code, struct buf *err);
int loop_finish(struct run *r, int code, struct buf *err);
/*
 * `loopgate once` (once.c): setup as loop_run, then exactly one actor turn
 * through loop_iterate (sandboxed, budgeted, audited, committed on the run
 * branch), no baseline and no gate; the change's diff is saved as
 * diff.patch in the run directory.  0 with status "completed" when the
 * turn ran; 1 actor_failed, budget_exhausted or interrupted; 2; 3.
 */
int loop_once(struct run *r, struct buf *err);
/* The end of the one turn (once.c): its status, for loop_iterate. */
int loop_once_outcome(struct run *r, const struct iteration *it);
/*
 * The run lock (run_setup.c): an exclusive flock on <run_dir>/lock, opened
 * O_CLOEXEC (children never hold it) with the holder's pid written in; held
 * until run_release, dropped by the kernel when the process dies.  0, or
 * -EBUSY with err naming the holder's pid, or another -errno.
 */
int run_lock(struct run *r, struct buf *err);
/* Lets it go (run_release, or a setup taken back); nothing when not held. */
void run_unlock(struct run *r);
/* A fan-out worker's link (run.h): run_start's "fanout" object, read back
 * by resume; the ledger opened into r->budget.ledger (0 or -errno). */
json_t *run_link_json(const struct run *r);
void run_link_from_json(struct run *r, const json_t *o);
int run_link_ledger(struct run *r, struct buf *err);

#endif
