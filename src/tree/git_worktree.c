/*
 * git_worktree.c: loopgate's detached worktrees (reverify, gate check) and
 * the worktree records (git.h).
 */
#include "tree/git.h"
#include "base/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int git_worktrees_lock(const char *repo)
{
	struct buf common = BUF_INIT;
	int fd = -1;

	if (git_common_dir(repo, &common, NULL) == 0) {
		char *p = xasprintf("%s/loopgate-worktrees.lock", common.s);
		fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		while (fd >= 0 && flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
		free(p);
	}
	buf_release(&common);
	return fd;
}

void git_worktrees_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* the flock goes with the last descriptor */
}

/* `git worktree ARGS...` in repo under the worktrees lock. */
static int worktree_locked(const char *repo, struct buf *err, const char *const *args)
{
	int fd = git_worktrees_lock(repo), ret = git_runv(repo, args, NULL, NULL, err);
	git_worktrees_unlock(fd);
	return ret;
}

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

	if (git_common_dir(repo, &common, NULL) == 0) {
		git_worktree_admin(common.s, path, &admin);
		if (admin.len)
			fileio_remove_tree(admin.s);
	}
	buf_release(&common);
	buf_release(&admin);
}

int git_worktree_add(const char *repo, const char *path, const char *branch,
		     const char *base, struct buf *err)
{
	const char *args[] = {"worktree", "add", "-q", "-b", branch, path, base, NULL};
	return worktree_locked(repo, err, args);
}

int git_worktree_checkout(const char *repo, const char *path, const char *branch,
			  struct buf *err)
{
	const char *args[] = {"worktree", "add", "-q", path, branch, NULL};
	return worktree_locked(repo, err, args);
}

int git_worktree_add_detached(const char *repo, const char *path, const char *rev,
			      struct buf *err)
{
	/* -f -f: a record of path left by a killed run does not stop it */
	const char *args[] = {"worktree", "add", "-q", "-f", "-f",
			      "--detach", path,	 rev,  NULL};
	return worktree_locked(repo, err, args);
}

int git_worktree_remove(const char *repo, const char *path, struct buf *err)
{
	const char *args[] = {"worktree", "remove", "--force", "--force", path, NULL};
	int ret = worktree_locked(repo, err, args);
	/* a half-made worktree is not one git knows: forget its record */
	if (ret < 0)
		forget_worktree(repo, path);
	return ret;
}
