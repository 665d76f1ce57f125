/*
 * gate: running the user's gate commands, the loop's only judge of done.
 *
 * A gate is a shell command run through /bin/sh -c in the run's tree (the
 * one place a user string goes through a shell, on purpose), with an
 * allow-listed environment that never holds an API key.  stdout and stderr
 * are merged into one pipe so the output reads as on a terminal; the full
 * output is saved to a file, a capped copy is kept in memory.
 *
 *   struct gate_outcome g = {0};
 *   gate_run(&spec, &g, &err);     one gate
 *   gate_outcome_release(&g);
 */
#ifndef LOOPGATE_GATE_H
#define LOOPGATE_GATE_H

#include "run.h"

struct gate_spec {
	const char *cmd;
	int index;
	const char *tree;
	const char *output_path;	/* absolute */
	const char *output_rel;		/* as recorded (relative to the run dir) */
	long timeout_ms;
	long long deadline_ms;
	const char *const *env;
};

/* 0 when the gate ran (pass or fail); -errno when it could not start. */
int gate_run(const struct gate_spec *s, struct gate_outcome *g, struct buf *err);

#endif
