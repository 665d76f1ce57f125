/*
 * git_worktree.c: loopgate's detached worktrees (reverify, gate check) and
 * the worktree records (git.h).
 */
#include "tree/git.h"
#include "base/fileio.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

/* worktree add names the record after the tree's base name plus a number
 * when taken, so it is found by what it points to. */
void git_worktree_admin(const char *common, const char *tree, struct buf *out)
{
	char *dir = xasprintf("%s/worktrees", common), *want = xasprintf("%s/.git", tree);
	DIR *d = opendir(dir);
	struct dirent *e;

	buf_reset(out);
	while (d && (e = readdir(d))) {
		struct buf l = BUF_INIT;
		char *p;
		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s/gitdir", dir, e->d_name);
		if (fileio_read_line(p, &l) == 0 && !strcmp(l.s, want))
			buf_addf(out, "%s/%s", dir, e->d_name);
		free(p);
		buf_release(&l);
		if (out->len)
			break;
	}
	if (d)
		closedir(d);
	free(dir);
	free(want);
}

/*
 * Never `git worktree prune` here: it deletes every record without a gitdir
 * file, and a worktree that another loopgate process (a fan-out's worker,
 * another run in the same repository) is adding has none for a moment: that
 * add then fails ("could not open .git/worktrees/verify/gitdir").  Only the
 * record of the worktree at path is forgotten.
 */
static void forget_worktree(const char *repo, const char *path)
{
	struct buf common = BUF_INIT, admin = BUF_INIT;

	if (git_run(repo, &common, NULL, "rev-parse", "--path-format=absolute",
		    "--git-common-dir", NULL) == 0) {
		buf_rtrim(&common);
		git_worktree_admin(common.s, path, &admin);
		if (admin.len)
			fileio_remove_tree(admin.s);
	}
	buf_release(&common);
	buf_release(&admin);
}

int git_worktree_add_detached(const char *repo, const char *path, const char *rev,
			      struct buf *err)
{
	/* -f -f: a record of path left by a killed run does not stop it */
	return git_run(repo, NULL, err, "worktree", "add", "-q", "-f", "-f", "--detach",
		       path, rev, NULL);
}

int git_worktree_remove(const char *repo, const char *path, struct buf *err)
{
	int ret = git_run(repo, NULL, err, "worktree", "remove", "--force", "--force",
			  path, NULL);
	/* a half-made worktree is not one git knows: forget its record */
	if (ret < 0)
		forget_worktree(repo, path);
	return ret;
}
