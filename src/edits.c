/*
 * edits: parsing the edit blocks of a model reply and applying them exactly.
 *
 * Parsing is a line state machine that tolerates what models really print
 * (fences, decorated path lines, CRLF, miscounted markers); applying is an
 * exact byte match with one fallback that ignores trailing whitespace, and
 * every refusal says precisely why, so the model can correct itself.
 */
#include "edits.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files larger than this are not edited: no source file is this big, and it
 * bounds the memory one edit can take. */
#define EDITS_MAX_FILE (16u << 20)
/* How many match line numbers an ambiguity message lists. */
#define EDITS_MAX_LISTED 20
/* Lines of context around the nearest window in a no-match message. */
#define EDITS_NEAR_CONTEXT 3
#define EDITS_NEAR_MAX_LINES 40
/* Longer file lines are shortened in messages. */
#define EDITS_SHOW_LINE_MAX 300

struct line {
	const char *p;
	size_t len;		/* without the '\n' */
};

struct lines {
	struct line *v;
	size_t n;
};

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static size_t rtrim_len(const char *p, size_t n)
{
	while (n && is_ws(p[n - 1]))
		n--;
	return n;
}

/* Splits text into lines; a final line without '\n' counts, a final '\n'
 * does not start an empty line. */
static void split_lines(const char *s, size_t len, struct lines *out)
{
	size_t i = 0, alloc = 16;

	out->n = 0;
	out->v = xmalloc(alloc * sizeof(*out->v));
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - s) : len;
		if (out->n == alloc) {
			alloc *= 2;
			out->v = xrealloc(out->v, alloc * sizeof(*out->v));
		}
		out->v[out->n].p = s + i;
		out->v[out->n].len = end - i;
		out->n++;
		i = nl ? end + 1 : len;
	}
}

/* ---- parsing ---------------------------------------------------------- */

enum marker { M_NONE, M_SEARCH, M_DIVIDER, M_REPLACE, M_FILE, M_END };

/* Recognises a marker line: 5 to 9 '<', '=' or '>' (models miscount the
 * seven), then the keyword; trailing whitespace is ignored.  For FILE, *arg
 * receives the rest of the line (the path, possibly empty). */
static enum marker classify(const char *p, size_t n, const char **arg,
			    size_t *arglen)
{
	size_t run = 0, i;
	char c;

	n = rtrim_len(p, n);
	if (!n || (p[0] != '<' && p[0] != '=' && p[0] != '>'))
		return M_NONE;
	c = p[0];
	while (run < n && p[run] == c)
		run++;
	if (run < 5 || run > 9)
		return M_NONE;
	if (c == '=')
		return run == n ? M_DIVIDER : M_NONE;
	for (i = run; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	p += i;
	n -= i;
	if (c == '<' && n == 6 && !memcmp(p, "SEARCH", 6))
		return M_SEARCH;
	if (c == '>' && n == 7 && !memcmp(p, "REPLACE", 7))
		return M_REPLACE;
	if (c == '>' && n == 3 && !memcmp(p, "END", 3))
		return M_END;
	if (c == '<' && n >= 4 && !memcmp(p, "FILE", 4) &&
	    (n == 4 || p[4] == ' ' || p[4] == '\t')) {
		for (i = 4; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
			;
		*arg = p + i;
		*arglen = n - i;
		return M_FILE;
	}
	return M_NONE;
}

static int is_fence(const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	return n >= 3 && (!memcmp(p, "```", 3) || !memcmp(p, "~~~", 3));
}

static int is_blank(const char *p, size_t n)
{
	while (n && is_ws(*p))
		p++, n--;
	return n == 0;
}

/* Strips what models wrap a path in: "### ", "**", "`", "*", a trailing ':'. */
static void strip_decor(const char **pp, size_t *pn)
{
	const char *p = *pp;
	size_t n = *pn;

	while (n && (is_ws(*p) || *p == '#'))
		p++, n--;
	for (;;) {
		size_t n0 = n;
		while (n && (*p == '`' || *p == '*' || is_ws(*p)))
			p++, n--;
		while (n && (p[n - 1] == '`' || p[n - 1] == '*' ||
			     p[n - 1] == ':' || is_ws(p[n - 1])))
			n--;
		if (n == n0)
			break;
	}
	*pp = p;
	*pn = n;
}

static int looks_like_path(const char *p, size_t n)
{
	const char *slash = memchr(p, '/', n), *dot;
	size_t i;

	if (slash)
		return 1;
	dot = memrchr(p, '.', n);
	if (!dot)
		return 0;
	for (i = (size_t)(dot - p) + 1; i < n; i++)
		if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z'))
			return 1;
	return 0;
}

/* The path named by a line before a SEARCH marker, or NULL.  Paths with
 * whitespace are not accepted: a line with spaces is prose ("Here is the
 * fix for `src/a.c`:"), from which the last path-like word is taken. */
static char *path_from_line(const char *p, size_t n)
{
	const char *w;
	size_t wn = rtrim_len(p, n);
	int colon;

	while (wn && (p[wn - 1] == '*' || p[wn - 1] == '`'))
		wn--;
	colon = wn && p[wn - 1] == ':';
	strip_decor(&p, &n);
	if (!n)
		return NULL;
	/* "Makefile" is a path; "Next:" is a heading */
	if (!memchr(p, ' ', n) && !memchr(p, '\t', n))
		return colon && !looks_like_path(p, n) ? NULL : xstrndup(p, n);
	w = p + n;
	while (w > p && w[-1] != ' ' && w[-1] != '\t')
		w--;
	wn = (size_t)(p + n - w);
	strip_decor(&w, &wn);
	while (wn && (w[wn - 1] == '.' || w[wn - 1] == ','))
		wn--;
	if (!wn || !looks_like_path(w, wn))
		return NULL;
	return xstrndup(w, wn);
}

enum pstate { P_OUT, P_SEARCH, P_REPLACE, P_FILE };

struct parser {
	struct edit_list *out;
	struct buf *problems;
	enum pstate st;
	struct buf a, b;	/* search (or whole content); replace */
	char *path;		/* the open block's path; NULL when it has none */
	size_t start;		/* reply line of the open block's marker */
	const char *cand;	/* last non-blank, non-fence line outside blocks */
	size_t cand_len;
	char *prev_path;	/* path of the last block ... */
	int after_block;	/* ... usable while no text followed it */
	int count;
};

static void problem(struct parser *ps, const char *what)
{
	if (!ps->problems)
		return;
	if (ps->path)
		buf_addf(ps->problems, "reply line %zu: %s block for %s %s\n",
			 ps->start, ps->st == P_FILE ? "FILE" : "SEARCH",
			 ps->path, what);
	else
		buf_addf(ps->problems, "reply line %zu: %s block %s\n",
			 ps->start, ps->st == P_FILE ? "FILE" : "SEARCH", what);
}

static void push_edit(struct parser *ps, enum edit_kind kind)
{
	struct edit_list *l = ps->out;
	struct edit *e;

	if (l->n == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 8;
		l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->path = ps->path;
	e->reply_line = ps->start;
	e->status = EDIT_PENDING;
	if (kind == EDIT_REPLACE) {
		e->search = buf_detach(&ps->a, NULL);
		e->replace = buf_detach(&ps->b, NULL);
	} else {
		e->replace = buf_detach(&ps->a, NULL);
	}
	free(ps->prev_path);
	ps->prev_path = xstrdup(ps->path);
	ps->path = NULL;
	ps->count++;
}

/* Ends the open block, well-formed or not. */
static void close_block(struct parser *ps, enum edit_kind kind, int ok)
{
	if (ok && ps->path) {
		push_edit(ps, kind);
	} else {
		free(ps->path);
		ps->path = NULL;
	}
	buf_reset(&ps->a);
	buf_reset(&ps->b);
	ps->st = P_OUT;
	ps->cand = NULL;
	ps->after_block = 1;
}

/* Makes a path string from reply bytes; a NUL (which a C string cannot
 * carry) is kept visible as \x01 so the apply step refuses the edit. */
static char *path_dup(const char *p, size_t n)
{
	char *s = xstrndup(p, n);
	size_t i;

	for (i = 0; i < n; i++)
		if (!s[i])
			s[i] = '\x01';
	return s;
}

static void open_search(struct parser *ps, size_t lineno)
{
	ps->st = P_SEARCH;
	ps->start = lineno;
	ps->path = NULL;
	if (ps->cand) {
		const char *p = ps->cand;
		size_t n = ps->cand_len;
		char *tmp = path_dup(p, n);
		ps->path = path_from_line(tmp, n);
		free(tmp);
		if (!ps->path) {
			n = rtrim_len(p, n);
			if (ps->problems)
				buf_addf(ps->problems, "reply line %zu: SEARCH block has no "
					 "path line (the line before it, \"%.*s\", is not a "
					 "path)\n", lineno, (int)(n > 80 ? 80 : n), p);
		}
	} else if (ps->after_block && ps->prev_path) {
		/* Consecutive blocks for one file often omit the repeated path. */
		ps->path = xstrdup(ps->prev_path);
	} else {
		problem(ps, "has no path line before it");
	}
}

static void open_file(struct parser *ps, size_t lineno, const char *arg,
		      size_t arglen)
{
	ps->st = P_FILE;
	ps->start = lineno;
	strip_decor(&arg, &arglen);
	ps->path = arglen ? path_dup(arg, arglen) : NULL;
	if (!ps->path)
		problem(ps, "has no path");
}

static void content(struct buf *b, const char *p, size_t n)
{
	if (n && p[n - 1] == '\r')
		n--;
	buf_add(b, p, n);
	buf_addch(b, '\n');
}

static void parse_line(struct parser *ps, const char *p, size_t n, size_t no)
{
	const char *arg = NULL;
	size_t arglen = 0;
	enum marker m = classify(p, n, &arg, &arglen);

	switch (ps->st) {
	case P_OUT:
		if (m == M_SEARCH)
			open_search(ps, no);
		else if (m == M_FILE)
			open_file(ps, no, arg, arglen);
		else if (m == M_NONE && !is_blank(p, n) && !is_fence(p, n)) {
			ps->cand = p;
			ps->cand_len = n;
			ps->after_block = 0;
		}
		return;
	case P_FILE:
		if (m == M_END)
			close_block(ps, EDIT_WHOLE, 1);
		else
			content(&ps->a, p, n);
		return;
	case P_SEARCH:
	case P_REPLACE:
		break;
	}
	if (m == M_SEARCH || m == M_FILE) {
		/* A new block starts: the open one was never closed.  The new
		 * one has no path line we can trust. */
		problem(ps, ps->st == P_SEARCH ?
			"is not terminated (no ======= line)" :
			"is not terminated (no >>>>>>> REPLACE line)");
		close_block(ps, EDIT_REPLACE, 0);
		ps->after_block = 0;
		if (m == M_SEARCH)
			open_search(ps, no);
		else
			open_file(ps, no, arg, arglen);
	} else if (ps->st == P_SEARCH && m == M_DIVIDER) {
		ps->st = P_REPLACE;
	} else if (ps->st == P_SEARCH && m == M_REPLACE) {
		problem(ps, "has no ======= line");
		close_block(ps, EDIT_REPLACE, 0);
	} else if (ps->st == P_REPLACE && m == M_REPLACE) {
		close_block(ps, EDIT_REPLACE, 1);
	} else {
		content(ps->st == P_SEARCH ? &ps->a : &ps->b, p, n);
	}
}

int edits_parse(const char *reply, size_t len, struct edit_list *out,
		struct buf *problems)
{
	struct parser ps;
	size_t i = 0, no = 0;

	memset(&ps, 0, sizeof(ps));
	ps.out = out;
	ps.problems = problems;
	buf_init(&ps.a, 0);
	buf_init(&ps.b, 0);
	while (i < len) {
		const char *nl = memchr(reply + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - reply) : len;
		parse_line(&ps, reply + i, end - i, ++no);
		i = nl ? end + 1 : len;
	}
	if (ps.st == P_FILE)
		problem(&ps, "is not terminated (no >>>>>>> END line)");
	else if (ps.st == P_SEARCH)
		problem(&ps, "is not terminated (no ======= line)");
	else if (ps.st == P_REPLACE)
		problem(&ps, "is not terminated (no >>>>>>> REPLACE line)");
	if (ps.st != P_OUT)
		close_block(&ps, EDIT_REPLACE, 0);
	free(ps.prev_path);
	buf_release(&ps.a);
	buf_release(&ps.b);
	return ps.count;
}

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
		if (c == n && (nocase ? !strncasecmp(p, name, n) :
			       !strncmp(p, name, n)))
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
	if (strchr(rel, '\x01'))
		return err_set(why, -EPERM, "the path contains a NUL byte");
	if (rel[0] == '/')
		return err_set(why, -EPERM, "absolute paths are refused; paths "
			       "are relative to the repository root");
	if (has_component(rel, "..", 0))
		return err_set(why, -EPERM, "paths with a '..' component are "
			       "refused");
	if (has_component(rel, ".git", 1))
		return err_set(why, -EPERM, "paths through .git are refused "
			       "(git metadata is not editable)");
	return 0;
}

/* A resolved component must stay in the tree and out of its .git. */
static int check_resolved(const char *rroot, const char *real,
			  const char *shown, struct buf *why)
{
	if (!inside(rroot, real))
		return err_set(why, -EPERM, "%s is a symlink to %s, outside the "
			       "tree", shown, real);
	if (has_component(real + strlen(rroot), ".git", 1))
		return err_set(why, -EPERM, "%s is a symlink into .git (git "
			       "metadata is not editable)", shown);
	return 0;
}

/*
 * Checks the existing component cur (shown to the model as shown): a
 * symlink is resolved and must stay inside the tree, and cur becomes the
 * real path.  Sets *missing when cur does not exist.
 */
static int check_component(const char *rroot, struct buf *cur,
			   const char *shown, int last, int *missing,
			   struct buf *why)
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
			return err_set(why, -EPERM, "%s is a symlink that cannot "
				       "be resolved (%s)", shown, strerror(errno));
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
static int resolve_target(const char *rroot, const char *rel, char **ret_target,
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
			ret = check_component(rroot, &cur, shown.s, !*p, &missing,
					      why);
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
		return err_set(why, -errno, "cannot resolve the tree root %s: %s",
			       root, strerror(errno));
	ret = resolve_target(rroot, rel, &target, why);
	free(target);
	free(rroot);
	return ret < 0 ? -EPERM : 0;
}

/* ---- file I/O ----------------------------------------------------------- */

/* Reads a text file; *exists is 0 (and 0 returned) when it is missing. */
static int read_text(const char *path, struct buf *b, int *exists,
		     mode_t *mode, struct buf *why)
{
	struct stat st;
	int fd, ret;

	*exists = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(why, -errno, "cannot open: %s", strerror(errno));
	}
	*exists = 1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(why, -EINVAL, "not a regular file");
	}
	*mode = st.st_mode & 07777;
	if (st.st_size > (off_t)EDITS_MAX_FILE) {
		close(fd);
		return err_set(why, -EFBIG, "the file is larger than %u MiB; "
			       "it is not edited", EDITS_MAX_FILE >> 20);
	}
	buf_init(b, EDITS_MAX_FILE);
	ret = buf_read_fd(b, fd);
	close(fd);
	if (ret < 0)
		return err_set(why, ret, "cannot read: %s", strerror(-ret));
	if (memchr(b->s, '\0', b->len))
		return err_set(why, -EINVAL, "binary file (it contains NUL "
			       "bytes); edit blocks apply to text files only");
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Creates the missing directories above path (which is absolute). */
static int make_parents(const char *path, struct buf *why)
{
	char *d = xstrdup(path), *s;
	int ret = 0;

	for (s = strchr(d + 1, '/'); s && ret == 0; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			ret = err_set(why, -errno, "cannot create directory %s: %s",
				      d, strerror(errno));
		*s = '/';
	}
	free(d);
	return ret;
}

/* Write to a temp file beside the target, fsync, rename: a reader (or a
 * crash) sees the old file or the new one, never half of it. */
static int write_file(const char *path, const char *p, size_t n, mode_t mode,
		      struct buf *why)
{
	const char *slash = strrchr(path, '/');
	char *tmp = xasprintf("%.*s/.%s.loopgate-XXXXXX", (int)(slash - path),
			      path, slash + 1);
	int fd, ret = make_parents(path, why);

	if (ret < 0)
		goto out;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = err_set(why, -errno, "cannot create a temp file: %s",
			      strerror(errno));
		goto out;
	}
	ret = write_all(fd, p, n);
	if (ret == 0 && fchmod(fd, mode) < 0)
		ret = -errno;
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0) {
		err_set(why, ret, "cannot write: %s", strerror(-ret));
		unlink(tmp);
	}
out:
	free(tmp);
	return ret;
}

/* ---- matching ----------------------------------------------------------- */

static size_t line_of(const char *s, size_t off)
{
	size_t n = 1, i;

	for (i = 0; i < off; i++)
		n += s[i] == '\n';
	return n;
}

/* Exact occurrences that start at a line start (blocks hold whole lines).
 * Returns the count; the first EDITS_MAX_LISTED offsets go to offs. */
static size_t find_exact(const char *f, size_t flen, const char *s,
			 size_t slen, size_t *offs)
{
	size_t n = 0, pos = 0;

	while (pos < flen && slen <= flen - pos) {
		const char *m = memmem(f + pos, flen - pos, s, slen);
		size_t off;
		if (!m)
			break;
		off = (size_t)(m - f);
		if (off == 0 || f[off - 1] == '\n') {
			if (n < EDITS_MAX_LISTED)
				offs[n] = off;
			n++;
		}
		pos = off + 1;
	}
	return n;
}

static int eq_rtrim(const struct line *a, const struct line *b)
{
	size_t na = rtrim_len(a->p, a->len), nb = rtrim_len(b->p, b->len);

	return na == nb && !memcmp(a->p, b->p, na);
}

/* Occurrences of s's lines in f with trailing whitespace (and so CR)
 * ignored on both sides; first line indexes into starts. */
static size_t find_fuzzy(const struct lines *f, const struct lines *s,
			 size_t *starts)
{
	size_t i, j, n = 0;

	if (!s->n || s->n > f->n)
		return 0;
	for (i = 0; i + s->n <= f->n; i++) {
		for (j = 0; j < s->n && eq_rtrim(&f->v[i + j], &s->v[j]); j++)
			;
		if (j < s->n)
			continue;
		if (n < EDITS_MAX_LISTED)
			starts[n] = i;
		n++;
	}
	return n;
}

static void add_line_numbers(struct buf *b, const size_t *v, size_t n,
			     size_t total)
{
	size_t i;

	for (i = 0; i < n && i < EDITS_MAX_LISTED; i++)
		buf_addf(b, "%s%zu", i ? ", " : "", v[i]);
	if (total > n)
		buf_addf(b, ", ... (%zu more)", total - n);
}

static void refuse_ambiguous(struct edit *e, size_t count, const size_t *lines,
			     int fuzzy)
{
	struct buf m = BUF_INIT;

	buf_addf(&m, "the SEARCH text occurs %zu times in %s%s, at lines ", count,
		 e->path, fuzzy ? " (ignoring trailing whitespace)" : "");
	add_line_numbers(&m, lines, count < EDITS_MAX_LISTED ? count :
			 EDITS_MAX_LISTED, count);
	buf_adds(&m, "; include more of the surrounding lines so that it "
		 "matches exactly once");
	e->status = EDIT_AMBIGUOUS;
	e->message = buf_detach(&m, NULL);
}

/* ---- nearest lines for a no-match message ---------------------------------- */

static uint64_t hash_trimmed(const struct line *l)
{
	uint64_t h = 1469598103934665603ull;
	const char *p = l->p;
	size_t n = rtrim_len(l->p, l->len), i;

	while (n && is_ws(*p))
		p++, n--;
	if (!n)
		return 0;	/* blank lines carry no evidence */
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h | 1;
}

static size_t common_affix(const struct line *a, const struct line *b)
{
	size_t na = rtrim_len(a->p, a->len), nb = rtrim_len(b->p, b->len);
	size_t m = na < nb ? na : nb, pre = 0, suf = 0;

	while (pre < m && a->p[pre] == b->p[pre])
		pre++;
	while (suf < m - pre && a->p[na - 1 - suf] == b->p[nb - 1 - suf])
		suf++;
	return pre + suf;
}

/* When no line matches exactly: the file line most like the first
 * non-blank SEARCH line, if it shares at least a third of it. */
static int nearest_by_first_line(const struct lines *f, const struct lines *s,
				 size_t *ret)
{
	size_t j = 0, i, best = 0, at = 0, want;

	while (j < s->n && !hash_trimmed(&s->v[j]))
		j++;
	if (j == s->n)
		return 0;
	want = rtrim_len(s->v[j].p, s->v[j].len) / 3;
	for (i = 0; i < f->n; i++) {
		size_t c = common_affix(&f->v[i], &s->v[j]);
		if (c > best)
			best = c, at = i;
	}
	if (best < 3 || best < want)
		return 0;
	*ret = at > j ? at - j : 0;
	return 1;
}

/*
 * The start of the file window that best matches the SEARCH lines: every
 * file line equal (whitespace-trimmed) to SEARCH line j votes for the window
 * starting j lines above it, and votes within +-2 lines are pooled so a
 * SEARCH text with a missing or extra line still finds its place.  Ties
 * go to the window with the most votes of its own, then the earliest.
 */
static int nearest(const struct lines *f, const struct lines *s, size_t *ret)
{
	size_t k = s->n < 200 ? s->n : 200, i, j, best = 0, best_own = 0, at = 0;
	uint64_t *sh = xcalloc(k, sizeof(*sh));
	size_t *votes = xcalloc(f->n + 1, sizeof(*votes));

	for (j = 0; j < k; j++)
		sh[j] = hash_trimmed(&s->v[j]);
	for (i = 0; i < f->n; i++) {
		uint64_t h = hash_trimmed(&f->v[i]);
		for (j = 0; h && j < k; j++)
			if (sh[j] == h)
				votes[i >= j ? i - j : 0]++;
	}
	for (i = 0; i < f->n; i++) {
		size_t score = 0, lo = i >= 2 ? i - 2 : 0;
		for (j = lo; j <= i + 2 && j < f->n; j++)
			score += votes[j];
		/* pooled votes decide; a window's own votes break ties */
		if (score > best || (score == best && votes[i] > best_own))
			best = score, best_own = votes[i], at = i;
	}
	free(sh);
	free(votes);
	if (best)
		*ret = at;
	return best ? 1 : nearest_by_first_line(f, s, ret);
}

static void show_line(struct buf *m, const struct line *l, size_t no,
		      int width)
{
	size_t n = l->len && l->p[l->len - 1] == '\r' ? l->len - 1 : l->len;

	if (n > EDITS_SHOW_LINE_MAX)
		buf_addf(m, "%*zu | %.*s[... %zu bytes elided ...]\n", width, no,
			 EDITS_SHOW_LINE_MAX, l->p, n - EDITS_SHOW_LINE_MAX);
	else
		buf_addf(m, "%*zu | %.*s\n", width, no, (int)n, l->p);
}

static void refuse_no_match(struct edit *e, const struct lines *f,
			    const struct lines *s)
{
	struct buf m = BUF_INIT;
	size_t at, from, to, i;
	int width;

	e->status = EDIT_NO_MATCH;
	buf_addf(&m, "the SEARCH text is not in %s, not even ignoring trailing "
		 "whitespace", e->path);
	if (!nearest(f, s, &at)) {
		buf_addf(&m, "; none of its lines occur in the file (%zu lines)",
			 f->n);
		e->message = buf_detach(&m, NULL);
		return;
	}
	from = at > EDITS_NEAR_CONTEXT ? at - EDITS_NEAR_CONTEXT : 0;
	to = at + s->n + EDITS_NEAR_CONTEXT;
	if (to > f->n)
		to = f->n;
	if (to - from > EDITS_NEAR_MAX_LINES)
		to = from + EDITS_NEAR_MAX_LINES;
	width = snprintf(NULL, 0, "%zu", to);
	buf_addf(&m, "; the most similar lines of the file are %zu-%zu:\n",
		 from + 1, to);
	for (i = from; i < to; i++)
		show_line(&m, &f->v[i], i + 1, width);
	/* The first line that differs is usually the whole story. */
	for (i = 0; i < s->n && at + i < f->n; i++)
		if (!eq_rtrim(&f->v[at + i], &s->v[i]))
			break;
	if (i < s->n && at + i < f->n) {
		size_t n = rtrim_len(s->v[i].p, s->v[i].len);
		buf_addf(&m, "SEARCH line %zu differs from file line %zu; the "
			 "SEARCH line is:\n%.*s\n", i + 1, at + i + 1,
			 (int)(n > EDITS_SHOW_LINE_MAX ? EDITS_SHOW_LINE_MAX : n),
			 s->v[i].p);
	}
	buf_rtrim(&m);
	e->message = buf_detach(&m, NULL);
}

/* ---- applying ----------------------------------------------------------- */

/* Replaces f[off, end) with rep; rep's line ends become CRLF when the file
 * uses CRLF there, and its final newline is dropped when the replaced text
 * was the file's unterminated last line. */
static void splice_text(struct buf *out, const struct buf *f, size_t off,
		   size_t end, const char *rep, int crlf, int no_final_nl)
{
	size_t n = strlen(rep), i;

	buf_add(out, f->s, off);
	if (no_final_nl && n && rep[n - 1] == '\n')
		n--;
	for (i = 0; i < n; i++) {
		if (crlf && rep[i] == '\n' && (i == 0 || rep[i - 1] != '\r'))
			buf_addch(out, '\r');
		buf_addch(out, rep[i]);
	}
	buf_add(out, f->s + end, f->len - end);
}

/* The fallback match: line-wise, trailing whitespace ignored. */
static int replace_fuzzy(struct edit *e, const struct buf *f, struct buf *out)
{
	struct lines fl, sl;
	size_t starts[EDITS_MAX_LISTED], count, i;
	int ret = -1;

	split_lines(f->s, f->len, &fl);
	split_lines(e->search, strlen(e->search), &sl);
	count = find_fuzzy(&fl, &sl, starts);
	if (count == 1) {
		const struct line *first = &fl.v[starts[0]];
		const struct line *last = &fl.v[starts[0] + sl.n - 1];
		size_t off = (size_t)(first->p - f->s);
		size_t end = (size_t)(last->p - f->s) + last->len;
		int nl = end < f->len;
		int crlf = first->len && first->p[first->len - 1] == '\r';
		splice_text(out, f, off, end + nl, e->replace, crlf, !nl);
		e->file_line = starts[0] + 1;
		ret = 0;
	} else if (count > 1) {
		for (i = 0; i < count && i < EDITS_MAX_LISTED; i++)
			starts[i]++;
		refuse_ambiguous(e, count, starts, 1);
	} else {
		refuse_no_match(e, &fl, &sl);
	}
	free(fl.v);
	free(sl.v);
	return ret;
}

/* Computes the new content of a search/replace edit into out; on refusal
 * sets e->status and e->message and returns -1. */
static int replace_content(struct edit *e, const struct buf *f, int exists,
			   struct buf *out)
{
	size_t offs[EDITS_MAX_LISTED], slen = strlen(e->search), count, i;

	if (!slen) {
		if (exists && f->len) {
			e->status = EDIT_NO_MATCH;
			e->message = xasprintf("the SEARCH section is empty but %s "
				"exists and is not empty; put the lines to replace "
				"in SEARCH, or use a FILE block to rewrite the whole "
				"file", e->path);
			return -1;
		}
		buf_adds(out, e->replace);
		e->file_line = 1;
		return 0;
	}
	if (!exists) {
		e->status = EDIT_NO_MATCH;
		e->message = xasprintf("%s does not exist; to create it, leave "
			"SEARCH empty or use a FILE block", e->path);
		return -1;
	}
	count = find_exact(f->s, f->len, e->search, slen, offs);
	if (count == 1) {
		splice_text(out, f, offs[0], offs[0] + slen, e->replace, 0, 0);
		e->file_line = line_of(f->s, offs[0]);
		return 0;
	}
	if (count > 1) {
		for (i = 0; i < count && i < EDITS_MAX_LISTED; i++)
			offs[i] = line_of(f->s, offs[i]);
		refuse_ambiguous(e, count, offs, 0);
		return -1;
	}
	return replace_fuzzy(e, f, out);
}

static void apply_one(const char *rroot, struct edit *e)
{
	struct buf why = BUF_INIT, f = BUF_INIT, out = BUF_INIT;
	char *target = NULL;
	mode_t mode = 0644;
	int exists = 0;

	if (resolve_target(rroot, e->path, &target, &why) < 0) {
		e->status = EDIT_BAD_PATH;
		goto refused;
	}
	if (read_text(target, &f, &exists, &mode, &why) < 0 &&
	    e->kind == EDIT_REPLACE) {
		e->status = EDIT_IO_ERROR;
		goto refused;
	}
	if (e->kind == EDIT_REPLACE && replace_content(e, &f, exists, &out) < 0)
		goto out;
	if (e->kind == EDIT_WHOLE)
		buf_adds(&out, e->replace);
	if (write_file(target, out.s, out.len, mode, &why) < 0) {
		e->status = EDIT_IO_ERROR;
		goto refused;
	}
	e->status = EDIT_APPLIED;
	goto out;
refused:
	e->message = buf_detach(&why, NULL);
out:
	free(target);
	buf_release(&why);
	buf_release(&f);
	buf_release(&out);
}

int edits_apply(const char *root, struct edit_list *l)
{
	char *rroot = realpath(root, NULL);
	size_t i;
	int applied = 0, err = errno;

	for (i = 0; i < l->n; i++) {
		struct edit *e = &l->v[i];
		if (e->status != EDIT_PENDING)
			continue;
		if (!rroot) {
			e->status = EDIT_IO_ERROR;
			e->message = xasprintf("cannot resolve the tree root %s: %s",
					       root, strerror(err));
			continue;
		}
		apply_one(rroot, e);
		applied += e->status == EDIT_APPLIED;
	}
	free(rroot);
	return applied;
}

/* ---- reporting ---------------------------------------------------------- */

const char *edit_status_name(enum edit_status s)
{
	switch (s) {
	case EDIT_PENDING: return "pending";
	case EDIT_APPLIED: return "applied";
	case EDIT_NO_MATCH: return "no match";
	case EDIT_AMBIGUOUS: return "ambiguous";
	case EDIT_BAD_PATH: return "bad path";
	case EDIT_IO_ERROR: return "i/o error";
	}
	return "unknown";
}

void edits_feedback(const struct edit_list *l, struct buf *out)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct edit *e = &l->v[i];
		const char *kind = e->kind == EDIT_WHOLE ? "whole file" :
			"search/replace";
		if (e->status == EDIT_APPLIED && e->kind == EDIT_WHOLE)
			buf_addf(out, "applied: %s (whole file)\n", e->path);
		else if (e->status == EDIT_APPLIED && !*e->search)
			buf_addf(out, "applied: %s (search/replace with empty "
				 "SEARCH: file written)\n", e->path);
		else if (e->status == EDIT_APPLIED)
			buf_addf(out, "applied: %s (search/replace, line %zu)\n",
				 e->path, e->file_line);
		else if (e->status == EDIT_PENDING)
			buf_addf(out, "not attempted: %s (%s, reply line %zu)\n",
				 e->path, kind, e->reply_line);
		else
			buf_addf(out, "not applied: %s (%s, reply line %zu): %s: "
				 "%s\n", e->path, kind, e->reply_line,
				 edit_status_name(e->status),
				 e->message ? e->message : "");
	}
}

void edit_list_release(struct edit_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].search);
		free(l->v[i].replace);
		free(l->v[i].message);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}
