/*
 * protect.c: the protected set.  See protect.h and docs/design/gates.md.
 */
#include "tree/protect.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Tests by common conventions, and CI configuration.  The "**" globs are
 * matched by hand (fnmatch has no globstar): "dir/ **" is dir and everything
 * below it, a bare basename pattern matches in any directory.
 */
const char *const protect_default_globs[] = {
	"tests/**",   "test/**",   "spec/**",	"*_test.go", "test_*.py",
	"*_test.py",  "*.test.js", "*.test.ts", "*.spec.js", "*.spec.ts",
	".github/**", ".ci/**",	   NULL};

/* "a/b/ **": 1 when path is a/b or lies below it. */
static int match_dir_glob(const char *glob, size_t dirlen, const char *path)
{
	char *dir = xstrndup(glob, dirlen);
	size_t pl = strlen(path);
	int hit = 0;
	/* the directory part may itself hold wildcards: compare prefixes */
	for (size_t i = 0; i <= pl && !hit; i++) {
		if (i < pl && path[i] != '/')
			continue;
		char *prefix = xstrndup(path, i);
		hit = !fnmatch(dir, prefix, FNM_PATHNAME);
		free(prefix);
	}
	free(dir);
	return hit;
}

static int match_glob(const char *glob, const char *path)
{
	size_t gl = strlen(glob);
	const char *base;

	if (gl >= 3 && !strcmp(glob + gl - 3, "/**"))
		return match_dir_glob(glob, gl - 3, path);
	if (strchr(glob, '/'))
		return !fnmatch(glob, path, FNM_PATHNAME);
	/* a basename pattern: in any directory */
	base = strrchr(path, '/');
	return !fnmatch(glob, base ? base + 1 : path, 0);
}

int protect_is_test_path(const char *path)
{
	for (size_t i = 0; protect_default_globs[i]; i++)
		if (match_glob(protect_default_globs[i], path))
			return 1;
	return 0;
}

/*
 * Words of a gate command that name a regular file in the tree: the
 * scripts the gate runs (`sh test.sh`, `./run-tests`, `python3 check.py`).
 * Options and words with shell syntax are skipped; this is a heuristic on
 * top of the globs, not a shell parser.
 */
static void add_gate_files(struct protect *p, const char *cmd, const char *tree)
{
	char *copy = xstrdup(cmd), *save = NULL, *w;
	for (w = strtok_r(copy, " \t\n;&|()<>'\"", &save); w;
	     w = strtok_r(NULL, " \t\n;&|()<>'\"", &save)) {
		struct stat st;
		char *full;
		if (w[0] == '-' || w[0] == '/' || strstr(w, ".."))
			continue;
		if (!strncmp(w, "./", 2))
			w += 2;
		if (!*w)
			continue;
		full = xasprintf("%s/%s", tree, w);
		if (lstat(full, &st) == 0 && S_ISREG(st.st_mode))
			strlist_push(&p->files, w);
		free(full);
	}
	free(copy);
}

void protect_init(struct protect *p, const struct config *c, const char *tree)
{
	size_t i;
	if (c->no_protect == 1) {
		p->off = 1;
		return;
	}
	for (i = 0; protect_default_globs[i]; i++)
		strlist_push(&p->globs, protect_default_globs[i]);
	for (i = 0; i < c->protect.n; i++)
		strlist_push(&p->globs, c->protect.v[i]);
	for (i = 0; i < c->gates.n; i++)
		add_gate_files(p, c->gates.v[i], tree);
}

int protect_match(const struct protect *p, const char *path)
{
	size_t i;
	if (p->off)
		return 0;
	for (i = 0; i < p->files.n; i++)
		if (!strcmp(p->files.v[i], path))
			return 1;
	for (i = 0; i < p->globs.n; i++)
		if (match_glob(p->globs.v[i], path))
			return 1;
	return 0;
}

void protect_release(struct protect *p)
{
	strlist_clear(&p->globs);
	strlist_clear(&p->files);
	p->off = 0;
}
