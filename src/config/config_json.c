/*
 * config_json.c: the effective configuration as JSON for the run-start
 * event (config_to_json of config.h), with secrets redacted.
 */
#include "config/config.h"
#include "record/redact.h"
#include "config/config_impl.h"
#include "config/policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

/* ---- JSON for the run-start event ------------------------------------- */

/*
 * Secrets: the config holds only the NAMES of key variables, but a value
 * could still leak in through a URL ("https://user:pw@host/?key=...") or be
 * pasted into a gate or agent command.  So URLs lose their userinfo and
 * query, and the values of every key variable the config names are blanked
 * wherever they occur.
 */
struct keyvals {
	const char *vals[64];
	size_t n;
};

static void keyvals_add(struct keyvals *r, const char *env)
{
	const char *v = env ? getenv(env) : NULL;
	/* short values ("1", "yes") would blank innocent text; keys are long */
	if (v && strlen(v) >= 8 && r->n < sizeof(r->vals) / sizeof(r->vals[0]))
		r->vals[r->n++] = v;
}

static void keyvals_collect(const struct config *c, struct keyvals *r)
{
	r->n = 0;
	keyvals_add(r, c->api_key_env);
	for (size_t i = 0; i < sizeof(config_builtin) / sizeof(config_builtin[0]); i++)
		keyvals_add(r, config_builtin[i].api_key_env);
	for (size_t i = 0; i < c->nmodels; i++)
		keyvals_add(r, c->models[i].api_key_env);
	for (size_t i = 0; i < c->agent_env.n; i++)
		keyvals_add(r, c->agent_env.v[i]);
}

static void keyvals_blank(const struct keyvals *r, struct buf *b)
{
	for (size_t i = 0; i < r->n; i++) {
		size_t vl = strlen(r->vals[i]);
		char *hit;
		while ((hit = memmem(b->s, b->len, r->vals[i], vl))) {
			struct buf t = BUF_INIT;
			buf_add(&t, b->s, (size_t)(hit - b->s));
			buf_adds(&t, "[REDACTED]");
			buf_add(&t, hit + vl, b->len - (size_t)(hit - b->s) - vl);
			buf_release(b);
			*b = t;
		}
	}
}

static json_t *jstr(const struct keyvals *r, const char *s, int url)
{
	struct buf b = BUF_INIT;
	json_t *j;
	if (!s)
		return json_null();
	if (url) {
		/* userinfo and query: record/redact.c's one rule for URLs */
		char *shown = redact_url(s);
		buf_adds(&b, shown);
		free(shown);
	} else {
		buf_adds(&b, s);
	}
	keyvals_blank(r, &b);
	j = json_stringn(b.s, b.len);
	if (!j) {
		/* not UTF-8 (a goal file can be anything): keep it readable */
		for (size_t i = 0; i < b.len; i++)
			if ((unsigned char)b.s[i] >= 0x80)
				b.s[i] = '?';
		j = json_stringn(b.s, b.len);
	}
	buf_release(&b);
	return j;
}

static json_t *jlist(const struct keyvals *r, const struct strlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, jstr(r, l->v[i], 0));
	return a;
}

static json_t *jlong(long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *jnum(double v)
{
	return v < 0 ? json_null() : json_real(v);
}

static json_t *jbool(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static json_t *jpreset(const struct keyvals *r, const struct model_preset *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "provider", jstr(r, p->provider, 0));
	json_object_set_new(o, "model", jstr(r, p->model, 0));
	json_object_set_new(o, "base_url", jstr(r, p->base_url, 1));
	json_object_set_new(o, "api_key_env", jstr(r, p->api_key_env, 0));
	json_object_set_new(o, "price_in", jnum(p->price_in));
	json_object_set_new(o, "price_out", jnum(p->price_out));
	json_object_set_new(o, "max_output_tokens", jlong(p->max_output_tokens));
	json_object_set_new(o, "context_tokens", jlong(p->context_tokens));
	return o;
}

static json_t *jhttp(const struct config *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "connect_timeout_ms", jlong(c->connect_timeout_ms));
	json_object_set_new(o, "read_timeout_ms", jlong(c->read_timeout_ms));
	json_object_set_new(o, "retries", jlong(c->retries));
	json_object_set_new(o, "retry_base_ms", jlong(c->retry_base_ms));
	json_object_set_new(o, "retry_max_ms", jlong(c->retry_max_ms));
	return o;
}

/* Per-gate options (focus, timeout, junit), parallel to "gates". */
static json_t *jgate_opts(const struct keyvals *r, const struct config *c)
{
	json_t *a = json_array();
	for (size_t i = 0; i < c->gates.n; i++) {
		const struct gate_opts *g = config_gate_opts(c, i);
		json_array_append_new(a, json_pack("{s:o,s:o,s:o}", "focus",
						   jstr(r, g->focus, 0), "timeout_ms",
						   jlong(g->timeout_ms), "junit",
						   jstr(r, g->junit, 0)));
	}
	return a;
}

int config_to_json(const struct config *c, void **json_out)
{
	json_t *o = json_object(), *models = json_object();
	struct model_preset p;
	struct keyvals r;

	keyvals_collect(c, &r);
	json_object_set_new(o, "source", jstr(&r, c->source, 0));
	json_object_set_new(o, "goal", jstr(&r, c->goal, 0));
	json_object_set_new(o, "goal_file", jstr(&r, c->goal_file, 0));
	json_object_set_new(o, "gates", jlist(&r, &c->gates));
	json_object_set_new(o, "model", jstr(&r, c->model, 0));
	json_object_set_new(o, "base_url", jstr(&r, c->base_url, 1));
	json_object_set_new(o, "api_key_env", jstr(&r, c->api_key_env, 0));
	json_object_set_new(o, "agent_cmd", jstr(&r, c->agent_cmd, 0));
	json_object_set_new(o, "agent_env", jlist(&r, &c->agent_env));
	json_object_set_new(o, "agent", jstr(&r, c->agent, 0));
	json_object_set_new(o, "agent_bin", jstr(&r, c->agent_bin, 0));
	json_object_set_new(o, "actor_timeout_ms", jlong(c->actor_timeout_ms));
	json_object_set_new(o, "max_iterations", jlong(c->max_iterations));
	json_object_set_new(o, "max_cost", jnum(c->max_cost));
	json_object_set_new(o, "max_tokens", jlong(c->max_tokens));
	json_object_set_new(o, "deadline_ms", jlong(c->deadline_ms));
	json_object_set_new(o, "gate_timeout_ms", jlong(c->gate_timeout_ms));
	json_object_set_new(o, "protect", jlist(&r, &c->protect));
	json_object_set_new(o, "unprotect", jlist(&r, &c->unprotect));
	json_object_set_new(o, "context", jlist(&r, &c->context));
	json_object_set_new(o, "dir", jstr(&r, c->dir, 0));
	json_object_set_new(o, "json", jbool(c->json));
	json_object_set_new(o, "record", jstr(&r, c->record, 0));
	json_object_set_new(o, "audit_key", jstr(&r, c->audit_key, 0));
	json_object_set_new(o, "allow_dirty", jbool(c->allow_dirty));
	json_object_set_new(o, "no_protect", jbool(c->no_protect));
	json_object_set_new(o, "confirm", jlong(c->confirm));
	json_object_set_new(o, "stall_after", jlong(c->stall_after));
	json_object_set_new(o, "max_actor_failures", jlong(c->max_actor_failures));
	json_object_set_new(o, "review_sample", jnum(c->review_sample));
	json_object_set_new(o, "feedback_max_bytes", jlong(c->feedback_max_bytes));
	json_object_set_new(o, "max_output_tokens", jlong(c->max_output_tokens));
	json_object_set_new(o, "temperature", jnum(c->temperature));
	json_object_set_new(o, "stream", jbool(c->stream));
	json_object_set_new(o, "http", jhttp(c));
	json_object_set_new(o, "gate_opts", jgate_opts(&r, c));
	json_object_set_new(o, "policy",
			    c->policy ? policy_to_json(c->policy) : json_null());
	json_object_set_new(o, "sandbox", jbool(c->sandbox));
	json_object_set_new(o, "bwrap", jstr(&r, c->bwrap, 0));
	for (size_t i = 0; i < c->nmodels; i++)
		json_object_set_new(models, c->models[i].name,
				    jpreset(&r, &c->models[i]));
	json_object_set_new(o, "models", models);
	/* what the run will actually talk to, after presets and defaults */
	if (c->model && config_resolve_model(c, c->model, &p, NULL) == 0)
		json_object_set_new(o, "resolved_model", jpreset(&r, &p));
	*json_out = o;
	return 0;
}

/* ---- reading it back (loopgate resume) --------------------------------- */

static void rstr(json_t *o, const char *key, char **dst)
{
	const char *v = json_string_value(json_object_get(o, key));
	free(*dst);
	*dst = v ? xstrdup(v) : NULL;
}

static void rlong(json_t *o, const char *key, long *dst)
{
	json_t *v = json_object_get(o, key);
	*dst = json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

static void rnum(json_t *o, const char *key, double *dst)
{
	json_t *v = json_object_get(o, key);
	*dst = json_is_number(v) ? json_number_value(v) : -1;
}

static void rbool(json_t *o, const char *key, int *dst)
{
	json_t *v = json_object_get(o, key);
	*dst = json_is_boolean(v) ? json_is_true(v) : -1;
}

static void rlist(json_t *o, const char *key, struct strlist *dst)
{
	json_t *a = json_object_get(o, key), *v;
	size_t i;
	strlist_clear(dst);
	json_array_foreach(a, i, v) if (json_is_string(v))
		strlist_push(dst, json_string_value(v));
}

static void rpreset(json_t *o, struct model_preset *p)
{
	rstr(o, "provider", &p->provider);
	rstr(o, "model", &p->model);
	rstr(o, "base_url", &p->base_url);
	rstr(o, "api_key_env", &p->api_key_env);
	rnum(o, "price_in", &p->price_in);
	rnum(o, "price_out", &p->price_out);
	rlong(o, "max_output_tokens", &p->max_output_tokens);
	rlong(o, "context_tokens", &p->context_tokens);
}

static void rgate_opts(json_t *a, struct config *c)
{
	json_t *v;
	size_t i;
	config_gate_opts_clear(c);
	if (!json_array_size(a) || !c->gates.n)
		return;
	c->gate_opts = xcalloc(c->gates.n, sizeof(*c->gate_opts));
	for (i = 0; i < c->gates.n; i++) {
		c->gate_opts[i].timeout_ms = -1;
		if (!(v = json_array_get(a, i)))
			continue;
		rstr(v, "focus", &c->gate_opts[i].focus);
		rstr(v, "junit", &c->gate_opts[i].junit);
		rlong(v, "timeout_ms", &c->gate_opts[i].timeout_ms);
	}
}

/* The policy as policy_to_json logged it (already finalized). */
static void rpolicy(json_t *o, struct config *c)
{
	struct policy *p;
	json_t *cmds, *lim, *net;

	if (!json_is_object(o))
		return;
	p = policy_new();
	cmds = json_object_get(o, "commands");
	rlist(cmds, "allow", &p->allow);
	rlist(cmds, "deny", &p->deny);
	rlist(o, "write", &p->write);
	rlist(o, "read_deny", &p->read_deny);
	rlist(o, "hosts", &p->hosts);
	rlist(o, "env", &p->env);
	rlist(o, "actor_env", &p->actor_env);
	net = json_object_get(o, "network");
	p->network = POLICY_NET_UNSET;
	for (int n = POLICY_NET_OFF; n <= POLICY_NET_HOSTS; n++)
		if (json_is_string(net) &&
		    !strcmp(json_string_value(net), policy_net_name(n)))
			p->network = n;
	lim = json_object_get(o, "limits");
	rlong(lim, "cpu_seconds", &p->lim.cpu_seconds);
	rlong(lim, "memory_mb", &p->lim.memory_mb);
	rlong(lim, "processes", &p->lim.processes);
	rlong(lim, "file_size_mb", &p->lim.file_size_mb);
	rlong(lim, "output_bytes", &p->lim.output_bytes);
	rlong(lim, "wall_seconds", &p->lim.wall_seconds);
	policy_finalize(p);
	policy_free(c->policy);
	c->policy = p;
}

int config_from_json(struct config *c, const void *json, struct buf *err)
{
	json_t *o = (json_t *)json, *models, *http, *v;
	const char *name;

	if (!json_is_object(o) || !json_is_array(json_object_get(o, "gates")))
		return err_set(err, -EINVAL,
			       "the run_start record holds no "
			       "configuration (a log from an older loopgate?)");
	rstr(o, "source", &c->source);
	rstr(o, "goal", &c->goal);
	rlist(o, "gates", &c->gates);
	rgate_opts(json_object_get(o, "gate_opts"), c);
	rstr(o, "model", &c->model);
	rstr(o, "base_url", &c->base_url);
	rstr(o, "api_key_env", &c->api_key_env);
	rstr(o, "agent_cmd", &c->agent_cmd);
	rlist(o, "agent_env", &c->agent_env);
	rstr(o, "agent", &c->agent);
	rstr(o, "agent_bin", &c->agent_bin);
	rlong(o, "actor_timeout_ms", &c->actor_timeout_ms);
	rlong(o, "max_iterations", &c->max_iterations);
	rnum(o, "max_cost", &c->max_cost);
	rlong(o, "max_tokens", &c->max_tokens);
	rlong(o, "deadline_ms", &c->deadline_ms);
	rlong(o, "gate_timeout_ms", &c->gate_timeout_ms);
	rlist(o, "protect", &c->protect);
	rlist(o, "unprotect", &c->unprotect);
	rlist(o, "context", &c->context);
	rstr(o, "dir", &c->dir);
	rstr(o, "record", &c->record);
	rbool(o, "allow_dirty", &c->allow_dirty);
	rbool(o, "no_protect", &c->no_protect);
	rlong(o, "confirm", &c->confirm);
	rlong(o, "stall_after", &c->stall_after);
	rlong(o, "max_actor_failures", &c->max_actor_failures);
	rlong(o, "feedback_max_bytes", &c->feedback_max_bytes);
	rlong(o, "max_output_tokens", &c->max_output_tokens);
	rnum(o, "temperature", &c->temperature);
	rbool(o, "stream", &c->stream);
	http = json_object_get(o, "http");
	rlong(http, "connect_timeout_ms", &c->connect_timeout_ms);
	rlong(http, "read_timeout_ms", &c->read_timeout_ms);
	rlong(http, "retries", &c->retries);
	rlong(http, "retry_base_ms", &c->retry_base_ms);
	rlong(http, "retry_max_ms", &c->retry_max_ms);
	rstr(o, "audit_key", &c->audit_key);
	rnum(o, "review_sample", &c->review_sample);
	rbool(o, "sandbox", &c->sandbox);
	rstr(o, "bwrap", &c->bwrap);
	rpolicy(json_object_get(o, "policy"), c);
	models = json_object_get(o, "models");
	json_object_foreach(models, name, v) rpreset(v, config_preset_add(c, name));
	return 0;
}
