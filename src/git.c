/*
 * git.c: hardened git invocations.  See git.h.
 */
#include "git.h"
#include "proc.h"
#include "fileio.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*
 * Configuration that must not come from the repository: hooks and
 * fsmonitor would execute programs the actor could have written, pagers
 * too.  External diff drivers and textconv filters are turned off per
 * command (--no-ext-diff --no-textconv): an empty diff.external would make
 * git try to execute "".  Repository-local filters are handled in
 * the sandbox issue; these cover the common execution paths.
 */
static const char *const hardening[] = {
	"-c", "core.hooksPath=/dev/null",
	"-c", "core.fsmonitor=false",
	"-c", "core.pager=cat",
	"-c", "core.sshCommand=false",
	"-c", "commit.gpgsign=false",
	"-c", "tag.gpgsign=false",
	"-c", "gc.auto=0",
	"-c", "maintenance.auto=false",
	"-c", "advice.detachedHead=false",
	"-c", "user.name=loopgate",
	"-c", "user.email=loopgate@localhost",
	"-c", "init.defaultBranch=main",
	NULL
};

static void git_env(struct proc_env *env)
{
	const char *path = getenv("PATH"), *home = getenv("HOME");
	proc_env_set(env, "PATH", path ? path : "/usr/bin:/bin");
	proc_env_set(env, "HOME", home ? home : "/");
	proc_env_set(env, "LC_ALL", "C");
	proc_env_set(env, "GIT_CONFIG_NOSYSTEM", "1");
	proc_env_set(env, "GIT_CONFIG_GLOBAL", "/dev/null");
	proc_env_set(env, "GIT_TERMINAL_PROMPT", "0");
	proc_env_set(env, "GIT_OPTIONAL_LOCKS", "0");
}

int git_runv(const char *dir, const char *const *args, const char *stdin_path,
	     struct buf *out, struct buf *err)
{
	const char *argv[96];
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	struct proc_env env = PROC_ENV_INIT;
	size_t n = 0, i;
	int ret;

	argv[n++] = "git";
	for (i = 0; hardening[i]; i++)
		argv[n++] = hardening[i];
	for (i = 0; args[i]; i++) {
		if (n + 2 > sizeof(argv) / sizeof(*argv))
			return err_set(err, -E2BIG, "git: too many arguments");
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	git_env(&env);
	o.argv = argv;
	o.cwd = dir;
	o.env = (const char *const *)env.v;
	o.stdin_path = stdin_path;
	o.max_output = 64u << 20;
	o.no_interrupt = 1;	/* short and must complete: state depends on it */
	o.timeout_ms = 10 * 60 * 1000;
	ret = proc_run(&o, &r, err);
	proc_env_release(&env);
	if (ret < 0)
		goto done;
	if (r.status != PROC_EXITED || r.exit_code != 0) {
		struct buf what = BUF_INIT;
		buf_rtrim(&r.err);
		proc_describe(&r, o.timeout_ms, &what);
		ret = err_set(err, -EIO, "git %s failed (%s): %s", args[0], what.s,
			      r.err.len ? r.err.s : "(no message)");
		buf_release(&what);
		goto done;
	}
	if (out)
		buf_add(out, r.out.s, r.out.len);
done:
	proc_result_release(&r);
	return ret;
}

int git_run(const char *dir, struct buf *out, struct buf *err, ...)
{
	const char *args[64];
	size_t n = 0;
	va_list ap;
	va_start(ap, err);
	while (n < 63 && (args[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	args[n] = NULL;
	return git_runv(dir, args, NULL, out, err);
}

int git_toplevel(const char *dir, struct buf *out, struct buf *err)
{
	int ret = git_run(dir, out, err, "rev-parse", "--show-toplevel", NULL);
	if (ret < 0)
		return err_set(err, ret, "%s is not inside a git work tree: "
			       "run loopgate in a repository (git init) or pass --dir",
			       dir);
	buf_rtrim(out);
	return 0;
}

int git_rev(const char *dir, const char *rev, struct buf *out, struct buf *err)
{
	int ret = git_run(dir, out, err, "rev-parse", "--verify", "-q", rev, NULL);
	buf_rtrim(out);
	return ret;
}

int git_is_dirty(const char *dir, struct buf *err)
{
	struct buf out = BUF_INIT;
	int ret = git_run(dir, &out, err, "status", "--porcelain",
			  "--untracked-files=no", NULL);
	if (ret == 0)
		ret = out.len > 0;
	buf_release(&out);
	return ret;
}

int git_worktree_add(const char *repo, const char *path, const char *branch,
		     const char *base, struct buf *err)
{
	return git_run(repo, NULL, err, "worktree", "add", "-q", "-b", branch,
		       path, base, NULL);
}

/*
 * add, commit, then one log for the sha and the changed files: three
 * processes in the common case.  "Nothing to commit" is told from a real
 * failure by `diff --cached --quiet`, run only when the commit failed.
 */
int git_commit_all(const char *tree, const char *msg, const char *excludes,
		   struct buf *changed, struct buf *sha, struct buf *err)
{
	char *opt = xasprintf("core.excludesFile=%s", excludes ? excludes : "/dev/null");
	struct buf out = BUF_INIT;
	size_t n;
	int ret = git_run(tree, NULL, err, "-c", opt, "add", "-A", ".", NULL);

	free(opt);
	if (ret < 0)
		return ret;
	ret = git_run(tree, NULL, err, "commit", "-q", "--no-verify",
		      "--allow-empty-message", "-m", msg, NULL);
	if (ret < 0) {
		struct buf err2 = BUF_INIT;
		int staged = git_run(tree, NULL, &err2, "diff", "--cached", "--quiet",
				     "--no-ext-diff", NULL);
		buf_release(&err2);
		return staged == 0 ? 0 : ret;	/* clean index: nothing changed */
	}
	ret = git_run(tree, &out, err, "log", "-1", "--format=%H", "-z",
		      "--name-only", "--no-renames", "--no-ext-diff", NULL);
	if (ret < 0)
		goto done;
	/* "SHA\0\nfile\0file\0" */
	n = strnlen(out.s, out.len);
	if (sha)
		buf_add(sha, out.s, n);
	if (n + 2 <= out.len)
		buf_add(changed, out.s + n + 2, out.len - n - 2);
done:
	buf_release(&out);
	return ret;
}

int git_restore(const char *tree, struct buf *err)
{
	int ret = git_run(tree, NULL, err, "reset", "-q", "--hard", "HEAD", NULL);
	if (ret < 0)
		return ret;
	return git_run(tree, NULL, err, "clean", "-q", "-fdx", NULL);
}

/* Escapes a path into a gitignore pattern matching exactly that path. */
static void add_pattern(struct buf *b, const char *path)
{
	const char *p;
	buf_addch(b, '/');
	for (p = path; *p; p++) {
		if (strchr("*?[]\\!# ", *p))
			buf_addch(b, '\\');
		buf_addch(b, *p);
	}
	buf_addch(b, '\n');
}

int git_scan_tree(const char *tree, const char *excludes, struct buf *tracked,
		  struct buf *err)
{
	struct buf out = BUF_INIT, lines = BUF_INIT;
	char *opt = xasprintf("core.excludesFile=%s", excludes);
	const char *p;
	int ret = git_run(tree, &out, err, "-c", opt, "ls-files", "-z", "-t",
			  "--cached", "--others", "--exclude-standard", NULL);
	free(opt);
	if (tracked)
		buf_reset(tracked);
	/* Each entry is "T path\0": H (and other letters) tracked, ? untracked. */
	for (p = out.s; ret == 0 && p + 2 < out.s + out.len; p += strlen(p) + 1) {
		if (p[0] == '?') {
			if (!strchr(p + 2, '\n'))
				add_pattern(&lines, p + 2);
		} else if (tracked) {
			buf_add(tracked, p + 2, strlen(p + 2) + 1);
		}
	}
	if (ret == 0 && lines.len)
		ret = fileio_append(excludes, lines.s, lines.len, err);
	buf_release(&out);
	buf_release(&lines);
	return ret;
}
