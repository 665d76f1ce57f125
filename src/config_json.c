/*
 * config_json.c: the effective configuration as JSON for the run-start
 * event (config_to_json of config.h), with secrets redacted.
 */
#include "config.h"
#include "config_impl.h"
#include "policy.h"

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
struct redact {
	const char *vals[64];
	size_t n;
};

static void redact_add(struct redact *r, const char *env)
{
	const char *v = env ? getenv(env) : NULL;
	/* short values ("1", "yes") would blank innocent text; keys are long */
	if (v && strlen(v) >= 8 && r->n < sizeof(r->vals) / sizeof(r->vals[0]))
		r->vals[r->n++] = v;
}

static void redact_collect(const struct config *c, struct redact *r)
{
	r->n = 0;
	redact_add(r, c->api_key_env);
	for (size_t i = 0; i < sizeof(config_builtin) / sizeof(config_builtin[0]); i++)
		redact_add(r, config_builtin[i].api_key_env);
	for (size_t i = 0; i < c->nmodels; i++)
		redact_add(r, c->models[i].api_key_env);
	for (size_t i = 0; i < c->agent_env.n; i++)
		redact_add(r, c->agent_env.v[i]);
}

static void redact_values(const struct redact *r, struct buf *b)
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

/* scheme://user:pw@host/path?query#frag -> scheme://REDACTED@host/path?REDACTED */
static void redact_url(struct buf *b)
{
	char *scheme = strstr(b->s, "://"), *auth, *end, *at, *q;
	struct buf t = BUF_INIT;
	if (!scheme)
		return;
	auth = scheme + 3;
	end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(end - auth));
	q = strchr(b->s, '?');
	if (!at && !q)
		return;
	buf_add(&t, b->s, (size_t)(auth - b->s));
	if (at) {
		buf_adds(&t, "REDACTED");
		buf_add(&t, at, (size_t)((q ? q : b->s + b->len) - at));
	} else {
		buf_add(&t, auth, (size_t)(q - auth));
	}
	if (q) {
		buf_adds(&t, "?REDACTED");
		if (strchr(q, '#'))
			buf_adds(&t, strchr(q, '#'));
	}
	buf_release(b);
	*b = t;
}

static json_t *jstr(const struct redact *r, const char *s, int url)
{
	struct buf b = BUF_INIT;
	json_t *j;
	if (!s)
		return json_null();
	buf_adds(&b, s);
	if (url)
		redact_url(&b);
	redact_values(r, &b);
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

static json_t *jlist(const struct redact *r, const struct strlist *l)
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

static json_t *jpreset(const struct redact *r, const struct model_preset *p)
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

int config_to_json(const struct config *c, void **json_out)
{
	json_t *o = json_object(), *models = json_object();
	struct model_preset p;
	struct redact r;

	redact_collect(c, &r);
	json_object_set_new(o, "source", jstr(&r, c->source, 0));
	json_object_set_new(o, "goal", jstr(&r, c->goal, 0));
	json_object_set_new(o, "goal_file", jstr(&r, c->goal_file, 0));
	json_object_set_new(o, "gates", jlist(&r, &c->gates));
	json_object_set_new(o, "model", jstr(&r, c->model, 0));
	json_object_set_new(o, "base_url", jstr(&r, c->base_url, 1));
	json_object_set_new(o, "api_key_env", jstr(&r, c->api_key_env, 0));
	json_object_set_new(o, "agent_cmd", jstr(&r, c->agent_cmd, 0));
	json_object_set_new(o, "agent_env", jlist(&r, &c->agent_env));
	json_object_set_new(o, "max_iterations", jlong(c->max_iterations));
	json_object_set_new(o, "max_cost", jnum(c->max_cost));
	json_object_set_new(o, "max_tokens", jlong(c->max_tokens));
	json_object_set_new(o, "deadline_ms", jlong(c->deadline_ms));
	json_object_set_new(o, "gate_timeout_ms", jlong(c->gate_timeout_ms));
	json_object_set_new(o, "protect", jlist(&r, &c->protect));
	json_object_set_new(o, "context", jlist(&r, &c->context));
	json_object_set_new(o, "dir", jstr(&r, c->dir, 0));
	json_object_set_new(o, "json", jbool(c->json));
	json_object_set_new(o, "record", jstr(&r, c->record, 0));
	json_object_set_new(o, "allow_dirty", jbool(c->allow_dirty));
	json_object_set_new(o, "no_protect", jbool(c->no_protect));
	json_object_set_new(o, "confirm", jlong(c->confirm));
	json_object_set_new(o, "stall_after", jlong(c->stall_after));
	json_object_set_new(o, "feedback_max_bytes", jlong(c->feedback_max_bytes));
	json_object_set_new(o, "max_output_tokens", jlong(c->max_output_tokens));
	json_object_set_new(o, "temperature", jnum(c->temperature));
	json_object_set_new(o, "stream", jbool(c->stream));
	json_object_set_new(o, "http", jhttp(c));
	json_object_set_new(o, "policy", c->policy ? policy_to_json(c->policy) : json_null());
	json_object_set_new(o, "sandbox", jbool(c->sandbox));
	json_object_set_new(o, "bwrap", jstr(&r, c->bwrap, 0));
	for (size_t i = 0; i < c->nmodels; i++)
		json_object_set_new(models, c->models[i].name, jpreset(&r, &c->models[i]));
	json_object_set_new(o, "models", models);
	/* what the run will actually talk to, after presets and defaults */
	if (c->model && config_resolve_model(c, c->model, &p, NULL) == 0)
		json_object_set_new(o, "resolved_model", jpreset(&r, &p));
	*json_out = o;
	return 0;
}
