/*
 * config.c: loopgate.yaml into struct config, layering, defaults, checks.
 *
 * The file is read with libyaml's event API into a small tree of our own
 * (scalars, lists, mappings, each with its line), and the tree is then
 * walked against a schema table.  Typing is driven by the schema, not by
 * YAML 1.1 guessing: "goal: yes" is the string "yes", while "json: yes" is
 * true.  Anchors, aliases and tags are refused rather than half supported.
 * See docs/design/config.md for why things are the way they are.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <yaml.h>

/* Limits on user-controllable input (systemd style: bound everything). */
#define CONFIG_MAX_BYTES (1 << 20)
#define GOAL_MAX_BYTES (1 << 20)
#define YAML_MAX_DEPTH 32
#define MAX_MODELS 1000

/* ---- strlist ---------------------------------------------------------- */

void strlist_push(struct strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void strlist_copy(struct strlist *dst, const struct strlist *src)
{
	if (dst == src)
		return;
	strlist_clear(dst);
	for (size_t i = 0; i < src->n; i++)
		strlist_push(dst, src->v[i]);
}

/* ---- init / release --------------------------------------------------- */

static void preset_init(struct model_preset *p)
{
	memset(p, 0, sizeof(*p));
	p->price_in = p->price_out = -1;
	p->max_output_tokens = p->context_tokens = -1;
}

static void preset_release(struct model_preset *p)
{
	free(p->name);
	free(p->provider);
	free(p->model);
	free(p->base_url);
	free(p->api_key_env);
	preset_init(p);
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_iterations = -1;
	c->max_cost = -1;
	c->max_tokens = -1;
	c->deadline_ms = -1;
	c->gate_timeout_ms = -1;
	c->json = -1;
	c->allow_dirty = -1;
	c->feedback_max_bytes = -1;
	c->max_output_tokens = -1;
	c->temperature = -1;
	c->stream = -1;
	c->connect_timeout_ms = -1;
	c->read_timeout_ms = -1;
	c->retries = -1;
	c->retry_base_ms = -1;
	c->retry_max_ms = -1;
}

void config_release(struct config *c)
{
	char **strs[] = { &c->source, &c->goal, &c->goal_file, &c->model,
			  &c->base_url, &c->api_key_env, &c->agent_cmd,
			  &c->dir, &c->record };
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	strlist_clear(&c->gates);
	strlist_clear(&c->agent_env);
	strlist_clear(&c->protect);
	strlist_clear(&c->context);
	for (size_t i = 0; i < c->nmodels; i++)
		preset_release(&c->models[i]);
	free(c->models);
	config_init(c);
}

static struct model_preset *preset_find(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nmodels; i++)
		if (!strcmp(c->models[i].name, name))
			return &c->models[i];
	return NULL;
}

static struct model_preset *preset_add(struct config *c, const char *name)
{
	struct model_preset *p;
	c->models = xrealloc(c->models, (c->nmodels + 1) * sizeof(*c->models));
	p = &c->models[c->nmodels++];
	preset_init(p);
	p->name = xstrdup(name);
	return p;
}

/* ---- overlay ---------------------------------------------------------- */

static void set_str(char **dst, const char *src)
{
	if (!src)
		return;
	free(*dst);
	*dst = xstrdup(src);
}

static void set_list(struct strlist *dst, const struct strlist *src)
{
	if (src->n)
		strlist_copy(dst, src);
}

static void set_long(long *dst, long src)
{
	if (src >= 0)
		*dst = src;
}

static void set_double(double *dst, double src)
{
	if (src >= 0)
		*dst = src;
}

static void preset_overlay(struct model_preset *d, const struct model_preset *s)
{
	set_str(&d->provider, s->provider);
	set_str(&d->model, s->model);
	set_str(&d->base_url, s->base_url);
	set_str(&d->api_key_env, s->api_key_env);
	set_double(&d->price_in, s->price_in);
	set_double(&d->price_out, s->price_out);
	set_long(&d->max_output_tokens, s->max_output_tokens);
	set_long(&d->context_tokens, s->context_tokens);
}

void config_overlay(struct config *d, const struct config *s)
{
	/*
	 * goal/goal_file are one setting given two ways, and so are
	 * model/agent_cmd (the actor): a layer that gives either replaces
	 * both, so "--agent-cmd" on the command line beats "model:" in the
	 * file instead of colliding with it.
	 */
	if (s->goal || s->goal_file) {
		free(d->goal);
		free(d->goal_file);
		d->goal = d->goal_file = NULL;
	}
	if (s->model || s->agent_cmd) {
		free(d->model);
		free(d->agent_cmd);
		d->model = d->agent_cmd = NULL;
	}
	set_str(&d->source, s->source);
	set_str(&d->goal, s->goal);
	set_str(&d->goal_file, s->goal_file);
	set_list(&d->gates, &s->gates);
	set_str(&d->model, s->model);
	set_str(&d->base_url, s->base_url);
	set_str(&d->api_key_env, s->api_key_env);
	set_str(&d->agent_cmd, s->agent_cmd);
	set_list(&d->agent_env, &s->agent_env);
	set_long(&d->max_iterations, s->max_iterations);
	set_double(&d->max_cost, s->max_cost);
	set_long(&d->max_tokens, s->max_tokens);
	set_long(&d->deadline_ms, s->deadline_ms);
	set_long(&d->gate_timeout_ms, s->gate_timeout_ms);
	set_list(&d->protect, &s->protect);
	set_list(&d->context, &s->context);
	set_str(&d->dir, s->dir);
	if (s->json >= 0)
		d->json = s->json;
	set_str(&d->record, s->record);
	if (s->allow_dirty >= 0)
		d->allow_dirty = s->allow_dirty;
	set_long(&d->feedback_max_bytes, s->feedback_max_bytes);
	set_long(&d->max_output_tokens, s->max_output_tokens);
	set_double(&d->temperature, s->temperature);
	if (s->stream >= 0)
		d->stream = s->stream;
	set_long(&d->connect_timeout_ms, s->connect_timeout_ms);
	set_long(&d->read_timeout_ms, s->read_timeout_ms);
	set_long(&d->retries, s->retries);
	set_long(&d->retry_base_ms, s->retry_base_ms);
	set_long(&d->retry_max_ms, s->retry_max_ms);
	for (size_t i = 0; i < s->nmodels; i++) {
		struct model_preset *p = preset_find(d, s->models[i].name);
		if (!p)
			p = preset_add(d, s->models[i].name);
		preset_overlay(p, &s->models[i]);
	}
}

/* ---- durations and scalar syntax -------------------------------------- */

int config_parse_duration(const char *s, long *ms)
{
	static const struct { const char *u; long mult; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 },
	};
	const char *p = s;
	long total = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		const char *start = p;
		long n = 0, mult = 0;
		size_t i;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (n > (LONG_MAX - (*p - '0')) / 10)
				return -ERANGE;
			n = n * 10 + (*p - '0');
		}
		if (!*p && start == s)
			mult = 1000;	/* the whole string is a number: seconds */
		for (i = 0; !mult && i < sizeof(units) / sizeof(units[0]); i++) {
			size_t ul = strlen(units[i].u);
			if (!strncmp(p, units[i].u, ul) &&
			    !isalpha((unsigned char)p[ul])) {
				mult = units[i].mult;
				p += ul;
			}
		}
		if (!mult)
			return -EINVAL;	/* "1h30" or "5x": refuse to guess */
		if (n > LONG_MAX / mult || total > LONG_MAX - n * mult)
			return -ERANGE;
		total += n * mult;
	}
	*ms = total;
	return 0;
}

static int is_env_name(const char *s)
{
	if (!*s || !(isupper((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!(isupper((unsigned char)*s) || isdigit((unsigned char)*s) ||
		      *s == '_'))
			return 0;
	return 1;
}

static int is_url(const char *s)
{
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8);
}

/* Strict integer: optional '-', digits, nothing else. */
static int parse_long(const char *s, long *out)
{
	const char *p = s + (*s == '-');
	char *end;
	long v;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Strict decimal number: -?digits[.digits][e[+-]digits]; no inf/nan/hex. */
static int parse_number(const char *s, double *out)
{
	const char *p = s + (*s == '-');
	char *end;
	double v;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.' && isdigit((unsigned char)p[1]))
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'e' || *p == 'E') {
		p += 1 + (p[1] == '+' || p[1] == '-');
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p)
		return -EINVAL;
	v = strtod(s, &end);
	if (!isfinite(v))
		return -ERANGE;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(s, no[i]))
			return *out = 0, 0;
	}
	return -EINVAL;
}

/* ---- YAML into a tree ------------------------------------------------- */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP, Y_ALIAS };

struct ynode {
	enum ykind kind;
	int plain;		/* unquoted scalar: may be a number, bool, null */
	const char *refused;	/* anchor or tag: why we refuse it when used */
	size_t line;		/* 1-based */
	char *val;		/* scalar text, NUL-terminated */
	size_t len;
	struct ynode *kids;	/* list items; mapping: key, value, key, ... */
	size_t n;
};

struct yb {
	yaml_parser_t p;
	const char *name;
	const char *text;
	size_t len;
	struct buf *err;
};

static void ynode_free(struct ynode *y)
{
	for (size_t i = 0; i < y->n; i++)
		ynode_free(&y->kids[i]);
	free(y->kids);
	free(y->val);
}

static int yaml_fail(struct yb *b)
{
	const yaml_parser_t *p = &b->p;
	size_t line = p->problem_mark.line + 1;
	if (p->error == YAML_READER_ERROR) {
		/* reader errors carry a byte offset, not a mark */
		line = 1;
		for (size_t i = 0; i < p->problem_offset && i < b->len; i++)
			line += b->text[i] == '\n';
	}
	if (p->context)
		return err_set(b->err, -EINVAL,
			       "%s:%zu: YAML syntax error: %s (%s started on line %zu)",
			       b->name, line, p->problem ? p->problem : "malformed",
			       p->context, p->context_mark.line + 1);
	return err_set(b->err, -EINVAL, "%s:%zu: YAML syntax error: %s", b->name,
		       line, p->problem ? p->problem : "malformed");
}

static int ynext(struct yb *b, yaml_event_t *ev)
{
	return yaml_parser_parse(&b->p, ev) ? 0 : yaml_fail(b);
}

static int ybuild(struct yb *b, const yaml_event_t *ev, struct ynode *y, int depth)
{
	yaml_event_type_t end = YAML_SEQUENCE_END_EVENT;
	size_t alloc = 0;

	memset(y, 0, sizeof(*y));
	y->line = ev->start_mark.line + 1;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		y->kind = Y_ALIAS;
		return 0;
	case YAML_SCALAR_EVENT:
		y->kind = Y_SCALAR;
		y->len = ev->data.scalar.length;
		y->val = xstrndup((const char *)ev->data.scalar.value, y->len);
		y->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (ev->data.scalar.anchor)
			y->refused = "YAML anchors (&name) are not supported";
		else if (ev->data.scalar.tag)
			y->refused = "YAML tags (!tag) are not supported";
		return 0;
	case YAML_MAPPING_START_EVENT:
		end = YAML_MAPPING_END_EVENT;
		y->kind = Y_MAP;
		if (ev->data.mapping_start.anchor)
			y->refused = "YAML anchors (&name) are not supported";
		break;
	case YAML_SEQUENCE_START_EVENT:
		y->kind = Y_SEQ;
		if (ev->data.sequence_start.anchor)
			y->refused = "YAML anchors (&name) are not supported";
		break;
	default:
		return err_set(b->err, -EINVAL, "%s:%zu: YAML syntax error: unexpected event",
			       b->name, y->line);
	}
	if (depth >= YAML_MAX_DEPTH)
		return err_set(b->err, -EINVAL, "%s:%zu: YAML nested deeper than %d levels",
			       b->name, y->line, YAML_MAX_DEPTH);
	for (;;) {
		yaml_event_t cev;
		int ret = ynext(b, &cev);
		if (ret < 0)
			return ret;
		if (cev.type == end) {
			yaml_event_delete(&cev);
			return 0;
		}
		if (y->n == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			y->kids = xrealloc(y->kids, alloc * sizeof(*y->kids));
		}
		ret = ybuild(b, &cev, &y->kids[y->n++], depth + 1);
		yaml_event_delete(&cev);
		if (ret < 0)
			return ret;
	}
}

/* Expects the next event to be of type t (structure, not content). */
static int yexpect(struct yb *b, yaml_event_type_t t, yaml_event_t *ev)
{
	int ret = ynext(b, ev);
	if (ret < 0)
		return ret;
	if (ev->type != t) {
		size_t line = ev->start_mark.line + 1;
		int doc = ev->type == YAML_DOCUMENT_START_EVENT;
		yaml_event_delete(ev);
		return err_set(b->err, -EINVAL, "%s:%zu: %s", b->name, line,
			       doc ? "only one YAML document is allowed (a second '---' starts here)"
				   : "YAML syntax error: unexpected content");
	}
	return 0;
}

/* *root is NULL for an empty file. */
static int yload(struct yb *b, struct ynode **root)
{
	yaml_event_t ev;
	struct ynode *y = NULL;
	int ret;

	*root = NULL;
	if ((ret = yexpect(b, YAML_STREAM_START_EVENT, &ev)) < 0)
		return ret;
	yaml_event_delete(&ev);
	if ((ret = ynext(b, &ev)) < 0)
		return ret;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev);	/* DOCUMENT_START: the parser guarantees it */
	if ((ret = ynext(b, &ev)) < 0)
		return ret;
	y = xcalloc(1, sizeof(*y));
	ret = ybuild(b, &ev, y, 0);
	yaml_event_delete(&ev);
	if (ret >= 0 && (ret = yexpect(b, YAML_DOCUMENT_END_EVENT, &ev)) >= 0) {
		yaml_event_delete(&ev);
		if ((ret = yexpect(b, YAML_STREAM_END_EVENT, &ev)) >= 0)
			yaml_event_delete(&ev);
	}
	if (ret < 0) {
		ynode_free(y);
		free(y);
		return ret;
	}
	*root = y;
	return 0;
}

/* ---- the schema ------------------------------------------------------- */

enum ktype {
	K_STR, K_URL, K_ENV, K_PROVIDER, K_LIST, K_ENVLIST,
	K_INT, K_NUM, K_DUR, K_BOOL, K_HTTP, K_MODELS,
};

struct key {
	const char *name;
	enum ktype type;
	size_t off;		/* into struct config or struct model_preset */
	double lo, hi;		/* numbers: allowed range (durations in ms) */
	const char *flag;	/* the command-line spelling, for finalize */
};

#define KEY(n, t, f, lo, hi, flag) { n, t, offsetof(struct config, f), lo, hi, flag }
#define PKEY(n, t, f, lo, hi) { n, t, offsetof(struct model_preset, f), lo, hi, NULL }
#define NOMAX ((double)LONG_MAX)
#define KEYS_END { NULL, K_STR, 0, 0, 0, NULL }

static const struct key http_keys[] = {
	KEY("connect_timeout", K_DUR, connect_timeout_ms, 1, NOMAX, NULL),
	KEY("read_timeout", K_DUR, read_timeout_ms, 1, NOMAX, NULL),
	KEY("retries", K_INT, retries, 0, 20, NULL),
	KEY("retry_base", K_DUR, retry_base_ms, 0, NOMAX, NULL),
	KEY("retry_max", K_DUR, retry_max_ms, 0, NOMAX, NULL),
	KEYS_END
};

static const struct key top_keys[] = {
	KEY("goal", K_STR, goal, 0, 0, "--goal"),
	KEY("goal_file", K_STR, goal_file, 0, 0, "--goal-file"),
	KEY("gates", K_LIST, gates, 0, 0, "--gate"),
	KEY("model", K_STR, model, 0, 0, "--model"),
	KEY("base_url", K_URL, base_url, 0, 0, "--base-url"),
	KEY("api_key_env", K_ENV, api_key_env, 0, 0, NULL),
	KEY("agent_cmd", K_STR, agent_cmd, 0, 0, "--agent-cmd"),
	KEY("agent_env", K_ENVLIST, agent_env, 0, 0, "--agent-env"),
	KEY("max_iterations", K_INT, max_iterations, 1, NOMAX, "--max-iterations"),
	KEY("max_cost", K_NUM, max_cost, 0, HUGE_VAL, "--max-cost"),
	KEY("max_tokens", K_INT, max_tokens, 1, NOMAX, "--max-tokens"),
	KEY("deadline", K_DUR, deadline_ms, 1, NOMAX, "--deadline"),
	KEY("gate_timeout", K_DUR, gate_timeout_ms, 1, NOMAX, "--gate-timeout"),
	KEY("protect", K_LIST, protect, 0, 0, "--protect"),
	KEY("context", K_LIST, context, 0, 0, "--context"),
	KEY("json", K_BOOL, json, 0, 0, "--json"),
	KEY("record", K_STR, record, 0, 0, "--record"),
	KEY("allow_dirty", K_BOOL, allow_dirty, 0, 0, "--allow-dirty"),
	KEY("feedback_max_bytes", K_INT, feedback_max_bytes, 1024, NOMAX,
	    "--feedback-max-bytes"),
	KEY("max_output_tokens", K_INT, max_output_tokens, 1, NOMAX,
	    "--max-output-tokens"),
	KEY("temperature", K_NUM, temperature, 0, 2, NULL),
	KEY("stream", K_BOOL, stream, 0, 0, "--no-stream"),
	/* http's fields live flat in struct config: the offset is unused */
	KEY("http", K_HTTP, source, 0, 0, NULL),
	KEY("models", K_MODELS, models, 0, 0, NULL),
	KEYS_END
};

static const struct key preset_keys[] = {
	PKEY("provider", K_PROVIDER, provider, 0, 0),
	PKEY("model", K_STR, model, 0, 0),
	PKEY("base_url", K_URL, base_url, 0, 0),
	PKEY("api_key_env", K_ENV, api_key_env, 0, 0),
	PKEY("price_in", K_NUM, price_in, 0, HUGE_VAL),
	PKEY("price_out", K_NUM, price_out, 0, HUGE_VAL),
	PKEY("max_output_tokens", K_INT, max_output_tokens, 1, NOMAX),
	PKEY("context_tokens", K_INT, context_tokens, 1, NOMAX),
	KEYS_END
};

/* Levenshtein distance, '-' and '_' counted as equal; capped inputs. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65], i, j;
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			int same = a[i - 1] == b[j - 1] ||
				   (strchr("-_", a[i - 1]) && strchr("-_", b[j - 1]));
			size_t best = diag + !same;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

static const char *suggest(const struct key *keys, const char *name)
{
	const char *best = NULL;
	size_t bestd = 3;
	for (const struct key *k = keys; k->name; k++) {
		size_t d = edit_distance(name, k->name);
		if (d < bestd) {
			bestd = d;
			best = k->name;
		}
	}
	return best;
}

/* ---- the walk --------------------------------------------------------- */

struct walk {
	const char *name;
	struct config *c;
	struct buf *err;
};

static int key_err(const struct walk *w, size_t line, const char *path,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int key_err(const struct walk *w, size_t line, const char *path,
		   const char *fmt, ...)
{
	va_list ap;
	if (w->err) {
		buf_reset(w->err);
		buf_addf(w->err, "%s:%zu: key '%s': ", w->name, line, path);
		va_start(ap, fmt);
		buf_vaddf(w->err, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int is_null(const struct ynode *y)
{
	return y->kind == Y_SCALAR && y->plain &&
	       (!y->len || !strcmp(y->val, "~") || !strcasecmp(y->val, "null"));
}

/* "a list", "'abc'": what we found, for "expected X, got Y". */
static const char *describe(const struct ynode *y, char *tmp, size_t n)
{
	if (y->kind == Y_SEQ)
		return "a list";
	if (y->kind == Y_MAP)
		return "a mapping";
	if (is_null(y))
		return "an empty value";
	snprintf(tmp, n, "%s'%.40s%s'", y->plain ? "" : "the quoted string ",
		 y->val, y->len > 40 ? "..." : "");
	return tmp;
}

/* Anchors, aliases and tags: refused wherever they appear. */
static int check_plain_yaml(const struct walk *w, const struct ynode *y,
			    const char *path)
{
	if (y->kind == Y_ALIAS)
		return key_err(w, y->line, path,
			       "YAML aliases (*name) are not supported; write the value out");
	if (y->refused)
		return key_err(w, y->line, path, "%s; write the value out", y->refused);
	return 0;
}

static int want_string(const struct walk *w, const struct ynode *y,
		       const char *path, const char *what, const char **out)
{
	char tmp[80];
	int ret = check_plain_yaml(w, y, path);
	if (ret < 0)
		return ret;
	if (y->kind != Y_SCALAR || is_null(y))
		return key_err(w, y->line, path, "expected %s, got %s", what,
			       describe(y, tmp, sizeof(tmp)));
	if (strlen(y->val) != y->len)
		return key_err(w, y->line, path, "contains a NUL byte");
	*out = y->val;
	return 0;
}

static int set_list_key(const struct walk *w, const struct key *k,
			const struct ynode *y, const char *path, struct strlist *l)
{
	char tmp[80];
	const char *s;
	int ret = check_plain_yaml(w, y, path);
	if (ret < 0)
		return ret;
	if (y->kind != Y_SEQ)
		return key_err(w, y->line, path,
			       "expected a list of strings (one '- item' per line), got %s",
			       describe(y, tmp, sizeof(tmp)));
	strlist_clear(l);
	for (size_t i = 0; i < y->n; i++) {
		if ((ret = want_string(w, &y->kids[i], path, "a string", &s)) < 0)
			return ret;
		if (!*s)
			return key_err(w, y->kids[i].line, path, "item %zu is empty", i + 1);
		if (k->type == K_ENVLIST && !is_env_name(s))
			return key_err(w, y->kids[i].line, path,
				       "'%s' is not an environment variable name (expected [A-Z_][A-Z0-9_]*)",
				       s);
		strlist_push(l, s);
	}
	return 0;
}

static int range_err(const struct walk *w, size_t line, const char *path,
		     const struct key *k, const char *what, const char *got)
{
	if (k->hi < NOMAX)
		return key_err(w, line, path, "expected %s from %g to %g, got %s",
			       what, k->lo, k->hi, got);
	return key_err(w, line, path, "expected %s of at least %g, got %s",
		       what, k->lo, got);
}

static int set_number_key(const struct walk *w, const struct key *k,
			  const struct ynode *y, const char *path, void *field)
{
	const char *what = k->type == K_INT ? "an integer" : "a number";
	char tmp[80];
	long l = 0;
	double d = 0;
	int ret = check_plain_yaml(w, y, path);

	if (ret < 0)
		return ret;
	if (y->kind != Y_SCALAR || !y->plain || is_null(y))
		return key_err(w, y->line, path, "expected %s, got %s", what,
			       describe(y, tmp, sizeof(tmp)));
	ret = k->type == K_INT ? parse_long(y->val, &l) : parse_number(y->val, &d);
	if (ret == -ERANGE)
		return key_err(w, y->line, path, "%s is out of range", y->val);
	if (ret < 0)
		return key_err(w, y->line, path, "expected %s, got %s", what,
			       describe(y, tmp, sizeof(tmp)));
	if (k->type == K_INT)
		d = (double)l;
	if (d < k->lo || d > k->hi)
		return range_err(w, y->line, path, k, what, y->val);
	if (k->type == K_INT)
		*(long *)field = l;
	else
		*(double *)field = d;
	return 0;
}

static int set_scalar_key(const struct walk *w, const struct key *k,
			  const struct ynode *y, const char *path, void *field)
{
	const char *s;
	long ms;
	int b, ret;

	switch (k->type) {
	case K_DUR:
		if ((ret = want_string(w, y, path, "a duration", &s)) < 0)
			return ret;
		ret = config_parse_duration(s, &ms);
		if (ret == -ERANGE)
			return key_err(w, y->line, path, "duration '%s' is too long", s);
		if (ret < 0)
			return key_err(w, y->line, path,
				       "expected a duration such as 90s, 30m, 2h, 1h30m, 500ms or whole seconds, got '%s'",
				       s);
		if ((double)ms < k->lo)
			return key_err(w, y->line, path, "must be longer than 0, got '%s'", s);
		*(long *)field = ms;
		return 0;
	case K_BOOL:
		if ((ret = want_string(w, y, path, "true or false", &s)) < 0)
			return ret;
		if (!y->plain || parse_bool(s, &b) < 0)
			return key_err(w, y->line, path,
				       "expected true or false (or yes/no, on/off), got '%s'", s);
		*(int *)field = b;
		return 0;
	default:
		break;
	}
	if ((ret = want_string(w, y, path, "a string", &s)) < 0)
		return ret;
	if (k->type == K_URL && !is_url(s))
		return key_err(w, y->line, path,
			       "expected an http:// or https:// URL, got '%s'", s);
	if (k->type == K_ENV && !is_env_name(s))
		return key_err(w, y->line, path,
			       "'%s' is not an environment variable name (expected [A-Z_][A-Z0-9_]*)",
			       s);
	if (k->type == K_PROVIDER && strcmp(s, "openai") && strcmp(s, "anthropic"))
		return key_err(w, y->line, path,
			       "expected 'openai' or 'anthropic', got '%s'", s);
	free(*(char **)field);
	*(char **)field = xstrdup(s);
	return 0;
}

static int walk_map(struct walk *w, const struct ynode *map, const struct key *keys,
		    void *base, const char *prefix);

static int walk_models(struct walk *w, const struct ynode *map, const char *path)
{
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *ky = &map->kids[i];
		const char *name;
		char *sub;
		int ret;

		if ((ret = want_string(w, ky, path, "a model name", &name)) < 0)
			return ret;
		for (size_t j = 0; j < i; j += 2)
			if (!strcmp(map->kids[j].val, name))
				return key_err(w, ky->line, path,
					       "model '%s' is defined twice (first on line %zu)",
					       name, map->kids[j].line);
		if (i / 2 >= MAX_MODELS)
			return key_err(w, ky->line, path, "more than %d models", MAX_MODELS);
		sub = xasprintf("%s.%s", path, name);
		ret = walk_map(w, &map->kids[i + 1], preset_keys,
			       preset_add(w->c, name), sub);
		free(sub);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int walk_value(struct walk *w, const struct key *k, const struct ynode *y,
		      void *base, const char *path)
{
	void *field = (char *)base + k->off;
	char tmp[80];
	int ret;

	switch (k->type) {
	case K_LIST:
	case K_ENVLIST:
		return set_list_key(w, k, y, path, field);
	case K_INT:
	case K_NUM:
		return set_number_key(w, k, y, path, field);
	case K_HTTP:
	case K_MODELS:
		if ((ret = check_plain_yaml(w, y, path)) < 0)
			return ret;
		if (y->kind != Y_MAP)
			return key_err(w, y->line, path, "expected a mapping (indented keys), got %s",
				       describe(y, tmp, sizeof(tmp)));
		if (k->type == K_HTTP)
			return walk_map(w, y, http_keys, base, path);
		return walk_models(w, y, path);
	default:
		return set_scalar_key(w, k, y, path, field);
	}
}

static int unknown_key(const struct walk *w, const struct ynode *ky,
		       const struct key *keys, const char *path, int top)
{
	const char *s = suggest(keys, ky->val);
	if (top && (!strcmp(ky->val, "dir") || !strcmp(ky->val, "config")))
		return key_err(w, ky->line, path,
			       "can only be given on the command line (--%s)", ky->val);
	if (s)
		return key_err(w, ky->line, path, "unknown key; did you mean '%s'?", s);
	return key_err(w, ky->line, path, "unknown key (see 'Configuration file' in docs/manual.md)");
}

static int walk_map(struct walk *w, const struct ynode *map, const struct key *keys,
		    void *base, const char *prefix)
{
	size_t seen[32] = { 0 };
	char tmp[80];
	int ret;

	if ((ret = check_plain_yaml(w, map, *prefix ? prefix : "(top level)")) < 0)
		return ret;
	if (map->kind != Y_MAP)
		return key_err(w, map->line, *prefix ? prefix : "(top level)",
			       "expected a mapping of keys, got %s",
			       describe(map, tmp, sizeof(tmp)));
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *ky = &map->kids[i];
		const struct key *k;
		const char *name;
		char *path;

		if ((ret = want_string(w, ky, *prefix ? prefix : "(top level)",
				       "a key name", &name)) < 0)
			return ret;
		path = *prefix ? xasprintf("%s.%s", prefix, name) : xstrdup(name);
		for (k = keys; k->name && strcmp(k->name, name); k++)
			;
		if (!k->name)
			ret = unknown_key(w, ky, keys, path, !*prefix);
		else if (seen[k - keys])
			ret = key_err(w, ky->line, path, "duplicate key (first given on line %zu)",
				      seen[k - keys]);
		else {
			seen[k - keys] = ky->line;
			ret = walk_value(w, k, &map->kids[i + 1], base, path);
		}
		free(path);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- loading ---------------------------------------------------------- */

/*
 * A relative goal_file in a config file is relative to the file's own
 * directory, so "loopgate.yaml" means the same thing whatever the cwd.
 */
static void rebase(char **p, const char *cfgpath)
{
	const char *slash = strrchr(cfgpath, '/');
	char *s;
	if (!*p || **p == '/' || !slash)
		return;
	s = xasprintf("%.*s/%s", (int)(slash - cfgpath), cfgpath, *p);
	free(*p);
	*p = s;
}

int config_load_string(struct config *c, const char *name, const char *text,
		       size_t len, struct buf *err)
{
	struct yb b = { .name = name, .text = text, .len = len, .err = err };
	struct walk w = { .name = name, .err = err };
	struct ynode *root = NULL;
	struct config tmp;
	int ret;

	if (len > CONFIG_MAX_BYTES)
		return err_set(err, -EINVAL, "%s: larger than %d bytes; is this a config file?",
			       name, CONFIG_MAX_BYTES);
	if (!yaml_parser_initialize(&b.p))
		return err_set(err, -ENOMEM, "%s: cannot initialise the YAML parser", name);
	yaml_parser_set_input_string(&b.p, (const unsigned char *)text, len);
	ret = yload(&b, &root);
	yaml_parser_delete(&b.p);
	if (ret < 0)
		return ret;
	config_init(&tmp);
	w.c = &tmp;
	if (root && !is_null(root))
		ret = walk_map(&w, root, top_keys, &tmp, "");
	if (root) {
		ynode_free(root);
		free(root);
	}
	if (ret >= 0) {
		tmp.source = xstrdup(name);
		config_overlay(c, &tmp);
	}
	config_release(&tmp);
	return ret;
}

int config_load_file(struct config *c, const char *path, struct buf *err)
{
	struct buf text = BUF_INIT;
	struct config tmp;
	int ret;

	buf_init(&text, CONFIG_MAX_BYTES + 1);
	ret = buf_read_file(&text, path);
	if (ret == -ENOENT)
		ret = err_set(err, ret, "%s: no such file", path);
	else if (ret == -E2BIG)
		ret = err_set(err, -EINVAL, "%s: larger than %d bytes; is this a config file?",
			      path, CONFIG_MAX_BYTES);
	else if (ret < 0)
		ret = err_set(err, ret, "%s: cannot read: %s", path, strerror(-ret));
	if (ret < 0) {
		buf_release(&text);
		return ret;
	}
	config_init(&tmp);
	ret = config_load_string(&tmp, path, text.s, text.len, err);
	buf_release(&text);
	if (ret >= 0) {
		rebase(&tmp.goal_file, path);
		config_overlay(c, &tmp);
	}
	config_release(&tmp);
	return ret;
}

/* ---- models ----------------------------------------------------------- */

static const struct provider_default {
	const char *name, *base_url, *api_key_env;
} builtin[] = {
	{ "openai", "https://api.openai.com/v1", "OPENAI_API_KEY" },
	{ "anthropic", "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY" },
};

static const struct provider_default *builtin_find(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (strlen(builtin[i].name) == n && !strncmp(builtin[i].name, s, n))
			return &builtin[i];
	return NULL;
}

/*
 * No built-in price table, on purpose: prices change, and a stale price
 * would make --max-cost silently wrong.  Unknown stays -1 and finalize
 * refuses a cost ceiling it cannot enforce.
 */
int config_resolve_model(const struct config *c, const char *spec,
			 struct model_preset *out, struct buf *err)
{
	const struct provider_default *d = NULL;
	const struct model_preset *p;
	const char *slash, *name = spec;
	struct model_preset r;

	if (!spec || !*spec)
		return err_set(err, -EINVAL, "empty model name");
	preset_init(&r);
	r.name = (char *)spec;
	if (!strncmp(spec, "replay:", 7)) {
		if (!spec[7])
			return err_set(err, -EINVAL,
				       "model 'replay:' needs a transcript: replay:FILE");
		/* a replayed transcript costs nothing: its prices are known */
		r.provider = "replay";
		r.model = (char *)spec + 7;
		r.price_in = r.price_out = 0;
		r.max_output_tokens = c->max_output_tokens;
		*out = r;
		return 0;
	}
	p = preset_find(c, spec);
	if ((slash = strchr(spec, '/')) && (d = builtin_find(spec, (size_t)(slash - spec)))) {
		name = slash + 1;
		if (!p)
			p = preset_find(c, name);
	}
	if (p && p->provider) {
		const struct provider_default *pd = builtin_find(p->provider, strlen(p->provider));
		if (d && pd != d)
			return err_set(err, -EINVAL,
				       "model '%s' names provider '%.*s' but models.%s says provider '%s'",
				       spec, (int)(slash - spec), spec, p->name, p->provider);
		d = pd;
	}
	if (!d && p)
		return err_set(err, -EINVAL,
			       "models.%s has no provider: add 'provider: openai' or 'provider: anthropic'",
			       p->name);
	if (!d)
		return err_set(err, -EINVAL,
			       "unknown model '%s': use openai/NAME (also for Ollama, vLLM, llama.cpp, LM Studio), anthropic/NAME, replay:FILE, or a name defined under models:",
			       spec);
	if (!*name)
		return err_set(err, -EINVAL, "model '%s' has no name after the '/'", spec);
	r.provider = (char *)d->name;
	r.model = (char *)(p && p->model ? p->model : name);
	/* precedence: flags > top-level keys (both already in c) > preset > built-in */
	r.base_url = c->base_url ? c->base_url
		   : (char *)(p && p->base_url ? p->base_url : d->base_url);
	r.api_key_env = c->api_key_env ? c->api_key_env
		      : (char *)(p && p->api_key_env ? p->api_key_env : d->api_key_env);
	if (p) {
		r.name = p->name;
		r.price_in = p->price_in;
		r.price_out = p->price_out;
		r.max_output_tokens = p->max_output_tokens;
		r.context_tokens = p->context_tokens;
	}
	if (c->max_output_tokens > 0)
		r.max_output_tokens = c->max_output_tokens;
	*out = r;
	return 0;
}

/* ---- finalize --------------------------------------------------------- */

static int finalize_goal(struct config *c, struct buf *err)
{
	struct buf b = BUF_INIT;
	int ret;

	if (c->goal && c->goal_file)
		return err_set(err, -EINVAL,
			       "both goal and goal_file are set: give the goal one way (--goal TEXT or --goal-file FILE)");
	if (c->goal_file) {
		buf_init(&b, GOAL_MAX_BYTES);
		ret = buf_read_file(&b, c->goal_file);
		if (ret == -E2BIG)
			ret = err_set(err, -EINVAL, "goal file '%s' is larger than %d bytes",
				      c->goal_file, GOAL_MAX_BYTES);
		else if (ret < 0)
			ret = err_set(err, -EINVAL, "cannot read goal file '%s': %s",
				      c->goal_file, strerror(-ret));
		else if (strlen(b.s) != b.len)
			ret = err_set(err, -EINVAL, "goal file '%s' contains NUL bytes",
				      c->goal_file);
		if (ret < 0) {
			buf_release(&b);
			return ret;
		}
		/* keep goal_file: it records where the goal came from */
		c->goal = buf_detach(&b, NULL);
	}
	if (!c->goal)
		return err_set(err, -EINVAL,
			       "no goal: pass --goal TEXT or --goal-file FILE (or set goal: in loopgate.yaml)");
	if (!c->goal[strspn(c->goal, " \t\r\n")])
		return err_set(err, -EINVAL, "the goal is empty%s%s%s",
			       c->goal_file ? " (goal file '" : "",
			       c->goal_file ? c->goal_file : "", c->goal_file ? "')" : "");
	return 0;
}

static int finalize_actor(struct config *c, struct buf *err)
{
	struct model_preset p;
	int ret;

	if (!c->model && !c->agent_cmd)
		return err_set(err, -EINVAL,
			       "no actor: pass --model PROVIDER/NAME (e.g. openai/gpt-4o-mini) or --agent-cmd CMD (e.g. 'claude -p ...'), or set model: or agent_cmd: in loopgate.yaml");
	if (c->model && c->agent_cmd)
		return err_set(err, -EINVAL,
			       "both model '%s' and agent_cmd are set: choose one (--model drives an API model, --agent-cmd an agent CLI)",
			       c->model);
	if (c->agent_cmd) {
		if (!*c->agent_cmd)
			return err_set(err, -EINVAL, "agent_cmd is empty");
		if (c->max_cost >= 0)
			return err_set(err, -EINVAL,
				       "--max-cost cannot be enforced with --agent-cmd: loopgate cannot meter what a command actor spends. Bound the run with --max-iterations and --deadline instead (and the agent's own spending limits)");
		return 0;
	}
	if ((ret = config_resolve_model(c, c->model, &p, err)) < 0)
		return ret;
	if (c->max_cost >= 0 && (p.price_in < 0 || p.price_out < 0))
		return err_set(err, -EINVAL,
			       "--max-cost needs the price of model '%s', and loopgate never guesses prices. Add them (USD per million tokens, from the provider's price list) to loopgate.yaml:\n"
			       "models:\n  %s:\n    price_in: ...\n    price_out: ...\n"
			       "or drop --max-cost and bound the run with --max-tokens",
			       c->model, p.name);
	if (c->max_output_tokens < 0)
		c->max_output_tokens = p.max_output_tokens > 0 ? p.max_output_tokens
							     : CONFIG_DEFAULT_MAX_OUTPUT_TOKENS;
	return 0;
}

static void defaults(struct config *c)
{
	if (c->max_iterations < 0)
		c->max_iterations = CONFIG_DEFAULT_MAX_ITERATIONS;
	if (c->gate_timeout_ms < 0)
		c->gate_timeout_ms = CONFIG_DEFAULT_GATE_TIMEOUT_MS;
	if (c->feedback_max_bytes < 0)
		c->feedback_max_bytes = CONFIG_DEFAULT_FEEDBACK_MAX_BYTES;
	if (c->max_output_tokens < 0)
		c->max_output_tokens = CONFIG_DEFAULT_MAX_OUTPUT_TOKENS;
	if (c->connect_timeout_ms < 0)
		c->connect_timeout_ms = CONFIG_DEFAULT_CONNECT_TIMEOUT_MS;
	if (c->read_timeout_ms < 0)
		c->read_timeout_ms = CONFIG_DEFAULT_READ_TIMEOUT_MS;
	if (c->retries < 0)
		c->retries = CONFIG_DEFAULT_RETRIES;
	if (c->retry_base_ms < 0)
		c->retry_base_ms = CONFIG_DEFAULT_RETRY_BASE_MS;
	if (c->retry_max_ms < 0)
		c->retry_max_ms = CONFIG_DEFAULT_RETRY_MAX_MS;
	if (c->json < 0)
		c->json = 0;
	if (c->allow_dirty < 0)
		c->allow_dirty = 0;
	if (c->stream < 0)
		c->stream = 1;
}

/*
 * Flags arrive unchecked from argv, so the ranges of the schema are checked
 * again on the merged result.  -1 is "none" for the optional limits.
 */
static int check_ranges(const struct config *c, const struct key *keys,
			const char *prefix, struct buf *err)
{
	for (const struct key *k = keys; k->name; k++) {
		const void *f = (const char *)c + k->off;
		char name[64];
		double v;
		if (k->type == K_HTTP) {
			int ret = check_ranges(c, http_keys, "http.", err);
			if (ret < 0)
				return ret;
			continue;
		}
		if (k->type != K_INT && k->type != K_NUM && k->type != K_DUR)
			continue;
		v = k->type == K_NUM ? *(const double *)f : (double)*(const long *)f;
		if (v == -1 || (v >= k->lo && v <= k->hi))
			continue;
		snprintf(name, sizeof(name), "%s%s%s%s", prefix, k->name,
			 k->flag ? " / " : "", k->flag ? k->flag : "");
		if (k->type == K_DUR)
			return err_set(err, -EINVAL, "%s: must be longer than 0", name);
		if (k->hi < NOMAX)
			return err_set(err, -EINVAL, "%s: %g is out of range (%g to %g)",
				       name, v, k->lo, k->hi);
		return err_set(err, -EINVAL, "%s: %g is out of range (at least %g)",
			       name, v, k->lo);
	}
	return 0;
}

/* Strings that flags may have brought in unchecked. */
static int check_strings(const struct config *c, struct buf *err)
{
	for (size_t i = 0; i < c->gates.n; i++)
		if (!c->gates.v[i][strspn(c->gates.v[i], " \t")])
			return err_set(err, -EINVAL, "gate %zu is an empty command", i + 1);
	for (size_t i = 0; i < c->agent_env.n; i++)
		if (!is_env_name(c->agent_env.v[i]))
			return err_set(err, -EINVAL,
				       "agent_env: '%s' is not an environment variable name (expected [A-Z_][A-Z0-9_]*)",
				       c->agent_env.v[i]);
	if (c->api_key_env && !is_env_name(c->api_key_env))
		return err_set(err, -EINVAL,
			       "api_key_env: '%s' is not an environment variable name (expected [A-Z_][A-Z0-9_]*)",
			       c->api_key_env);
	if (c->base_url && !is_url(c->base_url))
		return err_set(err, -EINVAL,
			       "base_url: expected an http:// or https:// URL");
	if (c->record && !*c->record)
		return err_set(err, -EINVAL, "record: empty file name");
	return 0;
}

int config_finalize(struct config *c, struct buf *err)
{
	int ret;

	if ((ret = finalize_goal(c, err)) < 0)
		return ret;
	if (!c->gates.n)
		return err_set(err, -EINVAL,
			       "no gate: pass at least one --gate CMD (or gates: in loopgate.yaml); only the gates' exit codes decide when the goal is met");
	if ((ret = check_strings(c, err)) < 0)
		return ret;
	if ((ret = finalize_actor(c, err)) < 0)
		return ret;
	defaults(c);
	if ((ret = check_ranges(c, top_keys, "", err)) < 0)
		return ret;
	if (c->retry_max_ms < c->retry_base_ms)
		return err_set(err, -EINVAL,
			       "http.retry_max (%ldms) is shorter than http.retry_base (%ldms)",
			       c->retry_max_ms, c->retry_base_ms);
	return 0;
}

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
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		redact_add(r, builtin[i].api_key_env);
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
	json_object_set_new(o, "feedback_max_bytes", jlong(c->feedback_max_bytes));
	json_object_set_new(o, "max_output_tokens", jlong(c->max_output_tokens));
	json_object_set_new(o, "temperature", jnum(c->temperature));
	json_object_set_new(o, "stream", jbool(c->stream));
	json_object_set_new(o, "http", jhttp(c));
	for (size_t i = 0; i < c->nmodels; i++)
		json_object_set_new(models, c->models[i].name, jpreset(&r, &c->models[i]));
	json_object_set_new(o, "models", models);
	/* what the run will actually talk to, after presets and defaults */
	if (c->model && config_resolve_model(c, c->model, &p, NULL) == 0)
		json_object_set_new(o, "resolved_model", jpreset(&r, &p));
	*json_out = o;
	return 0;
}
