/*
 * git_worktree.c: loopgate's detached worktrees (reverify, gate check) and
 * the worktree records (git.h).
 */
#include "tree/git.h"
#include "base/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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

/* Writes text and a newline to path (created or truncated). */
static int write_line(const char *path, const char *text)
{
	struct buf b = BUF_INIT;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	buf_addf(&b, "%s\n", text);
	n = write(fd, b.s, b.len);
	if (n != (ssize_t)b.len)
		ret = n < 0 ? -errno : -EIO;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	buf_release(&b);
	return ret;
}

/* A repository whose worktrees git_worktree_add may make by hand: the
 * plain layout (<repo>/.git a directory, no GIT_* override) and a config
 * that names no extension (worktreeConfig, a ref storage, an object
 * format: what `worktree add` would have to honour).  The common dir, or
 * NULL. */
static char *plain_common(const char *repo)
{
	static const char *const env[] = {
		"GIT_DIR",	  "GIT_COMMON_DIR",	  "GIT_WORK_TREE",
		"GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", NULL};
	struct stat st;
	struct buf cfg = BUF_INIT;
	char *dot = xasprintf("%s/.git", repo), *p;
	int ok = repo[0] == '/' && lstat(dot, &st) == 0 && S_ISDIR(st.st_mode);

	for (size_t i = 0; ok && env[i]; i++)
		ok = !getenv(env[i]);
	p = xasprintf("%s/config", dot);
	if (ok && (ok = buf_read_file(&cfg, p) == 0))
		ok = !cfg.len ||
		     (!memchr(cfg.s, 0, cfg.len) && !strcasestr(cfg.s, "extensions"));
	free(p);
	buf_release(&cfg);
	if (!ok) {
		free(dot);
		return NULL;
	}
	return dot;
}

/* The record's name as `worktree add` chooses it: the tree's base name,
 * when it needs no sanitising. */
static const char *plain_name(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	if (!*b || *b == '.' ||
	    strspn(b, "abcdefghijklmnopqrstuvwxyz"
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(b))
		return NULL;
	return b;
}

/* The common dir when the worktree at path can be made by hand (a plain
 * repository, a plain name), else NULL. */
static char *by_hand_common(const char *repo, const char *path)
{
	return plain_name(path) ? plain_common(repo) : NULL;
}

/* A worktree being added (git_worktree_add_begin): what its end needs. */
struct git_worktree_pending {
	int lock_fd;
	char *path, *admin;	      /* admin: the record made by hand */
	struct git_pending *checkout; /* NULL: nothing left to wait for */
	int made_tree;
	int premade; /* path and an empty <path>/.git: git_worktree_premake */
};

/* As worktree add removes its junk when it fails. */
static void undo_by_hand(struct git_worktree_pending *w)
{
	if (w->made_tree)
		fileio_remove_tree(w->path);
	if (w->admin)
		fileio_remove_tree(w->admin);
}

/*
 * What `git worktree add -b BRANCH PATH BASE` does, in one git process
 * instead of four (worktree add starts `branch`, `symbolic-ref` and
 * `reset --hard`): the record <common>/worktrees/NAME made here as git
 * makes it (locked "initializing" while it is made; gitdir, commondir,
 * HEAD detached at base; <path>/.git), then `git checkout -f -b BRANCH
 * BASE` in the tree makes the branch, points HEAD at it and writes the
 * index and the files; the checkout is started here and waited for by
 * git_worktree_add_end.  An ordinary worktree: `worktree list/remove` and
 * git_repair know it (a kill at any step leaves what a killed `worktree
 * add` leaves).  1 when the repository is not plain (plain_common): the
 * caller asks `worktree add`.  Under the worktrees lock.
 */
static int add_by_hand(struct git_worktree_pending *w, const char *repo,
		       const char *branch, const char *base, struct buf *err)
{
	const char *args[] = {"checkout", "-q", "-f", "-b", branch, base, NULL};
	const char *path = w->path, *name = plain_name(path);
	char *common = by_hand_common(repo, path), *dir, *p;
	char real[PATH_MAX], areal[PATH_MAX];
	int ret = 0;

	if (!common && w->premade) /* the layout changed since the premake */
		return err_set(err, -EAGAIN,
			       "cannot make the worktree %s: the repository's layout "
			       "changed while the run started; run again",
			       path);
	if (!common)
		return 1;
	dir = xasprintf("%s/worktrees", common);
	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		ret = -errno;
	for (unsigned n = 0; ret == 0 && !w->admin; n++) {
		p = n ? xasprintf("%s/%s%u", dir, name, n)
		      : xasprintf("%s/%s", dir, name);
		if (mkdir(p, 0777) == 0)
			w->admin = p;
		else {
			ret = errno == EEXIST ? 0 : -errno;
			free(p);
		}
	}
	if (ret < 0)
		goto out;
	p = xasprintf("%s/locked", w->admin);
	ret = write_line(p, "initializing");
	free(p);
	if (ret == 0 && !w->premade && mkdir(path, 0777) < 0)
		ret = -errno;
	w->made_tree = w->premade || ret == 0;
	if (ret == 0 && (!realpath(path, real) || !realpath(w->admin, areal)))
		ret = -errno;
	if (ret == 0) { /* the order worktree add writes them in */
		char *dotgit = xasprintf("%s/.git", real), *line;
		p = xasprintf("%s/gitdir", w->admin);
		ret = write_line(p, dotgit);
		free(p);
		line = xasprintf("gitdir: %s", areal);
		if (ret == 0)
			ret = write_line(dotgit, line);
		free(line);
		free(dotgit);
	}
	if (ret == 0) {
		p = xasprintf("%s/commondir", w->admin);
		ret = write_line(p, "../..");
		free(p);
	}
	if (ret == 0) {
		p = xasprintf("%s/HEAD", w->admin);
		ret = write_line(p, base);
		free(p);
	}
	if (ret < 0) {
		err_set(err, ret, "cannot make the worktree %s: %s", path,
			strerror(-ret));
		goto out;
	}
	w->checkout = git_begin(path, args);
out:
	free(dir);
	free(common);
	return ret;
}

/* Lets the worktrees' lock go and frees w. */
static void pending_free(struct git_worktree_pending *w)
{
	git_worktrees_unlock(w->lock_fd);
	free(w->admin);
	free(w->path);
	free(w);
}

int git_worktree_premake(const char *repo, const char *path)
{
	char *common = by_hand_common(repo, path), *dot;
	int fd, ret = 0;

	if (!common)
		return 1;
	free(common);
	if (mkdir(path, 0777) < 0)
		return -errno;
	dot = xasprintf("%s/.git", path);
	if ((fd = open(dot, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) < 0) {
		ret = -errno;
		rmdir(path);
	} else {
		close(fd);
	}
	free(dot);
	return ret;
}

void git_worktree_premade_undo(const char *path)
{
	char *dot = xasprintf("%s/.git", path);

	unlink(dot);
	rmdir(path);
	free(dot);
}

int git_worktree_add_begin(const char *repo, const char *path, const char *branch,
			   const char *base, int premade,
			   struct git_worktree_pending **out, struct buf *err)
{
	const char *args[] = {"worktree", "add", "-q", "-b", branch, path, base, NULL};
	struct git_worktree_pending *w = xcalloc(1, sizeof(*w));
	int ret;

	*out = NULL;
	w->path = xstrdup(path);
	w->premade = w->made_tree = premade; /* removed when it fails */
	w->lock_fd = git_worktrees_lock(repo);
	ret = add_by_hand(w, repo, branch, base, err);
	if (ret > 0)
		ret = git_runv(repo, args, NULL, NULL, err);
	if (ret == 0) {
		*out = w;
		return 0;
	}
	undo_by_hand(w);
	pending_free(w);
	return ret;
}

int git_worktree_add_end(struct git_worktree_pending *w, struct buf *err)
{
	int ret = 0;

	if (!w)
		return 0;
	if (w->checkout)
		ret = git_end(w->checkout, NULL, err);
	if (ret == 0 && w->admin) {
		char *p = xasprintf("%s/locked", w->admin);
		unlink(p);
		free(p);
	} else if (ret < 0) {
		undo_by_hand(w);
	}
	pending_free(w);
	return ret;
}

int git_worktree_add(const char *repo, const char *path, const char *branch,
		     const char *base, struct buf *err)
{
	struct git_worktree_pending *w;
	int ret = git_worktree_add_begin(repo, path, branch, base, 0, &w, err);

	return ret < 0 ? ret : git_worktree_add_end(w, err);
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
