/*
 * run: the state of one `loopgate run`, shared by the loop and the modules
 * that render it (prompt, report, ui).  The loop (loop.c) owns it; the
 * others only read it.
 */
#ifndef LOOPGATE_RUN_H
#define LOOPGATE_RUN_H

#include "base/buf.h"
#include "engine/budget.h"
#include "config/config.h"
#include "record/events.h"
#include "record/checkpoint.h"
#include "tree/git.h"
#include "tree/protect.h"
#include "judge/testcount.h"
#include "exec/proc.h"

struct provider;
struct store;
struct git_guard;
struct sandbox;
struct agent_rt;

/* The result of running the gates once (a cascade, stopping at a failure). */
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
	char *output_file;   /* path relative to the run directory */
	double elapsed_ms;
	struct testcount counts; /* tests the output reports, if recognised */
};

struct iteration {
	int n;
	char **changed; /* files changed by this iteration */
	size_t nchanged;
	int noop; /* the actor changed nothing */
	int edits_applied;
	int edits_refused;
	int edit_blocks;      /* blocks found in the reply (model actor) */
	int reverted;	      /* protected paths put back this iteration */
	char *reverted_paths; /* those paths, ", "-separated */
	long tokens_in;
	long tokens_out;
	double cost;
	int gate_index; /* gate that failed, or -1 when all passed */
	int gate_exit;
	char *gate_desc;
	char *commit;
	double elapsed_ms;
};

struct run {
	const struct config *cfg;
	char id[64];
	char *repo;    /* the user's repository top level */
	char *run_dir; /* absolute .loopgate/runs/<id> */
	char *tree;    /* the run's worktree */
	char *branch;  /* loopgate/<id> */
	char *base_sha;
	char *goal;
	char *artifacts;		/* excludes file: paths the gates created */
	struct git_index_stamp index;	/* the tree's index as our last commit left it */
	struct protect protect;		/* paths the actor must not change */
	struct git_guard *git_guard;	/* git control files as at run start */
	char tree_id[41];		/* HEAD's tree in the worktree: the cache key */
	struct testcount *base_counts;	/* per gate, from the baseline round */
	struct testcount *round_counts; /* per gate, from the latest round */
	char stall_fp[65];		/* fingerprint of the latest failure */
	int stall_same;			/* how many failures in a row had it */
	int stall_noop;			/* no-op iterations in a row */
	struct judge_cache *cache;	/* judge.c */
	size_t ncache;
	long integrity_events; /* protected changes reverted, and the like */
	struct buf files;      /* tracked paths (NUL-separated), from the last
				   scan after the gates: the prompt's file list */

	struct events ev;
	struct store *store;		 /* the run store, indexing ev live (or NULL) */
	struct checkpoint_key audit_key; /* signs ev's checkpoints */
	int lock_fd;			 /* the run lock (run_lock), or -1 */
	int resumes;		 /* times this run was resumed, this one included */
	struct sandbox *sandbox; /* run_setup's; cmd_run.c frees it */
	struct budget budget;
	struct provider *prov;
	struct agent_rt *agent; /* --agent: the preset's runtime (agent_turn.h) */
	struct model_preset preset;
	const char *actor; /* "model", "agent" or "command" */
	long max_output_tokens;

	struct gate_outcome last; /* the latest gate result */
	struct buf edit_feedback; /* the previous iteration's edit outcomes */
	struct iteration *its;
	size_t nits;

	const char *status; /* final status, contract names */
	struct buf reason;
	long long start_ms;
	int phase_iteration; /* iteration in progress, for the status line */
	const char *phase;
};

void gate_outcome_release(struct gate_outcome *g);
void iteration_release(struct iteration *it);

#endif
