/*
 * turn: what the loop checks after an actor's turn, beside committing it.
 *
 *   turn_freshen        fresh mtimes and no stale bytecode for the paths
 *                       the turn touched (tree/fresh.h), recorded
 *   turn_actor_outcome  the command actor's failure told plainly; K failed
 *                       turns in a row end the run as actor_failed
 *   turn_protected      protected files changed again and again end the
 *                       run as integrity_violation, naming file and flag
 *   turn_guard_protected  the staged change must not touch protected paths,
 *                       whoever made it: each such path is put back as it
 *                       is in HEAD before anything is committed or judged,
 *                       the attempt recorded with its diff, the actor told;
 *                       the reverted paths leave changed
 *   turn_nothing_to_stage  1 when `git add -A` would stage nothing, known
 *                       without asking git
 *   turn_tracked_only   1 when `git commit -a` would take what `git add -A`
 *                       stages (the turn wrote tracked paths only, none
 *                       protected): then turn_commit_tracked commits the
 *                       turn in one git process
 *
 * turn_protected and turn_actor_outcome return -1 to go on, or the run's
 * exit code (loop_halt set its status and reason); with stuck (the stall detector's verdict) they
 * name their cause for a loop that is stuck anyway.
 */
#ifndef LOOPGATE_TURN_H
#define LOOPGATE_TURN_H

#include "engine/run.h"

int turn_freshen(struct run *r, struct iteration *it, const struct buf *paths,
		 int committing, struct buf *err);
int turn_actor_outcome(struct run *r, struct iteration *it, int stuck);
int turn_protected(struct run *r, const struct iteration *it, int stuck);
int turn_guard_protected(struct run *r, struct iteration *it, struct buf *changed,
			 struct buf *err);
/* integrity_before: w->integrity_events before the turn's checks;
 * touched: fresh_touched's list. */
int turn_nothing_to_stage(const struct run *r, const struct iteration *it,
			  const struct buf *touched, long integrity_before);
int turn_tracked_only(const struct run *r, const struct buf *touched,
		      long integrity_before);
/* 0 with *changed and *sha (git_commit_all's), or -errno (err set). */
int turn_commit_tracked(struct run *r, const char *msg, struct buf *changed,
			struct buf *sha, struct buf *err);

#endif
