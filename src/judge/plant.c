/*
 * plant.c: the sites of a planted defect.  See plant.h; the rules are in
 * docs/manual.md ("Checking a gate") and docs/design/gates.md.
 */
#include "judge/plant.h"
#include "base/saferead.h"
#include "tree/git.h"
#include "tree/protect.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLANT_FILE_MAX (1 << 20) /* bigger source files are not mutated */

/* ---- candidate files ---------------------------------------------------- */

static const struct {
	const char *ext;
	int lang;
} source_exts[] = {
	{".c", PLANT_SLASH},
	{".h", PLANT_SLASH},
	{".cc", PLANT_SLASH},
	{".cpp", PLANT_SLASH},
	{".py", PLANT_HASH | PLANT_TRIPLE},
	{".go", PLANT_SLASH},
	{".rs", PLANT_SLASH},
	{".js", PLANT_SLASH},
	{".ts", PLANT_SLASH},
	{".java", PLANT_SLASH},
	{".rb", PLANT_HASH},
	{".sh", PLANT_HASH},
	{".pl", PLANT_HASH},
	{".php", PLANT_HASH | PLANT_SLASH},
	{".cs", PLANT_SLASH},
	{".kt", PLANT_SLASH},
	{".swift", PLANT_SLASH},
};

int plant_source_lang(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;
	dot = strrchr(base ? base + 1 : path, '.');
	for (size_t i = 0; dot && i < sizeof(source_exts) / sizeof(*source_exts); i++)
		if (!strcmp(dot, source_exts[i].ext))
			return source_exts[i].lang;
	return 0;
}

struct cand {
	const char *path;
	int tier; /* 0 named by a gate's output, 1 has a test, 2 the rest */
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return x->tier != y->tier ? x->tier - y->tier : strcmp(x->path, y->path);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A word boundary in a name: punctuation, or lower-to-upper (CalcTest). */
static int name_break(const char *s, size_t i, size_t n)
{
	return i == 0 || i == n || !isalnum((unsigned char)s[i - 1]) ||
	       !isalnum((unsigned char)s[i]) ||
	       (islower((unsigned char)s[i - 1]) && isupper((unsigned char)s[i]));
}

/* The words that make a name a test's name, not what it tests: test.sh
 * is not the code test_calc.py exercises. */
static int is_marker(const char *w)
{
	static const char *const markers[] = {"test", "tests",	  "spec", "specs",
					      "unit", "unittest", NULL};
	for (size_t i = 0; markers[i]; i++)
		if (!strcasecmp(w, markers[i]))
			return 1;
	return 0;
}

/*
 * Every run of whole words of a test file's name without extension:
 * test_calc -> calc, test_calc; CalcTest -> Calc, CalcTest (marker words
 * alone left out).  A source file whose stem is among them has a test
 * named after it.
 */
static void add_test_words(struct strlist *words, const char *path)
{
	const char *base = strrchr(path, '/'), *dot;
	size_t n;
	base = base ? base + 1 : path;
	dot = strchr(base, '.');
	n = dot ? (size_t)(dot - base) : strlen(base);
	for (size_t a = 0; a < n; a++) {
		if (!name_break(base, a, n) || !isalnum((unsigned char)base[a]))
			continue;
		for (size_t b = a + 1; b <= n; b++) {
			char *w;
			if (!name_break(base, b, n) ||
			    !isalnum((unsigned char)base[b - 1]))
				continue;
			w = xstrndup(base + a, b - a);
			if (!is_marker(w))
				strlist_push(words, w);
			free(w);
		}
	}
}

static int has_test(const struct strlist *words, const char *path)
{
	const char *base = strrchr(path, '/'), *dot;
	char *stem;
	int hit;
	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	stem = xstrndup(base, dot ? (size_t)(dot - base) : strlen(base));
	hit = words->n && bsearch(&stem, words->v, words->n, sizeof(*words->v), str_cmp);
	free(stem);
	return hit;
}

/*
 * Tracked source files that are neither protected (tests, CI, gate
 * scripts, --protect globs: whatever defines the gate) nor symlinks,
 * ranked: named by a gate's output, then named in a test file's name,
 * then the rest; by path within a rank.  *files keeps the paths' memory.
 */
static int list_candidates(const struct plant_opts *o, struct buf *files,
			   struct cand **ret_c, size_t *ret_n, struct buf *err)
{
	struct strlist words = {NULL, 0};
	struct protect prot = PROTECT_INIT;
	struct config pc;
	struct cand *c = NULL;
	size_t n = 0, k;
	const char *p, *end;
	int ret = git_run(o->tree, files, err, "ls-files", "-z", "--cached", NULL);

	if (ret < 0)
		return ret;
	config_init(&pc); /* protection in full, even with no_protect */
	strlist_copy(&pc.gates, &o->cfg->gates);
	strlist_copy(&pc.protect, &o->cfg->protect);
	protect_init(&prot, &pc, o->tree);
	end = files->s + files->len;
	for (p = files->s; p < end; p += strlen(p) + 1)
		if (protect_is_test_path(p))
			add_test_words(&words, p);
	if (words.n)
		qsort(words.v, words.n, sizeof(*words.v), str_cmp);
	for (p = files->s; p < end; p += strlen(p) + 1) {
		if (!plant_source_lang(p) || protect_match(&prot, p))
			continue;
		c = xrealloc(c, (n + 1) * sizeof(*c));
		c[n].path = p;
		for (k = 0; o->named && k < o->named->n && strcmp(o->named->v[k], p); k++)
			;
		c[n++].tier = o->named && k < o->named->n ? 0
			      : has_test(&words, p)	  ? 1
							  : 2;
	}
	if (n)
		qsort(c, n, sizeof(*c), cand_cmp);
	*ret_c = c;
	*ret_n = n;
	strlist_clear(&words);
	protect_release(&prot);
	config_release(&pc);
	return 0;
}

/* ---- the line and the mutation ----------------------------------------- */

/*
 * Which bytes of a line are code: not inside a quoted literal ("..",
 * '..', `..`, with backslash escapes) and not in a trailing comment (# for
 * hash languages when it starts a word, // and / * for the others).  A
 * heuristic: a quote it misreads (a Rust lifetime) only hides the rest of
 * that line, which is the safe way to be wrong.
 */
static void code_mask(const char *s, size_t n, int lang, char *mask)
{
	char q = 0;
	for (size_t i = 0; i < n; i++) {
		mask[i] = 0;
		if (q) {
			if (s[i] == '\\' && i + 1 < n)
				mask[++i] = 0;
			else if (s[i] == q)
				q = 0;
		} else if (s[i] == '"' || s[i] == '\'' || s[i] == '`') {
			q = s[i];
		} else if (((lang & PLANT_HASH) && s[i] == '#' &&
			    (i == 0 || isspace((unsigned char)s[i - 1]))) ||
			   ((lang & PLANT_SLASH) && s[i] == '/' && i + 1 < n &&
			    (s[i + 1] == '/' || s[i + 1] == '*'))) {
			memset(mask + i, 0, n - i);
			return;
		} else {
			mask[i] = 1;
		}
	}
}

static int ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* The first place pat occurs in code; -1 when it does not.  word: as a
 * whole word.  "==" is not taken out of "!==", "<==" or "===" tails. */
static long find_code(const char *s, size_t n, const char *mask, const char *pat,
		      int word)
{
	size_t pl = strlen(pat);
	for (size_t i = 0; i + pl <= n; i++) {
		if (memcmp(s + i, pat, pl) || memchr(mask + i, 0, pl))
			continue;
		if (word && ((i && ident_char(s[i - 1])) ||
			     (i + pl < n && ident_char(s[i + pl]))))
			continue;
		if (!strcmp(pat, "==") && i && strchr("=!<>", s[i - 1]))
			continue;
		return (long)i;
	}
	return -1;
}

/* The first decimal integer literal in code (not part of a name, a float
 * or 0x..), as [*at, *at + *len). */
static int find_int(const char *s, size_t n, const char *mask, size_t *at, size_t *len)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		if (!isdigit((unsigned char)s[i]) || !mask[i] ||
		    (i && (ident_char(s[i - 1]) || s[i - 1] == '.')))
			continue;
		while (j < n && isdigit((unsigned char)s[j]) && mask[j])
			j++;
		if (j < n && (ident_char(s[j]) || s[j] == '.'))
			continue;
		*at = i;
		*len = j - i;
		return 1;
	}
	return 0;
}

/* In order; the first that applies to a line is its mutation. */
static const struct {
	const char *from, *to;
	int word;
} swaps[] = {
	{" + ", " - ", 0},    {" - ", " + ", 0},    {"==", "!=", 0},
	{" < ", " >= ", 0},   {"True", "False", 1}, {"False", "True", 1},
	{"true", "false", 1}, {"false", "true", 1},
};

int plant_mutate_line(const char *s, size_t n, int lang, struct buf *after, char **desc)
{
	char *mask = xmalloc(n + 1);
	size_t at = 0, len = 0, i;
	const char *to = NULL;
	char num[64];

	code_mask(s, n, lang, mask);
	for (i = 0; i < sizeof(swaps) / sizeof(*swaps) && !to; i++) {
		long pos = find_code(s, n, mask, swaps[i].from, swaps[i].word);
		if (pos >= 0) {
			at = (size_t)pos;
			len = strlen(swaps[i].from);
			to = swaps[i].to;
		}
	}
	if (!to && find_int(s, n, mask, &at, &len) && len < sizeof(num) - 1) {
		/* n -> n + 1, in decimal text: 9 -> 10, 199 -> 200 */
		size_t k = len;
		memcpy(num + 1, s + at, len);
		num[0] = '0';
		num[len + 1] = 0;
		while (num[k] == '9')
			num[k--] = '0';
		num[k]++;
		to = num[0] == '0' ? num + 1 : num;
	}
	free(mask);
	if (!to)
		return 0;
	buf_reset(after);
	buf_add(after, s, at);
	buf_adds(after, to);
	buf_add(after, s + at + len, n - at - len);
	*desc = xasprintf("'%.*s' -> '%s'", (int)len, s + at, to);
	return 1;
}

/* Multi-line state: inside a block comment, or a Python triple-quoted
 * string (a docstring). */
struct scan {
	int in_block;
	const char *triple;
};

static size_t count_mem(const char *s, size_t n, const char *pat)
{
	size_t c = 0, pl = strlen(pat);
	for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), pat, pl)); p += pl)
		c++;
	return c;
}

/* 1 when the line is no place for a defect: blank, a comment (starting with
 * #, //, / *, *), inside a block comment or a triple-quoted string. */
static int line_skipped(struct scan *st, const char *s, size_t n, int lang)
{
	static const char *const triples[] = {"\"\"\"", "'''"};
	const char *o;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	if (st->triple) {
		if (memmem(s, n, st->triple, 3))
			st->triple = NULL;
		return 1;
	}
	if (st->in_block) {
		if (memmem(s, n, "*/", 2))
			st->in_block = 0;
		return 1;
	}
	for (size_t i = 0; (lang & PLANT_TRIPLE) && i < 2; i++) {
		size_t c = count_mem(s, n, triples[i]);
		if (c % 2)
			st->triple = triples[i];
		if (c)
			return 1;
	}
	/* a block comment opened and not closed on this line */
	for (o = s + n; (lang & PLANT_SLASH) && o >= s + 2; o--)
		if (o[-2] == '/' && o[-1] == '*') {
			st->in_block = !memmem(o, n - (size_t)(o - s), "*/", 2);
			break;
		}
	return !n || *s == '#' || *s == '*' ||
	       (n >= 2 && s[0] == '/' && (s[1] == '/' || s[1] == '*'));
}

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	return xstrndup(s, n);
}

void plant_content_sites(const char *path, const char *data, size_t len,
			 struct plant_site *sites, size_t max, size_t *n)
{
	struct buf after = BUF_INIT;
	struct scan st = {0, NULL};
	int lang = plant_source_lang(path);
	long lineno = 0;

	for (const char *p = data, *end = data + len; p < end && *n < max;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct plant_site *s = &sites[*n];
		char *desc;
		lineno++;
		if (k && p[k - 1] == '\r')
			k--;
		if (!line_skipped(&st, p, k, lang) &&
		    plant_mutate_line(p, k, lang, &after, &desc)) {
			s->file = xstrdup(path);
			s->line = lineno;
			s->before = trimmed(p, k);
			s->after = trimmed(after.s, after.len);
			s->mutation = desc;
			buf_init(&s->content, 0);
			buf_add(&s->content, data, (size_t)(p - data));
			buf_add(&s->content, after.s, after.len);
			buf_add(&s->content, p + k, (size_t)(end - p - k));
			(*n)++;
		}
		p = nl ? nl + 1 : end;
	}
	buf_release(&after);
}

/* ---- the whole tree ------------------------------------------------------- */

static void file_sites(const char *tree, const char *path, struct plant_site *sites,
		       size_t max, size_t *n)
{
	char *full = xasprintf("%s/%s", tree, path);
	struct buf b = BUF_INIT;
	struct stat sb;

	/* a symlink, too big, binary: not a source file to mutate */
	if (lstat(full, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    saferead_tree(tree, path, PLANT_FILE_MAX, 0, &b, NULL, NULL) == 0 &&
	    !memchr(b.s, 0, b.len))
		plant_content_sites(path, b.s, b.len, sites, max, n);
	free(full);
	buf_release(&b);
}

int plant_find(const struct plant_opts *o, struct plant_site *sites, size_t max,
	       size_t *n, struct buf *err)
{
	struct buf files = BUF_INIT;
	struct cand *c = NULL;
	size_t nc = 0;
	int ret = list_candidates(o, &files, &c, &nc, err);

	*n = 0;
	for (size_t i = 0; ret == 0 && i < nc && *n < max; i++)
		file_sites(o->tree, c[i].path, sites, max, n);
	free(c);
	buf_release(&files);
	return ret;
}

int plant_apply(const char *tree, const struct plant_site *s, struct buf *err)
{
	char *full = xasprintf("%s/%s", tree, s->file);
	int fd = open(full, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC), ret = 0;
	size_t off = 0;

	if (fd < 0)
		ret = err_set(err, -errno, "cannot open %s: %s", full, strerror(errno));
	while (ret == 0 && off < s->content.len) {
		ssize_t w = write(fd, s->content.s + off, s->content.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			ret = err_set(err, -errno, "cannot write %s: %s", full,
				      strerror(errno));
		else
			off += (size_t)w;
	}
	if (fd >= 0 && close(fd) < 0 && ret == 0)
		ret = err_set(err, -errno, "cannot write %s: %s", full, strerror(errno));
	free(full);
	return ret;
}

void plant_sites_release(struct plant_site *sites, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(sites[i].file);
		free(sites[i].before);
		free(sites[i].after);
		free(sites[i].mutation);
		buf_release(&sites[i].content);
		memset(&sites[i], 0, sizeof(sites[i]));
	}
}
