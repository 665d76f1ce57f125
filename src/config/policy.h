/*
 * policy: what the actor's processes may run, see, write and consume.
 *
 * A policy comes from `policy:` in loopgate.yaml and from --policy FILE
 * (config_policy.c parses both; struct config holds it as c->policy, NULL
 * when nothing was given).  Unset is an empty list, -1 or
 * POLICY_NET_UNSET, so policy_overlay copies only what a layer gave;
 * policy_finalize applies the defaults.
 *
 *   struct buf why = BUF_INIT;
 *   if (!policy_check_command(p, "curl -s x", &why))   0: denied
 *       ... why.s is "deny 'curl*'" or "not in commands.allow" ...
 *   json_t *j = policy_limits_json(p);                  for `policy` events
 *
 * Matching: every glob (fnmatch, '*' crosses '/') is tried against the
 * program name (basename of the first word that is not a NAME=value
 * assignment) and against the whole command line; a deny match wins; an
 * empty allow list allows what is not denied.  See docs/design/sandbox.md.
 */
#ifndef LOOPGATE_POLICY_H
#define LOOPGATE_POLICY_H

#include "base/buf.h"
#include "config/config.h"

enum policy_net {
	POLICY_NET_UNSET = -1,
	POLICY_NET_OFF = 0, /* loopback only (a fresh network namespace) */
	POLICY_NET_ON = 1,
	POLICY_NET_HOSTS = 2, /* an allow-list, through a proxy (netproxy.h) */
};

/* -1: unset; 0 (cpu_seconds, wall_seconds): unbounded. */
struct policy_limits {
	long cpu_seconds;
	long memory_mb;
	long processes;
	long file_size_mb;
	long output_bytes;
	long wall_seconds;
};

#define POLICY_DEFAULT_MEMORY_MB    4096
#define POLICY_DEFAULT_PROCESSES    256
#define POLICY_DEFAULT_FILE_SIZE_MB 1024
#define POLICY_DEFAULT_OUTPUT_BYTES (256L << 20)

struct policy {
	struct strlist allow, deny; /* commands: */
	struct strlist write;	    /* writable besides the run's tree */
	struct strlist read_deny;   /* masked, besides the defaults */
	int network;		    /* enum policy_net */
	struct strlist hosts;	    /* network: [HOST...] */
	struct strlist env;	    /* extra names for gates and the actor */
	struct strlist actor_env;   /* names only the command actor gets */
	/* tools: {allow, deny}: the model's tool calls (engine/tools.h), each
	 * rule NAME or NAME:GLOB (GLOB matched against the call's main
	 * argument: a path, a command, a pattern) */
	struct strlist tools_allow, tools_deny;
	struct policy_limits lim;
};

struct policy *policy_new(void);
void policy_free(struct policy *p);
/* Copies what src sets over *dst (allocating it when NULL). */
void policy_overlay(struct policy **dst, const struct policy *src);
/* Defaults for what is unset. */
void policy_finalize(struct policy *p);
/* The default read_deny paths under home: ~/.ssh ~/.aws ~/.gnupg
 * ~/.config/loopgate.  NULL-terminated, static. */
extern const char *const policy_default_read_deny[];

/* 1 allowed, 0 denied; why gets the rule ("deny 'rm -rf*'", "allow 'make'",
 * "not in commands.allow", "no rule: allowed").  p NULL allows. */
int policy_check_command(const struct policy *p, const char *cmdline, struct buf *why);
/* A tool call: 1 allowed, 0 denied; why names the rule ("tools.deny
 * 'run:rm *'", "not in tools.allow"). */
int policy_check_tool(const struct policy *p, const char *tool, const char *arg,
		      struct buf *why);
/* The program name policy matches: basename of the first word that is not
 * a NAME=value assignment ("" for an empty line).  Into out. */
void policy_program(const char *cmdline, struct buf *out);

/*
 * The checks config_finalize makes: every gate (and focus command) is
 * allowed, env names are names, and a host list for the network comes with
 * the sandbox (not --no-sandbox).  -EINVAL with err set.
 */
int policy_check_config(const struct config *c, struct buf *err);

/* json_t * of the limits (void * keeps jansson out of this header). */
void *policy_limits_json(const struct policy *p);
/*
 * The body of a `policy` record for a command (json_t *): subject "gate"
 * (key "gate", n its 1-based number) or "actor" (key "iteration"), the
 * command, the decision and the rule, and p's limits (null when p is
 * NULL).  The network proxy's records carry subject "network" instead.
 */
void *policy_decision_json(const char *subject, const char *key, int n,
			   const char *command, int allowed, const char *rule,
			   const struct policy *p);
/* json_t * array of the list's strings (events_str: UTF-8 cleaned). */
void *policy_list_json(const struct strlist *l);
/* json_t * of the whole policy, for run_start's config. */
void *policy_to_json(const struct policy *p);
const char *policy_net_name(int network);

#endif
