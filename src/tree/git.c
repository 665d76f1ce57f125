/*
 * git.c: hardened git invocations.  See git.h.
 */
#include "tree/git.h"
#include "tree/git_impl.h"
#include "exec/proc.h"
#include "base/fileio.h"
#include "base/fault.h"
#include "config/config.h"

#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

int git_exit_status(struct proc_result *r, long timeout_ms, const char *cmd,
		    struct buf *err)
{
	struct buf what = BUF_INIT;
	int ret;

	if (r->status == PROC_EXITED && r->exit_code == 0)
		return 0;
	buf_rtrim(&r->err);
	proc_describe(r, timeout_ms, &what);
	ret = err_set(err, -EIO, "git %s failed (%s): %s", cmd, what.s,
		      r->err.len ? r->err.s : "(no message)");
	buf_release(&what);
	return ret;
}

/* Runs git with the fixed hardening, extra (may be NULL) and args. */
static int git_exec(const char *dir, const char *const *extra, const char *const *args,
		    const char *stdin_path, struct buf *out, struct buf *err)
{
	const char **argv;
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	struct proc_env env = PROC_ENV_INIT;
	int ret;

	git_opts(dir, extra, args, stdin_path, &o, &argv, &env);
	ret = proc_run(&o, &r, err);
	proc_env_release(&env);
	if (ret < 0)
		goto done;
	if ((ret = git_exit_status(&r, o.timeout_ms, args[0], err)) < 0)
		goto done;
	if (out)
		buf_add(out, r.out.s, r.out.len);
done:
	free(argv);
	proc_result_release(&r);
	return ret;
}

/* Keys of driver sections that run a program, by section. */ /* Keys of driver sections that run a program, by section. */
static const struct {
	const char *section;
	const char *const keys[5];
} drivers[] = {
	{"filter.", {"clean", "smudge", "process", NULL}},
	{"diff.", {"command", NULL}},
	{"merge.", {"driver", NULL}},
};

/* Pushes "-c" "section.name.key=" for each program key of the section. */
static void blank_driver(struct strlist *x, const char *var, size_t sec, size_t namelen)
{
	size_t k;
	for (k = 0; drivers[sec].keys[k]; k++) {
		char *o = xasprintf("%.*s.%s=", (int)namelen, var, drivers[sec].keys[k]);
		size_t j;
		for (j = 0; j < x->n; j++)
			if (!strcmp(x->v[j], o))
				break;
		if (j < x->n) {
			free(o);
			return; /* this driver is done already */
		}
		strlist_push(x, "-c");
		strlist_push(x, o);
		free(o);
	}
	if (sec == 1) { /* an empty textconv makes git try to run "" */
		char *o = xasprintf("%.*s.textconv=cat", (int)namelen, var);
		strlist_push(x, "-c");
		strlist_push(x, o);
		free(o);
	}
	if (sec == 0) {
		char *o = xasprintf("%.*s.required=false", (int)namelen, var);
		strlist_push(x, "-c");
		strlist_push(x, o);
		free(o);
	}
}

/*
 * The overrides blanking every program-running driver the repository's
 * configuration defines (includes followed: listing runs nothing), or
 * -EPERM when it holds what cannot be overridden.  *plain (optional): 1
 * when no key changes git's stat comparison (git_stat_key_plain).
 */
static int driver_overrides(const char *dir, struct strlist *x, int *plain,
			    struct buf *err)
{
	static const char *const list[] = {"config", "--list", "-z", NULL};
	struct buf out = BUF_INIT;
	const char *p, *end;
	int ret = git_exec(dir, NULL, list, NULL, &out, NULL);

	if (plain)
		*plain = 0;
	if (ret < 0) { /* not a repository, or a config git cannot parse */
		buf_release(&out);
		return 0;
	}
	if (plain)
		*plain = 1;
	end = out.s + out.len;
	for (p = out.s; ret == 0 && p < end; p += strlen(p) + 1) {
		size_t keylen = strcspn(p, "\n"), s, dot;
		const char *last;
		if (plain && !git_stat_key_plain(p, keylen))
			*plain = 0;
		if (!strncmp(p, "include.", 8) || !strncmp(p, "includeif.", 10)) {
			ret = err_set(
				err, -EPERM,
				"the repository's git configuration "
				"has %.*s, which loopgate cannot make safe for its "
				"own git commands: remove the include from .git/config "
				"(git config --unset-all %.*s)",
				(int)keylen, p, (int)keylen, p);
			break;
		}
		if (keylen == 13 && !strncmp(p, "core.worktree", 13)) {
			ret = err_set(
				err, -EPERM,
				"the repository's git configuration "
				"sets core.worktree, which would point loopgate's git "
				"commands outside the run's tree: remove it "
				"(git config --unset core.worktree)");
			break;
		}
		for (s = 0; s < sizeof(drivers) / sizeof(*drivers); s++) {
			size_t sl = strlen(drivers[s].section);
			if (strncmp(p, drivers[s].section, sl))
				continue;
			/* section.name.key: the name is what lies between the
			 * first and the last dot (it may hold dots itself) */
			last = p + keylen;
			while (last > p && *last != '.')
				last--;
			dot = (size_t)(last - p);
			if (dot > sl)
				blank_driver(x, p, s, dot);
		}
	}
	buf_release(&out);
	return ret;
}

/*
 * The overrides depend only on the configuration files git reads for dir
 * (system and global ones are off): the common dir's config and the
 * worktree's config.worktree; includes are refused.  Listing them costs a
 * git process, so the result is kept per dir while both files are
 * unchanged: same inode, size, mtime and ctime (ctime cannot be set back,
 * and git rewrites its config through a rename, a new inode).  A config
 * that provably has no driver, include or core.worktree (git_config_inert:
 * a fresh `git init`'s) needs no listing at all.
 */
#define CACHE_SLOTS 8

struct cfg_stamp {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

static struct override_cache {
	char *dir;
	char *files[2]; /* common config, worktree config.worktree */
	struct cfg_stamp stamp[2];
	struct strlist x;
	int ret;
	int plain; /* git_stat_key_plain holds for every key */
	char *why;
} cache[CACHE_SLOTS];
static unsigned cache_next;

static void stamp_of(const char *path, struct cfg_stamp *st)
{
	struct stat sb;
	memset(st, 0, sizeof(*st));
	if (!path || stat(path, &sb) < 0)
		return;
	st->exists = 1;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->size = sb.st_size;
	st->mtime = sb.st_mtim;
	st->ctime = sb.st_ctim;
}

static int stamp_eq(const struct cfg_stamp *a, const struct cfg_stamp *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static void cache_drop(struct override_cache *c)
{
	free(c->dir);
	free(c->files[0]);
	free(c->files[1]);
	free(c->why);
	strlist_clear(&c->x);
	memset(c, 0, sizeof(*c));
}

/* The config files of dir, from `git rev-parse` (which runs no driver)
 * when they cannot be read off the files. */
static int config_files(const char *dir, char *files[2])
{
	static const char *const q[] = {"rev-parse", "--path-format=absolute",
					"--git-common-dir", "--git-dir", NULL};
	struct buf out = BUF_INIT;
	char *nl;
	int ret;

	files[0] = files[1] = NULL;
	if (git_config_files_fast(dir, files) == 0)
		return 0;
	ret = git_exec(dir, NULL, q, NULL, &out, NULL);
	if (ret < 0 || !(nl = memchr(out.s, '\n', out.len))) {
		buf_release(&out);
		return -1;
	}
	*nl = '\0';
	buf_rtrim(&out);
	files[0] = xasprintf("%s/config", out.s);
	files[1] = xasprintf("%s/config.worktree", nl + 1);
	buf_release(&out);
	return 0;
}

/*
 * Another directory of the same repository already listed: the same
 * common config, unchanged, and neither has a config.worktree (a run's
 * tree and its repository), so `git config --list` would say the same.
 */
static const struct override_cache *sibling(const struct override_cache *c)
{
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		const struct override_cache *o = &cache[i];
		if (o != c && o->dir && !strcmp(o->files[0], c->files[0]) &&
		    stamp_eq(&o->stamp[0], &c->stamp[0]) && !o->stamp[1].exists &&
		    !c->stamp[1].exists)
			return o;
	}
	return NULL;
}

static int cached_overrides(const char *dir, struct strlist *x, int *plain,
			    struct buf *err)
{
	struct cfg_stamp now[2];
	struct override_cache *c = NULL;
	const struct override_cache *o;
	struct buf why = BUF_INIT;
	char *abs;
	size_t i;

	/* the key is an absolute directory: "." or NULL (the current
	 * directory) is resolved now, so it cannot go stale if that changes */
	if (!dir || dir[0] != '/') {
		int ret;
		if (!(abs = realpath(dir ? dir : ".", NULL)))
			return driver_overrides(dir, x, plain, err);
		ret = cached_overrides(abs, x, plain, err);
		free(abs);
		return ret;
	}
	for (i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].dir && !strcmp(cache[i].dir, dir))
			c = &cache[i];
	if (c) {
		stamp_of(c->files[0], &now[0]);
		stamp_of(c->files[1], &now[1]);
		if (stamp_eq(&now[0], &c->stamp[0]) && stamp_eq(&now[1], &c->stamp[1]))
			goto hit;
		cache_drop(c);
	} else {
		c = &cache[cache_next++ % CACHE_SLOTS];
		cache_drop(c);
	}
	if (config_files(dir, c->files) < 0) {
		/* not a repository (yet): no cache, list every time */
		free(c->files[0]);
		free(c->files[1]);
		memset(c, 0, sizeof(*c));
		return driver_overrides(dir, x, plain, err);
	}
	/* stamps first: a change while listing makes the next call list again */
	stamp_of(c->files[0], &c->stamp[0]);
	stamp_of(c->files[1], &c->stamp[1]);
	if ((o = sibling(c))) {
		for (i = 0; i < o->x.n; i++)
			strlist_push(&c->x, o->x.v[i]);
		c->ret = o->ret;
		c->plain = o->plain;
		c->why = o->why ? xstrdup(o->why) : NULL;
	} else if (!c->stamp[1].exists && git_config_inert(c->files[0], &c->plain)) {
		c->ret = 0; /* nothing to blank or refuse: no listing needed */
	} else {
		c->ret = driver_overrides(dir, &c->x, &c->plain, &why);
		c->why = c->ret < 0 ? xstrdup(why.s) : NULL;
	}
	c->dir = xstrdup(dir);
	buf_release(&why);
hit:
	if (plain)
		*plain = c->plain;
	if (c->ret < 0)
		return err_set(err, c->ret, "%s", c->why);
	for (i = 0; i < c->x.n; i++)
		strlist_push(x, c->x.v[i]);
	return 0;
}

int git_cached_overrides(const char *dir, struct strlist *x, int *plain, struct buf *err)
{
	int ret = cached_overrides(dir, x, plain, err);
	if (ret == 0) { /* an argv's middle part: NULL-terminated */
		x->v = xrealloc(x->v, (x->n + 1) * sizeof(*x->v));
		x->v[x->n] = NULL;
	}
	return ret;
}

int git_runv(const char *dir, const char *const *args, const char *stdin_path,
	     struct buf *out, struct buf *err)
{
	struct strlist x = {NULL, 0};
	int ret = git_cached_overrides(dir, &x, NULL, err);
	if (ret == 0)
		ret = git_exec(dir, (const char *const *)x.v, args, stdin_path, out, err);
	strlist_clear(&x);
	return ret;
}

int git_run(const char *dir, struct buf *out, struct buf *err, ...)
{
	const char *args[64];
	size_t n = 0;
	va_list ap;
	va_start(ap, err);
	while (n < 63 && (args[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	args[n] = NULL;
	return git_runv(dir, args, NULL, out, err);
}

int git_config_stat_plain(const char *dir)
{
	struct strlist x = {NULL, 0};
	int plain = 0;
	int ret = git_cached_overrides(dir, &x, &plain, NULL);
	strlist_clear(&x);
	return ret == 0 && plain;
}

/*
 * The last answer is remembered, keyed by the directory's real path: the
 * CLI asks once to find loopgate.yaml, the run's setup again, and the top
 * of a directory does not move while loopgate runs.  Read off the files
 * in the usual case (git_toplevel_fast), else asked of git.
 */
int git_toplevel(const char *dir, struct buf *out, struct buf *err)
{
	static char *memo_dir, *memo_top;
	char *real = realpath(dir ? dir : ".", NULL); /* NULL: the current directory */
	int ret;

	if (real && memo_dir && !strcmp(real, memo_dir)) {
		free(real);
		buf_sets(out, memo_top);
		return 0;
	}
	if (!real || git_toplevel_fast(real, out) < 0)
		ret = git_run(dir, out, err, "rev-parse", "--show-toplevel", NULL);
	else
		ret = 0;
	if (ret == 0 && real) {
		buf_rtrim(out);
		free(memo_dir);
		free(memo_top);
		memo_dir = real;
		memo_top = xstrdup(out->s);
		real = NULL;
	}
	free(real);
	if (ret < 0)
		return err_set(err, ret,
			       "%s is not inside a git work tree: "
			       "run loopgate in a repository (git init) or pass --dir",
			       dir);
	buf_rtrim(out);
	return 0;
}

int git_rev(const char *dir, const char *rev, struct buf *out, struct buf *err)
{
	int ret;

	/* HEAD of a work tree's top read off its files, the usual case */
	buf_reset(out);
	if (!strcmp(rev, "HEAD") && !getenv("GIT_DIR") &&
	    git_head_from_files(dir, out) == 0)
		return 0;
	buf_reset(out);
	ret = git_run(dir, out, err, "rev-parse", "--verify", "-q", rev, NULL);
	buf_rtrim(out);
	return ret;
}

int git_is_dirty(const char *dir, struct buf *err)
{
	return git_dirty_end(git_dirty_begin(dir), err);
}

/*
 * Parses `git add -v` output ("add 'path'" / "remove 'path'" per changed
 * path; LC_ALL=C keeps it untranslated) into a NUL-separated list.  Returns
 * -1 on any line it does not recognise, or a path that could contain a
 * quote or newline: the caller then asks git with `diff --cached -z`.
 */
static int parse_add_verbose(const struct buf *out, struct buf *changed)
{
	const char *p = out->s, *end = out->s + out->len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q;
		size_t skip;
		if (!eol)
			return -1;
		skip = !strncmp(p, "add '", 5) ? 5 : !strncmp(p, "remove '", 8) ? 8 : 0;
		if (!skip || eol - p < (ptrdiff_t)skip + 1 || eol[-1] != '\'')
			return -1;
		for (q = p + skip; q < eol - 1; q++)
			if (*q == '\'')
				return -1;
		buf_add(changed, p + skip, (size_t)(eol - 1 - (p + skip)));
		buf_addch(changed, '\0');
		p = eol + 1;
	}
	return 0;
}

/* Identity of the index file: equal stamps mean nobody rewrote it. */
void git_index_stamp_take(const char *tree, struct git_index_stamp *st)
{
	struct buf gd = BUF_INIT;
	struct stat sb;
	char *path;
	memset(st, 0, sizeof(*st));
	if (git_worktree_gitdir(tree, &gd) < 0) {
		buf_release(&gd);
		return;
	}
	path = xasprintf("%s/index", gd.s);
	if (stat(path, &sb) == 0) {
		st->valid = 1;
		st->dev = (unsigned long long)sb.st_dev;
		st->ino = (unsigned long long)sb.st_ino;
		st->size = (long long)sb.st_size;
		st->mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL +
			       sb.st_mtim.tv_nsec;
	}
	free(path);
	buf_release(&gd);
}

static int stamp_equal(const struct git_index_stamp *a, const struct git_index_stamp *b)
{
	return a->valid && b->valid && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime_ns == b->mtime_ns;
}

int git_index_stamp_same(const char *tree, const struct git_index_stamp *st)
{
	struct git_index_stamp now;

	git_index_stamp_take(tree, &now);
	return st && stamp_equal(st, &now);
}

/*
 * Stages everything and names what changed.  `add -v` names only what it
 * staged itself, so its list is complete only when the index still equals
 * HEAD, i.e. nobody (an agent CLI running `git add`, a gate) rewrote the
 * index since our last commit: the stamp proves that.  Otherwise git lists
 * the staged paths itself.
 */
int git_stage_all(const char *tree, const char *excludes,
		  const struct git_index_stamp *stamp, struct buf *changed,
		  struct buf *err)
{
	char *opt = xasprintf("core.excludesFile=%s", excludes ? excludes : "/dev/null");
	struct buf out = BUF_INIT;
	int ret, trusted = git_index_stamp_same(tree, stamp);

	ret = git_run(tree, &out, err, "-c", opt, "add", "-A", "-v", ".", NULL);
	free(opt);
	if (ret == 0 && (!trusted || parse_add_verbose(&out, changed) < 0)) {
		buf_reset(changed);
		ret = git_run(tree, changed, err, "diff", "--cached", "--name-only", "-z",
			      "--no-renames", "--no-ext-diff", NULL);
	}
	buf_release(&out);
	return ret;
}

/* After a commit: its sha (optional) off the ref files, else from git,
 * and the index's stamp, which now equals HEAD. */
static int committed(const char *tree, struct git_index_stamp *stamp, struct buf *sha,
		     struct buf *err)
{
	int ret = 0;
	if (sha && git_head_from_files(tree, sha) < 0)
		ret = git_rev(tree, "HEAD", sha, err);
	if (stamp && ret == 0)
		git_index_stamp_take(tree, stamp);
	return ret;
}

int git_commit_staged(const char *tree, const char *msg, struct git_index_stamp *stamp,
		      struct buf *sha, struct buf *err)
{
	int ret = git_run(tree, NULL, err, "commit", "-q", "--no-verify",
			  "--allow-empty-message", "-m", msg, NULL);
	return ret < 0 ? ret : committed(tree, stamp, sha, err);
}

/*
 * One process: `git commit -a`, then what it changed read off the index
 * before and after (git_index_entries), HEAD off the ref files.  1 when it
 * could not be used or git made no commit (HEAD as it was): the caller
 * stages the usual way.
 */
int git_commit_tracked(const char *tree, const char *msg, struct git_index_stamp *stamp,
		       struct buf *changed, struct buf *sha, struct buf *err)
{
	struct buf before = BUF_INIT, after = BUF_INIT, head = BUF_INIT, why = BUF_INIT;
	int ret = 1;

	if (git_index_entries(tree, &before) < 0 || git_head_from_files(tree, &head) < 0)
		goto out;
	ret = git_run(tree, NULL, &why, "commit", "-a", "-q", "--no-verify",
		      "--allow-empty-message", "-m", msg, NULL);
	if (ret < 0) {
		/* nothing to commit (the content is as it was), or a failure
		 * the usual way meets again and reports: HEAD must not have
		 * moved, else the failure is this call's */
		if (git_head_is(tree, head.s))
			ret = 1;
		else
			err_set(err, ret, "%s", why.s);
		goto out;
	}
	if ((ret = committed(tree, stamp, sha, err)) < 0)
		goto out;
	if (git_index_entries(tree, &after) == 0)
		git_index_changes(&before, &after, changed);
	else
		ret = git_run(tree, changed, err, "diff-tree", "-r", "-z", "--name-only",
			      "--no-renames", "--no-commit-id", "--no-ext-diff", sha->s,
			      NULL);
out:
	buf_release(&before);
	buf_release(&after);
	buf_release(&head);
	buf_release(&why);
	return ret;
}

/*
 * Two processes in the common case, like a shell's `git add -A && git
 * commit`: stage (naming what changed; nothing: no commit), then commit,
 * with the new sha read from the ref file.
 */
int git_commit_all(const char *tree, const char *msg, const char *excludes,
		   struct git_index_stamp *stamp, struct buf *changed, struct buf *sha,
		   struct buf *err)
{
	int ret = git_stage_all(tree, excludes, stamp, changed, err);
	if (ret < 0 || !changed->len)
		return ret;
	return git_commit_staged(tree, msg, stamp, sha, err);
}

/* Runs `git ARGS... -- paths` with the NUL-separated paths appended. */
static int run_with_paths(const char *tree, const char *const *args,
			  const struct buf *paths, struct buf *out, struct buf *err)
{
	const char *argv[512];
	const char *p;
	size_t n = 0;
	int ret = 0;

	for (; args[n]; n++)
		argv[n] = args[n];
	argv[n++] = "--";
	size_t fixed = n;
	for (p = paths->s; p < paths->s + paths->len; p += strlen(p) + 1) {
		argv[n++] = p;
		if (n == 510 || p + strlen(p) + 1 >= paths->s + paths->len) {
			argv[n] = NULL;
			ret = git_runv(tree, argv, NULL, out, err);
			if (ret < 0)
				return ret;
			n = fixed;
		}
	}
	return ret;
}

int git_revert_paths(const char *tree, const struct buf *paths, struct buf *err)
{
	static const char *const ls[] = {"ls-tree", "-z",   "--name-only",
					 "-r",	    "HEAD", NULL};
	static const char *const rm[] = {"rm", "-q", "--cached", "-r", "--ignore-unmatch",
					 NULL};
	static const char *const restore[] = {"restore", "--source=HEAD", "--staged",
					      "--worktree", NULL};
	struct buf in_head = BUF_INIT, gone = BUF_INIT, back = BUF_INIT;
	const char *p, *q;
	int ret;

	if (!paths->len)
		return 0;
	ret = run_with_paths(tree, ls, paths, &in_head, err);
	for (p = paths->s; ret == 0 && p < paths->s + paths->len; p += strlen(p) + 1) {
		int found = 0;
		for (q = in_head.s; q < in_head.s + in_head.len; q += strlen(q) + 1)
			if (!strcmp(p, q))
				found = 1;
		buf_add(found ? &back : &gone, p, strlen(p) + 1);
	}
	/* New paths first: a symlink standing where a directory was must go
	 * before the directory's files can come back. */
	if (ret == 0 && gone.len) {
		ret = run_with_paths(tree, rm, &gone, NULL, err);
		for (p = gone.s; ret == 0 && p < gone.s + gone.len; p += strlen(p) + 1) {
			char *full = xasprintf("%s/%s", tree, p);
			unlink(full);
			free(full);
		}
	}
	if (ret == 0 && back.len)
		ret = run_with_paths(tree, restore, &back, NULL, err);
	buf_release(&in_head);
	buf_release(&gone);
	buf_release(&back);
	return ret;
}

int git_restore(const char *tree, struct buf *err)
{
	int ret = git_run(tree, NULL, err, "reset", "-q", "--hard", "HEAD", NULL);
	if (ret < 0)
		return ret;
	return git_run(tree, NULL, err, "clean", "-q", "-fdx", NULL);
}

/* ---- worktrees and excludes for loopgate's own directories --------------- */

/* Keeps .loopgate/ out of the user's `git status` without touching their
 * tree: info/exclude lives in the (common) git directory. */
int git_common_dir(const char *repo, struct buf *out, struct buf *err)
{
	struct stat st;
	char *dot = xasprintf("%s/.git", repo);
	int ret = 0;

	buf_reset(out);
	/* the usual case without a spawn: repo is a main worktree */
	if (repo[0] == '/' && lstat(dot, &st) == 0 && S_ISDIR(st.st_mode) &&
	    !getenv("GIT_DIR") && !getenv("GIT_COMMON_DIR"))
		buf_adds(out, dot);
	else if ((ret = git_run(repo, out, err, "rev-parse", "--path-format=absolute",
				"--git-common-dir", NULL)) == 0)
		buf_rtrim(out);
	free(dot);
	return ret;
}

int git_exclude_loopgate_dir(const char *repo, struct buf *err)
{
	struct buf gd = BUF_INIT;
	char *path;
	int ret = git_common_dir(repo, &gd, err);
	if (ret < 0)
		goto out;
	path = xasprintf("%s/info", gd.s);
	ret = fileio_mkdirs(path, err);
	free(path);
	if (ret < 0)
		goto out;
	path = xasprintf("%s/info/exclude", gd.s);
	ret = fileio_ensure_line(path, "/.loopgate/", err);
	free(path);
out:
	buf_release(&gd);
	return ret;
}
