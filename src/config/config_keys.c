/*
 * config_keys.c: the table of settings (struct key rows, config_impl.h)
 * and what the rows say, applied: unset values, release, overlay,
 * defaults and the command-line flags.
 *
 * A setting is one row here plus its field in struct config (config.h
 * says how to add one).  The YAML walk (config_yaml.c), finalize's range
 * checks (config.c) and the run-start JSON with its reading back by
 * resume (config_json.c) read the same rows.  Settings whose layering is
 * not "a set value wins" (gates with their options, models:, policy:)
 * have a row for their name and type, and their own code where the row's
 * type says so.
 */
#include "config/config.h"
#include "config/config_impl.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Designated, so a row reads as what it sets; unnamed fields are 0/NULL. */
#define KEY(n, t, f, lo_, hi_, flag_, json_, def_, kf_)                                  \
	{                                                                                \
		.name = (n), .type = (t), .off = offsetof(struct config, f),             \
		.lo = (lo_), .hi = (hi_), .flag = (flag_), .json = (json_),              \
		.def = (def_), .kf = (kf_)                                               \
	}
#define PKEY(n, t, f, lo_, hi_)                                                          \
	{                                                                                \
		.name = (n), .type = (t), .off = offsetof(struct model_preset, f),       \
		.lo = (lo_), .hi = (hi_), .json = (n), .def = -1                         \
	}
/* A mapping whose keys are the rows sub, fields flat in struct config. */
#define SUBKEY(n, t, sub_, json_)                                                        \
	{                                                                                \
		.name = (n), .type = (t), .json = (json_), .def = NODEF, .sub = (sub_)   \
	}
#define VKEY(n, t, f, lo_, hi_)                                                          \
	{                                                                                \
		.name = (n), .type = (t), .off = offsetof(struct verifier_brief, f),     \
		.lo = (lo_), .hi = (hi_), .json = (n), .def = -1                         \
	}
#define KEYS_END                                                                         \
	{                                                                                \
		.name = NULL                                                             \
	}
#define NODEF (-1.0)

const struct key config_role_keys[] = {
	KEY("worker", K_STR, role_worker, 0, 0, NULL, "worker", NODEF, 0),
	KEY("verifier", K_STR, role_verifier, 0, 0, NULL, "verifier", NODEF, 0),
	KEY("escalation", K_STR, role_escalation, 0, 0, NULL, "escalation", NODEF, 0),
	KEYS_END};

const struct key config_verifier_keys[] = {
	VKEY("name", K_STR, name, 0, 0), VKEY("brief", K_STR, brief, 0, 0),
	VKEY("model", K_STR, model, 0, 0),
	VKEY("samples", K_INT, samples, 1, CONFIG_MAX_SAMPLES), KEYS_END};

const struct key config_http_keys[] = {
	KEY("connect_timeout", K_DUR, connect_timeout_ms, 1, NOMAX, NULL,
	    "connect_timeout_ms", CONFIG_DEFAULT_CONNECT_TIMEOUT_MS, 0),
	KEY("read_timeout", K_DUR, read_timeout_ms, 1, NOMAX, NULL, "read_timeout_ms",
	    CONFIG_DEFAULT_READ_TIMEOUT_MS, 0),
	KEY("retries", K_INT, retries, 0, 20, NULL, "retries", CONFIG_DEFAULT_RETRIES, 0),
	KEY("retry_base", K_DUR, retry_base_ms, 0, NOMAX, NULL, "retry_base_ms",
	    CONFIG_DEFAULT_RETRY_BASE_MS, 0),
	KEY("retry_max", K_DUR, retry_max_ms, 0, NOMAX, NULL, "retry_max_ms",
	    CONFIG_DEFAULT_RETRY_MAX_MS, 0),
	KEYS_END};

/* name (YAML), type, field, range, flag, JSON name, default, KF_* */
const struct key config_top_keys[] = {
	KEY("source", K_STR, source, 0, 0, NULL, "source", NODEF, KF_NO_YAML),
	KEY("goal", K_STR, goal, 0, 0, "--goal", "goal", NODEF, 0),
	KEY("goal_file", K_STR, goal_file, 0, 0, "--goal-file", "goal_file", NODEF,
	    KF_NO_RESUME),
	KEY("gates", K_GATES, gates, 0, 0, "--gate", "gates", NODEF, 0),
	KEY("model", K_STR, model, 0, 0, "--model", "model", NODEF, 0),
	KEY("base_url", K_URL, base_url, 0, 0, "--base-url", "base_url", NODEF, 0),
	KEY("api_key_env", K_ENV, api_key_env, 0, 0, NULL, "api_key_env", NODEF, 0),
	KEY("agent_cmd", K_STR, agent_cmd, 0, 0, "--agent-cmd", "agent_cmd", NODEF, 0),
	KEY("agent_env", K_ENVLIST, agent_env, 0, 0, "--agent-env", "agent_env", NODEF,
	    0),
	KEY("agent", K_STR, agent, 0, 0, "--agent", "agent", NODEF, 0),
	KEY("agent_bin", K_STR, agent_bin, 0, 0, "--agent-bin", "agent_bin", NODEF, 0),
	KEY("actor_timeout", K_DUR, actor_timeout_ms, 1, NOMAX, "--actor-timeout",
	    "actor_timeout_ms", CONFIG_DEFAULT_ACTOR_TIMEOUT_MS, 0),
	KEY("max_iterations", K_INT, max_iterations, 1, NOMAX, "--max-iterations",
	    "max_iterations", CONFIG_DEFAULT_MAX_ITERATIONS, 0),
	KEY("max_cost", K_NUM, max_cost, 0, HUGE_VAL, "--max-cost", "max_cost", NODEF, 0),
	KEY("max_tokens", K_INT, max_tokens, 1, NOMAX, "--max-tokens", "max_tokens",
	    NODEF, 0),
	KEY("deadline", K_DUR, deadline_ms, 1, NOMAX, "--deadline", "deadline_ms", NODEF,
	    0),
	KEY("gate_timeout", K_DUR, gate_timeout_ms, 1, NOMAX, "--gate-timeout",
	    "gate_timeout_ms", CONFIG_DEFAULT_GATE_TIMEOUT_MS, 0),
	KEY("protect", K_LIST, protect, 0, 0, "--protect", "protect", NODEF, 0),
	KEY("unprotect", K_LIST, unprotect, 0, 0, "--unprotect", "unprotect", NODEF, 0),
	KEY("context", K_LIST, context, 0, 0, "--context", "context", NODEF, 0),
	KEY("dir", K_STR, dir, 0, 0, "--dir", "dir", NODEF, KF_NO_YAML),
	/* --json is how this command prints, not what the run was: not resumed */
	KEY("json", K_BOOL, json, 0, 0, "--json", "json", 0, KF_NO_RESUME),
	KEY("record", K_STR, record, 0, 0, "--record", "record", NODEF, 0),
	KEY("audit_key", K_STR, audit_key, 0, 0, NULL, "audit_key", NODEF, 0),
	KEY("allow_dirty", K_BOOL, allow_dirty, 0, 0, "--allow-dirty", "allow_dirty", 0,
	    0),
	KEY("no_protect", K_BOOL, no_protect, 0, 0, "--no-protect", "no_protect", 0, 0),
	KEY("confirm", K_INT, confirm, 0, 20, "--confirm", "confirm", 0, 0),
	KEY("stall_after", K_INT, stall_after, 2, NOMAX, "--stall-after", "stall_after",
	    CONFIG_DEFAULT_STALL_AFTER, 0),
	KEY("max_actor_failures", K_INT, max_actor_failures, 1, NOMAX,
	    "--max-actor-failures", "max_actor_failures",
	    CONFIG_DEFAULT_MAX_ACTOR_FAILURES, 0),
	KEY("review_sample", K_NUM, review_sample, 0, 1, NULL, "review_sample", NODEF, 0),
	KEY("feedback_max_bytes", K_INT, feedback_max_bytes, 1024, NOMAX,
	    "--feedback-max-bytes", "feedback_max_bytes",
	    CONFIG_DEFAULT_FEEDBACK_MAX_BYTES, 0),
	KEY("max_output_tokens", K_INT, max_output_tokens, 1, NOMAX,
	    "--max-output-tokens", "max_output_tokens", CONFIG_DEFAULT_MAX_OUTPUT_TOKENS,
	    0),
	KEY("temperature", K_NUM, temperature, 0, 2, NULL, "temperature", NODEF, 0),
	KEY("stream", K_BOOL, stream, 0, 0, "--no-stream", "stream", 1, KF_FLAG_OFF),
	/* http's fields live flat in struct config: the offset is unused */
	SUBKEY("http", K_HTTP, config_http_keys, "http"),
	KEY("models", K_MODELS, models, 0, 0, NULL, "models", NODEF, 0),
	/* voting verifiers and routing by role (docs/design/verifiers.md) */
	KEY("verifiers", K_VERIFIERS, verifiers, 0, 0, NULL, "verifiers", NODEF, 0),
	KEY("verify_accept", K_INT, verify_accept, 1, CONFIG_MAX_VERIFIERS, NULL,
	    "verify_accept", NODEF, 0),
	KEY("verify_k", K_NUM, verify_k, 0, 10, NULL, "verify_k", 1.0, 0),
	SUBKEY("roles", K_ROLES, config_role_keys, "roles"),
	KEY("escalations", K_INT, escalations, 0, 100, NULL, "escalations", NODEF, 0),
	KEY("policy", K_POLICY, policy, 0, 0, "--policy", "policy", NODEF, 0),
	KEY("sandbox", K_BOOL, sandbox, 0, 0, "--no-sandbox", "sandbox", 1, KF_FLAG_OFF),
	KEY("bwrap", K_STR, bwrap, 0, 0, NULL, "bwrap", NODEF, 0),
	KEY("sandbox_mode", K_STR, sandbox_mode, 0, 0, NULL, "sandbox_mode", NODEF, 0),
	KEY("workers", K_WORKERS, workers, 1, CONFIG_MAX_WORKERS, "--workers", "workers",
	    1, 0),
	KEY("select", K_STR, select, 0, 0, "--select", "select", NODEF, 0),
	KEY("tasks", K_TASKS, task_specs, 0, 0, NULL, "tasks", NODEF, 0),
	KEY("executor", K_STR, executor, 0, 0, "--executor", "executor", NODEF, 0),
	KEY("slurm_partition", K_STR, slurm_partition, 0, 0, "--slurm-partition",
	    "slurm_partition", NODEF, 0),
	KEY("kubeconfig", K_STR, kubeconfig, 0, 0, "--kubeconfig", "kubeconfig", NODEF,
	    0),
	KEY("kube_namespace", K_STR, kube_namespace, 0, 0, "--kube-namespace",
	    "kube_namespace", NODEF, 0),
	KEY("kube_queue", K_STR, kube_queue, 0, 0, "--kube-queue", "kube_queue", NODEF,
	    0),
	KEY("kube_image", K_STR, kube_image, 0, 0, "--kube-image", "kube_image", NODEF,
	    0),
	KEY("kube_secret", K_STR, kube_secret, 0, 0, "--kube-secret", "kube_secret",
	    NODEF, 0),
	KEY("kube_secret_key", K_STR, kube_secret_key, 0, 0, NULL, "kube_secret_key",
	    NODEF, 0),
	KEY("kube_service_account", K_STR, kube_service_account, 0, 0, NULL,
	    "kube_service_account", NODEF, 0),
	KEY("kube_sandbox", K_BOOL, kube_sandbox, 0, 0, NULL, "kube_sandbox", 0, 0),
	KEY("remote", K_STR, remote, 0, 0, "--remote", "remote", NODEF, 0),
	KEY("worker_cpus", K_INT, worker_cpus, 1, 1024, "--worker-cpus", "worker_cpus",
	    NODEF, 0),
	KEY("worker_mem_mb", K_INT, worker_mem_mb, 1, NOMAX, NULL, "worker_mem_mb", NODEF,
	    0),
	KEY("worker_gpus", K_INT, worker_gpus, 1, 64, NULL, "worker_gpus", NODEF, 0),
	KEY("tools", K_STR, tools, 0, 0, "--tools", "tools", NODEF, 0),
	KEY("skills", K_LIST, skills, 0, 0, "--skills", "skills", NODEF, 0),
	KEY("mcp_config", K_STR, mcp_config, 0, 0, "--mcp-config", "mcp_config", NODEF,
	    0),
	KEY("mcp_timeout", K_DUR, mcp_timeout_ms, 1, NOMAX, "--mcp-timeout",
	    "mcp_timeout_ms", CONFIG_DEFAULT_MCP_TIMEOUT_MS, 0),
	KEY("max_tool_turns", K_INT, max_tool_turns, 1, 1000, "--max-tool-turns",
	    "max_tool_turns", CONFIG_DEFAULT_MAX_TOOL_TURNS, 0),
	KEY("max_parallel", K_INT, max_parallel, 1, CONFIG_MAX_WORKERS, "--max-parallel",
	    "max_parallel", NODEF, 0),
	KEYS_END};

const struct key config_worker_keys[] = {
	KEY("name", K_STR, worker_name, 0, 0, NULL, "name", NODEF, 0),
	KEY("model", K_STR, model, 0, 0, NULL, "model", NODEF, 0),
	KEY("base_url", K_URL, base_url, 0, 0, NULL, "base_url", NODEF, 0),
	KEY("api_key_env", K_ENV, api_key_env, 0, 0, NULL, "api_key_env", NODEF, 0),
	KEY("agent_cmd", K_STR, agent_cmd, 0, 0, NULL, "agent_cmd", NODEF, 0),
	KEY("agent", K_STR, agent, 0, 0, NULL, "agent", NODEF, 0),
	KEY("agent_bin", K_STR, agent_bin, 0, 0, NULL, "agent_bin", NODEF, 0),
	KEY("temperature", K_NUM, temperature, 0, 2, NULL, "temperature", NODEF, 0),
	KEY("max_output_tokens", K_INT, max_output_tokens, 1, NOMAX, NULL,
	    "max_output_tokens", NODEF, 0),
	KEY("max_iterations", K_INT, max_iterations, 1, NOMAX, NULL, "max_iterations",
	    NODEF, 0),
	KEY("max_cost", K_NUM, max_cost, 0, HUGE_VAL, NULL, "max_cost", NODEF, 0),
	KEY("max_tokens", K_INT, max_tokens, 1, NOMAX, NULL, "max_tokens", NODEF, 0),
	KEY("stall_after", K_INT, stall_after, 2, NOMAX, NULL, "stall_after", NODEF, 0),
	KEY("instructions", K_STR, instructions, 0, 0, NULL, "instructions", NODEF, 0),
	KEYS_END};

const struct key config_task_keys[] = {
	KEY("name", K_STR, worker_name, 0, 0, NULL, "name", NODEF, 0),
	KEY("goal", K_STR, goal, 0, 0, NULL, "goal", NODEF, 0),
	KEY("gates", K_GATES, gates, 0, 0, NULL, "gates", NODEF, 0),
	KEY("model", K_STR, model, 0, 0, NULL, "model", NODEF, 0),
	KEY("base_url", K_URL, base_url, 0, 0, NULL, "base_url", NODEF, 0),
	KEY("agent_cmd", K_STR, agent_cmd, 0, 0, NULL, "agent_cmd", NODEF, 0),
	KEY("agent", K_STR, agent, 0, 0, NULL, "agent", NODEF, 0),
	KEY("max_iterations", K_INT, max_iterations, 1, NOMAX, NULL, "max_iterations",
	    NODEF, 0),
	KEY("instructions", K_STR, instructions, 0, 0, NULL, "instructions", NODEF, 0),
	KEYS_END};

const struct key config_preset_keys[] = {
	PKEY("provider", K_PROVIDER, provider, 0, 0),
	PKEY("model", K_STR, model, 0, 0),
	PKEY("base_url", K_URL, base_url, 0, 0),
	PKEY("api_key_env", K_ENV, api_key_env, 0, 0),
	PKEY("price_in", K_NUM, price_in, 0, HUGE_VAL),
	PKEY("price_out", K_NUM, price_out, 0, HUGE_VAL),
	PKEY("max_output_tokens", K_INT, max_output_tokens, 1, NOMAX),
	PKEY("context_tokens", K_INT, context_tokens, 1, NOMAX),
	KEYS_END};

/* ---- the rows, applied ------------------------------------------------- */

#define FIELD(base, k, type)  ((type *)((char *)(base) + (k)->off))
#define CFIELD(base, k, type) ((const type *)((const char *)(base) + (k)->off))

static int is_str(enum ktype t)
{
	return t == K_STR || t == K_URL || t == K_ENV || t == K_PROVIDER;
}

static int is_list(enum ktype t)
{
	return t == K_LIST || t == K_ENVLIST;
}

void config_keys_init(const struct key *keys, void *base)
{
	for (const struct key *k = keys; k->name; k++)
		switch (k->type) {
		case K_INT:
		case K_DUR:
		case K_WORKERS:
			*FIELD(base, k, long) = -1;
			break;
		case K_NUM:
			*FIELD(base, k, double) = -1;
			break;
		case K_BOOL:
			*FIELD(base, k, int) = -1;
			break;
		default:
			if (k->sub)
				config_keys_init(
					k->sub,
					base); /* NULL, empty: the struct was zeroed */
			break;
		}
}

void config_keys_release(const struct key *keys, void *base)
{
	for (const struct key *k = keys; k->name; k++)
		if (k->sub) {
			config_keys_release(k->sub, base);
		} else if (is_str(k->type)) {
			free(*FIELD(base, k, char *));
			*FIELD(base, k, char *) = NULL;
		} else if (is_list(k->type)) {
			strlist_clear(FIELD(base, k, struct strlist));
		}
}

/* Unset is NULL, empty, or negative (-1): what is set wins. */
void config_keys_overlay(const struct key *keys, void *dst, const void *src)
{
	for (const struct key *k = keys; k->name; k++) {
		if (k->sub) {
			config_keys_overlay(k->sub, dst, src);
		} else if (is_str(k->type) && *CFIELD(src, k, char *)) {
			free(*FIELD(dst, k, char *));
			*FIELD(dst, k, char *) = xstrdup(*CFIELD(src, k, char *));
		} else if (is_list(k->type) && CFIELD(src, k, struct strlist)->n) {
			strlist_copy(FIELD(dst, k, struct strlist),
				     CFIELD(src, k, struct strlist));
		} else if ((k->type == K_INT || k->type == K_DUR ||
			    k->type == K_WORKERS) &&
			   *CFIELD(src, k, long) >= 0) {
			*FIELD(dst, k, long) = *CFIELD(src, k, long);
		} else if (k->type == K_NUM && *CFIELD(src, k, double) >= 0) {
			*FIELD(dst, k, double) = *CFIELD(src, k, double);
		} else if (k->type == K_BOOL && *CFIELD(src, k, int) >= 0) {
			*FIELD(dst, k, int) = *CFIELD(src, k, int);
		}
	}
}

void config_keys_defaults(const struct key *keys, void *base)
{
	for (const struct key *k = keys; k->name; k++) {
		if (k->sub)
			config_keys_defaults(k->sub, base);
		if (k->def < 0)
			continue;
		if ((k->type == K_INT || k->type == K_DUR || k->type == K_WORKERS) &&
		    *FIELD(base, k, long) < 0)
			*FIELD(base, k, long) = (long)k->def;
		else if (k->type == K_NUM && *FIELD(base, k, double) < 0)
			*FIELD(base, k, double) = k->def;
		else if (k->type == K_BOOL && *FIELD(base, k, int) < 0)
			*FIELD(base, k, int) = (int)k->def;
	}
}

/* ---- command-line flags ------------------------------------------------ */

/* The row of the i-th top-level key that has a flag, or NULL. */
static const struct key *flag_row(size_t i)
{
	for (const struct key *k = config_top_keys; k->name; k++)
		if (k->flag && i-- == 0)
			return k;
	return NULL;
}

const char *config_flag(size_t i, int *has_arg)
{
	const struct key *k = flag_row(i);
	if (!k)
		return NULL;
	*has_arg = k->type != K_BOOL;
	return k->flag + 2; /* without the "--" */
}

static int flag_long(const struct key *k, const char *s, long *out, struct buf *err)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		return err_set(err, -EINVAL, "%s expects a positive integer, not '%s'",
			       k->flag, s);
	*out = v;
	return 0;
}

static int flag_number(const struct key *k, const char *s, double *out, struct buf *err)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0)
		/* --max-cost is the one number flag: a price */
		return err_set(err, -EINVAL,
			       "%s expects an amount in USD such as 2.50, not '%s'",
			       k->flag, s);
	*out = v;
	return 0;
}

static int flag_duration(const struct key *k, const char *s, long *out, struct buf *err)
{
	int ret = config_parse_duration(s, out);
	if (ret == -ERANGE)
		return err_set(err, -EINVAL, "%s '%s' is too long: the maximum is %s",
			       k->flag, s, CONFIG_DURATION_MAX_TEXT);
	if (ret < 0 || *out <= 0)
		return err_set(err, -EINVAL,
			       "%s expects a duration such as 90s, 30m "
			       "or 2h, not '%s'",
			       k->flag, s);
	return 0;
}

int config_flag_set(struct config *c, size_t i, const char *arg, struct buf *err)
{
	const struct key *k = flag_row(i);

	if (!k)
		return err_set(err, -EINVAL, "unknown option");
	if (is_str(k->type)) {
		free(*FIELD(c, k, char *));
		*FIELD(c, k, char *) = xstrdup(arg);
		return 0;
	}
	switch (k->type) {
	case K_LIST:
	case K_ENVLIST:
	case K_GATES:
		strlist_push(FIELD(c, k, struct strlist), arg);
		return 0;
	case K_INT:
	case K_WORKERS:
		return flag_long(k, arg, FIELD(c, k, long), err);
	case K_NUM:
		return flag_number(k, arg, FIELD(c, k, double), err);
	case K_DUR:
		return flag_duration(k, arg, FIELD(c, k, long), err);
	case K_BOOL:
		*FIELD(c, k, int) = !(k->kf & KF_FLAG_OFF);
		return 0;
	case K_POLICY:
		return config_load_policy_file(c, arg, err);
	default:
		return err_set(err, -EINVAL, "%s: no flag rule for its type", k->flag);
	}
}
