/*
 * gate: running the user's gate commands, the loop's only judge of done.
 *
 * A gate is a shell command run through /bin/sh -c in the run's tree (the
 * one place a user string goes through a shell, on purpose), with an
 * allow-listed environment that never holds an API key.  stdout and stderr
 * are merged into one pipe so the output reads as on a terminal; the full
 * output is saved to a file (proc.h: up to 256 MiB).  g->output holds the
 * output itself when it fits in memory (1 MiB, or feedback_max if larger);
 * past that it holds the output condensed from the file by
 * feedback_condense_file (the one condenser, condense.h: head, tail, every
 * line naming a location or a failure, the gaps marked "[... N lines
 * elided ...]" with counts of the real output's lines, invalid UTF-8 as
 * U+FFFD, at most feedback_max bytes), g->output.truncated is set and
 * g->output_binary says whether any byte was not UTF-8 text.  So a 20 MB log's
 * last line and the failure in its middle still reach the prompt, and
 * memory stays bounded.
 *
 *   struct gate_outcome g = {0};
 *   gate_run(&spec, &g, &err);     one gate
 *   gate_outcome_release(&g);
 *
 * Gates run on the actor's behalf: spec.sandbox (sandbox.h; run setup and
 * `gate check` make one) is where gate_run spawns the gate, and
 * spec.policy's extra env names are passed to it; a gate killed by a
 * policy limit says which in its describe text.  NULL: no sandbox, no
 * policy (--no-sandbox).
 */
#ifndef LOOPGATE_GATE_H
#define LOOPGATE_GATE_H

#include "base/buf.h"
#include "exec/proc.h"
#include "judge/testcount.h"

struct sandbox;
struct policy;

/* The result of running a gate (or a cascade of them, stopping at a
 * failure: judge.h). */
struct gate_outcome {
	int ran;    /* 1 once any gate result is held */
	int passed; /* every gate exited 0 */
	int index;  /* the gate that decided: first failure, or the last */
	int gates_run;
	enum proc_status status;
	int exit_code;
	int term_signal;
	char *describe;	     /* "exit 1", "timed out after 5.0s and was killed" */
	struct buf output;   /* raw merged output, capped in memory */
	size_t output_total; /* bytes printed, even past the cap */
	int output_binary;   /* condensed from the file, which held bytes
				that are not UTF-8 text (now U+FFFD) */
	char *output_file;   /* path relative to the run directory */
	double elapsed_ms;
	struct testcount counts; /* tests the output reports, if recognised */
};

void gate_outcome_release(struct gate_outcome *g);
/*
 * g->output read back from run_dir/g->output_file as gate_run kept it (the
 * head that fits in memory, or, when the gate printed more, the condensed
 * file), output_binary with it: the gate cache keeps no output in memory.
 * feedback_max as in gate_spec.  -ENOENT when the file is gone.
 */
int gate_output_reload(struct gate_outcome *g, const char *run_dir, size_t feedback_max);
/*
 * The program a failed gate could not find: the shell's exit 127 with
 * "NAME: not found" (dash) or "NAME: command not found" (bash) in its
 * output, NAME looked up in PATH (no '/': a path such as ./t is something
 * the actor may yet create).  1 with NAME in name[n], else 0.
 */
int gate_program_missing(const struct gate_outcome *g, char *name, size_t n);
/*
 * The module `python -m NAME` could not find: Python's own line
 * ".../python3: No module named NAME" (runpy's, unquoted; an import error
 * in the code quotes the name).  1 with NAME in name[n], else 0.  Unlike a
 * missing program this may be the goal (a package still to be written), so
 * the run only warns.
 */
int gate_module_missing(const struct gate_outcome *g, char *name, size_t n);

struct gate_spec {
	const char *cmd;
	int index;
	const char *tree;
	const char *output_path; /* absolute */
	const char *output_rel;	 /* as recorded (relative to the run dir) */
	long timeout_ms;
	long long deadline_ms;
	const char *const *env;
	size_t feedback_max;	       /* the prompt's budget for this output */
	const struct sandbox *sandbox; /* where the gate runs; NULL: none */
	const struct policy *policy;   /* its extra env names; NULL: none */
};

/* 0 when the gate ran (pass or fail); -errno when it could not start or
 * its output could not be saved (a full disk), err saying why. */
int gate_run(const struct gate_spec *s, struct gate_outcome *g, struct buf *err);

#endif
