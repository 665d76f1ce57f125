/*
 * cmdscan.c: a reader of the shell language just deep enough to tell which
 * files a gate command executes.  See cmdscan.h.
 */
#include "tree/cmdscan.h"
#include "base/buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 8   /* sh -c '$(sh -c ...)': nesting followed */
#define MAX_WORDS 256 /* per simple command; the rest is ignored */

struct word {
	char *text;
	int dynamic; /* holds an expansion or a glob: value unknown here */
	int redir;   /* 0 a word; else the redirection operator ('<', '>') */
};

struct scan {
	const char *p;
	struct strlist *out;
	char *cwd; /* "" or "dir/" (relative to the gate's directory); NULL:
		      unknown after a `cd` we cannot follow */
	int depth;
	char *heredoc; /* the delimiter of a pending here-document */
	size_t heredoc_len;
};

static void scan_text(const char *text, const char *cwd, int depth, struct strlist *out);

/* ---- paths ------------------------------------------------------------- */

/* cwd + path, with "." segments dropped; NULL for "..", "/" or unknown. */
static char *join(const char *cwd, const char *path)
{
	struct buf b = BUF_INIT;
	const char *p = path;

	if (!cwd || !*path || path[0] == '/' || path[0] == '~')
		return NULL;
	buf_adds(&b, cwd);
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2)) {
			buf_release(&b);
			return NULL;
		}
		if (n && !(n == 1 && *p == '.')) {
			buf_add(&b, p, n);
			if (p[n] == '/')
				buf_addch(&b, '/');
		}
		p += n + (p[n] == '/');
	}
	if (!b.len || b.s[b.len - 1] == '/') {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static void add_path(struct scan *s, const struct word *w)
{
	char *j;
	if (!w || w->dynamic || !(j = join(s->cwd, w->text)))
		return;
	for (size_t i = 0; i < s->out->n; i++)
		if (!strcmp(s->out->v[i], j)) {
			free(j);
			return;
		}
	strlist_push(s->out, j);
	free(j);
}

/* ---- the lexer --------------------------------------------------------- */

/* The end of a $( ... ) or ` ... ` starting at p (just inside it). */
static const char *skip_nested(const char *p, char close)
{
	int level = 1;
	char q = 0;
	for (; *p; p++) {
		if (q) {
			if (*p == '\\' && q == '"' && p[1])
				p++;
			else if (*p == q)
				q = 0;
		} else if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '\'' || *p == '"') {
			q = *p;
		} else if (close == ')' && *p == '(') {
			level++;
		} else if (*p == close && --level == 0) {
			return p;
		}
	}
	return p;
}

/* A substitution at *pp ("$(" or "`"): its command is scanned too. */
static void substitution(struct scan *s, const char **pp, char close)
{
	const char *start = *pp, *end = skip_nested(start, close);
	char *inner = xstrndup(start, (size_t)(end - start));
	if (!(close == ')' && *start == '(')) /* $(( arithmetic )) */
		scan_text(inner, s->cwd, s->depth + 1, s->out);
	free(inner);
	*pp = *end ? end + 1 : end;
}

/* "$..." at *pp; marks the word dynamic, scans command substitutions. */
static void dollar(struct scan *s, const char **pp)
{
	const char *p = *pp + 1;
	if (*p == '(') {
		p++;
		substitution(s, &p, ')');
	} else if (*p == '{') {
		p = skip_nested(p + 1, '}');
		if (*p)
			p++;
	} else {
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (p == *pp + 1 && *p)
			p++; /* $?, $1, $@ ... */
	}
	*pp = p;
}

static int is_op_char(char c)
{
	return c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '<' ||
	       c == '>' || c == '\n';
}

/* One word from s->p into w (quotes removed); 0 at an operator or end. */
static int lex_word(struct scan *s, struct buf *w, int *dynamic)
{
	const char *p = s->p;
	int any = 0;

	*dynamic = 0;
	while (*p && *p != ' ' && *p != '\t' && !is_op_char(*p)) {
		any = 1;
		if (*p == '\\') {
			if (p[1] && p[1] != '\n')
				buf_addch(w, p[1]);
			p += p[1] ? 2 : 1;
		} else if (*p == '\'') {
			const char *e = strchr(p + 1, '\'');
			size_t n = e ? (size_t)(e - p - 1) : strlen(p + 1);
			buf_add(w, p + 1, n);
			p += n + 1 + (e != NULL);
		} else if (*p == '"') {
			for (p++; *p && *p != '"';) {
				if (*p == '\\' && p[1] && strchr("$`\"\\\n", p[1])) {
					buf_addch(w, p[1]);
					p += 2;
				} else if (*p == '$') {
					*dynamic = 1;
					dollar(s, &p);
				} else if (*p == '`') {
					*dynamic = 1;
					p++;
					substitution(s, &p, '`');
				} else {
					buf_addch(w, *p++);
				}
			}
			if (*p == '"')
				p++;
		} else if (*p == '$') {
			*dynamic = 1;
			dollar(s, &p);
		} else if (*p == '`') {
			*dynamic = 1;
			p++;
			substitution(s, &p, '`');
		} else {
			if (strchr("*?[", *p) || (*p == '~' && !w->len))
				*dynamic = 1;
			buf_addch(w, *p++);
		}
	}
	s->p = p;
	return any;
}

/* Skips the body of a pending here-document, after its newline. */
static void skip_heredoc(struct scan *s)
{
	const char *p = s->p;
	while (*p) {
		const char *eol = strchr(p, '\n');
		const char *t = p;
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		while (*t == '\t' && t < p + n)
			t++;
		if ((size_t)(p + n - t) == s->heredoc_len &&
		    !strncmp(t, s->heredoc, s->heredoc_len)) {
			p = eol ? eol + 1 : p + n;
			break;
		}
		p = eol ? eol + 1 : p + n;
	}
	s->p = p;
	free(s->heredoc);
	s->heredoc = NULL;
}

/*
 * The next token: 1 a word or redirection (in *w), 2 an operator ending a
 * simple command, 0 at the end.
 */
static int lex(struct scan *s, struct word *w)
{
	struct buf b = BUF_INIT;
	const char *p;
	int dyn;

	memset(w, 0, sizeof(*w));
	for (;;) {
		while (*s->p == ' ' || *s->p == '\t' ||
		       (s->p[0] == '\\' && s->p[1] == '\n'))
			s->p += *s->p == '\\' ? 2 : 1;
		if (*s->p != '#')
			break;
		while (*s->p && *s->p != '\n')
			s->p++;
	}
	p = s->p;
	if (!*p)
		return 0;
	/* [n]<, [n]>, >>, <<, &>, >&...: a redirection and its target */
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '<' || *p == '>' || (p[0] == '&' && p[1] == '>')) {
		int here = p[0] == '<' && p[1] == '<' && p[2] != '<';
		w->redir = *p == '&' ? '>' : *p;
		while (*p == '<' || *p == '>' || *p == '&' || *p == '|' || *p == '-')
			p++;
		s->p = p;
		while (*s->p == ' ' || *s->p == '\t')
			s->p++;
		lex_word(s, &b, &dyn);
		w->dynamic = dyn;
		w->text = buf_detach(&b, NULL);
		if (here && *w->text) {
			free(s->heredoc);
			s->heredoc = xstrdup(w->text);
			s->heredoc_len = strlen(w->text);
		}
		return 1;
	}
	if (is_op_char(*s->p)) {
		if (*s->p == '\n' && s->heredoc) {
			s->p++;
			skip_heredoc(s);
			return 2;
		}
		s->p++;
		return 2;
	}
	lex_word(s, &b, &dyn);
	w->dynamic = dyn;
	w->text = buf_detach(&b, NULL);
	return 1;
}

/* ---- simple commands ---------------------------------------------------- */

enum { I_SHELL = 1, I_NO_DEFAULT = 2 };

/*
 * Interpreters: short options taking an argument, short options after
 * which there is no script file (inline code, a module), the short option
 * whose argument is the script, and long options taking an argument.
 */
static const struct interp {
	const char *names; /* space-separated, each followed by a space */
	const char *argopts, *inline_opts, *script_opt;
	const char *const *longargs;
	int flags;
} interps[] = {
	{"sh bash dash zsh ksh mksh ash yash ", "oO", "c", "",
	 (const char *const[]){"--rcfile", "--init-file", NULL}, I_SHELL},
	{"python python2 python3 pypy pypy3 ", "WX", "cm", "",
	 (const char *const[]){"--check-hash-based-pycs", NULL}, 0},
	{"node nodejs tsx ts-node ", "rC", "ep", "",
	 (const char *const[]){"--require", "--import", "--loader",
			       "--experimental-loader", "--conditions", "--input-type",
			       "--eval", "--print", NULL},
	 0},
	{"ruby ", "rICEFx", "e", "", NULL, 0},
	{"perl ", "", "eE", "", NULL, 0},
	{"php ", "cdz", "r", "f", NULL, 0},
	{"Rscript ", "", "e", "", NULL, 0},
	{"lua luajit ", "l", "e", "", NULL, 0},
	{"tclsh wish bats ", "", "", "", NULL, 0},
	{"awk gawk mawk nawk ", "vF", "", "f", NULL, I_NO_DEFAULT},
	{"make gmake ", "CIjlow", "", "f",
	 (const char *const[]){"--directory", "--include-dir", "--file", "--makefile",
			       NULL},
	 I_NO_DEFAULT},
};

/* "python3.11" -> "python3": versions do not change the options. */
static const struct interp *find_interp(const char *cmd)
{
	const char *base = strrchr(cmd, '/') ? strrchr(cmd, '/') + 1 : cmd;
	char name[64];
	size_t n = strcspn(base, ".");
	if (n + 2 > sizeof(name) || (base[n] && !isdigit((unsigned char)base[n + 1])))
		n = strlen(base);
	if (n + 2 > sizeof(name))
		return NULL;
	memcpy(name, base, n);
	name[n] = ' ';
	name[n + 1] = 0;
	for (size_t i = 0; i < sizeof(interps) / sizeof(interps[0]); i++) {
		const char *hit = strstr(interps[i].names, name);
		if (hit && (hit == interps[i].names || hit[-1] == ' '))
			return &interps[i];
	}
	return NULL;
}

static int in_list(const char *const *l, const char *s)
{
	for (; l && *l; l++)
		if (!strcmp(*l, s))
			return 1;
	return 0;
}

/* make: -C DIR moves where -f's file is; several -f are all read. */
static void make_files(struct scan *s, const struct word *w, size_t n)
{
	char *dir = s->cwd ? xstrdup(s->cwd) : NULL, *saved = s->cwd;

	for (size_t i = 1; i < n; i++) {
		const char *t = w[i].text;
		const struct word *arg = NULL;
		struct word tmp = {NULL, w[i].dynamic, 0};
		if (w[i].redir)
			continue;
		if (!strcmp(t, "-f") || !strcmp(t, "--file") ||
		    !strcmp(t, "--makefile") || !strcmp(t, "-C") ||
		    !strcmp(t, "--directory"))
			arg = i + 1 < n ? &w[++i] : NULL;
		else if (!strncmp(t, "-f", 2) || !strncmp(t, "-C", 2))
			tmp.text = (char *)t + 2;
		else if (!strncmp(t, "--file=", 7) || !strncmp(t, "--makefile=", 11) ||
			 !strncmp(t, "--directory=", 12))
			tmp.text = strchr(t, '=') + 1;
		else
			continue;
		if (tmp.text)
			arg = &tmp;
		if (!arg)
			continue;
		if (t[1] == 'C' || !strncmp(t, "--directory", 11)) {
			char *d = arg->dynamic ? NULL : join(dir, arg->text);
			free(dir);
			dir = d ? xasprintf("%s/", d) : NULL;
			free(d);
		} else {
			s->cwd = dir;
			add_path(s, arg);
			s->cwd = saved;
		}
	}
	free(dir);
}

/*
 * The script an interpreter runs: the first word that is not an option
 * (or the argument of its script option), scanned as code after sh -c,
 * read from a `<` redirection when there is none.
 */
static void interpreter(struct scan *s, const struct interp *in, const struct word *w,
			size_t i, size_t n)
{
	const struct word *stdin_file = NULL;
	int shell_code = 0, opts = 1;

	for (size_t k = 1; k < n; k++)
		if (w[k].redir == '<')
			stdin_file = &w[k];
	for (i++; i < n; i++) {
		const char *t = w[i].text;
		if (w[i].redir)
			continue;
		if (opts && !strcmp(t, "--")) {
			opts = 0;
			continue;
		}
		if (opts && t[0] == '-' && t[1] == '-') {
			if (!strchr(t, '=') && in_list(in->longargs, t))
				i++;
			if (!strcmp(t, "--eval") || !strcmp(t, "--print"))
				return;
			continue;
		}
		if (opts && (t[0] == '-' || (t[0] == '+' && (in->flags & I_SHELL))) &&
		    t[1]) {
			for (const char *c = t + 1; *c; c++) {
				if (strchr(in->inline_opts, *c)) {
					if (!(in->flags & I_SHELL))
						return;
					shell_code = 1;
				} else if (*in->script_opt && *c == *in->script_opt) {
					struct word tmp = {(char *)c + 1, w[i].dynamic,
							   0};
					add_path(s, c[1]	? &tmp
						    : i + 1 < n ? &w[++i]
								: NULL);
					return;
				} else if (strchr(in->argopts, *c)) {
					if (!c[1])
						i++;
					break;
				}
			}
			continue;
		}
		if (in->flags & I_NO_DEFAULT)
			return;
		if (shell_code) {
			if (!w[i].dynamic)
				scan_text(t, s->cwd, s->depth + 1, s->out);
			return;
		}
		if (!strcmp(t, "-"))
			break; /* the script is on standard input */
		add_path(s, &w[i]);
		return;
	}
	if (!shell_code && !(in->flags & I_NO_DEFAULT))
		add_path(s, stdin_file);
}

/* Wrappers run their operand as the command: how many words they take. */
static size_t wrapper(const struct word *w, size_t i, size_t n)
{
	const char *t = w[i].text;
	size_t k = i + 1;

	if (!strcmp(t, "exec") || !strcmp(t, "command") || !strcmp(t, "nohup") ||
	    !strcmp(t, "builtin") || !strcmp(t, "time") || !strcmp(t, "nice") ||
	    !strcmp(t, "stdbuf") || !strcmp(t, "env") || !strcmp(t, "timeout") ||
	    !strcmp(t, "!") || !strcmp(t, "if") || !strcmp(t, "then") ||
	    !strcmp(t, "else") || !strcmp(t, "elif") || !strcmp(t, "do") ||
	    !strcmp(t, "while") || !strcmp(t, "until") || !strcmp(t, "{")) {
		for (; k < n && w[k].text[0] == '-' && w[k].text[1]; k++)
			if ((!strcmp(t, "nice") && !strcmp(w[k].text, "-n")) ||
			    (!strcmp(t, "timeout") &&
			     (!strcmp(w[k].text, "-s") || !strcmp(w[k].text, "-k"))) ||
			    (!strcmp(t, "env") &&
			     (!strcmp(w[k].text, "-u") || !strcmp(w[k].text, "-C"))))
				k++;
		if (!strcmp(t, "env"))
			while (k < n && strchr(w[k].text, '=') && w[k].text[0] != '=')
				k++;
		if (!strcmp(t, "timeout") && k < n)
			k++; /* the duration */
		return k - i;
	}
	return 0;
}

static int is_assignment(const char *t)
{
	size_t n = strspn(
		t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789");
	return n && t[n] == '=' && !isdigit((unsigned char)t[0]);
}

static void simple_command(struct scan *s, struct word *w, size_t n)
{
	size_t i = 0, skip;
	const struct interp *in;
	const char *cmd;

	while (i < n && (w[i].redir || is_assignment(w[i].text)))
		i++;
	while (i < n && !w[i].redir && (skip = wrapper(w, i, n)))
		i += skip;
	while (i < n && w[i].redir)
		i++;
	if (i >= n || w[i].dynamic)
		return;
	cmd = w[i].text;
	if (!strcmp(cmd, "for") || !strcmp(cmd, "case") || !strcmp(cmd, "select"))
		return;
	if (!strcmp(cmd, "cd")) {
		char *d = i + 1 < n && !w[i + 1].dynamic ? join(s->cwd, w[i + 1].text)
							 : NULL;
		free(s->cwd);
		s->cwd = d ? xasprintf("%s/", d) : NULL;
		free(d);
		return;
	}
	if (!strcmp(cmd, ".") || !strcmp(cmd, "source")) {
		add_path(s, i + 1 < n ? &w[i + 1] : NULL);
		return;
	}
	if (strchr(cmd, '/'))
		add_path(s, &w[i]);
	in = find_interp(cmd);
	if (in && !strcmp(in->names, "make gmake "))
		make_files(s, w + i, n - i);
	else if (in)
		interpreter(s, in, w, i, n);
}

static void scan_text(const char *text, const char *cwd, int depth, struct strlist *out)
{
	struct scan s;
	struct word w[MAX_WORDS];
	size_t n = 0;
	int t;

	if (depth > MAX_DEPTH)
		return;
	memset(&s, 0, sizeof(s));
	s.p = text;
	s.out = out;
	s.cwd = cwd ? xstrdup(cwd) : NULL;
	s.depth = depth;
	do {
		struct word cur;
		t = lex(&s, &cur);
		if (t == 1 && n < MAX_WORDS) {
			w[n++] = cur;
			continue;
		}
		free(cur.text);
		if (t == 1)
			continue;
		if (n)
			simple_command(&s, w, n);
		while (n)
			free(w[--n].text);
	} while (t);
	free(s.cwd);
	free(s.heredoc);
}

void cmdscan_executed(const char *cmd, struct strlist *out)
{
	scan_text(cmd, "", 0, out);
}
