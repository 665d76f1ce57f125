/*
 * config: loopgate's effective configuration, from loopgate.yaml and flags.
 *
 * Every command-line flag --foo-bar has the config key foo_bar (see
 * docs/manual.md).  The caller's steps:
 *
 *   struct config file, flags;
 *   config_init(&file); config_init(&flags);
 *   ... parse argv into flags (cmd_run.c) ...
 *   config_load_file(&file, "loopgate.yaml", &err);   optional
 *   config_overlay(&file, &flags);                     flags win
 *   config_finalize(&file, &err);                      defaults + checks
 *   ...
 *   config_release(&file); config_release(&flags);
 *
 * "Unset" is represented by NULL strings, -1 numbers and empty lists, so an
 * overlay only copies what the user actually gave.  Errors name the file,
 * line and key: "loopgate.yaml:7: key 'max_iterations': expected an integer".
 *
 * Adding a setting: a field in struct config below (unset: NULL, -1 or an
 * empty list) and one row in config_top_keys (config_keys.c): its YAML
 * key, type (K_STR, K_URL, K_ENV, K_LIST, K_ENVLIST, K_INT, K_NUM, K_DUR,
 * K_BOOL), field, allowed range, command-line flag (or NULL), key in the
 * run-start JSON (or NULL), default (or -1) and KF_* bits.  That row is
 * the YAML key, its type and range checks, init and release, the overlay
 * (a set value wins), the default, the JSON that resume reads back, and
 * the flag of `loopgate run` and `once` (their usage text is written by
 * hand in cli/cmd_run.c); docs/manual.md documents it.  Only a setting
 * whose layering is not "a set value wins" needs code of its own.
 */
#ifndef LOOPGATE_CONFIG_H
#define LOOPGATE_CONFIG_H

#include <stddef.h>
#include "base/buf.h"
#include "base/strlist.h"

struct policy; /* policy.h */

/*
 * A model preset: how to reach and price one model.  config_resolve_model
 * returns provider "replay" (prices 0) for a spec "replay:FILE", whose
 * model field is then FILE.
 */
struct model_preset {
	char *name; /* key under models:, e.g. "gpt-4o-mini" or "openai/gpt-4o-mini" */
	char *provider;	   /* "openai" | "anthropic" (NULL: from the name's prefix) */
	char *model;	   /* name sent on the wire (NULL: the key without prefix) */
	char *base_url;	   /* NULL: provider default */
	char *api_key_env; /* NULL: provider default */
	double price_in;   /* USD per million input tokens; -1 unknown */
	double price_out;  /* USD per million output tokens; -1 unknown */
	long max_output_tokens; /* -1 unset */
	long context_tokens;	/* -1 unset */
};

/*
 * Per-gate options, from a gate written as a mapping in loopgate.yaml:
 *   gates:
 *     - run: pytest -q
 *       focus: pytest -q {failed}    run first when tests failed last time
 *       timeout: 5m                  this gate's own timeout
 *       junit: "reports/TEST-*.xml"  JUnit files the gate writes (glob)
 * Gates given with --gate have none (all NULL / -1).
 */
struct gate_opts {
	char *focus;
	long timeout_ms; /* -1: gate_timeout */
	char *junit;
};

/*
 * One voting verifier (docs/design/verifiers.md), from loopgate.yaml:
 *   verifiers:
 *     - name: gaming
 *       brief: Is a test gamed? Hard-coded outputs, special cases ...
 *       model: openai/strong     optional: else roles.verifier, else model
 *       samples: 3               optional: N calls scored mean - k*std
 */
struct verifier_brief {
	char *name;
	char *brief;
	char *model;
	long samples; /* -1 unset: 1 */
};

struct config {
	char *source; /* file the config came from, or NULL */

	char *goal;
	char *goal_file;
	struct strlist gates;
	struct gate_opts *gate_opts; /* parallel to gates.v, or NULL */
	char *model; /* "PROVIDER/NAME", e.g. openai/gpt-4o-mini, replay:FILE */
	char *base_url;
	char *api_key_env;
	char *agent_cmd;
	struct strlist agent_env; /* env names a command actor may receive */
	char *agent;		  /* --agent NAME: a preset (actor/agent.h) */
	char *agent_bin;	  /* --agent-bin PATH: the preset's program */
	long actor_timeout_ms;	  /* one actor turn (agent CLI or command) */
	long max_iterations;
	double max_cost;  /* USD; -1 none */
	long max_tokens;  /* input+output; -1 none */
	long deadline_ms; /* -1 none */
	long gate_timeout_ms;
	struct strlist protect;
	struct strlist unprotect; /* --unprotect GLOB: lifts a default */
	struct strlist context;	  /* --context GLOB: files always shown */
	char *dir;
	int json;		 /* -1 unset, 0/1 */
	char *record;		 /* --record FILE */
	char *audit_key;	 /* audit_key: the checkpoint signing key file */
	int allow_dirty;	 /* --allow-dirty: carry uncommitted changes */
	long feedback_max_bytes; /* raw gate output kept in a prompt */
	long max_output_tokens;	 /* overrides the preset */
	double temperature;	 /* -1: provider default */
	int stream;		 /* -1 unset, 0/1 */
	int no_protect;		 /* -1 unset, 1: protect nothing (goals about tests) */
	long confirm;		 /* re-runs of a passing gate set; 0 none */
	long stall_after;	 /* same fingerprint or no-op K times: stalled */
	long max_actor_failures; /* failed actor turns in a row: actor_failed */
	double review_sample; /* fraction of converged runs marked for review; -1 unset */

	/* http: */
	long connect_timeout_ms;
	long read_timeout_ms;
	long retries;
	long retry_base_ms;
	long retry_max_ms;

	struct model_preset *models;
	size_t nmodels;
	/* voting verifiers and routing by role (docs/design/verifiers.md) */
	struct verifier_brief *verifiers; /* a layer that gives some replaces all */
	size_t nverifiers;
	long verify_accept;    /* M of K must accept; -1: a majority */
	double verify_k;       /* samples: a brief scores mean - k*std */
	char *role_worker;     /* roles.worker: the actor's model when model is unset */
	char *role_verifier;   /* roles.verifier: a verifier without its own model */
	char *role_escalation; /* roles.escalation: the model a stall hands over to */
	long escalations;      /* stalls handed to roles.escalation before halting */
	/* sandbox (docs/design/sandbox.md): */
	struct policy *policy; /* policy: / --policy FILE; NULL unset */
	int sandbox;	       /* -1 unset, 0: --no-sandbox, 1 */
	char *bwrap;	       /* bubblewrap binary; NULL: "bwrap" from PATH */
	/* "per-run" (NULL: the default) or "per-spawn" (docs/design/onejail.md) */
	char *sandbox_mode;

	/* fan-out (docs/design/fanout.md): */
	long workers;		     /* --workers N / workers:; 1: one loop */
	struct config *worker_specs; /* workers: [{model: ...}, ...]: each a
					config with only what the worker
					changes set, laid over the run's */
	size_t nworker_specs;
	struct config *task_specs; /* tasks: [{name, goal, gates}]: split work,
				      one worker per task, merged in order */
	size_t ntask_specs;
	char *select;	       /* first | best */
	char *executor;	       /* local | slurm | kueue (docs/design/executors.md) */
	char *slurm_partition; /* sbatch --partition */
	/* executor kueue: where the Jobs go, and the git remote the workers
	 * clone and push to (NULL: the repository's origin) */
	char *kubeconfig, *kube_namespace, *kube_queue, *kube_image;
	char *kube_secret, *kube_secret_key, *kube_service_account;
	/* bubblewrap inside the worker pods too (-1 unset, 0 default: the pod,
	 * non-root with no capabilities and RuntimeDefault seccomp, is the
	 * jail; 1 needs pods that may make user namespaces) */
	int kube_sandbox;
	char *remote;
	long worker_cpus;      /* per worker job; -1: 1 */
	long worker_mem_mb;    /* per worker job; -1: the scheduler's default */
	long worker_gpus;      /* per worker job; -1: none */
	long max_parallel;     /* workers running at once; -1: online CPUs */
	char *tools;	       /* on | off | auto: the model's function calling */
	struct strlist skills; /* --skills DIR: more Agent Skills directories */
	char *mcp_config;      /* --mcp-config FILE: .mcp.json-format MCP servers */
	long mcp_timeout_ms;   /* an MCP server's start, and each call */
	long max_tool_turns;   /* tool turns in one iteration */
	/* set in a workers: entry only */
	char *worker_name;  /* name: shown in reports */
	char *instructions; /* instructions: appended to the goal */
};

/* Defaults applied by config_finalize when a value is unset. */
#define CONFIG_DEFAULT_MAX_ITERATIONS	  10
#define CONFIG_DEFAULT_GATE_TIMEOUT_MS	  (10L * 60 * 1000)
#define CONFIG_DEFAULT_FEEDBACK_MAX_BYTES 16384
#define CONFIG_DEFAULT_MAX_OUTPUT_TOKENS  4096
#define CONFIG_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define CONFIG_DEFAULT_READ_TIMEOUT_MS	  120000
#define CONFIG_DEFAULT_RETRIES		  4
#define CONFIG_DEFAULT_RETRY_BASE_MS	  500
#define CONFIG_DEFAULT_RETRY_MAX_MS	  30000
#define CONFIG_DEFAULT_STALL_AFTER	  3
#define CONFIG_DEFAULT_MAX_ACTOR_FAILURES 3
#define CONFIG_DEFAULT_ACTOR_TIMEOUT_MS	  (20L * 60 * 1000)
#define CONFIG_MAX_VERIFIERS		  16
#define CONFIG_MAX_SAMPLES		  10
#define CONFIG_MAX_WORKERS		  64
#define CONFIG_DEFAULT_MAX_TOOL_TURNS	  20
#define CONFIG_DEFAULT_MCP_TIMEOUT_MS	  60000

void config_init(struct config *c);
void config_release(struct config *c);
/* workers: entries (fan-out): a new unset one appended; all dropped. */
struct config *config_worker_spec_add(struct config *c);
/* tasks: entries (split work): the same, in their own list. */
struct config *config_task_spec_add(struct config *c);
void config_worker_specs_clear(struct config *c);
/* A worker's config: d (a copy of the run's) with spec's settings laid
 * over it (the actor is replaced as a whole; instructions are appended to
 * the goal; a task's goal and gates replace the run's), as one loop
 * (workers 1, no workers: or tasks: list). */
void config_worker_config(struct config *d, const struct config *spec);
/* Each workers: entry's config, finalized: 0, or the first error naming
 * the entry ("workers[1] (fast): ..."). */
int config_check_workers(const struct config *c, struct buf *err);

/*
 * Loads YAML over c (what the file sets replaces what c had); -ENOENT when
 * the file is missing, -EINVAL (err set) on a bad file, c untouched on
 * failure.  Files over 1 MiB are refused.  A relative goal_file is taken
 * relative to the config file's directory.
 */
int config_load_file(struct config *c, const char *path, struct buf *err);
/* --policy FILE: a YAML file holding what policy: holds, loaded over
 * c->policy; errors as config_load_file's. */
int config_load_policy_file(struct config *c, const char *path, struct buf *err);
/* Same, from memory; name is used in messages. */
int config_load_string(struct config *c, const char *name, const char *text, size_t len,
		       struct buf *err);
/*
 * The config a command uses: explicit_path (--config; missing is an error
 * naming it), else loopgate.yaml at the repository's top level, which may be
 * absent.  0 or -errno with err set.
 */
int config_load_default(struct config *c, const char *repo_top, const char *explicit_path,
			struct buf *err);
/*
 * Copies every field set in src over dst.  A non-empty list replaces the
 * list; presets under models: merge by name, field by field.  goal and
 * goal_file are one setting, and so are model, agent and agent_cmd (the
 * actor): when src sets agent or agent_cmd, all three of dst's are
 * replaced (--agent-cmd beats a model: from the file instead of colliding
 * with it); when src sets only model, dst's agent stays (with an agent,
 * model is the CLI's own model name).
 */
void config_overlay(struct config *dst, const struct config *src);
/*
 * Applies defaults and validates: a goal is needed (goal_file is read into
 * goal, at most 1 MiB), at least one gate, a model or an agent command (not
 * both), positive limits, and a cost ceiling needs a known price for the
 * model (replay:FILE costs 0) and no agent command.  max_output_tokens
 * defaults to the model preset's, then CONFIG_DEFAULT_MAX_OUTPUT_TOKENS.
 * Call once.  -EINVAL with err set on failure.
 */
int config_finalize(struct config *c, struct buf *err);
/*
 * config_finalize for `loopgate once`: the same, but there must be no
 * gate (one turn, nothing judges it).  -EINVAL with err set on failure.
 */
int config_finalize_once(struct config *c, struct buf *err);
/*
 * config_finalize for commands that only run the gates (`loopgate gate
 * check`): at least one gate, no empty gate command, a valid gate_timeout;
 * defaults applied as by config_finalize.  Goal and actor are not needed.
 * Call once instead of config_finalize.  -EINVAL with err set on failure.
 */
int config_finalize_gates(struct config *c, struct buf *err);

/*
 * config_finalize for `loopgate verify`: verifiers: (at least one) with a
 * model for each, roles:, defaults; goal, gates and actor are not needed.
 * Call once instead of config_finalize.  -EINVAL with err set on failure.
 */
int config_finalize_verify(struct config *c, struct buf *err);

/*
 * The preset for a model spec "PROVIDER/NAME".  Looks up models: by the
 * full spec, then by NAME; falls back to built-in provider defaults.
 * Returns 0 and fills *out (pointers borrowed from c or static), -EINVAL with
 * err set for an unknown provider.
 */
int config_resolve_model(const struct config *c, const char *spec,
			 struct model_preset *out, struct buf *err);
/* The models: entry named name, or NULL (agent presets price their CLI's
 * model with it). */
const struct model_preset *config_find_model(const struct config *c, const char *name);

/*
 * The command-line flags of the settings, for getopt_long: the i-th flag's
 * name without "--" (NULL past the last), *has_arg 1 when it takes a
 * value.  config_flag_set applies flag i with its value arg (NULL for a
 * flag without one) to c: a string is set, a list gets arg pushed, a
 * number or duration is parsed (-EINVAL with err set when bad), a switch
 * is set (--json: 1, --no-stream: 0), --policy loads the policy file.
 */
const char *config_flag(size_t i, int *has_arg);
int config_flag_set(struct config *c, size_t i, const char *arg, struct buf *err);

/*
 * "90s", "30m", "2h", "500ms", "1h30m", "1d", plain seconds "45" ->
 * milliseconds.  -EINVAL for empty, negative or malformed text, -ERANGE
 * past CONFIG_DURATION_MAX_MS; *ms is untouched on failure.
 */
#define CONFIG_DURATION_MAX_MS	 (365L * 86400000L)
#define CONFIG_DURATION_MAX_TEXT "365d"
int config_parse_duration(const char *s, long *ms);
/* The options of gate i (an all-unset record when it has none). */
const struct gate_opts *config_gate_opts(const struct config *c, size_t i);
void config_gate_opts_clear(struct config *c);

/*
 * The effective configuration as a jansson json_t * (returned as void * so
 * this header does not need <jansson.h>; the caller json_decref()s it), for
 * the run-start event.  Unset values are null; "resolved_model" is the
 * preset config_resolve_model gives for c->model.  Secrets are redacted:
 * URLs lose their user:password@ and ?query, and the value of every key
 * variable the config names (api_key_env, agent_env, the built-in
 * OPENAI_API_KEY / ANTHROPIC_API_KEY) is replaced by "[REDACTED]" wherever
 * it appears.  Returns 0.
 */
int config_to_json(const struct config *c, void **json_out);
/*
 * The reverse, for `loopgate resume`: fills c (fresh from config_init) from
 * a run_start record's "config".  Redacted values stay redacted (a URL's
 * query, a key pasted into a command): the caller runs config_finalize.
 * goal_file is not read back (the goal itself is).  -EINVAL with err set
 * when json is not such an object.
 */
int config_from_json(struct config *c, const void *json, struct buf *err);

#endif
