/*
 * auditkey.c: the audit signing key as every command finds it (auditkey.h).
 */
#include "engine/auditkey.h"
#include "config/config.h"
#include "record/checkpoint.h"
#include "record/rundir.h"
#include "tree/git.h"

#include <sys/stat.h>

#include <stdlib.h>

/*
 * The repository whose config names the key.  A run's directory names its
 * repository in its path (record/rundir.h): no git process needed to ask,
 * which is the whole cost of writing handoff.md at a run's end.
 */
static int key_top(const char *dir, struct buf *top, struct buf *why)
{
	char *repo = dir ? rundir_repo_of(dir) : NULL, *dotgit;
	struct stat st;
	int ok = 0;

	if (repo) {
		dotgit = xasprintf("%s/.git", repo);
		ok = stat(dotgit, &st) == 0;
		free(dotgit);
	}
	if (ok)
		buf_sets(top, repo);
	free(repo);
	return ok ? 0 : git_toplevel(dir ? dir : ".", top, why);
}

int auditkey_load(const char *dir, const char *explicit_path, struct checkpoint_key *k,
		  struct buf *err)
{
	struct buf top = BUF_INIT, why = BUF_INIT;
	struct config c;
	const char *env = getenv(CHECKPOINT_KEY_ENV);
	char *path = NULL;
	int ret = 0;

	config_init(&c);
	if (explicit_path) {
		path = xstrdup(explicit_path);
	} else {
		if ((!env || !*env) && key_top(dir, &top, &why) == 0 &&
		    (ret = config_load_default(&c, top.s, NULL, &why)) < 0)
			err_set(err, ret,
				"%s (the audit key's path is read from "
				"audit_key: in it; pass --key FILE to name the key "
				"instead)",
				why.s);
		if (ret == 0)
			ret = checkpoint_key_path(c.audit_key, NULL, &path, err);
	}
	if (ret == 0)
		ret = checkpoint_key_load(k, path, 0, err);
	free(path);
	config_release(&c);
	buf_release(&top);
	buf_release(&why);
	return ret;
}
