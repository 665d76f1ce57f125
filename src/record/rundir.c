/*
 * rundir.c: the paths of a run's directory (rundir.h).
 */
#include "record/rundir.h"
#include "base/buf.h"

#include <assert.h>
#include <stdio.h>

char *rundir_runs(const char *repo)
{
	return xasprintf("%s/.loopgate/runs", repo);
}

char *rundir_path(const char *repo, const char *id)
{
	return xasprintf("%s/.loopgate/runs/%s", repo, id);
}

char *rundir_tree(const char *run_dir)
{
	return xasprintf("%s/tree", run_dir);
}

char *rundir_branch(const char *id)
{
	return xasprintf("loopgate/%s", id);
}

char *rundir_file(const char *run_dir, const char *name)
{
	return xasprintf("%s/%s", run_dir, name);
}

char *rundir_run_file(const char *repo, const char *id, const char *name)
{
	return xasprintf("%s/.loopgate/runs/%s/%s", repo, id, name);
}

void rundir_iter_name(char *dir, size_t size, long n)
{
	assert(n >= 0); /* iterations count from 1; 0 is the baseline */
	if (n > 0)
		snprintf(dir, size, "iter-%03ld", n);
	else
		snprintf(dir, size, "baseline");
}

char *rundir_iter(const char *run_dir, long n, const char *name)
{
	char dir[32];
	rundir_iter_name(dir, sizeof(dir), n);
	return name ? xasprintf("%s/%s/%s", run_dir, dir, name)
		    : xasprintf("%s/%s", run_dir, dir);
}

char *rundir_check(const char *repo, const char *id)
{
	return xasprintf("%s/.loopgate/check/%s", repo, id);
}

char *rundir_state(const char *repo, const char *name)
{
	return xasprintf("%s/.loopgate/%s", repo, name);
}
