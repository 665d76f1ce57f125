/*
 * actor.c: the model actor and the command actor.  See actor.h.
 */
#include "engine/actor.h"
#include "engine/skillset.h"
#include "record/evkind.h"
#include "base/ckd.h"
#include "base/utf8.h"
#include "base/clock.h"
#include "actor/edits.h"
#include "judge/feedback.h"
#include "base/fileio.h"
#include "config/policy.h"
#include "engine/prompt.h"
#include "actor/provider.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct attempt_ctx {
	struct run *r;
	struct worker *w;
	struct actor_turn *t;
	size_t prompt_bytes;
	int scan_ret; /* the gates' scan, waited for at the first attempt */
	struct buf scan_err;
};

/* Charges and records each attempt; stops retries the budget can't carry. */
static int on_attempt(void *ctx, const struct provider_attempt *a)
{
	struct attempt_ctx *c = ctx;
	struct budget *b = &c->r->budget;
	double before = b->cost;
	struct buf why = BUF_INIT;
	int stop = 0;

	/* The scan after the last gates (judge.h) ran during the call; it ends
	 * before the first attempt is on record: a resume that finds no
	 * attempt knows nothing but the gates changed the tree (resume.c). */
	if (c->scan_ret == 0)
		c->scan_ret = judge_scan_wait(&c->w->judge, &c->scan_err);

	budget_charge(b, a->tokens_in, a->tokens_out,
		      a->usage_estimated ? 0 : c->prompt_bytes);
	c->t->tokens_in = ckd_add(c->t->tokens_in, a->tokens_in);
	c->t->tokens_out = ckd_add(c->t->tokens_out, a->tokens_out);
	c->t->cost += b->cost - before;
	if (a->will_retry &&
	    (budget_spent(b, &why) ||
	     budget_precheck(b, c->prompt_bytes, c->w->max_output_tokens, &why) < 0))
		stop = 1;
	if (stop)
		c->t->budget_stop = 1;
	events_append(&c->r->ev, EV_MODEL_ATTEMPT,
		      json_pack("{s:i,s:i,s:i,s:s,s:o,s:I,s:I,s:b,s:f,s:b,s:I,s:f,s:o}",
				"iteration", c->t->iteration, "attempt", a->n,
				"http_status", a->http_status, "outcome", a->outcome,
				"detail", events_str(a->detail ? a->detail : ""),
				"tokens_in", (json_int_t)a->tokens_in, "tokens_out",
				(json_int_t)a->tokens_out, "usage_estimated",
				a->usage_estimated, "cost_usd", b->cost - before,
				"will_retry", a->will_retry && !stop, "wait_ms",
				(json_int_t)a->wait_ms, "elapsed_ms", a->elapsed_ms,
				"stopped_by", stop ? events_str(why.s) : json_null()));
	buf_release(&why);
	return stop;
}

static int save(const char *dir, const char *name, const char *data, size_t len,
		struct buf *err)
{
	char *path = xasprintf("%s/%s", dir, name);
	int ret = fileio_write_atomic(path, data, len, err);
	free(path);
	return ret;
}

/*
 * prompt.md is put in place before the request, its fsync left running
 * (fileio_write_atomic_begin): off the path to the send, beside the log's
 * barrier.  Nothing reads it back but a person (show, the report) and
 * nothing durable depends on it before the reply: resume rebuilds a model
 * turn's prompt from the log and the tree and writes prompt.md anew
 * (resume.c takes a saved response.md or asks again).  After a power loss
 * the model_request record may be on disk without prompt.md: resume then
 * asks again, as for a request whose reply was lost.  prompt_end joins the
 * fsync before response.md is saved, so a durable reply always has its
 * durable prompt.  A failed fsync ends the turn as it did when it came
 * before the request (the same message; the run stops, `cannot`), the
 * reply, if any, not saved nor applied (the attempt keeps its spend).
 */
static int prompt_begin(const struct actor_turn *t, const struct buf *user,
			struct fileio_atomic *a, struct buf *err)
{
	char *path = xasprintf("%s/prompt.md", t->dir);
	int ret = fileio_write_atomic_begin(a, path, user->s, user->len, err);

	free(path);
	return ret;
}

static int prompt_end(struct fileio_atomic *a, struct actor_turn *t, int ret,
		      struct buf *err)
{
	struct buf why = BUF_INIT;
	int e = fileio_atomic_close(a, &why);

	if (e < 0) {
		t->budget_stop = 0; /* not what stopped it */
		ret = err_set(err, e, "%s", why.s);
	}
	buf_release(&why);
	return ret;
}

static json_t *edit_items(const struct edit_list *l)
{
	json_t *a = json_array();
	size_t i;
	for (i = 0; i < l->n; i++) {
		const struct edit *e = &l->v[i];
		json_array_append_new(
			a, json_pack("{s:o,s:s,s:s,s:o,s:I}", "path", events_str(e->path),
				     "kind",
				     e->kind == EDIT_WHOLE ? "file" : "search_replace",
				     "status", edit_status_name(e->status), "message",
				     e->message ? events_str(e->message) : json_null(),
				     "reply_line", (json_int_t)e->reply_line));
	}
	return a;
}

/* Parses and applies the reply's edit blocks; fills w->edit_feedback.
 * Returns 0, or the log's sticky -errno (err set) when the barrier before
 * the tree changes failed: then nothing is applied. */
static int apply_reply(struct run *r, struct worker *w, struct actor_turn *t,
		       const struct buf *text, struct buf *err)
{
	struct edit_list l = EDIT_LIST_INIT;
	struct buf problems = BUF_INIT;
	size_t i;
	int ret;

	edits_parse(text->s, text->len, &l, &problems);
	t->edit_blocks = (int)l.n;
	/* the reply and its spend on record before the tree changes, or no change */
	if ((ret = events_barrier(&r->ev)) < 0) {
		err_set(err, ret, "%s", r->ev.err.s);
		edit_list_release(&l);
		buf_release(&problems);
		return ret;
	}
	t->edits_applied = edits_apply(w->tree, &l);
	for (i = 0; i < l.n; i++)
		if (l.v[i].status != EDIT_APPLIED)
			t->edits_refused++;
		else /* what the commit must take (loop.c tracked_only) */
			buf_add(&w->edit_paths, l.v[i].path, strlen(l.v[i].path) + 1);
	buf_reset(&w->edit_feedback);
	edits_feedback(&l, &w->edit_feedback);
	if (problems.len) {
		buf_adds(&w->edit_feedback, "Malformed blocks, not applied:\n");
		buf_add(&w->edit_feedback, problems.s, problems.len);
	}
	if (!l.n && !problems.len && t->tool_calls)
		buf_addf(&w->edit_feedback,
			 "You made your changes with %d tool call(s).\n", t->tool_calls);
	else if (!l.n && !problems.len)
		buf_adds(&w->edit_feedback,
			 "Your reply contained no edit block, so nothing changed. "
			 "Reply with search/replace or FILE blocks as described.\n");
	/* turn_*: the whole turn's spend (every attempt), for the progress line */
	events_append(&r->ev, EV_EDITS,
		      json_pack("{s:i,s:i,s:i,s:i,s:o,s:o,s:I,s:I,s:f}", "iteration",
				t->iteration, "blocks", (int)l.n, "applied",
				t->edits_applied, "refused", t->edits_refused, "items",
				edit_items(&l), "problems",
				events_strn(problems.s, problems.len), "turn_tokens_in",
				(json_int_t)t->tokens_in, "turn_tokens_out",
				(json_int_t)t->tokens_out, "turn_cost_usd", t->cost));
	edit_list_release(&l);
	buf_release(&problems);
	return 0;
}

/* A response.md in the iteration's directory is then always the reply to
 * the latest model_request: resume applies it, never asks again. */
static int drop_response(const struct actor_turn *t, struct buf *err)
{
	char *old = xasprintf("%s/response.md", t->dir);
	int ret = 0;
	if (unlink(old) < 0 && errno != ENOENT)
		ret = err_set(err, -errno, "cannot remove %s: %s", old, strerror(errno));
	free(old);
	return ret;
}

/* The skills that fit the goal and the latest failure best (skillset.h). */
static void skills_section(const struct run *r, const struct worker *w, struct buf *out)
{
	struct buf q = BUF_INIT;
	const struct gate_outcome *g = &w->judge.last;

	buf_adds(&q, r->goal ? r->goal : "");
	if (g->ran && !g->passed && g->output.len)
		buf_addf(&q, " %.*s", (int)(g->output.len < 4096 ? g->output.len : 4096),
			 g->output.s);
	skillset_prompt(w->skills, q.s, 5, out);
	buf_release(&q);
}

/* The system text: the edit-block rules, and the tools when offered. */
static void model_system(const struct run *r, const struct worker *w, struct buf *sys)
{
	prompt_system(0, !r->cfg->gates.n, sys);
	if (actor_tools_on(r, w))
		buf_adds(sys,
			 "\n\nYou also have tools: read_file, list_files and search to "
			 "look at any file of the repository, edit and write_file to "
			 "change files, run to run a command in the repository "
			 "(sandboxed) "
			 "and run_gates to run the gates now. Use them as you need; when "
			 "you are done, reply without calling a tool. Protected files "
			 "(tests, CI, gate scripts) cannot be changed.");
}

/* The call (with the tool turns when tools are on), each attempt charged
 * and recorded by on_attempt. */
static int call_model(struct attempt_ctx *c, struct provider_request *req,
		      struct provider_reply *reply, struct buf *err)
{
	int ret;

	provider_set_attempt_cb(c->w->prov, on_attempt, c);
	if (actor_tools_on(c->r, c->w))
		ret = actor_tool_turns(c->r, c->w, c->t, req, reply, &c->prompt_bytes,
				       err);
	else
		ret = provider_complete(c->w->prov, req, reply, err);
	if (c->scan_ret < 0)
		ret = err_set(err, c->scan_ret, "%s", c->scan_err.s);
	buf_release(&c->scan_err);
	return ret;
}

int actor_model_turn(struct run *r, struct worker *w, struct actor_turn *t,
		     struct buf *err)
{
	struct buf sys = BUF_INIT, user = BUF_INIT, why = BUF_INIT, raw = BUF_INIT;
	struct provider_reply reply = PROVIDER_REPLY_INIT;
	struct provider_request req;
	struct attempt_ctx ctx = {r, w, t, 0, 0, BUF_INIT};
	struct fileio_atomic prompt = {0};
	int ret;

	memset(&req, 0, sizeof(req));
	model_system(r, w, &sys);
	prompt_user(&(struct prompt_in){r->cfg, r->goal, r->run_dir, w}, &raw);
	if (w->skills && actor_tools_on(r, w))
		skills_section(r, w, &raw);
	/* Gate output is cleaned already; the goal and file names may not be:
	 * the request is JSON, so the whole prompt must be UTF-8. */
	utf8_clean(raw.s, raw.len, &user);
	ctx.prompt_bytes = sys.len + user.len;
	if (actor_tools_on(r, w))
		ctx.prompt_bytes += actor_tools_bytes(w);
	/* The system text is the same every turn: saved once per run. */
	if ((t->iteration == 1 &&
	     (ret = save(r->run_dir, "system.md", sys.s, sys.len, err)) < 0) ||
	    (ret = prompt_begin(t, &user, &prompt, err)) < 0)
		goto out;
	if ((ret = drop_response(t, err)) < 0)
		goto out;
	ret = budget_precheck(&r->budget, ctx.prompt_bytes, w->max_output_tokens, &why);
	events_append(&r->ev, EV_MODEL_REQUEST,
		      json_pack("{s:i,s:s,s:o,s:o,s:I,s:I,s:I,s:s,s:o}", "iteration",
				t->iteration, "role",
				w->escalating ? "escalation" : "worker", "provider",
				events_str(w->preset.provider), "model",
				events_str(w->preset.model), "prompt_bytes",
				(json_int_t)ctx.prompt_bytes, "estimate_tokens_in",
				(json_int_t)budget_estimate_tokens(&r->budget,
								   ctx.prompt_bytes),
				"max_output_tokens", (json_int_t)w->max_output_tokens,
				"prompt_file", "prompt.md", "refused",
				ret < 0 ? events_str(why.s) : json_null()));
	if (ret < 0) {
		t->budget_stop = 1;
		err_set(err, ret, "%s", why.s);
		goto out;
	}
	/* the request is on record before it is sent, or not sent */
	if ((ret = events_barrier(&r->ev)) < 0) {
		err_set(err, ret, "%s", r->ev.err.s);
		goto out;
	}
	req.system = sys.s;
	req.prompt = user.s;
	req.max_output_tokens = w->max_output_tokens;
	req.deadline_ms = r->budget.deadline_at;
	ret = call_model(&ctx, &req, &reply, err);
	if ((ret = prompt_end(&prompt, t, ret, err)) < 0)
		goto out;
	if ((ret = save(t->dir, "response.md", reply.text.s, reply.text.len, err)) < 0)
		goto out;
	events_append(
		&r->ev, EV_MODEL_RESPONSE,
		json_pack("{s:i,s:I,s:I,s:f,s:i,s:o,s:s}", "iteration", t->iteration,
			  "tokens_in", (json_int_t)reply.tokens_in, "tokens_out",
			  (json_int_t)reply.tokens_out, "cost_usd",
			  budget_price(&r->budget, reply.tokens_in, reply.tokens_out),
			  "attempts", reply.attempts, "finish_reason",
			  reply.finish_reason ? events_str(reply.finish_reason)
					      : json_null(),
			  "response_file", "response.md"));
	if ((ret = judge_scan_wait(&w->judge, err)) < 0) /* no attempt made? */
		goto out;
	ret = apply_reply(r, w, t, &reply.text, err);
out:
	ret = prompt_end(&prompt, t, ret, err); /* 0 if ended above */
	provider_reply_release(&reply);
	buf_release(&sys);
	buf_release(&user);
	buf_release(&raw);
	buf_release(&why);
	return ret;
}

int actor_model_apply(struct run *r, struct worker *w, struct actor_turn *t,
		      const struct buf *reply, struct buf *err)
{
	return apply_reply(r, w, t, reply, err);
}

static void command_env(const struct run *r, const struct actor_turn *t,
			const char *prompt, const char *gate_out, struct proc_env *env)
{
	size_t i;
	char num[32];
	const struct policy *p = r->cfg->policy;
	const struct strlist *extra[] = {&r->cfg->agent_env, p ? &p->env : NULL,
					 p ? &p->actor_env : NULL};
	proc_env_base(env);
	for (size_t k = 0; k < 3; k++)
		for (i = 0; extra[k] && i < extra[k]->n; i++) {
			const char *v = getenv(extra[k]->v[i]);
			if (v)
				proc_env_set(env, extra[k]->v[i], v);
		}
	snprintf(num, sizeof(num), "%d", t->iteration);
	proc_env_set(env, "LOOPGATE_ITERATION", num);
	proc_env_set(env, "LOOPGATE_RUN_ID", r->id);
	proc_env_set(env, "LOOPGATE_PROMPT_FILE", prompt);
	proc_env_set(env, "LOOPGATE_GATE_OUTPUT_FILE", gate_out);
}

/*
 * The policy's word on the agent command, on the record.  Denied: the
 * reason becomes the turn's outcome and its output (out); returns 0 with
 * *ret set.  Allowed: returns 1.
 */
static int command_allowed(struct run *r, struct worker *w, struct actor_turn *t,
			   const char *out, int *ret, struct buf *err)
{
	struct buf what = BUF_INIT;
	int allowed = policy_check_command(r->cfg->policy, r->cfg->agent_cmd, &what);

	events_append(&r->ev, EV_POLICY,
		      policy_decision_json("actor", "iteration", t->iteration,
					   r->cfg->agent_cmd, allowed, what.s,
					   r->cfg->policy));
	if (!allowed) {
		/* not run: the reason is the turn's outcome, on the record */
		buf_reset(&w->edit_feedback);
		buf_addf(&w->edit_feedback,
			 "The agent command was not run: the "
			 "policy denies it (%s).\n",
			 what.s);
		/* the turn's output, where its output would have been */
		*ret = fileio_write_atomic(out, w->edit_feedback.s, w->edit_feedback.len,
					   err);
		actor_fail_outcome(r, t, NULL, 0, what.s, out);
	}
	buf_release(&what);
	return allowed;
}

/* The agent command's end: its record, and what it means for the turn. */
static int command_ended(struct run *r, struct worker *w, struct actor_turn *t,
			 const struct proc_result *res, long timeout_ms, const char *out,
			 struct buf *err)
{
	struct buf what = BUF_INIT;
	int ret = 0;

	proc_describe(res, timeout_ms, &what);
	actor_fail_outcome(r, t, res, timeout_ms, NULL, out);
	events_append(&r->ev, EV_ACTOR_END, actor_end_json(t, res, what.s));
	if (res->status == PROC_INTERRUPTED)
		ret = err_set(err, -ECANCELED, "interrupted while the agent command ran");
	else if (res->status == PROC_DEADLINE)
		ret = err_set(err, -ETIME,
			      "the deadline passed while the agent command ran");
	buf_reset(&w->edit_feedback);
	if (!ret && (res->status != PROC_EXITED || res->exit_code != 0))
		buf_addf(&w->edit_feedback, "The agent command ended with %s.\n", what.s);
	if (!ret && t->net_denied)
		buf_addf(&w->edit_feedback,
			 "The sandbox refused network access to %s (not in the "
			 "policy's network allow-list).\n",
			 t->net_denied);
	buf_release(&what);
	return ret;
}

int actor_command_turn(struct run *r, struct worker *w, struct actor_turn *t,
		       struct buf *err)
{
	struct buf text = BUF_INIT;
	struct proc_env env = PROC_ENV_INIT;
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result res = PROC_RESULT_INIT;
	const char *argv[] = {"/bin/sh", "-c", r->cfg->agent_cmd, NULL};
	char *prompt = xasprintf("%s/prompt.md", t->dir);
	char *out = xasprintf("%s/actor.out", t->dir);
	char *gate_out = w->judge.last.ran
				 ? xasprintf("%s/%s", r->run_dir,
					     w->judge.last.output_file)
				 : xasprintf("%s/empty-gate-output", r->run_dir);
	int ret = 0;

	if (!command_allowed(r, w, t, out, &ret, err))
		goto done;
	prompt_system(1, !r->cfg->gates.n, &text);
	buf_addch(&text, '\n');
	prompt_user(&(struct prompt_in){r->cfg, r->goal, r->run_dir, w}, &text);
	if ((ret = fileio_write_atomic(prompt, text.s, text.len, err)) < 0)
		goto done;
	if (!w->judge.last.ran && (ret = fileio_write_atomic(gate_out, "", 0, err)) < 0)
		goto done;
	command_env(r, t, prompt, gate_out, &env);
	o.argv = argv;
	o.cwd = w->tree;
	o.env = (const char *const *)env.v;
	o.stdin_path = prompt;
	o.merge_output = 1;
	o.output_path = out;
	o.deadline_ms = r->budget.deadline_at;
	o.timeout_ms = r->cfg->actor_timeout_ms > 0 ? r->cfg->actor_timeout_ms
						    : CONFIG_DEFAULT_ACTOR_TIMEOUT_MS;
	o.sandbox = w->sandbox; /* the worker's: explicit, per spawn */
	events_append(&r->ev, EV_ACTOR_START,
		      json_pack("{s:i,s:o,s:s,s:I}", "iteration", t->iteration, "command",
				events_str(r->cfg->agent_cmd), "prompt_file", "prompt.md",
				"prompt_bytes", (json_int_t)text.len));
	/* the turn is on record before it runs, or it does not run */
	if ((ret = events_barrier(&r->ev)) < 0)
		err_set(err, ret, "%s", r->ev.err.s);
	else
		ret = proc_run(&o, &res, err);
	if (ret == 0)
		ret = command_ended(r, w, t, &res, o.timeout_ms, out, err);
done:
	proc_result_release(&res);
	proc_env_release(&env);
	buf_release(&text);
	free(prompt);
	free(out);
	free(gate_out);
	return ret;
}
