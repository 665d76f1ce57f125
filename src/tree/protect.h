/*
 * protect: which paths of the run's tree the actor must not change.
 *
 *   struct protect p = PROTECT_INIT;
 *   protect_init(&p, cfg, tree);        defaults + gate scripts + --protect
 *   if (protect_match(&p, "tests/test_a.py")) ...
 *   protect_release(&p);
 *
 * A path is protected when it matches a glob (fnmatch with FNM_PATHNAME;
 * "dir/ **" (without the space) matches everything below dir, and dir itself so that swapping the
 * directory for a symlink is caught), or is a file named by a word of a gate
 * command.  With cfg->no_protect only nothing is protected.
 */
#ifndef LOOPGATE_PROTECT_H
#define LOOPGATE_PROTECT_H

#include "config/config.h"

struct protect {
	struct strlist globs; /* every glob in force, defaults first */
	struct strlist files; /* exact paths named by the gate commands */
	int off;
};
#define PROTECT_INIT                                                                     \
	{                                                                                \
		{NULL, 0}, {NULL, 0}, 0                                                  \
	}

/* The default globs, NULL-terminated (also used by `gate check` to tell
 * test files from source files). */
extern const char *const protect_default_globs[];

void protect_init(struct protect *p, const struct config *c, const char *tree);
int protect_match(const struct protect *p, const char *path);
/* 1 when path matches one of the default test/CI globs. */
int protect_is_test_path(const char *path);
void protect_release(struct protect *p);

#endif
