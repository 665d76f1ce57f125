/*
 * edits_path.c: whether an edit's path is safe to write, and where the
 * write must go (edits_check_path of edits.h, edits_path_resolve of
 * edits_impl.h).
 *
 * Paths come from the model's reply, so they are untrusted: relative to the
 * tree only, no "..", nothing through .git, and no symlink that leads out of
 * the tree or into its .git.  Every refusal says which component failed.
 */
#include "actor/edits.h"
#include "actor/edits_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- path safety -------------------------------------------------------- */

/*
 * TOCTOU stance: the checks below resolve every existing component right
 * before the write, and the write itself goes to the resolved real path.
 * Between the check and the rename another process could swap a directory
 * for a symlink; we accept that because the run tree is ours (a worktree
 * nobody else writes during apply).  The sandbox work will move this to
 * openat2(RESOLVE_BENEATH) once it exists.
 */

static int inside(const char *rroot, const char *p)
{
	size_t n = strlen(rroot);

	if (n == 1 && rroot[0] == '/')
		return p[0] == '/';
	return !strncmp(p, rroot, n) && (p[n] == '\0' || p[n] == '/');
}

/* 1 when some '/'-separated component of p equals name (".git" compared
 * case-insensitively: case-insensitive file systems exist). */
static int has_component(const char *p, const char *name, int nocase)
{
	size_t n = strlen(name);

	while (*p) {
		size_t c = strcspn(p, "/");
		if (c == n && (nocase ? !strncasecmp(p, name, n) : !strncmp(p, name, n)))
			return 1;
		p += c;
		while (*p == '/')
			p++;
	}
	return 0;
}

static int lexical_check(const char *rel, struct buf *why)
{
	if (!*rel)
		return err_set(why, -EPERM, "the path is empty");
	for (const char *c = rel; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return err_set(why, -EPERM,
				       "the path contains a control "
				       "character (byte 0x%02x%s)",
				       (unsigned char)*c,
				       *c == 1 ? ", or a NUL byte" : "");
	if (rel[0] == '/')
		return err_set(why, -EPERM,
			       "absolute paths are refused; paths "
			       "are relative to the repository root");
	if (has_component(rel, "..", 0))
		return err_set(why, -EPERM,
			       "paths with a '..' component are "
			       "refused");
	if (has_component(rel, ".git", 1))
		return err_set(why, -EPERM,
			       "paths through .git are refused "
			       "(git metadata is not editable)");
	return 0;
}

/* A resolved component must stay in the tree and out of its .git. */
static int check_resolved(const char *rroot, const char *real, const char *shown,
			  struct buf *why)
{
	if (!inside(rroot, real))
		return err_set(why, -EPERM,
			       "%s is a symlink to %s, outside the "
			       "tree",
			       shown, real);
	if (has_component(real + strlen(rroot), ".git", 1))
		return err_set(why, -EPERM,
			       "%s is a symlink into .git (git "
			       "metadata is not editable)",
			       shown);
	return 0;
}

/*
 * Checks the existing component cur (shown to the model as shown): a
 * symlink is resolved and must stay inside the tree, and cur becomes the
 * real path.  Sets *missing when cur does not exist.
 */
static int check_component(const char *rroot, struct buf *cur, const char *shown,
			   int last, int *missing, struct buf *why)
{
	struct stat st;
	char *real;
	int ret;

	if (lstat(cur->s, &st) < 0) {
		if (errno == ENOENT) {
			*missing = 1;
			return 0;
		}
		return err_set(why, -errno, "cannot check %s: %s", shown,
			       strerror(errno));
	}
	if (S_ISLNK(st.st_mode)) {
		real = realpath(cur->s, NULL);
		if (!real)
			return err_set(why, -EPERM,
				       "%s is a symlink that cannot "
				       "be resolved (%s)",
				       shown, strerror(errno));
		ret = check_resolved(rroot, real, shown, why);
		buf_sets(cur, real);
		free(real);
		if (ret < 0)
			return ret;
		if (stat(cur->s, &st) < 0)
			return err_set(why, -errno, "cannot check %s: %s", shown,
				       strerror(errno));
	}
	if (!last && !S_ISDIR(st.st_mode))
		return err_set(why, -ENOTDIR, "%s is not a directory", shown);
	if (last && S_ISDIR(st.st_mode))
		return err_set(why, -EISDIR, "%s is a directory", shown);
	return 0;
}

/*
 * Walks rel under the real root one component at a time, resolving symlinks
 * as it goes, and returns in *ret_target the real path the write must go to
 * (the target of a final symlink; missing components appended as given).
 */
int edits_path_resolve(const char *rroot, const char *rel, char **ret_target,
		       struct buf *why)
{
	struct buf cur = BUF_INIT, shown = BUF_INIT;
	const char *p = rel;
	int ret = lexical_check(rel, why), missing = 0;

	if (ret < 0)
		return ret;
	buf_adds(&cur, rroot);
	while (*p && ret == 0) {
		size_t c = strcspn(p, "/");
		if (c == 0 || (c == 1 && p[0] == '.')) {
			p += c + (p[c] == '/');
			continue;
		}
		if (cur.len != 1 || cur.s[0] != '/')
			buf_addch(&cur, '/');
		buf_add(&cur, p, c);
		buf_add(&shown, p - (shown.len ? 1 : 0), c + (shown.len ? 1 : 0));
		p += c;
		while (*p == '/')
			p++;
		if (!missing)
			ret = check_component(rroot, &cur, shown.s, !*p, &missing, why);
	}
	if (ret == 0 && !shown.len)
		ret = err_set(why, -EPERM, "the path names the tree root");
	buf_release(&shown);
	if (ret < 0) {
		buf_release(&cur);
		return ret;
	}
	*ret_target = buf_detach(&cur, NULL);
	return 0;
}

int edits_check_path(const char *root, const char *rel, struct buf *why)
{
	char *rroot, *target = NULL;
	int ret = lexical_check(rel, why);

	if (ret < 0)
		return ret;
	rroot = realpath(root, NULL);
	if (!rroot)
		return err_set(why, -errno, "cannot resolve the tree root %s: %s", root,
			       strerror(errno));
	ret = edits_path_resolve(rroot, rel, &target, why);
	free(target);
	free(rroot);
	return ret < 0 ? -EPERM : 0;
}
