/*
 * git_files.c: what loopgate reads from a worktree's git files itself,
 * instead of asking a git process: HEAD's sha and its tree id.  Every
 * reader gives up (-1) on anything it does not expect, and the caller asks
 * git.  See git_impl.h.
 */
#include "tree/git.h"
#include "tree/git_impl.h"
#include "base/fileio.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

/* The worktree's git dir, from the "gitdir: " line of <tree>/.git, or
 * <tree>/.git itself when it is a directory (a main work tree). */
int git_worktree_gitdir(const char *tree, struct buf *out)
{
	struct stat st;
	struct buf l = BUF_INIT;
	char *path = xasprintf("%s/.git", tree);
	int ret;

	if (tree[0] == '/' && lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		buf_sets(out, path);
		free(path);
		return 0;
	}
	ret = fileio_read_line(path, &l) < 0 || strncmp(l.s, "gitdir: ", 8) ? -1 : 0;
	if (!ret)
		buf_sets(out, l.s + 8);
	free(path);
	buf_release(&l);
	return ret;
}

void git_common_dir_of(const char *gitdir, struct buf *out)
{
	struct buf l = BUF_INIT;
	char *cd = xasprintf("%s/commondir", gitdir);

	if (fileio_read_line(cd, &l) < 0)
		buf_sets(out, gitdir);
	else if (l.s[0] == '/')
		buf_sets(out, l.s);
	else {
		/* "../.." from a worktree's git dir: one spelling of the common
		 * dir, so that paths under it compare equal (the config files
		 * that key git.c's override cache) */
		char *joined = xasprintf("%s/%s", gitdir, l.s),
		     *real = realpath(joined, NULL);
		buf_sets(out, real ? real : joined);
		free(real);
		free(joined);
	}
	free(cd);
	buf_release(&l);
}

/*
 * HEAD's sha without a process: <tree>/.git names the worktree's git dir,
 * its HEAD names the branch, the loose ref in the common dir holds the sha
 * (we just committed, and gc is off, so the ref is loose).  -1 whenever any
 * step is not what we expect; the caller falls back to rev-parse.
 */
int git_head_from_files(const char *tree, struct buf *sha)
{
	struct buf l = BUF_INIT, gitdir = BUF_INIT, common = BUF_INIT;
	char *path = NULL;
	int ret = -1;

	if (git_worktree_gitdir(tree, &gitdir) < 0)
		goto out;
	path = xasprintf("%s/HEAD", gitdir.s);
	if (fileio_read_line(path, &l) < 0)
		goto out;
	if (l.len == 40 && strspn(l.s, "0123456789abcdef") == 40) {
		buf_add(sha, l.s, l.len); /* detached */
		ret = 0;
		goto out;
	}
	if (strncmp(l.s, "ref: refs/", 10))
		goto out;
	{
		char *ref = xstrdup(l.s + 5);
		git_common_dir_of(gitdir.s, &common);
		free(path);
		path = xasprintf("%s/%s", common.s, ref);
		free(ref);
	}
	if (fileio_read_line(path, &l) < 0 || l.len != 40 ||
	    strspn(l.s, "0123456789abcdef") != 40)
		goto out;
	buf_add(sha, l.s, l.len);
	ret = 0;
out:
	free(path);
	buf_release(&l);
	buf_release(&gitdir);
	buf_release(&common);
	return ret;
}

int git_head_is(const char *tree, const char *sha)
{
	struct buf head = BUF_INIT;
	int is = sha && git_head_from_files(tree, &head) == 0 && !strcmp(head.s, sha);

	buf_release(&head);
	return is;
}

/*
 * The tree id of commit sha, from its loose object in the common dir:
 * zlib("commit LEN\0tree HEX\n...").  A commit loopgate just made is
 * loose (gc is off); a packed one gives -1.
 */
static int tree_of_loose_commit(const char *tree, const char *sha, char out[41])
{
	struct buf gitdir = BUF_INIT, common = BUF_INIT;
	unsigned char in[4096], o[128];
	char *path = NULL;
	z_stream z;
	ssize_t n = -1;
	int fd, zr, ret = -1;

	if (git_worktree_gitdir(tree, &gitdir) < 0)
		goto out;
	git_common_dir_of(gitdir.s, &common);
	path = xasprintf("%s/objects/%.2s/%s", common.s, sha, sha + 2);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, in, sizeof(in));
		close(fd);
	}
	if (n <= 0)
		goto out;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		goto out;
	z.next_in = in;
	z.avail_in = (uInt)n;
	z.next_out = o;
	z.avail_out = sizeof(o) - 1;
	zr = inflate(&z, Z_SYNC_FLUSH);
	o[sizeof(o) - 1 - z.avail_out] = '\0';
	inflateEnd(&z);
	if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
		goto out;
	{
		const char *p = (const char *)o, *end = p + (sizeof(o) - 1 - z.avail_out);
		if (strncmp(p, "commit ", 7))
			goto out;
		p += 7 + strspn(p + 7, "0123456789");
		if (p >= end || *p || end - (p + 1) < 46 || strncmp(p + 1, "tree ", 5) ||
		    strspn(p + 6, "0123456789abcdef") != 40 || p[46] != '\n')
			goto out;
		memcpy(out, p + 6, 40);
		out[40] = '\0';
		ret = 0;
	}
out:
	free(path);
	buf_release(&gitdir);
	buf_release(&common);
	return ret;
}

int git_head_tree(const char *tree, char out[41], struct buf *err)
{
	struct buf sha = BUF_INIT;
	int ret;

	if (git_head_from_files(tree, &sha) == 0 &&
	    tree_of_loose_commit(tree, sha.s, out) == 0) {
		buf_release(&sha);
		return 0;
	}
	buf_reset(&sha);
	ret = git_run(tree, &sha, err, "rev-parse", "HEAD^{tree}", NULL);
	buf_rtrim(&sha);
	if (ret == 0)
		snprintf(out, 41, "%s", sha.s);
	buf_release(&sha);
	return ret;
}

/*
 * The config files of dir without a process when dir is a work tree's top:
 * <dir>/.git is the git dir, or a file naming it ("gitdir: "), whose
 * commondir file names the common dir.  -1 for anything else (a
 * subdirectory, GIT_DIR in the environment): the caller asks git.
 */
int git_config_files_fast(const char *dir, char *files[2])
{
	struct buf gd = BUF_INIT, common = BUF_INIT;
	int ret = -1;

	if (!getenv("GIT_DIR") && !getenv("GIT_COMMON_DIR") &&
	    git_worktree_gitdir(dir, &gd) == 0 && gd.s[0] == '/') {
		git_common_dir_of(gd.s, &common);
		files[0] = xasprintf("%s/config", common.s);
		files[1] = xasprintf("%s/config.worktree", gd.s);
		ret = 0;
	}
	buf_release(&gd);
	buf_release(&common);
	return ret;
}

/*
 * A git config file read strictly, line by line: blank lines, comments,
 * section headers ([name], [name.sub], [name "sub"] with a subsection of
 * plain characters, nothing after the ']' but a comment) and variables
 * (name, or name = value on one line).  Anything else (a continued value,
 * a variable on a header's line, a byte order mark, a NUL) makes the file
 * not simple, and the caller asks git.  What it found that matters:
 */
struct config_facts {
	int drivers;  /* a filter, diff or merge section: programs to blank */
	int includes; /* include or includeIf: other files */
	int worktree; /* core.worktree */
	int bare;     /* core.bare, unless plainly false */
	int stat;     /* a key git_stat_key_plain says changes git's stat check */
};

static const char name_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789-";

static int is_word(const char *s, size_t n, const char *w)
{
	return n == strlen(w) && !strncasecmp(s, w, n);
}

/* A section header at k ("[..."); 1 when simple, facts and *core set. */
static int config_header(const char *k, struct config_facts *f, int *core)
{
	const char *p = k + 1, *q;
	size_t n = strspn(p, name_chars), sec = n;

	if (!n)
		return 0;
	q = p + n;
	if (*q == '.') { /* [section.subsection], the old spelling */
		q++;
		q += strspn(q, name_chars);
		q += strspn(q, ".");
	} else if (*q == ' ' && q[1] == '"') {
		const char *end = strchr(q + 2, '"');
		if (!end || memchr(q + 2, '\\', (size_t)(end - q - 2)))
			return 0;
		q = end + 1;
	}
	if (*q++ != ']')
		return 0;
	q += strspn(q, " \t\r");
	if (*q && *q != '#' && *q != ';')
		return 0;
	*core = is_word(p, sec, "core") && p[sec] == ']';
	if (is_word(p, sec, "filter") || is_word(p, sec, "diff") ||
	    is_word(p, sec, "merge"))
		f->drivers = 1;
	if (is_word(p, sec, "include") || is_word(p, sec, "includeif"))
		f->includes = 1;
	return 1;
}

/* The variable k (n name bytes; its value, if any, after v's '=') of
 * section sec as `config --list` spells it ("section.key\nvalue",
 * lowercased names), judged by git_stat_key_plain. */
static int stat_plain_var(const char *sec, const char *k, size_t n, const char *v)
{
	struct buf kv = BUF_INIT;
	size_t keylen, vl;
	int plain;

	buf_addf(&kv, "%s.%.*s", sec, (int)n, k);
	for (size_t i = 0; i < kv.len; i++)
		kv.s[i] = (char)tolower((unsigned char)kv.s[i]);
	keylen = kv.len;
	if (*v == '=') {
		v++;
		v += strspn(v, " \t");
		vl = strcspn(v, "#;\r");
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		buf_addf(&kv, "\n%.*s", (int)vl, v);
	}
	plain = git_stat_key_plain(kv.s, keylen);
	buf_release(&kv);
	return plain;
}

/* 1 when text (NUL-free; cut into lines here) is simple; facts filled. */
static int config_simple(char *text, struct config_facts *f)
{
	int core = 0, in_section = 0;
	char *save = NULL, sec[80] = "";

	memset(f, 0, sizeof(*f));
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *k = l + strspn(l, " \t\r"), *e = l + strlen(l), *v;
		size_t n;
		if (!*k || *k == '#' || *k == ';')
			continue;
		while (e > k && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e[-1] == '\\')
			return 0; /* a value continued on the next line */
		if (*k == '[') {
			if (!config_header(k, f, &core))
				return 0;
			in_section = 1;
			/* the section's name; a subsection only needs to keep
			 * it from reading as a plain one */
			snprintf(sec, sizeof(sec), "%.*s%s",
				 (int)strspn(k + 1, name_chars), k + 1,
				 k[1 + strspn(k + 1, name_chars)] == ']' ? "" : ".sub");
			continue;
		}
		n = strspn(k, name_chars);
		if (!in_section || !n || !((*k | 32) >= 'a' && (*k | 32) <= 'z'))
			return 0;
		v = k + n + strspn(k + n, " \t");
		if (*v && *v != '=' && *v != '#' && *v != ';' && *v != '\r')
			return 0;
		if (!stat_plain_var(sec, k, n, v))
			f->stat = 1;
		if (core && is_word(k, n, "worktree"))
			f->worktree = 1;
		if (core && is_word(k, n, "bare")) {
			v += *v == '=';
			v += strspn(v, " \t");
			if (strncasecmp(v, "false", 5) && strncasecmp(v, "no", 2) &&
			    strncasecmp(v, "off", 3) && strncmp(v, "0", 1))
				f->bare = 1;
		}
	}
	return 1;
}

/* The file at path read by config_simple: 1 when simple, 0 when not (or
 * unreadable, or holding a NUL). */
static int config_file_simple(const char *path, struct config_facts *f)
{
	struct buf b = BUF_INIT;
	int ok = buf_read_file(&b, path) == 0 && b.len && !memchr(b.s, 0, b.len) &&
		 config_simple(b.s, f);

	buf_release(&b);
	return ok;
}

int git_config_inert(const char *path, int *stat_plain)
{
	struct config_facts f;
	int inert = config_file_simple(path, &f) && !f.drivers && !f.includes &&
		    !f.worktree;

	*stat_plain = inert && !f.stat;
	return inert;
}

/* 1 when gd is a git dir as git's discovery accepts one, owned by this
 * user, with a simple config that neither moves nor removes the work
 * tree nor includes another file. */
static int plain_git_dir(const char *gd)
{
	static const char *const need[] = {"objects", "refs", NULL};
	struct config_facts f;
	struct buf l = BUF_INIT;
	struct stat st;
	char *p;
	int ok = lstat(gd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid();

	for (size_t i = 0; ok && need[i]; i++) {
		p = xasprintf("%s/%s", gd, need[i]);
		ok = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
		free(p);
	}
	p = xasprintf("%s/commondir", gd);
	ok = ok && lstat(p, &st) < 0;
	free(p);
	p = xasprintf("%s/HEAD", gd);
	ok = ok && fileio_read_line(p, &l) == 0 &&
	     (!strncmp(l.s, "ref: refs/", 10) ||
	      (l.len == 40 && strspn(l.s, "0123456789abcdef") == 40));
	free(p);
	p = xasprintf("%s/config", gd);
	ok = ok && config_file_simple(p, &f) && !f.worktree && !f.bare && !f.includes;
	free(p);
	buf_release(&l);
	return ok;
}

int git_toplevel_fast(const char *real, struct buf *out)
{
	static const char *const env[] = {"GIT_DIR",
					  "GIT_WORK_TREE",
					  "GIT_COMMON_DIR",
					  "GIT_CEILING_DIRECTORIES",
					  "GIT_DISCOVERY_ACROSS_FILESYSTEM",
					  NULL};
	struct stat st, top;
	char *d = xstrdup(real), *s;
	int ret = -1;

	for (size_t i = 0; env[i]; i++)
		if (getenv(env[i]))
			goto out;
	if (d[0] != '/' || strstr(d, "/.git/") ||
	    (strlen(d) >= 5 && !strcmp(d + strlen(d) - 5, "/.git")) || stat(d, &top) < 0)
		goto out;
	for (;;) {
		char *g = xasprintf("%s/.git", *d ? d : "");
		int found = lstat(g, &st) == 0;
		if (found) { /* a .git file (a linked worktree): git answers */
			if (S_ISDIR(st.st_mode) && plain_git_dir(g) &&
			    stat(*d ? d : "/", &st) == 0 && st.st_uid == geteuid()) {
				buf_sets(out, *d ? d : "/");
				ret = 0;
			}
			free(g);
			break;
		}
		free(g);
		/* a directory that is a git dir itself (bare): git answers */
		g = xasprintf("%s/objects", *d ? d : "");
		found = stat(g, &st) == 0;
		free(g);
		if (found || !*d || !(s = strrchr(d, '/')))
			break;
		*s = '\0';
		/* git stops at a filesystem boundary */
		if (stat(*d ? d : "/", &st) < 0 || st.st_dev != top.st_dev)
			break;
	}
out:
	free(d);
	return ret;
}
