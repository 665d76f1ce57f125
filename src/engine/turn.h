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
 *
 * The last two return -1 to go on, or the run's exit code (loop_halt set
 * its status and reason); with stuck (the stall detector's verdict) they
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

#endif
