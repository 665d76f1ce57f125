/*
 * agent_turn: running an agent preset (actor/agent.h) as the actor: its
 * sandbox, its pre-flight, one turn and the spend it reports.  See
 * docs/design/agent-presets.md.
 *
 *   agent_check_config(cfg, &err)              after config_finalize: exit 2
 *   struct agent_rt a;
 *   agent_rt_init(&a, cfg, tree, repo, &err)    program found, sandbox built
 *   a.sb.ev = &ev;                              (optional) proxy decisions
 *   agent_rt_preflight(&a, cfg, NULL, &err)     starts, keys set, host answers
 *   struct agent_spawn s = AGENT_SPAWN_INIT; ... agent_rt_spawn(&a, cfg, &s, &err)
 *   agent_rt_release(&a);
 *
 * In a run: run_setup calls agent_run_setup (r->agent) and, once the run's
 * sandbox exists, agent_run_sandbox (the actor's own, and the
 * pre-flight); the loop calls actor_agent_turn for each turn.
 */
#ifndef LOOPGATE_AGENT_TURN_H
#define LOOPGATE_AGENT_TURN_H

#include "actor/agent.h"
#include "config/config.h"
#include "exec/proc.h"
#include "exec/sandbox.h"

struct run;
struct worker;
struct actor_turn;

/* HOME of the agent inside its sandbox: on the spawn's private /tmp. */
#define AGENT_HOME "/tmp/loopgate-home"

struct agent_rt {
	const struct agent_preset *p;
	char *bin;	   /* the program, absolute */
	struct sandbox sb; /* the actor's sandbox: the run's, plus its needs */
	int have_key;	   /* one of the preset's key variables is set */
};

/* One spawn of the agent. */
struct agent_spawn {
	const char *prompt_file;      /* also its stdin */
	const char *out_path;	      /* its standard output (the report) */
	const char *err_path;	      /* its standard error */
	const char *const *extra_env; /* "K=V" (LOOPGATE_*), NULL-terminated */
	double budget_left;	      /* USD; < 0 no ceiling */
	long long deadline_ms;	      /* absolute; 0 none */
	/* out: */
	struct proc_result res;
	struct agent_usage usage;
	int reported; /* usage was read from its report */
};
#define AGENT_SPAWN_INIT                                                                 \
	{                                                                                \
		.budget_left = -1, .res = PROC_RESULT_INIT, .usage = {.cost = -1 }       \
	}

/* The preset exists, has what it needs (opencode: a model) and, with a
 * cost ceiling, its cost can be known.  -EINVAL with err naming the fix. */
int agent_check_config(const struct config *c, struct buf *err);
/* agent_check_config, then the program: -ENOENT when it is not found
 * (err names the fix).  Then its sandbox, for the tree (never fails but
 * for a base URL without a host, -EINVAL).  agent_rt_init does both. */
int agent_rt_init_program(struct agent_rt *a, const struct config *c, struct buf *err);
int agent_rt_init_sandbox(struct agent_rt *a, const struct config *c, const char *tree,
			  const char *repo, struct buf *err);
int agent_rt_init(struct agent_rt *a, const struct config *c, const char *tree,
		  const char *repo, struct buf *err);
void agent_rt_release(struct agent_rt *a);
/* The pre-flight; info (may be NULL) gets one line per check passed.
 * -EINVAL with err naming the fix. */
int agent_rt_preflight(struct agent_rt *a, const struct config *c, struct buf *info,
		       struct buf *err);
/* Runs it once; 0 when it ran (s->res says how it ended), -errno when it
 * could not be started. */
int agent_rt_spawn(struct agent_rt *a, const struct config *c, struct agent_spawn *s,
		   struct buf *err);
/* The price of the preset's model from models: (USD per million tokens),
 * 0 with both set, -1 unknown. */
int agent_price(const struct config *c, double *in, double *out);

/* In a run (run_setup.c, loop.c); return exit codes like run_setup. */
int agent_run_setup(struct run *r, struct buf *err);
int agent_run_sandbox(struct run *r, struct buf *err);
void agent_worker_release(struct worker *w);
int actor_agent_turn(struct run *r, struct actor_turn *t, struct buf *err);

#endif
