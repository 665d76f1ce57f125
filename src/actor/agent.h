/*
 * agent: the agent-CLI presets behind `--agent NAME` (docs/design/
 * agent-presets.md).  One table entry per CLI, curl-vtls style: what the
 * engine needs to run it headless inside the sandbox and to read its spend.
 *
 *   const struct agent_preset *p = agent_find("claude");   NULL: unknown
 *   struct agent_ctx x = AGENT_CTX_INIT;
 *   x.model = cfg->model; x.base_url = cfg->base_url; x.bin = path;
 *   x.home = "/tmp/loopgate-home"; x.prompt_file = ...; x.budget_left = 1.5;
 *   struct strlist argv = STRLIST_INIT, env = STRLIST_INIT;
 *   agent_command(p, &x, &argv, &env);        argv[0] = x.bin; env "K=V"
 *   agent_hosts(p, &x, &hosts);               the network allow-list's part
 *   agent_home_files(p, &x, add, ctx);        files for its scratch HOME
 *   ... run it, stdout into out ...
 *   struct agent_usage u;
 *   if (agent_usage_read(p, out.s, out.len, &u) == 0) ... u.tokens_in ...
 *
 * Key variables are never put in argv or files: the command's env names
 * them (agent_key_vars), and the caller copies their values from its own
 * environment.  Nothing here does I/O except agent_home_files reading the
 * seed files under the real HOME, and agent_resolve_bin's PATH lookup.
 */
#ifndef LOOPGATE_AGENT_H
#define LOOPGATE_AGENT_H

#include <stddef.h>
#include "base/buf.h"
#include "base/strlist.h"

/* Spend read from a CLI's own report. */
struct agent_usage {
	long tokens_in;	 /* prompt tokens, cache reads and writes included */
	long tokens_out; /* output tokens, reasoning included */
	double cost;	 /* USD as the CLI reports it; -1: not reported */
};

struct agent_ctx {
	const char *model;	 /* --model, or NULL: the CLI's default */
	const char *base_url;	 /* --base-url, or NULL */
	const char *bin;	 /* the program to run (argv[0]) */
	const char *home;	 /* its HOME for this turn */
	const char *prompt_file; /* the prompt, also on stdin */
	double budget_left;	 /* USD left of --max-cost; < 0: no ceiling */
	int have_key;		 /* a key variable of the preset is set */
};
#define AGENT_CTX_INIT                                                                   \
	{                                                                                \
		.budget_left = -1                                                        \
	}

struct agent_preset {
	const char *name;	  /* --agent NAME */
	const char *bin;	  /* looked up in PATH unless --agent-bin */
	const char *package;	  /* where it comes from, for messages */
	const char *wire;	  /* the API it speaks, for the record */
	const char *const *args;  /* fixed arguments of the headless mode */
	const char *model_flag;	  /* "--model", "-m" */
	const char *base_env;	  /* variable it reads a base URL from, or NULL */
	const char *const *keys;  /* key variables passed on when set */
	const char *const *hosts; /* API hosts allowed without --base-url */
	const char *const *env;	  /* fixed "K=V" */
	const char *const *seed;  /* files under HOME copied in when present */
	int reports_cost;	  /* its report carries a cost in USD */
	int needs_model;	  /* refuses to run without --model */
	/* Arguments that depend on the turn (model, base URL, budget),
	 * appended after args; extra "K=V" into env. */
	void (*turn_args)(const struct agent_ctx *x, struct strlist *argv,
			  struct strlist *env);
	/* Generated files for HOME (relative path, content); may be NULL. */
	void (*files)(const struct agent_ctx *x,
		      void (*add)(void *ctx, const char *rel, const char *data,
				  size_t len),
		      void *ctx);
	/* 0 with *u filled, -ENODATA when out holds no report. */
	int (*usage)(const char *out, size_t len, struct agent_usage *u);
};

/* The table, NULL-terminated, and a lookup by name (NULL: unknown). */
extern const struct agent_preset *const agent_presets[];
const struct agent_preset *agent_find(const char *name);
/* "claude, codex, gemini, qwen, opencode, aider" into out. */
void agent_names(struct buf *out);

/* argv (bin, fixed args, turn args) and the variables the turn sets. */
void agent_command(const struct agent_preset *p, const struct agent_ctx *x,
		   struct strlist *argv, struct strlist *env);
/*
 * The hosts the network allow-list gains: the host[:port] of x->base_url
 * when given (-EINVAL with err set when it is not a URL with a host), else
 * the preset's hosts.
 */
int agent_hosts(const struct agent_preset *p, const struct agent_ctx *x,
		struct strlist *out, struct buf *err);
/* The key variables of p (NULL-terminated, static). */
const char *const *agent_key_vars(const struct agent_preset *p);
/*
 * Calls add for every file the scratch HOME starts with: the preset's
 * generated files, then each seed file that exists under real_home (read
 * up to 1 MiB; a larger or unreadable one is skipped).
 */
void agent_home_files(
	const struct agent_preset *p, const struct agent_ctx *x, const char *real_home,
	void (*add)(void *ctx, const char *rel, const char *data, size_t len), void *ctx);
/* 1 when a seed file of p exists under real_home (a stored login). */
int agent_has_login(const struct agent_preset *p, const char *real_home);
/*
 * The program: path when given (must be executable), else p->bin looked up
 * in path_var.  0 with *out (malloc'd, absolute); -ENOENT with err naming
 * the fix.
 */
int agent_resolve_bin(const struct agent_preset *p, const char *path,
		      const char *path_var, char **out, struct buf *err);
/*
 * The directories an installed CLI needs visible: the directory of bin as
 * named, and the node_modules root (or the directory) of its real path.
 */
void agent_install_dirs(const char *bin, struct strlist *out);

/* The usage parsers (agent_usage.c), also for the unit tests. */
int agent_usage_read(const struct agent_preset *p, const char *out, size_t len,
		     struct agent_usage *u);
int agent_usage_claude(const char *out, size_t len, struct agent_usage *u);
int agent_usage_codex(const char *out, size_t len, struct agent_usage *u);
int agent_usage_gemini(const char *out, size_t len, struct agent_usage *u);
int agent_usage_qwen(const char *out, size_t len, struct agent_usage *u);
int agent_usage_opencode(const char *out, size_t len, struct agent_usage *u);
int agent_usage_aider(const char *out, size_t len, struct agent_usage *u);

#endif
