/*
 * worker: one actor working on one tree, inside a run (run.h).
 *
 * A run is what is shared: identity, config, budget and spend, the record
 * (log, store, audit key, lock).  A worker is what one line of work needs
 * for itself: its worktree and branch, the sandbox its gates and command
 * actor spawn in, its actor (provider or command), its judge (gate results,
 * counts, cache: judge/judge.h), its stall state and its iterations.
 *
 * Today's loop is a run with one worker, run->workers[0] (run->w points at
 * it).  Parallel workers (fan-out) each get their own tree, sandbox, actor
 * and judge while sharing the run's budget and record: nothing in here is
 * shared between workers, and nothing shared lives in here.
 *
 *   worker_init(w);           in run_init
 *   worker_bind_judge(w, r);  before judging: the judge's borrowed fields
 *   worker_release(w);        in run_release
 */
#ifndef LOOPGATE_WORKER_H
#define LOOPGATE_WORKER_H

#include "base/buf.h"
#include "config/config.h"
#include "tree/git.h"
#include "tree/protect.h"
#include "tree/fresh.h"
#include "judge/judge.h"
#include "engine/verify.h"

struct provider;
struct agent_rt;
struct git_guard;
struct sandbox;
struct mcp;
struct run;

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
	int judged; /* a gate round judged this iteration's tree */
	/* the command actor's turn (actor_fail.c); NULL for a model */
	int actor_failed;
	char *actor_desc;   /* "exit 127" */
	char *actor_tail;   /* the last lines it printed */
	char *net_denied;   /* hosts the sandbox refused it */
	char *actor_advice; /* what to do, when it failed */
};

struct worker {
	/* the tree */
	char *tree;		      /* the worker's worktree */
	char *branch;		      /* loopgate/<id> */
	char *artifacts;	      /* excludes file: paths the gates created */
	struct git_index_stamp index; /* the tree's index as our last commit left it */
	struct protect protect;	      /* paths the actor must not change */
	struct git_guard *git_guard;  /* git control files as at run start */
	struct sandbox *sandbox;      /* run_setup_sandbox's; run_release frees it */
	struct fresh fresh;	      /* the tree's mtime stamps (fresh.h) */
	/* the actor */
	struct provider *prov;	/* the model actor, or NULL */
	struct agent_rt *agent; /* --agent: the preset's runtime (agent_turn.h) */
	struct model_preset preset;
	const char *actor; /* "model", "agent" or "command" */
	long max_output_tokens;
	/* escalation (route.h): the model a stall hands the next turn to */
	struct provider *esc_prov; /* made at the first escalation */
	struct model_preset esc_preset;
	int escalate_next;     /* the next turn is the escalation model's */
	int escalations_used;  /* stalls handed over so far */
	int escalating;	       /* this turn is the escalation model's */
	int tools_refused;     /* the server refused function calling: edit blocks */
	struct skills *skills; /* the Agent Skills index (skillset.h), or NULL */
	struct mcp *mcp;       /* its MCP servers (mcp.h), or NULL */
	/* the judge */
	struct judge judge;	/* gate results, counts, cache, file list */
	char *reverify_note;	/* why the clean checkout rejected the latest
				  claim (reverify.h): the next prompt says it */
	int reverify_rejects;	/* claims the clean checkout rejected */
	int reverified_at;	/* iteration whose commit held there, or 0 */
	char *vote_note;	/* why the verifiers rejected the latest passing
				  commit (verify.h): the next prompt says it */
	struct vote_tally vote; /* the latest vote taken (verify.h) */
	char stall_fp[65];	/* fingerprint of the latest failure */
	int stall_same;		/* how many failures in a row had it */
	int stall_noop;		/* no-op iterations in a row */
	int protect_streak;	/* iterations in a row with protected changes */
	int actor_fail_streak;	/* failed actor turns in a row that changed nothing */
	long integrity_events;	/* protected changes reverted, and the like */
	/* the history */
	struct buf edit_feedback; /* the previous iteration's edit outcomes */
	struct buf edit_paths;	  /* the paths this turn's edit blocks wrote,
				   * NUL-separated (a model's turn) */
	struct iteration *its;
	size_t nits;
};

void worker_init(struct worker *w);
/* Points w->judge's borrowed fields at r's record and config and w's
 * tree and sandbox (they are made during setup, so call it again after). */
void worker_bind_judge(struct worker *w, struct run *r);
void worker_release(struct worker *w);
void iteration_release(struct iteration *it);

#endif
