/*
 * route.c: a model per role, escalation on a stall, spend per role.  See
 * route.h.
 */
#include "engine/route.h"
#include "engine/run.h"
#include "actor/provider.h"
#include "record/evkind.h"
#include "record/redact.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *role_name(enum role role)
{
	static const char *const names[ROLE_N] = {"worker", "verifier", "escalation"};
	return role < ROLE_N ? names[role] : "?";
}

void role_spend_add(struct role_spend *s, long tin, long tout, long calls, double cost)
{
	s->tokens_in += tin;
	s->tokens_out += tout;
	s->calls += calls;
	s->cost += cost;
}

int route_provider(const struct config *c, const char *spec, int record,
		   struct model_preset *preset, struct provider **out, struct buf *err)
{
	struct provider_opts o = PROVIDER_OPTS_INIT;
	const char *key = NULL;
	int ret = config_resolve_model(c, spec, preset, err);

	if (ret < 0)
		return ret;
	if (preset->api_key_env && *preset->api_key_env)
		key = getenv(preset->api_key_env);
	redact_add(key); /* never into the log, reports or messages */
	if ((!key || !*key) && preset->base_url &&
	    (strstr(preset->base_url, "api.openai.com") ||
	     strstr(preset->base_url, "api.anthropic.com")))
		return err_set(err, -EINVAL,
			       "no API key: set $%s (or name another variable "
			       "with api_key_env in loopgate.yaml)",
			       preset->api_key_env);
	o.kind = preset->provider;
	o.model = preset->model;
	o.base_url = preset->base_url;
	o.api_key = key && *key ? key : NULL;
	o.replay_file = !strcmp(o.kind, "replay") ? preset->model : NULL;
	o.record_file = record ? c->record : NULL;
	o.connect_timeout_ms = c->connect_timeout_ms;
	o.read_timeout_ms = c->read_timeout_ms;
	o.max_retries = (int)c->retries;
	o.retry_base_ms = c->retry_base_ms;
	o.retry_max_ms = c->retry_max_ms;
	o.stream = c->stream != 0;
	o.temperature = c->temperature;
	ret = provider_new(&o, out, err);
	return ret == -ELIBACC ? ret : ret < 0 ? -EINVAL : 0;
}

int route_escalate(struct run *r, struct worker *w, int iteration)
{
	const struct config *c = r->cfg;
	struct buf err = BUF_INIT;
	const char *note = NULL;

	if (!c->role_escalation || !w->prov)
		note = "no escalation model is configured (roles.escalation)";
	else if (w->escalations_used >= c->escalations)
		note = "every escalation (escalations:) is used";
	else if (!w->esc_prov && route_provider(c, c->role_escalation, 0, &w->esc_preset,
						&w->esc_prov, &err) < 0)
		note = err.s;
	events_append(&r->ev, EV_ESCALATION,
		      json_pack("{s:i,s:b,s:o,s:o,s:i,s:I}", "iteration", iteration,
				"available", !note, "note",
				note ? events_str(note) : json_null(), "model",
				note ? json_null() : events_str(w->esc_preset.model),
				"used", w->escalations_used + !note, "of",
				(json_int_t)(c->escalations > 0 ? c->escalations : 0)));
	buf_release(&err);
	if (note)
		return 0;
	w->escalations_used++;
	w->escalate_next = 1;
	return 1;
}

void route_turn_begin(struct run *r, struct worker *w, struct route_turn *t)
{
	memset(t, 0, sizeof(*t));
	t->role = ROLE_WORKER;
	t->tin = r->budget.tokens_in;
	t->tout = r->budget.tokens_out;
	t->calls = r->budget.calls;
	t->cost = r->budget.cost;
	/* a resumed run knows the escalation from its log: the client is new */
	if (w->escalate_next && !w->esc_prov && r->cfg->role_escalation) {
		struct buf err = BUF_INIT;
		route_provider(r->cfg, r->cfg->role_escalation, 0, &w->esc_preset,
			       &w->esc_prov, &err);
		buf_release(&err);
	}
	if (!w->escalate_next || !w->esc_prov)
		return;
	/* this one turn is the escalation model's, at its prices */
	w->escalate_next = 0;
	w->escalating = 1;
	t->role = ROLE_ESCALATION;
	t->prov = w->prov;
	t->preset = w->preset;
	t->price_in = r->budget.price_in;
	t->price_out = r->budget.price_out;
	t->max_output_tokens = w->max_output_tokens;
	w->prov = w->esc_prov;
	w->preset = w->esc_preset;
	r->budget.price_in = w->esc_preset.price_in;
	r->budget.price_out = w->esc_preset.price_out;
	if (w->esc_preset.max_output_tokens > 0 && r->cfg->max_output_tokens <= 0)
		w->max_output_tokens = w->esc_preset.max_output_tokens;
}

void route_turn_end(struct run *r, struct worker *w, struct route_turn *t)
{
	if (t->role != ROLE_ESCALATION)
		return;
	role_spend_add(&r->spend[ROLE_ESCALATION], r->budget.tokens_in - t->tin,
		       r->budget.tokens_out - t->tout, r->budget.calls - t->calls,
		       r->budget.cost - t->cost);
	w->escalating = 0;
	w->prov = t->prov;
	w->preset = t->preset;
	r->budget.price_in = t->price_in;
	r->budget.price_out = t->price_out;
	w->max_output_tokens = t->max_output_tokens;
}

static json_t *spend_json(const struct role_spend *s, const char *model)
{
	return json_pack("{s:o,s:I,s:I,s:I,s:f}", "model",
			 model ? events_str(model) : json_null(), "tokens_in",
			 (json_int_t)s->tokens_in, "tokens_out",
			 (json_int_t)s->tokens_out, "calls", (json_int_t)s->calls,
			 "cost_usd", s->cost);
}

json_t *route_spend_json(const struct run *r)
{
	const struct role_spend *v = &r->spend[ROLE_VERIFIER],
				*e = &r->spend[ROLE_ESCALATION];
	struct role_spend wk = {
		.tokens_in = r->budget.tokens_in - v->tokens_in - e->tokens_in,
		.tokens_out = r->budget.tokens_out - v->tokens_out - e->tokens_out,
		.calls = r->budget.calls - v->calls - e->calls,
		.cost = r->budget.cost - v->cost - e->cost,
	};
	const struct config *c = r->cfg;
	json_t *o = json_object();

	/* a rounding crumb must not show as a negative spend */
	if (wk.cost < 0)
		wk.cost = 0;
	json_object_set_new(o, "worker",
			    spend_json(&wk, c->model	   ? c->model
					    : c->agent_cmd ? "command"
							   : c->agent));
	json_object_set_new(o, "verifier", spend_json(v, c->role_verifier));
	json_object_set_new(o, "escalation", spend_json(e, c->role_escalation));
	return o;
}

void route_spend_text(const json_t *roles, const char *prefix, struct buf *out)
{
	const char *name;
	const json_t *v;

	json_object_foreach((json_t *)roles, name, v)
	{
		const json_t *m = json_object_get(v, "model");
		long calls = (long)json_integer_value(json_object_get(v, "calls"));
		if (!calls)
			continue;
		buf_addf(out,
			 "%s%-11s %-20s %ld call%s, %lld in / %lld out tokens, $%.4f\n",
			 prefix, name, json_is_string(m) ? json_string_value(m) : "-",
			 calls, calls == 1 ? "" : "s",
			 (long long)json_integer_value(json_object_get(v, "tokens_in")),
			 (long long)json_integer_value(json_object_get(v, "tokens_out")),
			 json_number_value(json_object_get(v, "cost_usd")));
	}
}
