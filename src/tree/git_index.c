/*
 * git_index.c: the tracked paths whose stat data differ from what the
 * index recorded, read off the index file itself instead of a `git
 * diff-files` process.  See git_index_dirty in git_impl.h.
 *
 * The list is what diff-files names, or more, never less: every stat field
 * git records is compared (git skips some by configuration and by build:
 * nanoseconds, the device), and an entry git would check by content (racily
 * clean: changed in the second the index was written, or later) is hashed
 * here as git hashes it, without filters (a filtered file that differs from
 * its blob in bytes is named).  Anything this reader does not expect (a
 * gitlink, a sparse or split index, a skip-worktree entry, a malformed
 * file) gives up, and the caller asks git.
 */
#include "tree/git.h"
#include "tree/git_impl.h"
#include "base/crypto_api.h"
#include "base/saferead.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_MAX   (512u << 20) /* a larger index: let git read it */
#define RACY_MAX    (64u << 20)	 /* a larger racy file is named, not hashed */
#define SHA1_LEN    20
#define ENTRY_FIXED 62 /* stat data, id and flags of an on-disk entry */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* git's varint (index v4 path prefixes); -1 when short or too large. */
static int varint(const unsigned char **p, const unsigned char *end, size_t *out)
{
	const unsigned char *b = *p;
	uint64_t val;
	unsigned char c;

	if (b >= end)
		return -1;
	c = *b++;
	val = c & 127;
	while (c & 128) {
		if (b >= end || (++val & ~(UINT64_MAX >> 7)))
			return -1;
		c = *b++;
		val = (val << 7) + (c & 127);
	}
	if (val > SIZE_MAX)
		return -1;
	*p = b;
	*out = (size_t)val;
	return 0;
}

/* 1 when the regular file rel of tree holds exactly the blob id. */
static int same_blob(const char *tree, const char *rel, off_t size,
		     const unsigned char *id)
{
	struct buf b = BUF_INIT;
	char head[48];
	unsigned char md[64];
	unsigned int n = 0;
	const EVP_MD *sha1;
	EVP_MD_CTX *c;
	int same = 0, hl;

	if (size < 0 || (uint64_t)size > RACY_MAX || crypto_api_load(NULL) < 0 ||
	    !(sha1 = CR.EVP_get_digestbyname("SHA1")))
		return 0;
	if (saferead_tree(tree, rel, RACY_MAX, 0, &b, NULL, NULL) < 0 ||
	    b.len != (size_t)size) {
		buf_release(&b);
		return 0;
	}
	hl = snprintf(head, sizeof(head), "blob %zu", b.len) + 1; /* with its NUL */
	if ((c = CR.EVP_MD_CTX_new())) {
		same = CR.EVP_DigestInit_ex(c, sha1, NULL) &&
		       CR.EVP_DigestUpdate(c, head, (size_t)hl) &&
		       CR.EVP_DigestUpdate(c, b.s, b.len) &&
		       CR.EVP_DigestFinal_ex(c, md, &n) && n == SHA1_LEN &&
		       !memcmp(md, id, SHA1_LEN);
		CR.EVP_MD_CTX_free(c);
	}
	buf_release(&b);
	return same;
}

/*
 * 1 when git could see entry e (on-disk bytes) as changed: the path gone or
 * of another type, any recorded stat field different, or racily clean (its
 * mtime in the index's second or later) with other content than its blob.
 */
static int entry_changed(const char *tree, const char *rel, const unsigned char *e,
			 uint32_t index_sec)
{
	struct stat st;
	uint32_t mode = be32(e + 24);
	char *full = xasprintf("%s/%s", tree, rel);
	int r = lstat(full, &st);

	free(full);
	if (r < 0)
		return 1;
	if ((mode & S_IFMT) == S_IFLNK
		    ? !S_ISLNK(st.st_mode)
		    : !S_ISREG(st.st_mode) || ((mode ^ st.st_mode) & 0100))
		return 1;
	if (be32(e) != (uint32_t)st.st_ctim.tv_sec ||
	    be32(e + 4) != (uint32_t)st.st_ctim.tv_nsec ||
	    be32(e + 8) != (uint32_t)st.st_mtim.tv_sec ||
	    be32(e + 12) != (uint32_t)st.st_mtim.tv_nsec ||
	    be32(e + 16) != (uint32_t)st.st_dev || be32(e + 20) != (uint32_t)st.st_ino ||
	    be32(e + 28) != (uint32_t)st.st_uid || be32(e + 32) != (uint32_t)st.st_gid ||
	    be32(e + 36) != (uint32_t)st.st_size)
		return 1;
	if (be32(e + 8) < index_sec)
		return 0;
	/* racily clean: git compares the content; a symlink is just named */
	return S_ISLNK(st.st_mode) || !same_blob(tree, rel, st.st_size, e + 40);
}

/* The extensions after the entries, up to the trailer: -1 on a split
 * index ("link") or sparse directories ("sdir"), or a bad layout. */
static int extensions_ok(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		uint32_t sz;
		if ((size_t)(end - p) < 8 || !memcmp(p, "link", 4) ||
		    !memcmp(p, "sdir", 4))
			return -1;
		sz = be32(p + 4);
		if (sz > (size_t)(end - p) - 8)
			return -1;
		p += 8 + sz;
	}
	return 0;
}

/* What parse names. */
enum index_list {
	INDEX_DIRTY,   /* the paths git could see as changed (git_index_dirty) */
	INDEX_PATHS,   /* every path (git_index_paths); an unmerged one gives
			* up: ls-files names each stage */
	INDEX_CHECK,   /* INDEX_PATHS' checks, nothing named (git_index_plain) */
	INDEX_ENTRIES, /* INDEX_PATHS with each entry's mode and id
			* (git_index_entries) */
};

/* An entry as what lists it (INDEX_PATHS and on). */
static void list_entry(enum index_list what, const struct buf *name,
		       const unsigned char *e, struct buf *out)
{
	if (what != INDEX_CHECK)
		buf_add(out, name->s, name->len + 1);
	if (what == INDEX_ENTRIES) {
		buf_add(out, e + 24, 4); /* the mode, then the id */
		buf_add(out, e + 40, SHA1_LEN);
	}
}

static int parse(const char *tree, const unsigned char *d, size_t len, uint32_t index_sec,
		 enum index_list what, struct buf *out)
{
	const int all = what != INDEX_DIRTY;
	const unsigned char *p = d + 12, *end;
	struct buf name = BUF_INIT, last = BUF_INIT;
	uint32_t version, n;
	int ret = -1;

	if (len < 12 + SHA1_LEN || memcmp(d, "DIRC", 4))
		return -1;
	version = be32(d + 4);
	n = be32(d + 8);
	end = d + len - SHA1_LEN;
	if (version < 2 || version > 4)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *e = p, *s;
		size_t hdr = ENTRY_FIXED, nl;
		unsigned flags, xflags = 0;
		uint32_t mode;

		if ((size_t)(end - p) < ENTRY_FIXED + 2)
			goto out;
		flags = be16(e + 60);
		if (flags & 0x4000) { /* extended flags: v3 and later */
			if (version < 3)
				goto out;
			xflags = be16(e + 62);
			hdr += 2;
		}
		mode = be32(e + 24);
		/* skip-worktree (sparse), a gitlink, a sparse directory: git */
		if ((xflags & 0x4000) ||
		    ((mode & S_IFMT) != S_IFREG && (mode & S_IFMT) != S_IFLNK))
			goto out;
		s = e + hdr;
		if (version == 4) {
			size_t strip;
			if (varint(&s, end, &strip) < 0 || strip > name.len)
				goto out;
			buf_setlen(&name, name.len - strip);
		} else {
			buf_reset(&name);
		}
		nl = strnlen((const char *)s, (size_t)(end - s));
		if (s + nl >= end)
			goto out;
		buf_add(&name, s, nl);
		if (version == 4)
			p = s + nl + 1;
		else if ((flags & 0xfff) != 0xfff && (flags & 0xfff) != nl)
			goto out;
		else if ((size_t)(end - e) < ((hdr + nl + 8) & ~(size_t)7))
			goto out;
		else
			p = e + ((hdr + nl + 8) & ~(size_t)7);
		if (!name.len || name.s[0] == '/' || (all && (flags & 0x3000)))
			goto out;
		if (all) {
			list_entry(what, &name, e, out);
			continue;
		}
		/* an unmerged path (its stages are adjacent) is named once */
		if ((flags & 0x3000) ? strcmp(last.s, name.s) != 0
		    : (xflags & 0x2000) /* intent to add: git always names it */
			    ? 1
			    : entry_changed(tree, name.s, e, index_sec)) {
			buf_add(out, name.s, name.len + 1);
			buf_sets(&last, name.s);
		}
	}
	ret = extensions_ok(p, end);
out:
	buf_release(&name);
	buf_release(&last);
	return ret;
}

static int read_index(const char *tree, enum index_list what, struct buf *out)
{
	struct buf gd = BUF_INIT, data = BUF_INIT;
	struct stat st;
	size_t from = out->len;
	char *path;
	int fd, ret = -1;

	if (git_worktree_gitdir(tree, &gd) < 0) {
		buf_release(&gd);
		return -1;
	}
	path = xasprintf("%s/index", gd.s);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	free(path);
	buf_release(&gd);
	if (fd < 0)
		return -1;
	buf_init(&data, INDEX_MAX);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= INDEX_MAX &&
	    buf_read_fd(&data, fd) == 0 && data.len == (size_t)st.st_size)
		ret = parse(tree, (const unsigned char *)data.s, data.len,
			    (uint32_t)st.st_mtim.tv_sec, what, out);
	close(fd);
	buf_release(&data);
	if (ret < 0)
		buf_setlen(out, from);
	return ret;
}

int git_index_dirty(const char *tree, struct buf *out)
{
	return read_index(tree, INDEX_DIRTY, out);
}

int git_index_paths(const char *tree, struct buf *out)
{
	return read_index(tree, INDEX_PATHS, out);
}

int git_index_entries(const char *tree, struct buf *out)
{
	return read_index(tree, INDEX_ENTRIES, out);
}

/* One git_index_entries record: its path, and its mode and id (24 bytes
 * after the path's NUL); NULL at the end. */
static const char *entry_next(const struct buf *l, size_t *at, const unsigned char **mid)
{
	const char *p;
	size_t nl;

	if (*at >= l->len)
		return NULL;
	p = l->s + *at;
	nl = strlen(p);
	*mid = (const unsigned char *)p + nl + 1;
	*at += nl + 1 + 4 + SHA1_LEN;
	return p;
}

void git_index_changes(const struct buf *before, const struct buf *after,
		       struct buf *changed)
{
	const unsigned char *mb = NULL, *ma = NULL;
	size_t ib = 0, ia = 0;
	const char *b = entry_next(before, &ib, &mb), *a = entry_next(after, &ia, &ma);

	while (a || b) {
		/* both in the index's order: by the bytes of the path */
		int c = !a ? -1 : !b ? 1 : strcmp(b, a);
		const char *name = c <= 0 ? b : a;
		if (c != 0 || memcmp(mb, ma, 4 + SHA1_LEN))
			buf_add(changed, name, strlen(name) + 1);
		if (c <= 0)
			b = entry_next(before, &ib, &mb);
		if (c >= 0)
			a = entry_next(after, &ia, &ma);
	}
}

int git_index_plain(const char *tree)
{
	struct buf none = BUF_INIT;
	int ret = read_index(tree, INDEX_CHECK, &none);
	buf_release(&none);
	return ret == 0;
}

/*
 * 0 when the key (a `config --list` line, "key\nvalue") changes how git
 * compares a file's stat data with the index, or the index's format, or
 * how content is hashed: git_index.c then leaves the comparison to git.
 * core.filemode=true is every repository's default.
 */
int git_stat_key_plain(const char *kv, size_t keylen)
{
	static const char *const off[] = {"core.trustctime",
					  "core.checkstat",
					  "core.ignorestat",
					  "core.symlinks",
					  "core.splitindex",
					  "core.sparsecheckout",
					  "core.ignorecase",
					  "core.autocrlf",
					  "core.eol",
					  "core.precomposeunicode",
					  "core.filemode",
					  "index.",
					  "feature.",
					  "extensions.",
					  NULL};

	/* "key\nvalue", or "key" alone: a boolean true */
	if (keylen == 13 && !strncmp(kv, "core.filemode", 13) &&
	    (!kv[keylen] || !strcmp(kv + keylen + 1, "true")))
		return 1;
	for (size_t i = 0; off[i]; i++)
		if (!strncmp(kv, off[i], strlen(off[i])))
			return 0;
	return 1;
}

/*
 * What `git diff-files --name-only -z` names, read off the index when the
 * configuration is plain (git_index.c: the same paths or more), else asked
 * of git: one process less per actor turn.
 */
int git_diff_files(const char *tree, struct buf *out, struct buf *err)
{
	if (git_config_stat_plain(tree) && git_index_dirty(tree, out) == 0)
		return 0;
	return git_run(tree, out, err, "diff-files", "--name-only", "-z", "--no-ext-diff",
		       NULL);
}
