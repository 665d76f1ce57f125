/*
 * config.c: struct config itself: init and release, layering (overlay),
 * model resolution, defaults and checks (finalize), and durations.
 *
 * Reading loopgate.yaml is config_yaml.c; the redacted JSON for the
 * run-start event is config_json.c; what the three share is declared in
 * config_impl.h.  See docs/design/config.md for why things are the way
 * they are.
 */
#include "config/config.h"
#include "base/saferead.h"
#include "config/config_impl.h"
#include "config/policy.h"

#include <jansson.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Limits on user-controllable input (systemd style: bound everything). */
#define GOAL_MAX_BYTES (1 << 20)

/* ---- init / release --------------------------------------------------- */

static void preset_init(struct model_preset *p)
{
	memset(p, 0, sizeof(*p));
	config_keys_init(config_preset_keys, p);
}

static void preset_release(struct model_preset *p)
{
	free(p->name);
	config_keys_release(config_preset_keys, p);
	preset_init(p);
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	config_keys_init(config_top_keys, c);
}

/* The rows free the strings and lists; gates, models and policy are ours. */
void config_release(struct config *c)
{
	config_keys_release(config_top_keys, c);
	config_gate_opts_clear(c);
	strlist_clear(&c->gates);
	for (size_t i = 0; i < c->nmodels; i++)
		preset_release(&c->models[i]);
	free(c->models);
	config_verifiers_clear(c);
	policy_free(c->policy);
	config_worker_specs_clear(c);
	config_init(c);
}

static struct model_preset *preset_find(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nmodels; i++)
		if (!strcmp(c->models[i].name, name))
			return &c->models[i];
	return NULL;
}

const struct model_preset *config_find_model(const struct config *c, const char *name)
{
	return name ? preset_find(c, name) : NULL;
}

struct model_preset *config_preset_add(struct config *c, const char *name)
{
	struct model_preset *p;
	c->models = xrealloc(c->models, (c->nmodels + 1) * sizeof(*c->models));
	p = &c->models[c->nmodels++];
	preset_init(p);
	p->name = xstrdup(name);
	return p;
}

/* ---- overlay ---------------------------------------------------------- */

/* A layer that gives gates replaces them all, with their options. */
void config_overlay_gates(struct config *d, const struct config *s)
{
	if (!s->gates.n)
		return;
	/* flags' gates have no per-gate options: the file's go too */
	config_gate_opts_clear(d);
	strlist_copy(&d->gates, &s->gates);
	if (!s->gate_opts)
		return;
	d->gate_opts = xcalloc(s->gates.n, sizeof(*d->gate_opts));
	for (size_t i = 0; i < s->gates.n; i++) {
		const struct gate_opts *o = &s->gate_opts[i];
		d->gate_opts[i].focus = o->focus ? xstrdup(o->focus) : NULL;
		d->gate_opts[i].junit = o->junit ? xstrdup(o->junit) : NULL;
		d->gate_opts[i].timeout_ms = o->timeout_ms;
	}
}

/* The actor is one setting given three ways (config.h): clears what a
 * layer that gives one of them replaces. */
static void overlay_actor(struct config *d, const struct config *s)
{
	if (s->model || s->agent_cmd || s->agent) {
		free(d->model);
		free(d->agent_cmd);
		d->model = d->agent_cmd = NULL;
	}
	if (s->agent_cmd || s->agent) {
		free(d->agent);
		d->agent = NULL;
	}
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
	overlay_actor(d, s);
	/* every row whose rule is "a set value wins" */
	config_keys_overlay(config_top_keys, d, s);
	config_overlay_gates(d, s);
	config_verifiers_overlay(d, s);
	policy_overlay(&d->policy, s->policy);
	for (size_t i = 0; i < s->nmodels; i++) {
		struct model_preset *p = preset_find(d, s->models[i].name);
		if (!p)
			p = config_preset_add(d, s->models[i].name);
		config_keys_overlay(config_preset_keys, p, &s->models[i]);
	}
	/* a tasks: list replaces the list */
	if (s->ntask_specs) {
		for (size_t i = 0; i < d->ntask_specs; i++)
			config_release(&d->task_specs[i]);
		d->ntask_specs = 0;
		for (size_t i = 0; i < s->ntask_specs; i++) {
			struct config *t = config_task_spec_add(d);
			config_keys_overlay(config_task_keys, t, &s->task_specs[i]);
			config_overlay_gates(t, &s->task_specs[i]);
		}
	}
	/* a workers: list replaces the list */
	if (s->nworker_specs) {
		for (size_t i = 0; i < d->nworker_specs; i++)
			config_release(&d->worker_specs[i]);
		d->nworker_specs = 0;
		for (size_t i = 0; i < s->nworker_specs; i++)
			config_keys_overlay(config_worker_keys, config_worker_spec_add(d),
					    &s->worker_specs[i]);
	}
}

/* ---- durations and name syntax ---------------------------------------- */

int config_parse_duration(const char *s, long *ms)
{
	static const struct {
		const char *u;
		long mult;
	} units[] = {
		{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
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
			if (n > (CONFIG_DURATION_MAX_MS - (*p - '0')) / 10)
				return -ERANGE;
			n = n * 10 + (*p - '0');
		}
		if (!*p && start == s)
			mult = 1000; /* the whole string is a number: seconds */
		for (i = 0; !mult && i < sizeof(units) / sizeof(units[0]); i++) {
			size_t ul = strlen(units[i].u);
			if (!strncmp(p, units[i].u, ul) &&
			    !isalpha((unsigned char)p[ul])) {
				mult = units[i].mult;
				p += ul;
			}
		}
		if (!mult)
			return -EINVAL; /* "1h30" or "5x": refuse to guess */
		/* a deadline is added to the clock: keep far from LONG_MAX */
		if (n > CONFIG_DURATION_MAX_MS / mult ||
		    total > CONFIG_DURATION_MAX_MS - n * mult)
			return -ERANGE;
		total += n * mult;
	}
	*ms = total;
	return 0;
}

int config_is_env_name(const char *s)
{
	if (!*s || !(isupper((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!(isupper((unsigned char)*s) || isdigit((unsigned char)*s) ||
		      *s == '_'))
			return 0;
	return 1;
}

int config_is_url(const char *s)
{
	/* a CR or LF would split the request head (header injection); no
	 * URL has spaces or control characters in it */
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8);
}

/* ---- models ----------------------------------------------------------- */

const struct provider_default config_builtin[] = {
	{"openai", "https://api.openai.com/v1", "OPENAI_API_KEY"},
	{"anthropic", "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY"},
};

static const struct provider_default *builtin_find(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(config_builtin) / sizeof(config_builtin[0]); i++)
		if (strlen(config_builtin[i].name) == n &&
		    !strncmp(config_builtin[i].name, s, n))
			return &config_builtin[i];
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
	if ((slash = strchr(spec, '/')) &&
	    (d = builtin_find(spec, (size_t)(slash - spec)))) {
		name = slash + 1;
		if (!p)
			p = preset_find(c, name);
	}
	if (p && p->provider) {
		const struct provider_default *pd = builtin_find(p->provider,
								 strlen(p->provider));
		if (d && pd != d)
			return err_set(err, -EINVAL,
				       "model '%s' names provider '%.*s' but models.%s "
				       "says provider '%s'",
				       spec, (int)(slash - spec), spec, p->name,
				       p->provider);
		d = pd;
	}
	if (!d && p)
		return err_set(err, -EINVAL,
			       "models.%s has no provider: add 'provider: openai' or "
			       "'provider: anthropic'",
			       p->name);
	if (!d)
		return err_set(err, -EINVAL,
			       "unknown model '%s': use openai/NAME (also for Ollama, "
			       "vLLM, llama.cpp, LM Studio), anthropic/NAME, "
			       "replay:FILE, or a name defined under models:",
			       spec);
	if (!*name)
		return err_set(err, -EINVAL, "model '%s' has no name after the '/'",
			       spec);
	r.provider = (char *)d->name;
	r.model = (char *)(p && p->model ? p->model : name);
	/* precedence: flags > top-level keys (both already in c) > preset > built-in */
	r.base_url = c->base_url ? c->base_url
				 : (char *)(p && p->base_url ? p->base_url : d->base_url);
	r.api_key_env = c->api_key_env ? c->api_key_env
				       : (char *)(p && p->api_key_env ? p->api_key_env
								      : d->api_key_env);
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
			       "both goal and goal_file are set: give the goal one way "
			       "(--goal TEXT or --goal-file FILE)");
	if (c->goal_file) {
		/* bounded, non-blocking: /dev/zero or a FIFO must not hang us */
		ret = saferead_user(c->goal_file, "goal file", GOAL_MAX_BYTES, 0, &b,
				    err);
		if (ret < 0)
			ret = ret == -EINTR ? ret : -EINVAL;
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
			       "no goal: pass --goal TEXT or --goal-file FILE (or set "
			       "goal: in loopgate.yaml)");
	if (!c->goal[strspn(c->goal, " \t\r\n")])
		return err_set(err, -EINVAL, "the goal is empty%s%s%s",
			       c->goal_file ? " (goal file '" : "",
			       c->goal_file ? c->goal_file : "",
			       c->goal_file ? "')" : "");
	return 0;
}

static int finalize_actor(struct config *c, struct buf *err)
{
	struct model_preset p;
	int ret;

	if (!c->model && !c->agent_cmd && !c->agent && config_every_worker_acts(c))
		return 0; /* each worker's own actor: config_check_workers */
	if (!c->model && !c->agent_cmd && !c->agent)
		return err_set(
			err, -EINVAL,
			"no actor: pass --model PROVIDER/NAME (e.g. "
			"openai/gpt-4o-mini), --agent NAME (claude, codex, gemini, "
			"qwen, opencode, aider) or --agent-cmd CMD, or set model:, "
			"agent: or agent_cmd: in loopgate.yaml");
	if (c->agent && c->agent_cmd)
		return err_set(
			err, -EINVAL,
			"both agent '%s' and agent_cmd are set: choose one "
			"(--agent runs a known agent CLI, --agent-cmd any command)",
			c->agent);
	if (c->agent) /* the preset's own checks: agent_turn.h */
		return *c->agent ? 0 : err_set(err, -EINVAL, "agent is empty");
	if (c->agent_bin)
		return err_set(err, -EINVAL, "--agent-bin needs --agent NAME");
	if (c->model && c->agent_cmd)
		return err_set(err, -EINVAL,
			       "both model '%s' and agent_cmd are set: choose one "
			       "(--model drives an API model, --agent-cmd an agent CLI)",
			       c->model);
	if (c->agent_cmd) {
		if (!*c->agent_cmd)
			return err_set(err, -EINVAL, "agent_cmd is empty");
		if (c->max_cost >= 0)
			return err_set(
				err, -EINVAL,
				"--max-cost cannot be enforced with --agent-cmd: "
				"loopgate cannot meter what a command actor spends. "
				"Bound the run with --max-iterations and --deadline "
				"instead (and the agent's own spending limits)");
		return 0;
	}
	if ((ret = config_resolve_model(c, c->model, &p, err)) < 0)
		return ret;
	if (c->max_cost >= 0 && (p.price_in < 0 || p.price_out < 0))
		return err_set(err, -EINVAL,
			       "--max-cost needs the price of model '%s', and loopgate "
			       "never guesses prices. Add them (USD per million tokens, "
			       "from the provider's price list) to loopgate.yaml:\n"
			       "models:\n  %s:\n    price_in: ...\n    price_out: ...\n"
			       "or drop --max-cost and bound the run with --max-tokens",
			       c->model, p.name);
	if (c->max_output_tokens < 0)
		c->max_output_tokens = p.max_output_tokens > 0
					       ? p.max_output_tokens
					       : CONFIG_DEFAULT_MAX_OUTPUT_TOKENS;
	return 0;
}

/* The defaults of the rows (config_keys.c). */
static void defaults(struct config *c)
{
	config_keys_defaults(config_top_keys, c);
}

/*
 * Flags arrive unchecked from argv, so the ranges of the schema are checked
 * again on the merged result.  -1 is "none" for the optional limits.
 */
static int check_range(const struct config *c, const struct key *k, const char *prefix,
		       struct buf *err)
{
	const void *f = (const char *)c + k->off;
	char name[64];
	double v;

	if (k->type != K_INT && k->type != K_NUM && k->type != K_DUR &&
	    k->type != K_WORKERS)
		return 0;
	v = k->type == K_NUM ? *(const double *)f : (double)*(const long *)f;
	if (v == -1 || (v >= k->lo && v <= k->hi))
		return 0;
	snprintf(name, sizeof(name), "%s%s%s%s", prefix, k->name, k->flag ? " / " : "",
		 k->flag ? k->flag : "");
	if (k->type == K_DUR)
		return err_set(err, -EINVAL, "%s: must be longer than 0", name);
	if (k->hi < NOMAX)
		return err_set(err, -EINVAL, "%s: %g is out of range (%g to %g)", name, v,
			       k->lo, k->hi);
	return err_set(err, -EINVAL, "%s: %g is out of range (at least %g)", name, v,
		       k->lo);
}

static int check_ranges(const struct config *c, const struct key *keys,
			const char *prefix, struct buf *err)
{
	for (const struct key *k = keys; k->name; k++) {
		int ret = k->sub ? check_ranges(c, k->sub, "http.", err)
				 : check_range(c, k, prefix, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* 1 when name is a variable the config reads an API key from. */
static int is_key_var(const struct config *c, const char *name)
{
	if (c->api_key_env && !strcmp(c->api_key_env, name))
		return 1;
	for (size_t i = 0; i < CONFIG_NBUILTIN; i++)
		if (!strcmp(config_builtin[i].api_key_env, name))
			return 1;
	for (size_t i = 0; i < c->nmodels; i++)
		if (c->models[i].api_key_env && !strcmp(c->models[i].api_key_env, name))
			return 1;
	return 0;
}

/* The policy's defaults, and its checks of the gates (policy.h).  An API
 * key variable in policy.env would reach every gate: refused. */
static int finalize_policy(struct config *c, struct buf *err)
{
	if (!c->policy)
		c->policy = policy_new();
	for (size_t i = 0; i < c->policy->env.n; i++)
		if (is_key_var(c, c->policy->env.v[i]))
			return err_set(
				err, -EINVAL,
				"policy.env: %s holds an API key and "
				"would reach every gate; name it in policy.actor_env "
				"(the command actor only) instead",
				c->policy->env.v[i]);
	policy_finalize(c->policy);
	if (c->bwrap && !*c->bwrap)
		return err_set(err, -EINVAL, "bwrap: empty path");
	if (c->sandbox_mode && strcmp(c->sandbox_mode, "per-run") &&
	    strcmp(c->sandbox_mode, "per-spawn"))
		return err_set(err, -EINVAL,
			       "sandbox_mode: '%s' is neither per-run nor per-spawn",
			       c->sandbox_mode);
	return policy_check_config(c, err);
}

/* At least one gate, and no empty command among them. */
static int check_gates(const struct config *c, struct buf *err)
{
	if (!c->gates.n)
		return err_set(err, -EINVAL,
			       "no gate: pass at least one --gate CMD (or gates: in "
			       "loopgate.yaml); only the gates' exit codes decide when "
			       "the goal is met (for a task no command can judge, "
			       "`loopgate once` makes one reviewed turn)");
	for (size_t i = 0; i < c->gates.n; i++)
		if (!c->gates.v[i][strspn(c->gates.v[i], " \t")])
			return err_set(err, -EINVAL, "gate %zu is an empty command",
				       i + 1);
	return 0;
}

/* Strings that flags may have brought in unchecked. */
static int check_strings(const struct config *c, struct buf *err)
{
	for (size_t i = 0; i < c->agent_env.n; i++)
		if (!config_is_env_name(c->agent_env.v[i]))
			return err_set(err, -EINVAL,
				       "agent_env: '%s' is not an environment variable "
				       "name (expected [A-Z_][A-Z0-9_]*)",
				       c->agent_env.v[i]);
	if (c->api_key_env && !config_is_env_name(c->api_key_env))
		return err_set(err, -EINVAL,
			       "api_key_env: '%s' is not an environment variable name "
			       "(expected [A-Z_][A-Z0-9_]*)",
			       c->api_key_env);
	if (c->base_url && !config_is_url(c->base_url))
		return err_set(err, -EINVAL,
			       "base_url: expected an http:// or https:// URL "
			       "(no spaces or control characters)");
	if (c->record && !*c->record)
		return err_set(err, -EINVAL, "record: empty file name");
	return 0;
}

static int finalize(struct config *c, int need_gates, struct buf *err)
{
	int ret;

	if ((ret = finalize_goal(c, err)) < 0)
		return ret;
	if ((need_gates && (ret = check_gates(c, err)) < 0) ||
	    (ret = check_strings(c, err)) < 0)
		return ret;
	config_route_worker(c);
	if ((ret = config_finalize_workers(c, err)) < 0 ||
	    (ret = finalize_actor(c, err)) < 0)
		return ret;
	defaults(c);
	if ((ret = config_check_roles(c, err)) < 0)
		return ret;
	if ((ret = check_ranges(c, config_top_keys, "", err)) < 0)
		return ret;
	if (c->retry_max_ms < c->retry_base_ms)
		return err_set(
			err, -EINVAL,
			"http.retry_max (%ldms) is shorter than http.retry_base (%ldms)",
			c->retry_max_ms, c->retry_base_ms);
	return finalize_policy(c, err);
}

int config_finalize(struct config *c, struct buf *err)
{
	return finalize(c, 1, err);
}

int config_finalize_once(struct config *c, struct buf *err)
{
	if (c->gates.n)
		return err_set(err, -EINVAL,
			       "loopgate once runs no gate; a task that gates can "
			       "judge is a loop: loopgate run --gate CMD ...");
	return finalize(c, 0, err);
}

/*
 * What `loopgate gate check` needs: the gates and their timeout.  The
 * keys a run needs besides (goal, actor, budgets) may be absent; they get
 * their defaults and are not checked, since nothing here uses them.
 */
int config_finalize_gates(struct config *c, struct buf *err)
{
	int ret;

	if ((ret = check_gates(c, err)) < 0)
		return ret;
	defaults(c);
	for (const struct key *k = config_top_keys; k->name; k++)
		if (!strcmp(k->name, "gate_timeout") &&
		    (ret = check_range(c, k, "", err)) < 0)
			return ret;
	return finalize_policy(c, err);
}

const struct gate_opts *config_gate_opts(const struct config *c, size_t i)
{
	static const struct gate_opts none = {NULL, -1, NULL};
	return c->gate_opts && i < c->gates.n ? &c->gate_opts[i] : &none;
}

void config_gate_opts_clear(struct config *c)
{
	if (c->gate_opts)
		for (size_t i = 0; i < c->gates.n; i++) {
			free(c->gate_opts[i].focus);
			free(c->gate_opts[i].junit);
		}
	free(c->gate_opts);
	c->gate_opts = NULL;
}

int config_load_default(struct config *c, const char *repo_top, const char *explicit_path,
			struct buf *err)
{
	char *path = explicit_path ? xstrdup(explicit_path)
				   : xasprintf("%s/loopgate.yaml", repo_top);
	int ret = config_load_file(c, path, err);
	if (ret == -ENOENT && explicit_path)
		err_set(err, ret, "the config file %s does not exist", path);
	else if (ret == -ENOENT)
		ret = 0;
	free(path);
	return ret;
}
