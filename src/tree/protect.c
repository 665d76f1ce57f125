/*
 * protect.c: the protected set.  See protect.h and docs/design/gates.md.
 */
#include "tree/protect.h"
#include "tree/cmdscan.h"

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
 * The files the gate commands execute (cmdscan.h) that are files in the
 * tree; a symlink's target in the tree is protected with it, since running
 * the link runs the target.
 */
static void add_gate_files(struct protect *p, const char *cmd, const char *tree)
{
	struct strlist run = {NULL, 0};
	char *top = realpath(tree, NULL);

	cmdscan_executed(cmd, &run);
	for (size_t i = 0; i < run.n; i++) {
		struct stat st;
		char *full = xasprintf("%s/%s", tree, run.v[i]), *real;
		if (lstat(full, &st) == 0 && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
			strlist_push(&p->files, run.v[i]);
		if (top && lstat(full, &st) == 0 && S_ISLNK(st.st_mode) &&
		    (real = realpath(full, NULL))) {
			size_t tl = strlen(top);
			if (!strncmp(real, top, tl) && real[tl] == '/')
				strlist_push(&p->files, real + tl + 1);
			free(real);
		}
		free(full);
	}
	free(top);
	strlist_clear(&run);
}

void protect_init(struct protect *p, const struct config *c, const char *tree)
{
	size_t i;
	if (c->no_protect == 1) {
		p->off = 1;
		return;
	}
	/* the defaults guard what defines a gate's goal; with no gate
	 * (loopgate once) only the user's globs hold */
	for (i = 0; c->gates.n && protect_default_globs[i]; i++)
		strlist_push(&p->globs, protect_default_globs[i]);
	for (i = 0; i < c->protect.n; i++)
		strlist_push(&p->user, c->protect.v[i]);
	for (i = 0; i < c->unprotect.n; i++)
		strlist_push(&p->unprotect, c->unprotect.v[i]);
	for (i = 0; i < c->gates.n; i++)
		add_gate_files(p, c->gates.v[i], tree);
}

static const char *match_any(const struct strlist *globs, const char *path)
{
	for (size_t i = 0; i < globs->n; i++)
		if (match_glob(globs->v[i], path))
			return globs->v[i];
	return NULL;
}

enum protect_why protect_reason(const struct protect *p, const char *path,
				const char **rule)
{
	const char *hit;
	size_t i;

	if (p->off)
		return PROTECT_NONE;
	if ((hit = match_any(&p->user, path))) {
		if (rule)
			*rule = hit;
		return PROTECT_USER;
	}
	if (match_any(&p->unprotect, path))
		return PROTECT_NONE;
	for (i = 0; i < p->files.n; i++)
		if (!strcmp(p->files.v[i], path)) {
			if (rule)
				*rule = p->files.v[i];
			return PROTECT_GATE;
		}
	if ((hit = match_any(&p->globs, path))) {
		if (rule)
			*rule = hit;
		return PROTECT_DEFAULT;
	}
	return PROTECT_NONE;
}

int protect_match(const struct protect *p, const char *path)
{
	return protect_reason(p, path, NULL) != PROTECT_NONE;
}

void protect_release(struct protect *p)
{
	strlist_clear(&p->globs);
	strlist_clear(&p->user);
	strlist_clear(&p->unprotect);
	strlist_clear(&p->files);
	p->off = 0;
}
