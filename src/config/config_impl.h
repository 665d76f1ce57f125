/*
 * config_impl.h: PRIVATE to config.c, config_yaml.c and config_json.c.
 * Nothing else includes it; the module's callers use config.h.
 *
 * config.c owns struct config (init, overlay, model resolution, finalize),
 * config_yaml.c reads loopgate.yaml into it, and config_json.c turns it into
 * the redacted run-start JSON.  What they share is declared here:
 *
 *   - the key schema: the YAML reader types every value by it, and
 *     config_finalize checks the ranges of the merged result (flags arrive
 *     unchecked) against the same table, so a limit is written once;
 *   - the built-in providers: config_resolve_model takes their defaults,
 *     and the JSON redaction blanks the values of their key variables;
 *   - the few helpers both the reader and finalize need.
 */
#ifndef LOOPGATE_CONFIG_IMPL_H
#define LOOPGATE_CONFIG_IMPL_H

#include <limits.h>
#include <stddef.h>
#include "config/config.h"
#include "config/yamltree.h"

/* ---- the schema (tables in config_yaml.c) ------------------------------ */

enum ktype {
	K_STR,
	K_URL,
	K_ENV,
	K_PROVIDER,
	K_LIST,
	K_ENVLIST,
	K_INT,
	K_NUM,
	K_DUR,
	K_BOOL,
	K_HTTP,
	K_MODELS,
	K_GATES,
	K_ROLES,     /* roles: a mapping of flat K_STR fields (like http:) */
	K_VERIFIERS, /* verifiers: a list of mappings (config_roles.c) */
	K_WORKERS,   /* workers: N, or a list of worker settings */
	K_TASKS,     /* tasks: a list of sub-tasks (goal, gates) */
	/* policy: (config_policy.c) */
	K_POLICY,
	K_PCOMMANDS,
	K_PTOOLS,
	K_PLIMITS,
	K_PNET,
};

/* Bits of struct key's kf. */
enum {
	KF_NO_YAML = 1,	  /* not a YAML key (dir: a flag only; source) */
	KF_NO_RESUME = 2, /* in the run-start JSON, not read back by resume */
	KF_FLAG_OFF = 4,  /* a K_BOOL whose flag sets 0 (--no-stream) */
};

/*
 * One row per setting (config.h says how to add one).  The rows drive the
 * YAML walk (name, type, lo..hi), config_init and config_release (unset is
 * NULL, -1 or empty by type), config_overlay (a set value wins, by type),
 * the defaults of finalize (def), the run-start JSON and its reading back
 * by resume (json), and the command-line flag (flag, by type: a string is
 * set, a list pushed, a number parsed, a K_BOOL flag sets 1 or, with
 * KF_FLAG_OFF, 0).
 */
struct key {
	const char *name;
	enum ktype type;
	size_t off;	  /* into struct config or struct model_preset */
	double lo, hi;	  /* numbers: allowed range (durations in ms) */
	const char *flag; /* the command-line spelling, e.g. "--max-iterations" */
	const char *json; /* key in the run-start JSON; NULL: not there */
	double def;	  /* the default finalize applies; -1: none (stays unset) */
	unsigned kf;	  /* KF_* */
	/* http:, roles: a mapping whose keys are these rows, with fields
	 * flat in the same struct (init, overlay, defaults, JSON recurse) */
	const struct key *sub;
};

/* An upper bound of NOMAX means "no upper bound" in messages. */
#define NOMAX ((double)LONG_MAX)

/* The top-level keys, those under http: and those of a models: preset
 * (config_keys.c); each ends with a NULL name. */
extern const struct key config_top_keys[];
extern const struct key config_http_keys[];
extern const struct key config_preset_keys[];
/* The keys under roles: and of one verifiers: entry (config_keys.c). */
extern const struct key config_role_keys[];
extern const struct key config_verifier_keys[];
/* What one workers: entry may set (offsets into struct config). */
extern const struct key config_worker_keys[];
/* What one tasks: entry may set. */
extern const struct key config_task_keys[];
/* config_workers.c, for finalize: workers:/tasks:/executor: checked and
 * the worker count set; a list that names an actor for every worker. */
int config_finalize_workers(struct config *c, struct buf *err);
int config_every_worker_acts(const struct config *c);
/* s's gates (with their options) replace d's, when s has any. */
void config_overlay_gates(struct config *d, const struct config *s);

/* What the rows of keys say, applied to the struct at base (config_keys.c):
 * every field unset; freed and unset; src's set fields over dst's; the
 * defaults. */
void config_keys_init(const struct key *keys, void *base);
void config_keys_release(const struct key *keys, void *base);
void config_keys_overlay(const struct key *keys, void *dst, const void *src);
void config_keys_defaults(const struct key *keys, void *base);

/* The keys under policy:, policy.commands and policy.limits, with offsets
 * into struct policy (config_policy.c). */
extern const struct key config_policy_keys[];
extern const struct key config_policy_commands_keys[];
extern const struct key config_policy_tools_keys[];
extern const struct key config_policy_limits_keys[];

/* ---- the YAML tree and its walker (config_yaml.c) ------------------------ */

struct walk {
	const char *name;
	struct config *c;
	struct buf *err;
};

/* "NAME:LINE: key 'PATH': ..." into w->err; returns -EINVAL. */
int config_key_err(const struct walk *w, size_t line, const char *path, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));
/* A list of strings into l (replacing it); names checked for K_ENVLIST. */
int config_walk_list(const struct walk *w, const struct key *k, const struct ynode *y,
		     const char *path, struct strlist *l);
/* The value of policy.network into the struct policy at base. */
int config_policy_network(const struct walk *w, const struct ynode *y, const char *path,
			  void *base);

/* ---- built-in providers (config.c) -------------------------------------- */

struct provider_default {
	const char *name, *base_url, *api_key_env;
};

/* The dimension is in the declaration so that sizeof works in every file. */
#define CONFIG_NBUILTIN 2
extern const struct provider_default config_builtin[CONFIG_NBUILTIN];

/* ---- helpers (config.c) ------------------------------------------------- */

/* Appends a preset named name to c->models, every field unset. */
struct model_preset *config_preset_add(struct config *c, const char *name);
/* 1 when s is an environment variable name, [A-Z_][A-Z0-9_]*. */
int config_is_env_name(const char *s);
/* 1 when s starts with http:// or https:// (in any case). */
int config_is_url(const char *s);

/* ---- verifiers: and roles: ---------------------------------------------- */

/* verifiers: (config_roles.c): release, overlay (a layer
 * that gives verifiers replaces them all), the checks of finalize. */
void config_verifiers_clear(struct config *c);
void config_verifiers_overlay(struct config *d, const struct config *s);
struct verifier_brief *config_verifier_add(struct config *c);
int config_check_roles(struct config *c, struct buf *err);
/* roles.worker becomes model when no actor is given another way. */
void config_route_worker(struct config *c);
/* The YAML list (config_yaml.c). */
int config_walk_verifiers(struct walk *w, const struct ynode *y, const char *path);

#endif
