/*
 * config_roles.c: verifiers: (a list of briefs) and roles: (a model per
 * role), the settings of voting and routing whose layering or checks are
 * not those of a single row.  See docs/design/verifiers.md.
 */
#include "config/config.h"
#include "config/config_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct verifier_brief *config_verifier_add(struct config *c)
{
	struct verifier_brief *v;
	c->verifiers = xrealloc(c->verifiers, (c->nverifiers + 1) * sizeof(*v));
	v = &c->verifiers[c->nverifiers++];
	memset(v, 0, sizeof(*v));
	config_keys_init(config_verifier_keys, v);
	return v;
}

void config_verifiers_clear(struct config *c)
{
	for (size_t i = 0; i < c->nverifiers; i++)
		config_keys_release(config_verifier_keys, &c->verifiers[i]);
	free(c->verifiers);
	c->verifiers = NULL;
	c->nverifiers = 0;
}

/* A layer that gives verifiers gives the panel: it replaces them all. */
void config_verifiers_overlay(struct config *d, const struct config *s)
{
	if (!s->nverifiers)
		return;
	config_verifiers_clear(d);
	for (size_t i = 0; i < s->nverifiers; i++)
		config_keys_overlay(config_verifier_keys, config_verifier_add(d),
				    &s->verifiers[i]);
}

/* A model a role or a verifier names: known provider, and priced when a
 * cost ceiling must hold for its calls too. */
static int check_model(const struct config *c, const char *what, const char *spec,
		       struct buf *err)
{
	struct model_preset p;
	struct buf why = BUF_INIT;
	int ret = config_resolve_model(c, spec, &p, &why);

	if (ret < 0)
		ret = err_set(err, -EINVAL, "%s: %s", what, why.s);
	else if (c->max_cost >= 0 && (p.price_in < 0 || p.price_out < 0))
		ret = err_set(err, -EINVAL,
			      "%s: --max-cost needs the price of model '%s' (its calls "
			      "count against the budget), and loopgate never guesses "
			      "prices. Add price_in and price_out under models: %s",
			      what, spec, p.name);
	buf_release(&why);
	return ret;
}

static int check_verifiers(struct config *c, struct buf *err)
{
	if (c->nverifiers > CONFIG_MAX_VERIFIERS)
		return err_set(err, -EINVAL, "verifiers: more than %d",
			       CONFIG_MAX_VERIFIERS);
	for (size_t i = 0; i < c->nverifiers; i++) {
		struct verifier_brief *v = &c->verifiers[i];
		const char *model = v->model	       ? v->model
				    : c->role_verifier ? c->role_verifier
						       : c->model;
		char what[96];
		int ret;

		if (!v->name || !*v->name || !v->brief || !*v->brief)
			return err_set(err, -EINVAL,
				       "verifiers[%zu]: a verifier needs a name and a "
				       "brief (the perspective it judges from)",
				       i);
		if (strcspn(v->name, " \t\r\n/") != strlen(v->name))
			return err_set(err, -EINVAL,
				       "verifiers[%zu]: name '%s' holds a space or '/'",
				       i, v->name);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->verifiers[j].name, v->name))
				return err_set(err, -EINVAL,
					       "verifiers: '%s' is named twice", v->name);
		if (!model)
			return err_set(err, -EINVAL,
				       "verifiers.%s: no model to ask: give it model:, "
				       "or roles.verifier, or a model actor",
				       v->name);
		snprintf(what, sizeof(what), "verifiers.%s.model", v->name);
		if ((ret = check_model(c, what, model, err)) < 0)
			return ret;
	}
	if (c->verify_accept > 0 && c->nverifiers &&
	    (size_t)c->verify_accept > c->nverifiers)
		return err_set(err, -EINVAL,
			       "verify_accept: %ld of %zu verifiers can never accept",
			       c->verify_accept, c->nverifiers);
	return 0;
}

int config_check_roles(struct config *c, struct buf *err)
{
	int ret;

	if (c->role_verifier &&
	    (ret = check_model(c, "roles.verifier", c->role_verifier, err)) < 0)
		return ret;
	if (c->role_escalation) {
		if ((ret = check_model(c, "roles.escalation", c->role_escalation, err)) <
		    0)
			return ret;
		if (!c->model || c->agent || c->agent_cmd)
			return err_set(err, -EINVAL,
				       "roles.escalation: a stall is handed to another "
				       "model only when the worker is a model "
				       "(--model or roles.worker), not an agent command");
	}
	if (c->escalations < 0)
		c->escalations = c->role_escalation ? 1 : 0;
	if (c->escalations > 0 && !c->role_escalation)
		return err_set(err, -EINVAL,
			       "escalations: %ld, but no roles.escalation model to hand "
			       "a stalled loop to",
			       c->escalations);
	return check_verifiers(c, err);
}

/* roles.worker is the actor when no actor is given another way. */
void config_route_worker(struct config *c)
{
	if (c->role_worker && !c->model && !c->agent_cmd && !c->agent)
		c->model = xstrdup(c->role_worker);
}

/* `loopgate verify` has no goal, gate or actor: the panel's settings only
 * (flags there are parsed and range-checked by cmd_verify.c). */
int config_finalize_verify(struct config *c, struct buf *err)
{
	config_route_worker(c);
	if (c->base_url && !config_is_url(c->base_url))
		return err_set(err, -EINVAL,
			       "base_url: expected an http:// or https:// URL "
			       "(no spaces or control characters)");
	config_keys_defaults(config_top_keys, c);
	if (!c->nverifiers)
		return err_set(err, -EINVAL,
			       "no verifier: give --brief TEXT (repeatable) or "
			       "verifiers: in loopgate.yaml");
	return config_check_roles(c, err);
}
