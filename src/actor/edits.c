/*
 * edits: parsing the edit blocks of a model reply and applying them exactly.
 *
 * Parsing is a line state machine that tolerates what models really print
 * (fences, decorated path lines, CRLF, miscounted markers); applying is an
 * exact byte match with one fallback that ignores trailing whitespace, and
 * every refusal says precisely why, so the model can correct itself.
 *
 * This file parses, orchestrates the apply (path check, read, match, atomic
 * write) and reports; the path checks are edits_path.c, finding the SEARCH
 * text (and the no-match and ambiguity messages) is edits_match.c, and what
 * they share is declared in edits_impl.h.
 */
#include "actor/edits.h"
#include "actor/edits_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files larger than this are not edited: no source file is this big, and it
 * bounds the memory one edit can take. */
#define EDITS_MAX_FILE (16u << 20)

int edits_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

size_t edits_rtrim_len(const char *p, size_t n)
{
	while (n && edits_is_ws(p[n - 1]))
		n--;
	return n;
}

/* ---- parsing ---------------------------------------------------------- */

enum marker { M_NONE, M_SEARCH, M_DIVIDER, M_REPLACE, M_FILE, M_END };

/* Recognises a marker line: 5 to 9 '<', '=' or '>' (models miscount the
 * seven), then the keyword; trailing whitespace is ignored.  For FILE, *arg
 * receives the rest of the line (the path, possibly empty). */
static enum marker classify(const char *p, size_t n, const char **arg, size_t *arglen)
{
	size_t run = 0, i;
	char c;

	n = edits_rtrim_len(p, n);
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
	while (n && edits_is_ws(*p))
		p++, n--;
	return n == 0;
}

/* Strips what models wrap a path in: "### ", "**", "`", "*", a trailing ':'. */
static void strip_decor(const char **pp, size_t *pn)
{
	const char *p = *pp;
	size_t n = *pn;

	while (n && (edits_is_ws(*p) || *p == '#'))
		p++, n--;
	for (;;) {
		size_t n0 = n;
		while (n && (*p == '`' || *p == '*' || edits_is_ws(*p)))
			p++, n--;
		while (n && (p[n - 1] == '`' || p[n - 1] == '*' || p[n - 1] == ':' ||
			     edits_is_ws(p[n - 1])))
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
	size_t wn = edits_rtrim_len(p, n);
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
	struct buf a, b;  /* search (or whole content); replace */
	char *path;	  /* the open block's path; NULL when it has none */
	size_t start;	  /* reply line of the open block's marker */
	const char *cand; /* last non-blank, non-fence line outside blocks */
	size_t cand_len;
	char *prev_path; /* path of the last block ... */
	int after_block; /* ... usable while no text followed it */
	int count;
};

static void problem(struct parser *ps, const char *what)
{
	if (!ps->problems)
		return;
	if (ps->path)
		buf_addf(ps->problems, "reply line %zu: %s block for %s %s\n", ps->start,
			 ps->st == P_FILE ? "FILE" : "SEARCH", ps->path, what);
	else
		buf_addf(ps->problems, "reply line %zu: %s block %s\n", ps->start,
			 ps->st == P_FILE ? "FILE" : "SEARCH", what);
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
			n = edits_rtrim_len(p, n);
			if (ps->problems)
				buf_addf(ps->problems,
					 "reply line %zu: SEARCH block has no "
					 "path line (the line before it, \"%.*s\", is "
					 "not a "
					 "path)\n",
					 lineno, (int)(n > 80 ? 80 : n), p);
		}
	} else if (ps->after_block && ps->prev_path) {
		/* Consecutive blocks for one file often omit the repeated path. */
		ps->path = xstrdup(ps->prev_path);
	} else {
		problem(ps, "has no path line before it");
	}
}

static void open_file(struct parser *ps, size_t lineno, const char *arg, size_t arglen)
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
		problem(ps, ps->st == P_SEARCH
				    ? "is not terminated (no ======= line)"
				    : "is not terminated (no >>>>>>> REPLACE line)");
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

/* ---- file I/O ----------------------------------------------------------- */

/* Reads a text file; *exists is 0 (and 0 returned) when it is missing. */
static int read_text(const char *path, struct buf *b, int *exists, mode_t *mode,
		     struct buf *why)
{
	struct stat st;
	int fd, ret;

	*exists = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
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
		return err_set(why, -EFBIG,
			       "the file is larger than %u MiB; "
			       "it is not edited",
			       EDITS_MAX_FILE >> 20);
	}
	buf_init(b, EDITS_MAX_FILE);
	ret = buf_read_fd(b, fd);
	close(fd);
	if (ret < 0)
		return err_set(why, ret, "cannot read: %s", strerror(-ret));
	if (memchr(b->s, '\0', b->len))
		return err_set(why, -EINVAL,
			       "binary file (it contains NUL "
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
			ret = err_set(why, -errno, "cannot create directory %s: %s", d,
				      strerror(errno));
		*s = '/';
	}
	free(d);
	return ret;
}

/* Write to a temp file beside the target, rename: a reader (or a killed
 * loopgate) sees the old file or the new one, never half of it.  No fsync:
 * the tree is the run's own, and after a power loss resume rolls it back to
 * the last commit on record and applies the saved reply again (resume.c
 * rollback, docs/design/durability.md), so no state of a file written here
 * is ever read back from the disk. */
static int write_file(const char *path, const char *p, size_t n, mode_t mode,
		      struct buf *why)
{
	const char *slash = strrchr(path, '/');
	char *tmp = xasprintf("%.*s/.%s.loopgate-XXXXXX", (int)(slash - path), path,
			      slash + 1);
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

/* ---- applying ----------------------------------------------------------- */

static void apply_one(const char *rroot, struct edit *e)
{
	struct buf why = BUF_INIT, f = BUF_INIT, out = BUF_INIT;
	char *target = NULL;
	mode_t mode = 0644;
	int exists = 0;

	if (edits_path_resolve(rroot, e->path, &target, &why) < 0) {
		e->status = EDIT_BAD_PATH;
		goto refused;
	}
	if (read_text(target, &f, &exists, &mode, &why) < 0 && e->kind == EDIT_REPLACE) {
		e->status = EDIT_IO_ERROR;
		goto refused;
	}
	if (e->kind == EDIT_REPLACE && edits_match_replace(e, &f, exists, &out) < 0)
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
	case EDIT_PENDING:
		return "pending";
	case EDIT_APPLIED:
		return "applied";
	case EDIT_NO_MATCH:
		return "no match";
	case EDIT_AMBIGUOUS:
		return "ambiguous";
	case EDIT_BAD_PATH:
		return "bad path";
	case EDIT_IO_ERROR:
		return "i/o error";
	}
	return "unknown";
}

void edits_feedback(const struct edit_list *l, struct buf *out)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct edit *e = &l->v[i];
		const char *kind = e->kind == EDIT_WHOLE ? "whole file"
							 : "search/replace";
		if (e->status == EDIT_APPLIED && e->kind == EDIT_WHOLE)
			buf_addf(out, "applied: %s (whole file)\n", e->path);
		else if (e->status == EDIT_APPLIED && !*e->search)
			buf_addf(out,
				 "applied: %s (search/replace with empty "
				 "SEARCH: file written)\n",
				 e->path);
		else if (e->status == EDIT_APPLIED)
			buf_addf(out, "applied: %s (search/replace, line %zu)\n", e->path,
				 e->file_line);
		else if (e->status == EDIT_PENDING)
			buf_addf(out, "not attempted: %s (%s, reply line %zu)\n", e->path,
				 kind, e->reply_line);
		else
			buf_addf(out,
				 "not applied: %s (%s, reply line %zu): %s: "
				 "%s\n",
				 e->path, kind, e->reply_line,
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
