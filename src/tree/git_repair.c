/*
 * git_repair.c: a killed run's worktree repaired.  See git_repair.h and
 * docs/design/resume-setup.md.
 */
#include "tree/git_repair.h"
#include "base/crypto_api.h"
#include "tree/git.h"
#include "base/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Hashes the file's first len bytes with md into out; 0 or -errno. */
static int hash_prefix(int fd, const EVP_MD *md, off_t len, unsigned char *out)
{
	EVP_MD_CTX *c = CR.EVP_MD_CTX_new();
	unsigned char b[65536];
	off_t at = 0;
	int ret = 0;

	if (!c || !CR.EVP_DigestInit_ex(c, md, NULL))
		ret = -ENOMEM;
	while (ret == 0 && at < len) {
		size_t want = len - at < (off_t)sizeof(b) ? (size_t)(len - at)
							  : sizeof(b);
		ssize_t n = pread(fd, b, want, at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = n < 0 ? -errno : -EBADMSG;
		else if (!CR.EVP_DigestUpdate(c, b, (size_t)n))
			ret = -ENOMEM;
		else
			at += n;
	}
	if (ret == 0 && !CR.EVP_DigestFinal_ex(c, out, NULL))
		ret = -ENOMEM;
	CR.EVP_MD_CTX_free(c);
	return ret;
}

int git_index_check(const char *path)
{
	static const struct {
		const char *name;
		size_t len;
	} algos[] = {{"SHA1", 20}, {"SHA256", 32}};
	unsigned char head[12], want[32], got[64];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK),
	    ret = -EBADMSG;
	uint32_t version;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 12 + 20 ||
	    pread(fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    memcmp(head, "DIRC", 4))
		goto out;
	version = (uint32_t)head[4] << 24 | (uint32_t)head[5] << 16 |
		  (uint32_t)head[6] << 8 | head[7];
	if (version < 2 || version > 4)
		goto out;
	if (crypto_api_load(NULL) < 0) {
		ret = 0; /* cannot check: not a reason to rebuild an index */
		goto out;
	}
	/* the repository's hash is not known here: either trailer will do */
	for (size_t i = 0; ret == -EBADMSG && i < sizeof(algos) / sizeof(*algos); i++) {
		const EVP_MD *md = CR.EVP_get_digestbyname(algos[i].name);
		off_t body = st.st_size - (off_t)algos[i].len;
		if (!md || body < 12 ||
		    pread(fd, want, algos[i].len, body) != (ssize_t)algos[i].len)
			continue;
		if (hash_prefix(fd, md, body, got) == 0 &&
		    !memcmp(got, want, algos[i].len))
			ret = 0;
	}
out:
	close(fd);
	return ret;
}

static void note(struct buf *did, const char *what)
{
	buf_addf(did, "%s%s", did->len ? "; " : "", what);
}

/* Removes path when it exists; notes it in did as what. */
static void drop(const char *path, struct buf *did, const char *what)
{
	if (unlink(path) == 0)
		note(did, what);
}

/* The worktree was never finished: remove what there is, make it again. */
static int remake(const char *repo, const char *tree, const char *branch,
		  const char *head, const char *admin, struct buf *did, struct buf *err)
{
	struct buf sha = BUF_INIT;
	char *ref = xasprintf("refs/heads/%s", branch);
	int ret;

	if (*admin) { /* an unfinished add stays locked, and prune spares it */
		char *locked = xasprintf("%s/locked", admin);
		drop(locked, did,
		     "cleared the 'initializing' lock of an interrupted "
		     "worktree add");
		free(locked);
	}
	fileio_remove_tree(tree);
	/* its own record only: `worktree prune` would also delete the
	 * half-made record of a worktree another run is adding right now */
	if (*admin)
		fileio_remove_tree(admin);
	note(did, "made the worktree again (it was never finished)");
	if (git_rev(repo, ref, &sha, NULL) == 0)
		ret = git_worktree_checkout(repo, tree, branch, err);
	else
		ret = git_worktree_add(repo, tree, branch, head, err);
	free(ref);
	buf_release(&sha);
	return ret;
}

/* Repairs inside a worktree whose administrative directory exists. */
static int repair_admin(const char *repo, const char *common, const char *branch,
			const char *head, const char *admin, struct buf *did,
			struct buf *err)
{
	struct buf l = BUF_INIT, sha = BUF_INIT;
	char *p, *want = xasprintf("ref: refs/heads/%s", branch);
	char *ref = xasprintf("refs/heads/%s", branch);
	int ret = 0;

	p = xasprintf("%s/locked", admin);
	if (fileio_read_line(p, &l) == 0 && !strncmp(l.s, "initializing", 12))
		drop(p, did,
		     "cleared the 'initializing' lock of an interrupted worktree add");
	free(p);
	p = xasprintf("%s/index.lock", admin);
	drop(p, did, "removed a stale index.lock");
	free(p);
	p = xasprintf("%s/HEAD.lock", admin);
	drop(p, did, "removed a stale HEAD.lock");
	free(p);
	p = xasprintf("%s/%s.lock", common, ref);
	drop(p, did, "removed a stale branch ref lock");
	free(p);
	p = xasprintf("%s/HEAD", admin);
	if (fileio_read_line(p, &l) < 0 || strcmp(l.s, want)) {
		/* worktree add writes a null id first, then points it */
		char *line = xasprintf("%s\n", want);
		ret = fileio_write_atomic(p, line, strlen(line), err);
		free(line);
		note(did, "pointed the worktree's HEAD at the run branch");
	}
	free(p);
	if (ret == 0 && git_rev(repo, ref, &sha, NULL) < 0) {
		/* missing (never made), or a loose ref cut short by a crash */
		p = xasprintf("%s/%s", common, ref);
		drop(p, did, "removed a run branch ref that does not parse");
		free(p);
		ret = git_run(repo, NULL, err, "update-ref", ref, head, NULL);
		note(did, "set the run branch to the recorded head");
	}
	p = xasprintf("%s/index", admin);
	if (ret == 0 && git_index_check(p) == -EBADMSG)
		drop(p, did, "removed a damaged index (it is rebuilt from the head)");
	free(p);
	free(want);
	free(ref);
	buf_release(&l);
	buf_release(&sha);
	return ret;
}

/* 1 when the worktree is finished enough to repair in place: <tree>/.git
 * names the administrative directory, which has its HEAD and commondir. */
static int finished(const char *tree, const char *admin)
{
	struct buf l = BUF_INIT;
	struct stat st;
	char *dotgit = xasprintf("%s/.git", tree), *head = xasprintf("%s/HEAD", admin),
	     *cd = xasprintf("%s/commondir", admin);
	int ok = *admin && fileio_read_line(dotgit, &l) == 0 &&
		 !strncmp(l.s, "gitdir: ", 8) && !strcmp(l.s + 8, admin) &&
		 stat(head, &st) == 0 && stat(cd, &st) == 0;

	free(dotgit);
	free(head);
	free(cd);
	buf_release(&l);
	return ok;
}

int git_repair_worktree(const char *repo, const char *tree, const char *branch,
			const char *head, struct buf *did, struct buf *err)
{
	struct buf common = BUF_INIT, admin = BUF_INIT;
	int ret = git_common_dir(repo, &common, err);

	if (ret == 0) {
		git_worktree_admin(common.s, tree, &admin);
		if (finished(tree, admin.s))
			ret = repair_admin(repo, common.s, branch, head, admin.s, did,
					   err);
		else
			ret = remake(repo, tree, branch, head, admin.s, did, err);
	}
	buf_release(&common);
	buf_release(&admin);
	return ret;
}
