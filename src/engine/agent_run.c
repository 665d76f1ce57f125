/*
 * agent_run.c: an agent preset inside a run: its setup, pre-flight and
 * turns, with the spend it reports charged to the run.  See agent_turn.h.
 */
#include "engine/agent_turn.h"
#include "record/evkind.h"
#include "engine/actor.h"
#include "engine/worker.h"
#include "engine/prompt.h"
#include "base/fileio.h"
#include "config/policy.h"
#include "record/redact.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_USAGE = 2, EXIT_CANNOT = 3 };

int agent_run_setup(struct run *r, struct buf *err)
{
	double in, out;

	r->w->agent = xcalloc(1, sizeof(*r->w->agent));
	if (agent_rt_init_program(r->w->agent, r->cfg, err) < 0)
		return EXIT_USAGE;
	/* its keys, never into the log, reports or messages */
	for (size_t i = 0; r->w->agent->p->keys[i]; i++)
		redact_add(getenv(r->w->agent->p->keys[i]));
	/* a price in models: wins over what the CLI says it cost */
	if (agent_price(r->cfg, &in, &out) == 0) {
		r->budget.price_in = in;
		r->budget.price_out = out;
	}
	return 0;
}

int agent_run_sandbox(struct run *r, struct buf *err)
{
	struct agent_rt *a = r->w->agent;
	json_t *ev;

	if (agent_rt_init_sandbox(a, r->cfg, r->w->tree, r->repo, err) < 0)
		return EXIT_USAGE;
	a->sb.ev = &r->ev;
	ev = sandbox_json(&a->sb);
	json_object_set_new(ev, "actor", json_string(a->p->name));
	json_object_set_new(ev, "program", events_str(a->bin));
	events_append(&r->ev, EV_SANDBOX, ev);
	if (agent_rt_preflight(a, r->cfg, NULL, err) < 0) {
		events_append(&r->ev, EV_PREFLIGHT,
			      json_pack("{s:s,s:b,s:o}", "agent", a->p->name, "passed", 0,
					"error", events_str(err->s)));
		return EXIT_USAGE;
	}
	events_append(&r->ev, EV_PREFLIGHT,
		      json_pack("{s:s,s:b,s:o}", "agent", a->p->name, "passed", 1,
				"hosts", policy_list_json(&a->sb.hosts)));
	return 0;
}

void agent_worker_release(struct worker *w)
{
	if (w->agent) {
		agent_rt_release(w->agent);
		free(w->agent);
		w->agent = NULL;
	}
}

/* The turn's prompt file and the previous gate output file. */
static int write_prompt(struct run *r, const char *prompt, const char *gate_out,
			size_t *bytes, struct buf *err)
{
	struct buf text = BUF_INIT;
	int ret;

	prompt_system(1, !r->cfg->gates.n, &text);
	buf_addch(&text, '\n');
	prompt_user(&(struct prompt_in){r->cfg, r->goal, r->run_dir, r->w}, &text);
	*bytes = text.len;
	ret = fileio_write_atomic(prompt, text.s, text.len, err);
	if (!ret && !r->w->judge.last.ran)
		ret = fileio_write_atomic(gate_out, "", 0, err);
	buf_release(&text);
	return ret;
}

/* Charges what the CLI reported; the cost by the models: price when one
 * is known, else the CLI's own figure. */
static void charge(struct run *r, struct actor_turn *t, const struct agent_spawn *s,
		   const char **source)
{
	struct budget *b = &r->budget;
	double cost;

	*source = NULL;
	if (!s->reported)
		return;
	if (b->price_in >= 0 && b->price_out >= 0) {
		cost = budget_price(b, s->usage.tokens_in, s->usage.tokens_out);
		*source = "price";
	} else if (s->usage.cost >= 0) {
		cost = s->usage.cost;
		*source = "agent";
	} else {
		cost = 0;
	}
	budget_charge_cost(b, s->usage.tokens_in, s->usage.tokens_out, cost);
	t->tokens_in += s->usage.tokens_in;
	t->tokens_out += s->usage.tokens_out;
	t->cost += cost;
}

static void end_event(struct run *r, struct actor_turn *t, const struct agent_spawn *s,
		      const char *what, const char *source)
{
	json_t *usage = json_pack("{s:b,s:I,s:I,s:f,s:o}", "reported", s->reported,
				  "tokens_in", (json_int_t)s->usage.tokens_in,
				  "tokens_out", (json_int_t)s->usage.tokens_out,
				  "cost_usd", s->reported ? t->cost : 0.0, "cost_source",
				  source ? json_string(source) : json_null());
	json_t *body = actor_end_json(t, &s->res, what);

	if (body) {
		json_object_set_new(body, "agent", json_string(r->w->agent->p->name));
		json_object_set_new(body, "error_file", json_string("actor.err"));
		json_object_set(body, "usage", usage);
	}
	json_decref(usage);
	events_append(&r->ev, EV_ACTOR_END, body);
}

/* How the turn ended, as the run sees it: 0 to go on, or -errno. */
static int outcome(struct run *r, struct actor_turn *t, const struct agent_spawn *s,
		   const char *what, struct buf *err)
{
	const struct config *c = r->cfg;

	if (s->res.status == PROC_INTERRUPTED)
		return err_set(err, -ECANCELED, "interrupted while the agent ran");
	if (s->res.status == PROC_DEADLINE)
		return err_set(err, -ETIME, "the deadline passed while the agent ran");
	buf_reset(&r->w->edit_feedback);
	if (s->res.status != PROC_EXITED || s->res.exit_code != 0)
		buf_addf(&r->w->edit_feedback, "The agent (%s) ended with %s.\n",
			 r->w->agent->p->name, what);
	if (t->net_denied)
		buf_addf(&r->w->edit_feedback,
			 "The sandbox refused network access to %s (not in the "
			 "allow-list: its API host, or the policy's network).\n",
			 t->net_denied);
	if (!s->reported && (c->max_cost >= 0 || c->max_tokens > 0)) {
		/* a ceiling that cannot be kept is not kept silently */
		t->budget_stop = 1;
		return err_set(err, -ENODATA,
			       "the spend of iteration %d cannot be read: %s ended "
			       "with %s and printed no usage report (%s/actor.out), so "
			       "the budget's ceiling can no longer be guaranteed",
			       t->iteration, r->w->agent->p->name, what, t->dir);
	}
	return 0;
}

int actor_agent_turn(struct run *r, struct actor_turn *t, struct buf *err)
{
	struct agent_spawn s = AGENT_SPAWN_INIT;
	struct buf what = BUF_INIT;
	char *prompt = xasprintf("%s/prompt.md", t->dir);
	char *out = xasprintf("%s/actor.out", t->dir);
	char *errf = xasprintf("%s/actor.err", t->dir);
	char *gate_out = r->w->judge.last.ran
				 ? xasprintf("%s/%s", r->run_dir,
					     r->w->judge.last.output_file)
				 : xasprintf("%s/empty-gate-output", r->run_dir);
	char *env[5] = {NULL};
	const char *source;
	size_t bytes;
	int ret;

	if ((ret = write_prompt(r, prompt, gate_out, &bytes, err)) < 0)
		goto done;
	env[0] = xasprintf("LOOPGATE_ITERATION=%d", t->iteration);
	env[1] = xasprintf("LOOPGATE_RUN_ID=%s", r->id);
	env[2] = xasprintf("LOOPGATE_PROMPT_FILE=%s", prompt);
	env[3] = xasprintf("LOOPGATE_GATE_OUTPUT_FILE=%s", gate_out);
	s.extra_env = (const char *const *)env;
	s.prompt_file = prompt;
	s.out_path = out;
	s.err_path = errf;
	s.deadline_ms = r->budget.deadline_at;
	s.budget_left = r->cfg->max_cost >= 0 ? r->cfg->max_cost - r->budget.cost : -1;
	if (s.budget_left != -1 && s.budget_left < 0)
		s.budget_left = 0;
	events_append(&r->ev, EV_ACTOR_START,
		      json_pack("{s:i,s:s,s:o,s:o,s:s,s:I,s:f}", "iteration",
				t->iteration, "agent", r->w->agent->p->name, "program",
				events_str(r->w->agent->bin), "model",
				events_str(r->cfg->model), "prompt_file", "prompt.md",
				"prompt_bytes", (json_int_t)bytes, "budget_left_usd",
				s.budget_left));
	if ((ret = agent_rt_spawn(r->w->agent, r->cfg, &s, err)) < 0)
		goto done;
	proc_describe(&s.res, r->cfg->actor_timeout_ms, &what);
	/* its report is on stdout: the last lines worth telling are stderr's */
	actor_fail_outcome(r, t, &s.res, r->cfg->actor_timeout_ms, NULL, errf);
	charge(r, t, &s, &source);
	end_event(r, t, &s, what.s, source);
	ret = outcome(r, t, &s, what.s, err);
done:
	for (size_t i = 0; i < 4; i++)
		free(env[i]);
	proc_result_release(&s.res);
	buf_release(&what);
	free(prompt);
	free(out);
	free(errf);
	free(gate_out);
	return ret;
}
