/*
 * gate: running the user's gate commands, the loop's only judge of done.
 *
 * A gate is a shell command run through /bin/sh -c in the run's tree (the
 * one place a user string goes through a shell, on purpose), with an
 * allow-listed environment that never holds an API key.  stdout and stderr
 * are merged into one pipe so the output reads as on a terminal; the full
 * output is saved to a file (proc.h: up to 256 MiB).  g->output holds the
 * output itself when it fits in memory (1 MiB, or feedback_max if larger);
 * past that it holds the output condensed from the file the way
 * feedback_condense does it, to at most feedback_max bytes once cleaned
 * (head, tail, every line naming a location or a failure, the gaps marked
 * "[... N lines elided ...]" with counts of the real output's lines), and
 * g->output.truncated is set.  So a 20 MB log's last line and the failure
 * in its middle still reach the prompt, and memory stays bounded.
 *
 *   struct gate_outcome g = {0};
 *   gate_run(&spec, &g, &err);     one gate
 *   gate_outcome_release(&g);
 *
 * Gates run on the actor's behalf: gate_use_sandbox(sb) (once, by run
 * setup and `gate check`) makes every later gate_run run inside sb
 * (sandbox.h) and pass the policy's extra env names; a gate killed by a
 * policy limit says which in its describe text.
 */
#ifndef LOOPGATE_GATE_H
#define LOOPGATE_GATE_H

#include "engine/run.h"

struct gate_spec {
	const char *cmd;
	int index;
	const char *tree;
	const char *output_path; /* absolute */
	const char *output_rel;	 /* as recorded (relative to the run dir) */
	long timeout_ms;
	long long deadline_ms;
	const char *const *env;
	size_t feedback_max; /* the prompt's budget for this output */
};

struct sandbox;
struct policy;
/* sb and p are borrowed until the last gate_run; NULL: none. */
void gate_use_sandbox(const struct sandbox *sb, const struct policy *p);

/* 0 when the gate ran (pass or fail); -errno when it could not start or
 * its output could not be saved (a full disk), err saying why. */
int gate_run(const struct gate_spec *s, struct gate_outcome *g, struct buf *err);

#endif
