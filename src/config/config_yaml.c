/*
 * config_yaml.c: loopgate.yaml into struct config (config_load_file and
 * config_load_string of config.h).
 *
 * The file is read with libyaml's event API into a small tree of our own
 * (scalars, lists, mappings, each with its line), and the tree is then
 * walked against a schema table.  Typing is driven by the schema, not by
 * YAML 1.1 guessing: "goal: yes" is the string "yes", while "json: yes" is
 * true.  Anchors, aliases and tags are refused rather than half supported.
 * Every error names the file, the line and the key, and an unknown key gets
 * a did-you-mean suggestion.  See docs/design/config.md for why things are
 * the way they are.
 */
#include "config/config.h"
#include "base/saferead.h"
#include "config/config_impl.h"
#include "config/policy.h"

#include <ctype.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* Limits on user-controllable input (systemd style: bound everything). */
#define CONFIG_MAX_BYTES (1 << 20)
#define MAX_MODELS	 1000

/* ---- typed scalars ------------------------------------------------------ */

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
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(s, no[i]))
			return *out = 0, 0;
	}
	return -EINVAL;
}

/* ---- the schema ------------------------------------------------------- */

/* The tables of keys are in config_keys.c (config_impl.h says what a row
 * holds); rows marked KF_NO_YAML are not keys of the file. */

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
		size_t d = k->kf & KF_NO_YAML ? SIZE_MAX : edit_distance(name, k->name);
		if (d < bestd) {
			bestd = d;
			best = k->name;
		}
	}
	return best;
}

/* ---- the walk --------------------------------------------------------- */

int config_key_err(const struct walk *w, size_t line, const char *path, const char *fmt,
		   ...)
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

#define key_err config_key_err

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
	snprintf(tmp, n, "%s'%.40s%s'", y->plain ? "" : "the quoted string ", y->val,
		 y->len > 40 ? "..." : "");
	return tmp;
}

/* Anchors, aliases and tags: refused wherever they appear. */
static int check_plain_yaml(const struct walk *w, const struct ynode *y, const char *path)
{
	if (y->kind == Y_ALIAS)
		return key_err(
			w, y->line, path,
			"YAML aliases (*name) are not supported; write the value out");
	if (y->refused)
		return key_err(w, y->line, path, "%s; write the value out", y->refused);
	return 0;
}

static int want_string(const struct walk *w, const struct ynode *y, const char *path,
		       const char *what, const char **out)
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

int config_walk_list(const struct walk *w, const struct key *k, const struct ynode *y,
		     const char *path, struct strlist *l)
{
	char tmp[80];
	const char *s;
	int ret = check_plain_yaml(w, y, path);
	if (ret < 0)
		return ret;
	if (y->kind != Y_SEQ)
		return key_err(
			w, y->line, path,
			"expected a list of strings (one '- item' per line), got %s",
			describe(y, tmp, sizeof(tmp)));
	strlist_clear(l);
	for (size_t i = 0; i < y->n; i++) {
		if ((ret = want_string(w, &y->kids[i], path, "a string", &s)) < 0)
			return ret;
		if (!*s)
			return key_err(w, y->kids[i].line, path, "item %zu is empty",
				       i + 1);
		if (k->type == K_ENVLIST && !config_is_env_name(s))
			return key_err(w, y->kids[i].line, path,
				       "'%s' is not an environment variable name "
				       "(expected [A-Z_][A-Z0-9_]*)",
				       s);
		strlist_push(l, s);
	}
	return 0;
}

/* One option of a gate mapping: run, focus, timeout or junit. */
static int gate_opt(const struct walk *w, const struct ynode *ky, const struct ynode *v,
		    const char *path, char **run, struct gate_opts *o)
{
	char sub[160];
	const char *s;
	int ret;
	long ms;

	if ((ret = want_string(w, ky, path, "a gate option name", &s)) < 0)
		return ret;
	snprintf(sub, sizeof(sub), "%s.%s", path, s);
	if ((ret = want_string(w, v, sub, "a string", &s)) < 0)
		return ret;
	if (!strcmp(ky->val, "run") || !strcmp(ky->val, "focus") ||
	    !strcmp(ky->val, "junit")) {
		char **dst = ky->val[0] == 'r'	 ? run
			     : ky->val[0] == 'f' ? &o->focus
						 : &o->junit;
		if (!*s)
			return key_err(w, v->line, sub, "is empty");
		free(*dst);
		*dst = xstrdup(s);
		return 0;
	}
	if (!strcmp(ky->val, "timeout")) {
		if (config_parse_duration(s, &ms) == -ERANGE)
			return key_err(w, v->line, sub,
				       "duration '%s' is too long: the maximum is %s", s,
				       CONFIG_DURATION_MAX_TEXT);
		if (config_parse_duration(s, &ms) < 0 || ms <= 0)
			return key_err(w, v->line, sub,
				       "expected a duration such as "
				       "90s, 30m or 2h, got '%s'",
				       s);
		o->timeout_ms = ms;
		return 0;
	}
	return key_err(w, ky->line, sub,
		       "unknown gate option (expected run, "
		       "focus, timeout or junit)");
}

/*
 * Option j of gate mapping g is not given twice: with two `run:` keys the
 * last one would win, which can silently turn a real gate into `true`.
 * Keys that are not strings are refused by gate_opt (called after this
 * only for scalar keys).
 */
static int gate_opt_once(const struct walk *w, const struct ynode *g, size_t j,
			 const char *path)
{
	const struct ynode *ky = &g->kids[j];
	const char *name;
	int ret;

	if ((ret = want_string(w, ky, path, "a gate option name", &name)) < 0)
		return ret;
	for (size_t i = 0; i < j; i += 2)
		if (g->kids[i].kind == Y_SCALAR && g->kids[i].val &&
		    !strcmp(g->kids[i].val, name))
			return key_err(w, ky->line, path,
				       "duplicate gate option '%s' (first given on "
				       "line %zu)",
				       name, g->kids[i].line);
	return 0;
}

/* gates: a list whose items are commands, or mappings with options. */
static int set_gates_key(const struct walk *w, const struct ynode *y, const char *path,
			 struct config *c)
{
	char tmp[80], item[96];
	int ret = check_plain_yaml(w, y, path);
	if (ret < 0)
		return ret;
	if (y->kind != Y_SEQ)
		return key_err(w, y->line, path,
			       "expected a list of gate commands "
			       "(one '- item' per line), got %s",
			       describe(y, tmp, sizeof(tmp)));
	config_gate_opts_clear(c);
	strlist_clear(&c->gates);
	c->gate_opts = xcalloc(y->n ? y->n : 1, sizeof(*c->gate_opts));
	for (size_t i = 0; i < y->n; i++) {
		const struct ynode *g = &y->kids[i];
		struct gate_opts *o = &c->gate_opts[i];
		char *run = NULL;
		const char *s;
		o->timeout_ms = -1;
		snprintf(item, sizeof(item), "%s[%zu]", path, i + 1);
		if (g->kind == Y_MAP) {
			ret = check_plain_yaml(w, g, item);
			for (size_t j = 0; j + 1 < g->n && ret == 0; j += 2)
				if ((ret = gate_opt_once(w, g, j, item)) == 0)
					ret = gate_opt(w, &g->kids[j], &g->kids[j + 1],
						       item, &run, o);
			if (ret == 0 && !run)
				ret = key_err(w, g->line, item,
					      "a gate mapping needs 'run: COMMAND'");
		} else if ((ret = want_string(w, g, item, "a command or a mapping",
					      &s)) == 0) {
			if (!*s)
				ret = key_err(w, g->line, path, "item %zu is empty",
					      i + 1);
			run = xstrdup(s);
		}
		if (ret < 0) {
			free(run);
			/* this item's options are not covered by gates.n below */
			free(o->focus);
			free(o->junit);
			o->focus = o->junit = NULL;
			c->gates.n = i;
			return ret;
		}
		strlist_push(&c->gates, run);
		free(run);
	}
	return 0;
}

static int range_err(const struct walk *w, size_t line, const char *path,
		     const struct key *k, const char *what, const char *got)
{
	if (k->hi < NOMAX)
		return key_err(w, line, path, "expected %s from %g to %g, got %s", what,
			       k->lo, k->hi, got);
	return key_err(w, line, path, "expected %s of at least %g, got %s", what, k->lo,
		       got);
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
			return key_err(w, y->line, path,
				       "duration '%s' is too long: the maximum is %s", s,
				       CONFIG_DURATION_MAX_TEXT);
		if (ret < 0)
			return key_err(w, y->line, path,
				       "expected a duration such as 90s, 30m, 2h, 1h30m, "
				       "500ms or whole seconds, got '%s'",
				       s);
		if ((double)ms < k->lo)
			return key_err(w, y->line, path,
				       "must be longer than 0, got '%s'", s);
		*(long *)field = ms;
		return 0;
	case K_BOOL:
		if ((ret = want_string(w, y, path, "true or false", &s)) < 0)
			return ret;
		if (!y->plain || parse_bool(s, &b) < 0)
			return key_err(
				w, y->line, path,
				"expected true or false (or yes/no, on/off), got '%s'",
				s);
		*(int *)field = b;
		return 0;
	default:
		break;
	}
	if ((ret = want_string(w, y, path, "a string", &s)) < 0)
		return ret;
	if (k->type == K_URL && strcspn(s, "\r\n\t ") != strlen(s))
		return key_err(w, y->line, path,
			       "the URL contains a space, tab, CR or LF (a CR/LF "
			       "would split the HTTP request head)");
	if (k->type == K_URL && !config_is_url(s))
		return key_err(w, y->line, path,
			       "expected an http:// or https:// URL, got '%s'", s);
	if (k->type == K_ENV && !config_is_env_name(s))
		return key_err(w, y->line, path,
			       "'%s' is not an environment variable name (expected "
			       "[A-Z_][A-Z0-9_]*)",
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
				return key_err(
					w, ky->line, path,
					"model '%s' is defined twice (first on line %zu)",
					name, map->kids[j].line);
		if (i / 2 >= MAX_MODELS)
			return key_err(w, ky->line, path, "more than %d models",
				       MAX_MODELS);
		sub = xasprintf("%s.%s", path, name);
		ret = walk_map(w, &map->kids[i + 1], config_preset_keys,
			       config_preset_add(w->c, name), sub);
		free(sub);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* tasks: a list of mappings of config_task_keys. */
static int walk_tasks(struct walk *w, const struct ynode *y, const char *path)
{
	char tmp[80];
	int ret;

	if ((ret = check_plain_yaml(w, y, path)) < 0)
		return ret;
	if (y->kind != Y_SEQ || !y->n)
		return key_err(w, y->line, path,
			       "expected a list of tasks (- name: ..., goal: ..., "
			       "gates: [...]), got %s",
			       describe(y, tmp, sizeof(tmp)));
	if (y->n > CONFIG_MAX_WORKERS)
		return key_err(w, y->line, path, "more than %d tasks",
			       CONFIG_MAX_WORKERS);
	for (size_t i = 0; i < y->n; i++) {
		char *sub = xasprintf("%s[%zu]", path, i);
		ret = walk_map(w, &y->kids[i], config_task_keys,
			       config_task_spec_add(w->c), sub);
		free(sub);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* workers: N, or a list of mappings of config_worker_keys. */
static int walk_workers(struct walk *w, const struct key *k, const struct ynode *y,
			const char *path, void *field)
{
	char tmp[80];
	int ret;

	if ((ret = check_plain_yaml(w, y, path)) < 0)
		return ret;
	if (y->kind == Y_SCALAR) {
		struct key as_int = *k;
		as_int.type = K_INT;
		return set_number_key(w, &as_int, y, path, field);
	}
	if (y->kind != Y_SEQ || !y->n)
		return key_err(w, y->line, path,
			       "expected a number of workers or a list of worker "
			       "settings (- model: ...), got %s",
			       describe(y, tmp, sizeof(tmp)));
	if (y->n > CONFIG_MAX_WORKERS)
		return key_err(w, y->line, path, "more than %d workers",
			       CONFIG_MAX_WORKERS);
	config_worker_specs_clear(w->c);
	for (size_t i = 0; i < y->n; i++) {
		char *sub = xasprintf("%s[%zu]", path, i);
		ret = walk_map(w, &y->kids[i], config_worker_keys,
			       config_worker_spec_add(w->c), sub);
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
		return config_walk_list(w, k, y, path, field);
	case K_GATES:
		return set_gates_key(w, y, path, base);
	case K_WORKERS:
		return walk_workers(w, k, y, path, field);
	case K_TASKS:
		return walk_tasks(w, y, path);
	case K_INT:
	case K_NUM:
		return set_number_key(w, k, y, path, field);
	case K_VERIFIERS:
		return config_walk_verifiers(w, y, path);
	case K_HTTP:
	case K_ROLES:
	case K_MODELS:
		if ((ret = check_plain_yaml(w, y, path)) < 0)
			return ret;
		if (y->kind != Y_MAP)
			return key_err(w, y->line, path,
				       "expected a mapping (indented keys), got %s",
				       describe(y, tmp, sizeof(tmp)));
		if (k->sub)
			return walk_map(w, y, k->sub, base, path);
		return walk_models(w, y, path);
	case K_POLICY:
	case K_PCOMMANDS:
	case K_PTOOLS:
	case K_PLIMITS:
		if ((ret = check_plain_yaml(w, y, path)) < 0)
			return ret;
		if (y->kind != Y_MAP)
			return key_err(w, y->line, path,
				       "expected a mapping (indented keys), got %s",
				       describe(y, tmp, sizeof(tmp)));
		if (k->type == K_PCOMMANDS)
			return walk_map(w, y, config_policy_commands_keys, base, path);
		if (k->type == K_PTOOLS)
			return walk_map(w, y, config_policy_tools_keys, base, path);
		if (k->type == K_PLIMITS)
			return walk_map(w, y, config_policy_limits_keys, base, path);
		if (!*(struct policy **)field)
			*(struct policy **)field = policy_new();
		return walk_map(w, y, config_policy_keys, *(struct policy **)field, path);
	case K_PNET:
		return config_policy_network(w, y, path, base);
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
	return key_err(w, ky->line, path,
		       "unknown key (see 'Configuration file' in docs/manual.md)");
}

static int walk_map(struct walk *w, const struct ynode *map, const struct key *keys,
		    void *base, const char *prefix)
{
	/* the line each key was given on, by its index in keys: room for
	 * every table's keys (the top level has the most, about 40) */
	size_t seen[128] = {0};
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
		for (k = keys; k->name && (strcmp(k->name, name) || k->kf & KF_NO_YAML);
		     k++)
			;
		/* a table that outgrew seen[] is a bug here, not bad input */
		assert((size_t)(k - keys) < sizeof(seen) / sizeof(seen[0]));
		if (!k->name)
			ret = unknown_key(w, ky, keys, path, !*prefix);
		else if (seen[k - keys])
			ret = key_err(w, ky->line, path,
				      "duplicate key (first given on line %zu)",
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

/* verifiers: a list of mappings, each a brief (config.h). */
int config_walk_verifiers(struct walk *w, const struct ynode *y, const char *path)
{
	char tmp[80];
	int ret;

	if ((ret = check_plain_yaml(w, y, path)) < 0)
		return ret;
	if (y->kind != Y_SEQ)
		return key_err(w, y->line, path,
			       "expected a list of verifiers (- name: ... brief: ...), "
			       "got %s",
			       describe(y, tmp, sizeof(tmp)));
	config_verifiers_clear(w->c); /* how many: config_check_roles */
	for (size_t i = 0; i < y->n; i++) {
		char *sub = xasprintf("%s[%zu]", path, i);
		ret = walk_map(w, &y->kids[i], config_verifier_keys,
			       config_verifier_add(w->c), sub);
		free(sub);
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

/* policy_file: the text is a policy mapping (--policy FILE). */
static int load_text(struct config *c, const char *name, const char *text, size_t len,
		     int policy_file, struct buf *err)
{
	struct walk w = {.name = name, .err = err};
	struct ynode *root = NULL;
	struct config tmp;
	int ret;

	if (len > CONFIG_MAX_BYTES)
		return err_set(err, -EINVAL,
			       "%s: larger than %d bytes; is this a config file?", name,
			       CONFIG_MAX_BYTES);
	if ((ret = yamltree_load(name, text, len, &root, err)) < 0)
		return ret;
	config_init(&tmp);
	w.c = &tmp;
	if (root && !is_null(root) && policy_file) {
		tmp.policy = policy_new();
		ret = walk_map(&w, root, config_policy_keys, tmp.policy, "policy");
	} else if (root && !is_null(root)) {
		ret = walk_map(&w, root, config_top_keys, &tmp, "");
	}
	yamltree_free(root);
	if (ret >= 0) {
		if (!policy_file)
			tmp.source = xstrdup(name);
		config_overlay(c, &tmp);
	}
	config_release(&tmp);
	return ret;
}

int config_load_string(struct config *c, const char *name, const char *text, size_t len,
		       struct buf *err)
{
	return load_text(c, name, text, len, 0, err);
}

static int load_file(struct config *c, const char *path, int policy_file, struct buf *err)
{
	struct buf text = BUF_INIT;
	struct config tmp;
	int ret;

	/* bounded, non-blocking: /dev/zero or a FIFO must not hang us */
	ret = saferead_user(path, policy_file ? "policy file" : "config file",
			    CONFIG_MAX_BYTES, 0, &text, err);
	if (ret == -ENOENT)
		ret = err_set(err, ret, "%s: no such file", path);
	else if (ret == -EFBIG)
		ret = err_set(
			err, -EINVAL,
			"%s: larger than %d bytes, the limit; is this a config file?",
			path, CONFIG_MAX_BYTES);
	if (ret < 0) {
		buf_release(&text);
		return ret;
	}
	config_init(&tmp);
	ret = load_text(&tmp, path, text.s, text.len, policy_file, err);
	buf_release(&text);
	if (ret >= 0) {
		rebase(&tmp.goal_file, path);
		config_overlay(c, &tmp);
	}
	config_release(&tmp);
	return ret;
}

int config_load_file(struct config *c, const char *path, struct buf *err)
{
	return load_file(c, path, 0, err);
}

int config_load_policy_file(struct config *c, const char *path, struct buf *err)
{
	return load_file(c, path, 1, err);
}
