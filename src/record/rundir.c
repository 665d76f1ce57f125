/*
 * rundir.c: the paths of a run's directory (rundir.h).
 */
#include "record/rundir.h"
#include "base/buf.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

char *rundir_runs(const char *repo)
{
	return xasprintf("%s/.loopgate/runs", repo);
}

char *rundir_repo_of(const char *run_dir)
{
	static const char mid[] = "/.loopgate/runs/";
	size_t len = strlen(run_dir), m = sizeof(mid) - 1;
	const char *p, *id;

	while (len > 1 && run_dir[len - 1] == '/')
		len--;
	if (run_dir[0] != '/')
		return NULL;
	/* the last "/.loopgate/runs/" with one non-empty component after it */
	for (p = run_dir + len - 1; p > run_dir; p--)
		if (*p == '/')
			break;
	id = p + 1;
	if (p <= run_dir || (size_t)(p + 1 - run_dir) < m + 1 || id >= run_dir + len ||
	    memcmp(p + 1 - m, mid, m) || !strcmp(id, ".") || !strncmp(id, "..", 2))
		return NULL;
	return xstrndup(run_dir, (size_t)(p + 1 - m - run_dir));
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
