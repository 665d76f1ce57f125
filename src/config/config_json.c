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

static void keys_to_json(json_t *o, const struct keyvals *r, const struct key *keys,
			 const void *base);

/* One row's value; the rows of other kinds are keys_to_json's. */
static json_t *jvalue(const struct keyvals *r, const struct key *k, const void *base)
{
	const void *f = (const char *)base + k->off;
	switch (k->type) {
	case K_URL:
		return jstr(r, *(char *const *)f, 1);
	case K_LIST:
	case K_ENVLIST:
	case K_GATES:
		return jlist(r, f);
	case K_INT:
	case K_DUR:
		return jlong(*(const long *)f);
	case K_NUM:
		return jnum(*(const double *)f);
	case K_BOOL:
		return jbool(*(const int *)f);
	default:
		return jstr(r, *(char *const *)f, 0);
	}
}

static json_t *jpreset(const struct keyvals *r, const struct model_preset *p)
{
	json_t *o = json_object();
	keys_to_json(o, r, config_preset_keys, p);
	return o;
}

/* Every row of keys that has a JSON name, into o. */
static void keys_to_json(json_t *o, const struct keyvals *r, const struct key *keys,
			 const void *base)
{
	const struct config *c = base;
	for (const struct key *k = keys; k->name; k++) {
		json_t *v, *models;
		if (!k->json)
			continue;
		switch (k->type) {
		case K_HTTP:
		case K_ROLES:
			v = json_object();
			keys_to_json(v, r, k->sub, base);
			break;
		case K_VERIFIERS:
			v = json_array();
			for (size_t i = 0; i < c->nverifiers; i++) {
				json_t *e = json_object();
				keys_to_json(e, r, config_verifier_keys,
					     &c->verifiers[i]);
				json_array_append_new(v, e);
			}
			break;
		case K_MODELS:
			models = json_object();
			for (size_t i = 0; i < c->nmodels; i++)
				json_object_set_new(models, c->models[i].name,
						    jpreset(r, &c->models[i]));
			v = models;
			break;
		case K_POLICY:
			v = c->policy ? policy_to_json(c->policy) : json_null();
			break;
		case K_GATES:
			json_object_set_new(o, "gate_opts", jgate_opts(r, c));
			v = jvalue(r, k, base);
			break;
		case K_TASKS:
			v = json_array();
			for (size_t i = 0; i < c->ntask_specs; i++) {
				json_t *t = json_object();
				keys_to_json(t, r, config_task_keys, &c->task_specs[i]);
				json_array_append_new(v, t);
			}
			break;
		case K_WORKERS:
			v = json_array();
			for (size_t i = 0; i < c->nworker_specs; i++) {
				json_t *w = json_object();
				keys_to_json(w, r, config_worker_keys,
					     &c->worker_specs[i]);
				json_array_append_new(v, w);
			}
			json_object_set_new(o, "worker_specs", v);
			v = jlong(*(const long *)((const char *)base + k->off));
			break;
		default:
			v = jvalue(r, k, base);
			break;
		}
		json_object_set_new(o, k->json, v);
	}
}

int config_to_json(const struct config *c, void **json_out)
{
	json_t *o = json_object();
	struct model_preset p;
	struct keyvals r;

	keyvals_collect(c, &r);
	keys_to_json(o, &r, config_top_keys, c);
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
	rlist(json_object_get(o, "tools"), "allow", &p->tools_allow);
	rlist(json_object_get(o, "tools"), "deny", &p->tools_deny);
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

/* Every row of keys with a JSON name that resume reads, from o. */
static void keys_from_json(json_t *o, const struct key *keys, void *base)
{
	struct config *c = base;
	const char *name;
	json_t *v;

	for (const struct key *k = keys; k->name; k++) {
		void *f = (char *)base + k->off;
		if (!k->json || k->kf & KF_NO_RESUME)
			continue;
		switch (k->type) {
		case K_LIST:
		case K_ENVLIST:
			rlist(o, k->json, f);
			break;
		case K_GATES:
			rlist(o, k->json, f);
			rgate_opts(json_object_get(o, "gate_opts"), c);
			break;
		case K_TASKS:
			for (size_t i = 0;
			     i < json_array_size(json_object_get(o, k->json)); i++)
				keys_from_json(
					json_array_get(json_object_get(o, k->json), i),
					config_task_keys, config_task_spec_add(c));
			break;
		case K_WORKERS:
			rlong(o, k->json, f);
			for (size_t i = 0;
			     i < json_array_size(json_object_get(o, "worker_specs")); i++)
				keys_from_json(
					json_array_get(json_object_get(o, "worker_specs"),
						       i),
					config_worker_keys, config_worker_spec_add(c));
			break;
		case K_INT:
		case K_DUR:
			rlong(o, k->json, f);
			break;
		case K_NUM:
			rnum(o, k->json, f);
			break;
		case K_BOOL:
			rbool(o, k->json, f);
			break;
		case K_HTTP:
		case K_ROLES:
			keys_from_json(json_object_get(o, k->json), k->sub, base);
			break;
		case K_VERIFIERS:
			for (size_t i = 0;
			     i < json_array_size(json_object_get(o, k->json)); i++)
				keys_from_json(
					json_array_get(json_object_get(o, k->json), i),
					config_verifier_keys, config_verifier_add(c));
			break;
		case K_MODELS:
			json_object_foreach(json_object_get(o, k->json), name, v)
				keys_from_json(v, config_preset_keys,
					       config_preset_add(c, name));
			break;
		case K_POLICY:
			rpolicy(json_object_get(o, k->json), c);
			break;
		default:
			rstr(o, k->json, f);
			break;
		}
	}
}

int config_from_json(struct config *c, const void *json, struct buf *err)
{
	json_t *o = (json_t *)json;

	if (!json_is_object(o) || !json_is_array(json_object_get(o, "gates")))
		return err_set(err, -EINVAL,
			       "the run_start record holds no "
			       "configuration (a log from an older loopgate?)");
	keys_from_json(o, config_top_keys, c);
	return 0;
}
