/*
 * git_remote.c: push and fetch with the user's own git configuration
 * (git_remote.h).
 */
#include "tree/git_remote.h"
#include "tree/git.h"
#include "exec/proc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TRANSFER_TIMEOUT_MS (10 * 60 * 1000)

int git_transfer(const char *dir, const char *const *args, struct buf *err)
{
	return git_transfer_out(dir, args, NULL, err);
}

int git_transfer_out(const char *dir, const char *const *args, struct buf *out,
		     struct buf *err)
{
	static const char *const pre[] = {
		"git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
		NULL};
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	struct proc_env env = PROC_ENV_INIT;
	const char *path = getenv("PATH"), *home = getenv("HOME");
	const char **argv;
	size_t n = 0, na = 0;
	int ret;

	while (args[na])
		na++;
	argv = xcalloc(na + 6, sizeof(*argv));
	for (size_t i = 0; pre[i]; i++)
		argv[n++] = pre[i];
	for (size_t i = 0; i < na; i++)
		argv[n++] = args[i];
	proc_env_set(&env, "PATH", path ? path : "/usr/bin:/bin");
	proc_env_set(&env, "HOME", home ? home : "/");
	proc_env_set(&env, "LC_ALL", "C");
	proc_env_set(&env, "GIT_TERMINAL_PROMPT", "0");
	o.argv = argv;
	o.cwd = dir;
	o.env = (const char *const *)env.v;
	o.timeout_ms = TRANSFER_TIMEOUT_MS;
	o.no_interrupt = 1;
	ret = proc_run(&o, &r, err);
	if (ret == 0)
		ret = git_exit_status(&r, o.timeout_ms, args[0], err);
	if (ret == 0 && out)
		buf_add(out, r.out.s ? r.out.s : "", r.out.len);
	proc_env_release(&env);
	proc_result_release(&r);
	free(argv);
	return ret;
}
