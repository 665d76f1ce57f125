/*
 * actor: one turn of whoever changes the tree.
 *
 * actor_model_turn: prompt -> provider -> reply -> edit blocks applied to
 * the run's tree.  Before the call, the budget's worst case must fit
 * (budget_precheck); every attempt, failed ones too, is charged and logged
 * as it happens; the reply and the edit outcomes are saved in the
 * iteration's directory and the outcomes become the next prompt's
 * feedback.
 *
 * actor_command_turn: the command-actor protocol of PRODUCT.md — the
 * command runs through /bin/sh -c in the run's tree with the prompt on
 * stdin and in $LOOPGATE_PROMPT_FILE, LOOPGATE_ITERATION, LOOPGATE_RUN_ID
 * and LOOPGATE_GATE_OUTPUT_FILE set; only the variables named in agent_env
 * are passed on besides the allow-list.  Its change is what it leaves in
 * the tree.
 *
 * Both return 0 when the turn happened (even with refused edits), or:
 * -ECANCELED interrupted, -ETIME deadline, or another -errno with
 * budget_stop set when the budget refused the call or stopped retries;
 * any other -errno (with err saying why) means the turn could not run —
 * e.g. -ENOSPC from a full disk, which is not a budget matter.
 */
#ifndef LOOPGATE_ACTOR_H
#define LOOPGATE_ACTOR_H

#include "engine/run.h"

struct actor_turn {
	int iteration;
	const char *dir; /* the iteration's directory (absolute) */
	long tokens_in;	 /* charged during this turn */
	long tokens_out;
	double cost;
	int edit_blocks;
	int edits_applied;
	int edits_refused;
	int tool_calls;	 /* tools the model called this turn (tools.h) */
	int budget_stop; /* the turn ended because the budget could not
				   carry a call: any error code is then a halt,
				   not a failure */
	/* The command actor's end, told plainly (actor_fail.c); the strings
	 * are the turn's until moved into the iteration. */
	int failed;	  /* not run, not exit 0, or killed */
	char *describe;	  /* "exit 127", "not run: the policy denies it (...)" */
	char *tail;	  /* the last lines of its output */
	char *net_denied; /* "host:port, ..." the sandbox's proxy refused */
	char *advice;	  /* what to do about it, matching the cause */
};

/* r: the shared budget, log and config; w: the worker whose turn it is
 * (its tree, sandbox, provider, latest gate result, feedback). */
int actor_model_turn(struct run *r, struct worker *w, struct actor_turn *t,
		     struct buf *err);
int actor_command_turn(struct run *r, struct worker *w, struct actor_turn *t,
		       struct buf *err);

struct provider_request;
struct provider_reply;
/*
 * toolturn.c: the model's turn with function calling (tools.h): requests
 * until a reply calls no tool (that reply is the turn's), each call run and
 * its result sent back, at most max_tool_turns turns; every further call
 * prechecked against the budget (*prompt_bytes: the request's size, for the
 * charge).  With tools auto, a server that refuses tools (HTTP 400 naming
 * them) gets the request again without, and the worker keeps to edit
 * blocks.  Returns as provider_complete.
 */
int actor_tool_turns(struct run *r, struct worker *w, struct actor_turn *t,
		     struct provider_request *req, struct provider_reply *reply,
		     size_t *prompt_bytes, struct buf *err);
/* Whether this worker's model turns offer tools now. */
int actor_tools_on(const struct run *r, const struct worker *w);
/* The size of the tool definitions a request carries when tools are on
 * (counted in the first request's budget estimate, as in the later ones). */
size_t actor_tools_bytes(const struct worker *w);
/*
 * The second half of a model turn alone, for `loopgate resume`: applies a
 * reply saved before a crash (response.md) as actor_model_turn would have,
 * edits record and feedback included.  Returns 0, or the log's -errno
 * (err set) when its barrier before the tree changes failed: nothing applied.
 */
int actor_model_apply(struct run *r, struct worker *w, struct actor_turn *t,
		      const struct buf *reply, struct buf *err);

struct proc_result;
/*
 * actor_fail.c: fills t's failed, describe, tail (the last lines of the
 * output file out_path), net_denied and advice from how the command ran
 * (res; NULL when the policy refused it, with denied_rule saying why).
 */
void actor_fail_outcome(const struct run *r, struct actor_turn *t,
			const struct proc_result *res, long timeout_ms,
			const char *denied_rule, const char *out_path);
void actor_turn_release(struct actor_turn *t);
/*
 * The actor_end record's body (json_t *) for a command or agent turn: the
 * fields both share (iteration, how the process ended, describe, output
 * file and size, failed, network_denied, tail).  An agent turn adds its
 * own (agent, error_file, usage) to it.
 */
void *actor_end_json(const struct actor_turn *t, const struct proc_result *res,
		     const char *describe);

#endif
