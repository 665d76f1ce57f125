/*
 * git_guard.c: snapshot and restore of a worktree's git control files.
 * See git_guard.h.
 */
#include "tree/git_guard.h"
#include "tree/git_impl.h"
#include "base/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

enum { GG_MISSING, GG_FILE, GG_DIR, GG_LINK, GG_OTHER };

/* Control files are small; a bigger one is recorded by size and not kept. */
#define GG_MAX_FILE (64u << 20)

struct gg_entry {
	char *path;  /* absolute */
	char *label; /* as reported */
	int type;
	mode_t mode;
	struct buf data;    /* file content or link target */
	int is_dir_listing; /* 1: also watch the directory's children */
};

struct git_guard {
	struct gg_entry *e;
	size_t n;
};

static void gg_stat(const char *path, int *type, mode_t *mode, struct buf *data)
{
	struct stat st;
	buf_reset(data);
	*mode = 0;
	if (lstat(path, &st) < 0) {
		*type = GG_MISSING;
		return;
	}
	*mode = st.st_mode & 07777;
	if (S_ISREG(st.st_mode)) {
		*type = GG_FILE;
		if ((size_t)st.st_size <= GG_MAX_FILE)
			buf_read_file(data, path);
		else
			buf_addf(data, "\x01size %lld", (long long)st.st_size);
	} else if (S_ISDIR(st.st_mode)) {
		*type = GG_DIR;
	} else if (S_ISLNK(st.st_mode)) {
		char t[PATH_MAX];
		ssize_t k = readlink(path, t, sizeof(t));
		*type = GG_LINK;
		if (k > 0)
			buf_add(data, t, (size_t)k);
	} else {
		*type = GG_OTHER;
	}
}

static void gg_add(struct git_guard *g, const char *path, const char *label, int listing)
{
	struct gg_entry *e;
	g->e = xrealloc(g->e, (g->n + 1) * sizeof(*g->e));
	e = &g->e[g->n++];
	memset(e, 0, sizeof(*e));
	e->path = xstrdup(path);
	e->label = xstrdup(label);
	e->is_dir_listing = listing;
	buf_init(&e->data, 0);
	gg_stat(path, &e->type, &e->mode, &e->data);
}

/* Adds dir/name for every name in dir (sorted order is not needed). */
static void gg_add_children(struct git_guard *g, const char *dir, const char *label)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *p, *l;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		l = xasprintf("%s/%s", label, de->d_name);
		gg_add(g, p, l, 0);
		free(p);
		free(l);
	}
	closedir(d);
}

struct git_guard *git_guard_snapshot(const char *tree, struct buf *err)
{
	static const char *const wt_files[] = {"HEAD", "commondir", "gitdir",
					       "config.worktree", NULL};
	static const char *const common_files[] = {
		"config", "config.worktree", "info/attributes", "info/exclude", NULL};
	struct git_guard *g = xcalloc(1, sizeof(*g));
	struct buf l = BUF_INIT, gitdir = BUF_INIT, common = BUF_INIT;
	char *p, *q;
	size_t i;

	p = xasprintf("%s/.git", tree);
	gg_add(g, p, p, 0);
	if (fileio_read_line(p, &l) < 0 || strncmp(l.s, "gitdir: ", 8)) {
		free(p);
		buf_release(&l);
		git_guard_free(g);
		err_set(err, -EINVAL, "%s/.git is not a worktree's gitdir link", tree);
		return NULL;
	}
	free(p);
	buf_sets(&gitdir, l.s + 8);
	git_common_dir_of(gitdir.s, &l);
	q = xstrdup(l.s);
	p = realpath(q, NULL);
	buf_sets(&common, p ? p : q);
	free(p);
	free(q);
	{
		char *gd = realpath(gitdir.s, NULL);
		if (gd) {
			buf_sets(&gitdir, gd);
			free(gd);
		}
	}
	for (i = 0; wt_files[i]; i++) {
		size_t cl = common.len;
		const char *rel = !strncmp(gitdir.s, common.s, cl) && gitdir.s[cl] == '/'
					  ? gitdir.s + cl + 1
					  : gitdir.s;
		p = xasprintf("%s/%s", gitdir.s, wt_files[i]);
		q = xasprintf(".git/%s/%s", rel, wt_files[i]);
		gg_add(g, p, q, 0);
		free(p);
		free(q);
	}
	for (i = 0; common_files[i]; i++) {
		p = xasprintf("%s/%s", common.s, common_files[i]);
		q = xasprintf(".git/%s", common_files[i]);
		gg_add(g, p, q, 0);
		free(p);
		free(q);
	}
	p = xasprintf("%s/hooks", common.s);
	gg_add(g, p, ".git/hooks", 1);
	gg_add_children(g, p, ".git/hooks");
	free(p);
	buf_release(&l);
	buf_release(&gitdir);
	buf_release(&common);
	return g;
}

/* Puts e back as recorded. */
static int gg_restore(const struct gg_entry *e, struct buf *err)
{
	int ret = 0, fd;
	if (e->type == GG_DIR) {
		struct stat st;
		if (lstat(e->path, &st) == 0 && S_ISDIR(st.st_mode))
			return chmod(e->path, e->mode) < 0 ? -errno : 0;
	}
	if ((ret = fileio_remove_tree(e->path)) < 0)
		return err_set(err, ret, "could not remove %s: %s", e->path,
			       strerror(-ret));
	switch (e->type) {
	case GG_MISSING:
		return 0;
	case GG_DIR:
		ret = mkdir(e->path, e->mode) < 0 ? -errno : 0;
		break;
	case GG_LINK:
		ret = symlink(e->data.s ? e->data.s : "", e->path) < 0 ? -errno : 0;
		break;
	case GG_FILE:
		fd = open(e->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  e->mode);
		if (fd < 0) {
			ret = -errno;
			break;
		}
		if (e->data.len &&
		    write(fd, e->data.s, e->data.len) != (ssize_t)e->data.len)
			ret = -EIO;
		if (fchmod(fd, e->mode) < 0 && !ret)
			ret = -errno;
		close(fd);
		break;
	default:
		ret = -ENOTSUP; /* a fifo or device was never recorded as wanted */
	}
	if (ret < 0)
		return err_set(err, ret, "could not restore %s: %s", e->path,
			       strerror(-ret));
	return 0;
}

static const char *gg_what(const struct gg_entry *e, int type, mode_t mode,
			   const struct buf *data)
{
	if (e->type == GG_MISSING)
		return type == GG_MISSING ? NULL : "created";
	if (type == GG_MISSING)
		return "deleted";
	if (type == GG_LINK && e->type != GG_LINK)
		return "replaced by a symlink";
	if (type != e->type)
		return "replaced by another kind of file";
	if (data->len != e->data.len ||
	    (data->len && memcmp(data->s, e->data.s, data->len)))
		return e->type == GG_LINK ? "symlink retargeted" : "modified";
	if (mode != e->mode)
		return "mode changed";
	return NULL;
}

/* Bytes of what was found kept in a change record (the audit's evidence). */
#define GG_EVIDENCE 4096

/* 1 when the line [l, l+n) is a whole line of text. */
static int has_line(const struct buf *text, const char *l, size_t n)
{
	const char *p = text->s, *end = text->s + text->len;
	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (len == n && !memcmp(p, l, n))
			return 1;
		p = eol ? eol + 1 : NULL;
	}
	return 0;
}

/*
 * Appends "label\0what\0found\0": found is what stands at path now (a
 * link's target; a file's lines, only those the recorded content lacks
 * when there was one, so that the user's own configuration, which may
 * hold credentials, is not copied into the log), NULs made printable.
 */
static void gg_note(struct buf *changes, const char *label, const char *what,
		    const char *path, const struct buf *was)
{
	struct buf now = BUF_INIT, ev = BUF_INIT;
	struct stat st;
	size_t i, n;

	buf_add(changes, label, strlen(label) + 1);
	buf_add(changes, what, strlen(what) + 1);
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		buf_read_file(&now, path);
	} else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		char t[PATH_MAX];
		ssize_t k = readlink(path, t, sizeof(t));
		buf_adds(&now, "-> ");
		if (k > 0)
			buf_add(&now, t, (size_t)k);
	}
	if (was && was->len && S_ISREG(st.st_mode)) {
		const char *p = now.s, *end = now.s + now.len;
		while (p && p < end) {
			const char *eol = memchr(p, '\n', (size_t)(end - p));
			size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
			if (!has_line(was, p, len)) {
				buf_add(&ev, p, len);
				buf_addch(&ev, '\n');
			}
			p = eol ? eol + 1 : NULL;
		}
	} else {
		buf_add(&ev, now.s, now.len);
	}
	n = ev.len < GG_EVIDENCE ? ev.len : GG_EVIDENCE;
	for (i = 0; i < n; i++)
		buf_addch(changes, ev.s[i] ? ev.s[i] : '?');
	if (ev.len > n)
		buf_addf(changes, "\n[... %zu more bytes]", ev.len - n);
	buf_addch(changes, '\0');
	buf_release(&now);
	buf_release(&ev);
}

int git_guard_check(struct git_guard *g, struct buf *changes, struct buf *err)
{
	struct buf data = BUF_INIT;
	size_t i, j;
	int n = 0, ret = 0, type;
	mode_t mode;

	for (i = 0; ret == 0 && i < g->n; i++) {
		const struct gg_entry *e = &g->e[i];
		const char *what;
		gg_stat(e->path, &type, &mode, &data);
		what = gg_what(e, type, mode, &data);
		if (what) {
			gg_note(changes, e->label, what, e->path,
				e->type == GG_FILE ? &e->data : NULL);
			n++;
			ret = gg_restore(e, err);
		}
		if (ret == 0 && e->is_dir_listing && e->type == GG_DIR) {
			DIR *d = opendir(e->path);
			struct dirent *de;
			while (d && (de = readdir(d))) {
				char *p;
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				p = xasprintf("%s/%s", e->path, de->d_name);
				for (j = 0; j < g->n; j++)
					if (!strcmp(g->e[j].path, p))
						break;
				if (j == g->n) {
					char *l = xasprintf("%s/%s", e->label,
							    de->d_name);
					gg_note(changes, l, "created", p, NULL);
					free(l);
					n++;
					if ((ret = fileio_remove_tree(p)) < 0)
						err_set(err, ret,
							"could not remove %s: %s", p,
							strerror(-ret));
				}
				free(p);
				if (ret < 0)
					break;
			}
			if (d)
				closedir(d);
		}
	}
	buf_release(&data);
	return ret < 0 ? ret : n;
}

void git_guard_free(struct git_guard *g)
{
	size_t i;
	if (!g)
		return;
	for (i = 0; i < g->n; i++) {
		free(g->e[i].path);
		free(g->e[i].label);
		buf_release(&g->e[i].data);
	}
	free(g->e);
	free(g);
}
