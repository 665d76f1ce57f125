/*
 * git_proc.c: the process of a git call: the hardening every call gets,
 * its environment, its options (git_opts, for git.c's git_exec), and a
 * call in two halves (git_begin, git_end: git.h).
 */
#include "tree/git.h"
#include "tree/git_impl.h"
#include "exec/proc.h"
#include "base/fault.h"
#include "base/strlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Configuration that must not come from the repository: every key that
 * names a program or turns one on is overridden on the command line, which
 * wins over any file.  External diff drivers and textconv filters are
 * turned off for every diff, show and log (--no-ext-diff --no-textconv,
 * added by git_exec): an empty diff.external would make git try to
 * execute "".  Drivers whose names the
 * repository chooses are blanked per call (driver_overrides).  See
 * docs/design/git-hardening.md.
 */
static const char *const hardening[] = {"-c", "core.hooksPath=/dev/null",
					"-c", "core.fsmonitor=false",
					"-c", "core.pager=cat",
					"-c", "core.editor=false",
					"-c", "sequence.editor=false",
					"-c", "core.askPass=",
					"-c", "core.sshCommand=false",
					"-c", "credential.helper=",
					"-c", "gpg.program=false",
					"-c", "commit.gpgsign=false",
					"-c", "tag.gpgsign=false",
					"-c", "core.alternateRefsCommand=false",
					"-c", "uploadpack.packObjectsHook=false",
					"-c", "protocol.allow=never",
					"-c", "gc.auto=0",
					"-c", "maintenance.auto=false",
					"-c", "advice.detachedHead=false",
					"-c", "user.name=loopgate",
					"-c", "user.email=loopgate@localhost",
					"-c", "init.defaultBranch=main",
					NULL};

static void git_env(struct proc_env *env)
{
	const char *path = getenv("PATH"), *home = getenv("HOME");
	proc_env_set(env, "PATH", path ? path : "/usr/bin:/bin");
	proc_env_set(env, "HOME", home ? home : "/");
	proc_env_set(env, "LC_ALL", "C");
	proc_env_set(env, "GIT_CONFIG_NOSYSTEM", "1");
	proc_env_set(env, "GIT_ATTR_NOSYSTEM", "1");
	proc_env_set(env, "GIT_CONFIG_GLOBAL", "/dev/null");
	proc_env_set(env, "GIT_TERMINAL_PROMPT", "0");
	proc_env_set(env, "GIT_OPTIONAL_LOCKS", "0");
}

/* Subcommands that can run external diff drivers and textconv filters:
 * they always get --no-ext-diff --no-textconv. */
static int diff_command(const char *cmd)
{
	return !strcmp(cmd, "diff") || !strcmp(cmd, "show") || !strcmp(cmd, "log");
}

/*
 * 1 when the call may run without a warden (proc.h `direct`,
 * warden_direct): `add` and `commit`, which with the hardening above and
 * the drivers blanked (extra) start no process (no hook, fsmonitor, filter,
 * gc, maintenance, signing, editor), but for a populated submodule, whose
 * status git asks another git for (is_submodule_modified): so only when
 * tree's index lists no gitlink (git_index_plain; an index git_index.c
 * cannot read exactly keeps the warden).  Without the warden loopgate's
 * death still kills the call (PR_SET_PDEATHSIG) and the run lock is held
 * until it is dead; what goes is a fork of loopgate and two wake-ups per
 * call.  docs/design/fast.md, session 13.
 *
 * background: git_start's call, the scan after the gates (`ls-files
 * --others`), which reads the index and walks the tree, and starts no
 * process either (no --recurse-submodules; session 14).  Its synchronous
 * calls keep their warden.
 */
static int starts_nothing(const char *dir, const char *const *args, int background)
{
	size_t i = 0, j;

	while (args[i] && !strcmp(args[i], "-c") && args[i + 1])
		i += 2;
	if (!args[i])
		return 0;
	if (background && !strcmp(args[i], "ls-files")) {
		for (j = i + 1; args[j]; j++)
			if (!strncmp(args[j], "--recurse-submodules", 20))
				return 0;
	} else if (strcmp(args[i], "add") && strcmp(args[i], "commit")) {
		return 0;
	}
	return git_index_plain(dir);
}

/* The options of one git call: the fixed hardening, extra (may be NULL)
 * and args; *argv and env are the caller's to free. */
void git_opts(const char *dir, const char *const *extra, const char *const *args,
	      const char *stdin_path, struct proc_opts *o, const char ***argv,
	      struct proc_env *env)
{
	size_t n = 0, i, cap = 1;

	for (i = 0; hardening[i]; i++)
		cap++;
	for (i = 0; extra && extra[i]; i++)
		cap++;
	for (i = 0; args[i]; i++)
		cap++;
	*argv = xcalloc(cap + 3, sizeof(**argv));
	(*argv)[n++] = "git";
	for (i = 0; hardening[i]; i++)
		(*argv)[n++] = hardening[i];
	for (i = 0; extra && extra[i]; i++)
		(*argv)[n++] = extra[i];
	for (i = 0; args[i]; i++) {
		(*argv)[n++] = args[i];
		if (i == 0 && diff_command(args[0])) {
			(*argv)[n++] = "--no-ext-diff";
			(*argv)[n++] = "--no-textconv";
		}
	}
	(*argv)[n] = NULL;
	git_env(env);
	o->argv = *argv;
	o->cwd = dir;
	o->env = (const char *const *)env->v;
	o->stdin_path = stdin_path;
	o->max_output = 64u << 20;
	o->no_interrupt = 1; /* short and must complete: state depends on it */
	o->direct = starts_nothing(dir, args, 0);
	o->timeout_ms = 10 * 60 * 1000;
	if (fault_active()) { /* kill:git (every call) or kill:git.SUBCOMMAND */
		char point[64];
		snprintf(point, sizeof(point), "git.%.50s", args[0]);
		o->fault_kill = fault_kill_due("git") | fault_kill_due(point);
	}
}

struct git_pending {
	struct proc_pending *p;
	long timeout_ms;
	char cmd[64];
	int ret; /* the spawn's, when it failed */
	struct buf why;
};

/* git_exec in two halves (git_begin, git_end). */
static struct git_pending *git_exec_begin(const char *dir, const char *const *extra,
					  const char *const *args)
{
	struct git_pending *g = xcalloc(1, sizeof(*g));
	const char **argv;
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_env env = PROC_ENV_INIT;

	buf_init(&g->why, 0);
	git_opts(dir, extra, args, NULL, &o, &argv, &env);
	g->timeout_ms = o.timeout_ms;
	snprintf(g->cmd, sizeof(g->cmd), "%s", args[0]);
	g->ret = proc_begin(&o, &g->p, &g->why);
	proc_env_release(&env);
	free(argv);
	return g;
}

struct git_pending *git_begin(const char *dir, const char *const *args)
{
	struct strlist x = {NULL, 0};
	struct git_pending *g;
	struct buf why = BUF_INIT;
	int ret = git_cached_overrides(dir, &x, NULL, &why);

	if (ret == 0) {
		g = git_exec_begin(dir, (const char *const *)x.v, args);
	} else {
		g = xcalloc(1, sizeof(*g));
		g->ret = ret;
		g->why = why;
		buf_init(&why, 0);
	}
	strlist_clear(&x);
	buf_release(&why);
	return g;
}

int git_end(struct git_pending *g, struct buf *out, struct buf *err)
{
	struct proc_result r = PROC_RESULT_INIT;
	int ret = g->ret;

	if (ret < 0) {
		err_set(err, ret, "%s", g->why.s);
	} else {
		ret = proc_end(g->p, &r, err);
		if (ret == 0)
			ret = git_exit_status(&r, g->timeout_ms, g->cmd, err);
		if (ret == 0 && out)
			buf_add(out, r.out.s, r.out.len);
		proc_result_release(&r);
	}
	buf_release(&g->why);
	free(g);
	return ret;
}

struct git_pending *git_dirty_begin(const char *dir)
{
	static const char *const args[] = {"status", "--porcelain",
					   "--untracked-files=no", NULL};
	return git_begin(dir, args);
}

int git_dirty_end(struct git_pending *g, struct buf *err)
{
	struct buf out = BUF_INIT;
	int ret = git_end(g, &out, err);
	if (ret == 0)
		ret = out.len > 0;
	buf_release(&out);
	return ret;
}

int git_start(const char *dir, const char *const *args, const char *out_path,
	      const char *err_path, pid_t *pid, struct buf *err)
{
	struct strlist x = {NULL, 0};
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_env env = PROC_ENV_INIT;
	const char **argv;
	int ret = git_cached_overrides(dir, &x, NULL, err);

	if (ret < 0) {
		strlist_clear(&x);
		return ret;
	}
	git_opts(dir, (const char *const *)x.v, args, NULL, &o, &argv, &env);
	o.output_path = out_path;
	o.error_path = err_path;
	/* as a brief proc_start takes them: no cap, timeout or fault kill */
	o.max_output = 0;
	o.timeout_ms = 0;
	o.no_interrupt = 0;
	o.fault_kill = 0;
	o.brief = 1;
	/* no warden when git starts nothing: *pid is git's own, in a session
	 * of its own (kill(-*pid) reaches it), dying with loopgate */
	o.direct = starts_nothing(dir, args, 1);
	ret = proc_start(&o, pid, err);
	proc_env_release(&env);
	free(argv);
	strlist_clear(&x);
	return ret;
}
