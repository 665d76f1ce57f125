/*
 * agent_turn.c: an agent preset as the actor.  See agent_turn.h and
 * docs/design/agent-presets.md.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "engine/agent_turn.h"
#include "record/events.h"
#include "base/fileio.h"
#include "config/policy.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERSION_TIMEOUT_MS 60000
#define PROBE_TIMEOUT_MS   30000
#define REPORT_MAX_BYTES   (64UL << 20)
#define STDERR_KEEP_BYTES  (1UL << 20)

/* ---- configuration ------------------------------------------------------ */

int agent_price(const struct config *c, double *in, double *out)
{
	const struct model_preset *m = config_find_model(c, c->model);
	if (!m || m->price_in < 0 || m->price_out < 0)
		return -1;
	*in = m->price_in;
	*out = m->price_out;
	return 0;
}

int agent_check_config(const struct config *c, struct buf *err)
{
	const struct agent_preset *p = agent_find(c->agent);
	struct buf names = BUF_INIT;
	double in, out;

	if (!p) {
		agent_names(&names);
		err_set(err, -EINVAL,
			"unknown agent '%s': the presets are %s (use --agent-cmd CMD "
			"for any other command)",
			c->agent, names.s);
		buf_release(&names);
		return -EINVAL;
	}
	if (p->needs_model && !c->model)
		return err_set(
			err, -EINVAL,
			"--agent %s needs --model: PROVIDER/NAME (e.g. "
			"anthropic/claude-sonnet-4-5), or NAME with --base-url URL",
			p->name);
	if (c->max_cost >= 0 && !p->reports_cost && agent_price(c, &in, &out) < 0)
		return err_set(
			err, -EINVAL,
			"--max-cost cannot be enforced with --agent %s: it reports "
			"tokens, not money, and loopgate never guesses prices. Give "
			"--model NAME and its prices in loopgate.yaml:\nmodels:\n  "
			"%s:\n    price_in: ...\n    price_out: ...\nor bound the run "
			"with --max-tokens",
			p->name, c->model ? c->model : "NAME");
	return 0;
}

/* ---- the runtime: program, sandbox, environment ---------------------------- */

int agent_rt_init_program(struct agent_rt *a, const struct config *c, struct buf *err)
{
	int ret;

	memset(a, 0, sizeof(*a));
	if ((ret = agent_check_config(c, err)) < 0)
		return ret;
	a->p = agent_find(c->agent);
	for (size_t i = 0; a->p->keys[i]; i++) {
		const char *v = getenv(a->p->keys[i]);
		if (v && *v)
			a->have_key = 1;
	}
	return agent_resolve_bin(a->p, c->agent_bin, getenv("PATH"), &a->bin, err);
}

static void add_file(void *ctx, const char *rel, const char *data, size_t len)
{
	struct sandbox *sb = ctx;
	char *path = xasprintf("%s/%s", AGENT_HOME, rel);
	sandbox_add_file(sb, path, data, len);
	free(path);
}

static void rt_ctx(const struct agent_rt *a, const struct config *c, const char *home,
		   struct agent_ctx *x)
{
	*x = (struct agent_ctx)AGENT_CTX_INIT;
	x->model = c->model;
	x->base_url = c->base_url;
	x->bin = a->bin;
	x->home = home;
	x->have_key = a->have_key;
}

/* The actor's sandbox: the run's, plus its API host, its install and its
 * scratch HOME with the seed files. */
int agent_rt_init_sandbox(struct agent_rt *a, const struct config *c, const char *tree,
			  const char *repo, struct buf *err)
{
	struct strlist l = STRLIST_INIT;
	struct agent_ctx x;
	int ret;

	sandbox_init(&a->sb, c, tree, repo);
	rt_ctx(a, c, AGENT_HOME, &x);
	if ((ret = agent_hosts(a->p, &x, &l, err)) < 0)
		return ret;
	for (size_t i = 0; a->sb.bwrap_on && i < l.n; i++)
		sandbox_allow_host(&a->sb, l.v[i]);
	strlist_clear(&l);
	agent_install_dirs(a->bin, &l);
	for (size_t i = 0; i < l.n; i++)
		sandbox_add_ro(&a->sb, l.v[i]);
	strlist_clear(&l);
	sandbox_set_home(&a->sb, AGENT_HOME);
	agent_home_files(a->p, &x, getenv("HOME"), add_file, &a->sb);
	return 0;
}

int agent_rt_init(struct agent_rt *a, const struct config *c, const char *tree,
		  const char *repo, struct buf *err)
{
	int ret = agent_rt_init_program(a, c, err);
	return ret < 0 ? ret : agent_rt_init_sandbox(a, c, tree, repo, err);
}

void agent_rt_release(struct agent_rt *a)
{
	sandbox_release(&a->sb);
	free(a->bin);
	memset(a, 0, sizeof(*a));
}

/* Every variable the agent gets: the allow-list, its HOME, its own, its
 * keys and the ones named for it; argv too (they depend on each other). */
static void rt_command(const struct agent_rt *a, const struct config *c, const char *home,
		       const struct agent_spawn *s, struct strlist *argv,
		       struct proc_env *env)
{
	const struct policy *pol = c->policy;
	const struct strlist *named[] = {&c->agent_env, pol ? &pol->env : NULL,
					 pol ? &pol->actor_env : NULL};
	struct strlist kv = STRLIST_INIT;
	struct agent_ctx x;
	char *dir = xstrdup(a->bin), *path;

	rt_ctx(a, c, home, &x);
	x.prompt_file = s ? s->prompt_file : NULL;
	x.budget_left = s ? s->budget_left : -1;
	if (s)
		agent_command(a->p, &x, argv, &kv);
	proc_env_base(env);
	proc_env_set(env, "HOME", home);
	if (a->sb.bwrap_on)
		proc_env_set(env, "TMPDIR", "/tmp");
	/* its own directory first: some re-run themselves by name */
	*strrchr(dir, '/') = 0;
	path = xasprintf("%s:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	proc_env_set(env, "PATH", path);
	for (size_t i = 0; a->p->keys[i]; i++)
		if (getenv(a->p->keys[i]))
			proc_env_set(env, a->p->keys[i], getenv(a->p->keys[i]));
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; named[k] && i < named[k]->n; i++)
			if (getenv(named[k]->v[i]))
				proc_env_set(env, named[k]->v[i], getenv(named[k]->v[i]));
	for (size_t i = 0; i < kv.n; i++) {
		char *eq = strchr(kv.v[i], '=');
		*eq = 0;
		proc_env_set(env, kv.v[i], eq + 1);
	}
	for (size_t i = 0; s && s->extra_env && s->extra_env[i]; i++) {
		char *name = xstrndup(s->extra_env[i], strcspn(s->extra_env[i], "="));
		proc_env_set(env, name, s->extra_env[i] + strlen(name) + 1);
		free(name);
	}
	strlist_clear(&kv);
	free(dir);
	free(path);
}

/* ---- scratch HOME without the sandbox ------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* With --no-sandbox: a 0700 directory seeded like the sandbox's, removed
 * after the spawn.  *home is malloc'd. */
static int host_home(const struct agent_rt *a, char **home, struct buf *err)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/loopgate-home-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int ret = 0;

	if (!mkdtemp(dir)) {
		ret = err_set(err, -errno, "cannot create a scratch HOME: %s",
			      strerror(errno));
		free(dir);
		return ret;
	}
	for (size_t i = 0; i < a->sb.nfiles && !ret; i++) {
		const struct sandbox_file *f = &a->sb.files[i];
		char *p = xasprintf("%s%s", dir, f->path + strlen(AGENT_HOME));
		char *slash = strrchr(p, '/');
		*slash = 0;
		ret = fileio_mkdirs(p, err);
		*slash = '/';
		if (!ret)
			ret = fileio_write_atomic(p, f->data, f->len, err);
		free(p);
	}
	*home = dir;
	return ret;
}

static void host_home_remove(char *home)
{
	if (home)
		nftw(home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(home);
}

/* ---- spawning ----------------------------------------------------------------- */

static void read_usage(const struct agent_rt *a, struct agent_spawn *s)
{
	struct buf b = BUF_INIT;

	buf_init(&b, REPORT_MAX_BYTES);
	s->reported = 0;
	if (buf_read_file(&b, s->out_path) == 0 &&
	    agent_usage_read(a->p, b.s, b.len, &s->usage) == 0)
		s->reported = 1;
	buf_release(&b);
}

int agent_rt_spawn(struct agent_rt *a, const struct config *c, struct agent_spawn *s,
		   struct buf *err)
{
	struct strlist argv = STRLIST_INIT;
	struct proc_env env = PROC_ENV_INIT;
	struct proc_opts o = PROC_OPTS_INIT;
	char *home = NULL;
	int ret = 0;

	if (!a->sb.bwrap_on && (ret = host_home(a, &home, err)) < 0)
		goto out;
	rt_command(a, c, home ? home : AGENT_HOME, s, &argv, &env);
	argv.v = xrealloc(argv.v, (argv.n + 1) * sizeof(*argv.v));
	argv.v[argv.n] = NULL;
	o.argv = (const char *const *)argv.v;
	o.cwd = a->sb.tree;
	o.env = (const char *const *)env.v;
	o.stdin_path = s->prompt_file;
	o.output_path = s->out_path;
	o.max_output = STDERR_KEEP_BYTES;
	o.timeout_ms = c->actor_timeout_ms > 0 ? c->actor_timeout_ms
					       : CONFIG_DEFAULT_ACTOR_TIMEOUT_MS;
	o.deadline_ms = s->deadline_ms;
	o.sandbox = &a->sb;
	/* the turn is on record before it runs, or it does not run */
	if (a->sb.ev && (ret = events_barrier(a->sb.ev)) < 0) {
		err_set(err, ret, "%s", a->sb.ev->err.s);
		goto out;
	}
	ret = proc_run(&o, &s->res, err);
	if (s->err_path)
		fileio_write_atomic(s->err_path, s->res.err.s, s->res.err.len, NULL);
	if (ret == 0)
		read_usage(a, s);
out:
	host_home_remove(home);
	strlist_clear(&argv);
	proc_env_release(&env);
	return ret;
}

/* ---- pre-flight ---------------------------------------------------------------- */

/* Runs argv in the actor's sandbox with its environment; 0 when it exited
 * 0, else -EINVAL with *what the outcome and its last output line. */
static int try_run(struct agent_rt *a, const struct config *c, const char *const *argv,
		   long timeout_ms, struct buf *what)
{
	struct proc_env env = PROC_ENV_INIT;
	struct strlist none = STRLIST_INIT;
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	char *home = NULL;
	int ret;

	if (!a->sb.bwrap_on && (ret = host_home(a, &home, what)) < 0)
		goto out;
	rt_command(a, c, home ? home : AGENT_HOME, NULL, &none, &env);
	o.argv = argv;
	o.cwd = a->sb.tree;
	o.env = (const char *const *)env.v;
	o.merge_output = 1;
	o.max_output = 64 << 10;
	o.timeout_ms = timeout_ms;
	o.sandbox = &a->sb;
	ret = proc_run(&o, &r, what);
	if (ret == 0 && (r.status != PROC_EXITED || r.exit_code)) {
		char *last;
		buf_rtrim(&r.out);
		last = strrchr(r.out.s, '\n');
		proc_describe(&r, timeout_ms, what);
		if (r.out.len)
			buf_addf(what, ": %s", last ? last + 1 : r.out.s);
		ret = -EINVAL;
	}
out:
	host_home_remove(home);
	proc_result_release(&r);
	proc_env_release(&env);
	return ret;
}

static int check_vars(struct agent_rt *a, const struct config *c, struct buf *err)
{
	for (size_t i = 0; i < c->agent_env.n; i++)
		if (!getenv(c->agent_env.v[i]))
			return err_set(err, -EINVAL,
				       "--agent-env %s: $%s is not set; set it, or drop "
				       "--agent-env %s",
				       c->agent_env.v[i], c->agent_env.v[i],
				       c->agent_env.v[i]);
	if (!a->have_key && !c->base_url && a->p->keys[0] &&
	    !agent_has_login(a->p, getenv("HOME")))
		return err_set(err, -EINVAL,
			       "--agent %s has no credentials: set $%s (or log in with "
			       "%s once, so that ~/%s exists)",
			       a->p->name, a->p->keys[0], a->p->bin,
			       a->p->seed[0] ? a->p->seed[0] : "its login");
	return 0;
}

/* Each allowed host answers a CONNECT through the proxy, inside. */
static int check_hosts(struct agent_rt *a, const struct config *c, struct buf *info,
		       struct buf *err)
{
	struct buf what = BUF_INIT;
	int ret = 0;

	if (!a->sb.bwrap_on || a->sb.network != POLICY_NET_HOSTS || !a->sb.self_exe)
		return 0;
	for (size_t i = 0; i < a->sb.hosts.n && !ret; i++) {
		const char *argv[] = {a->sb.self_exe, "__netprobe", a->sb.hosts.v[i],
				      NULL};
		buf_reset(&what);
		ret = try_run(a, c, argv, PROBE_TIMEOUT_MS, &what);
		if (ret < 0)
			err_set(err, -EINVAL,
				"%s, the API host of --agent %s, cannot be reached "
				"through the sandbox's proxy (%s): check the network, or "
				"--base-url",
				a->sb.hosts.v[i], a->p->name, what.s);
		else if (info)
			buf_addf(info, "ok: %s reachable through the sandbox's proxy\n",
				 a->sb.hosts.v[i]);
	}
	buf_release(&what);
	return ret;
}

int agent_rt_preflight(struct agent_rt *a, const struct config *c, struct buf *info,
		       struct buf *err)
{
	const char *argv[] = {a->bin, "--version", NULL};
	struct buf what = BUF_INIT;
	int ret;

	if ((ret = check_vars(a, c, err)) < 0)
		return ret;
	if (info)
		buf_addf(info, "ok: %s, the %s preset's program\n", a->bin, a->p->name);
	ret = try_run(a, c, argv, VERSION_TIMEOUT_MS, &what);
	if (ret < 0) {
		err_set(err, -EINVAL,
			"%s --version fails inside the sandbox (%s): check the "
			"install, or name the program with --agent-bin PATH",
			a->bin, what.s);
		buf_release(&what);
		return ret;
	}
	if (info)
		buf_addf(info, "ok: it starts inside the sandbox%s\n",
			 a->sb.bwrap_on ? "" : " (off: --no-sandbox)");
	buf_release(&what);
	return check_hosts(a, c, info, err);
}
