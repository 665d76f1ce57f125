/*
 * protect: which paths of the run's tree the actor must not change.
 *
 *   struct protect p = PROTECT_INIT;
 *   protect_init(&p, cfg, tree);        defaults + gate scripts + --protect
 *   if (protect_match(&p, "tests/test_a.py")) ...
 *   protect_release(&p);
 *
 * The defaults guard what defines the goal: tests by convention and CI
 * configuration (protect_default_globs), and the files the gate commands
 * execute (cmdscan.h: `sh test.sh`, `./run-tests`, `make -f test.mk`; a
 * compiler's input or a file a gate only reads is not protected).  A
 * default is lifted by an unprotect glob (--unprotect); a --protect glob
 * always holds.  Globs are fnmatch with FNM_PATHNAME; "dir/ **" (without
 * the space) matches everything below dir, and dir itself so that swapping
 * the directory for a symlink is caught.  With cfg->no_protect nothing is
 * protected.  With no gate at all (`loopgate once`) there is no goal to
 * guard: only --protect globs hold.
 */
#ifndef LOOPGATE_PROTECT_H
#define LOOPGATE_PROTECT_H

#include "config/config.h"

struct protect {
	struct strlist globs;	  /* the default globs */
	struct strlist user;	  /* --protect globs: always hold */
	struct strlist unprotect; /* --unprotect globs: lift a default */
	struct strlist files;	  /* exact paths the gate commands execute */
	int off;
};
#define PROTECT_INIT                                                                     \
	{                                                                                \
		.globs = STRLIST_INIT, .user = STRLIST_INIT, .unprotect = STRLIST_INIT,  \
		.files = STRLIST_INIT                                                    \
	}

/* Why a path is protected, for messages that name the way out. */
enum protect_why {
	PROTECT_NONE,
	PROTECT_DEFAULT, /* a test or CI glob: *rule is the glob */
	PROTECT_GATE,	 /* a gate executes it: *rule is the path */
	PROTECT_USER,	 /* a --protect glob: *rule is the glob */
};

/* The default globs, NULL-terminated (also used by `gate check` to tell
 * test files from source files). */
extern const char *const protect_default_globs[];

void protect_init(struct protect *p, const struct config *c, const char *tree);
int protect_match(const struct protect *p, const char *path);
/* The reason path is protected (rule, optional, borrowed from p). */
enum protect_why protect_reason(const struct protect *p, const char *path,
				const char **rule);
/* 1 when path matches one of the default test/CI globs. */
int protect_is_test_path(const char *path);
void protect_release(struct protect *p);

#endif
