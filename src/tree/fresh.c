/*
 * fresh.c: new mtimes for changed paths, stale bytecode removed.  See
 * fresh.h and docs/design/judge-fresh.md.
 */
#include "tree/fresh.h"
#include "tree/git.h"
#include "base/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A poll step while waiting for the next second: Ctrl-C stays prompt. */
#define WAIT_STEP_NS 50000000L

void fresh_turn_begin(struct fresh *f)
{
	struct timespec now;
	/* the clock the kernel stamps ctime with: any later write is at or
	 * after it (CLOCK_REALTIME may run a tick ahead of it) */
	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	f->turn_start_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	f->quiet = 0;
}

void fresh_turn_quiet(struct fresh *f)
{
	f->quiet = f->turn_start_ns > 0;
}

static int in_list(const struct buf *list, const char *path)
{
	return list && list->s && buf_list_has(list->s, list->len, path);
}

int fresh_touched(const struct fresh *f, const char *tree, const struct buf *tracked,
		  const struct buf *wrote, struct buf *out, struct buf *err)
{
	size_t from = out->len;
	int ret = git_diff_files(tree, out, err);
	size_t git_len = out->len;
	const char *p;

	if (f->quiet) {
		for (p = wrote ? wrote->s : NULL;
		     ret == 0 && p && p < wrote->s + wrote->len; p += strlen(p) + 1)
			if (in_list(tracked, p) &&
			    !buf_list_has(out->s + from, out->len - from, p))
				buf_add(out, p, strlen(p) + 1);
		return ret;
	}
	for (p = tracked ? tracked->s : NULL;
	     ret == 0 && p && p < tracked->s + tracked->len; p += strlen(p) + 1) {
		struct stat st;
		char *full = xasprintf("%s/%s", tree, p);
		/* tracked holds each path once: only git's list can repeat it */
		if (lstat(full, &st) == 0 &&
		    (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec >=
			    f->turn_start_ns &&
		    !(git_len > from && buf_list_has(out->s + from, git_len - from, p)))
			buf_add(out, p, strlen(p) + 1);
		free(full);
	}
	return ret;
}

void fresh_report_release(struct fresh_report *rep)
{
	buf_release(&rep->bytecode);
	rep->stamped = 0;
	rep->waited_ms = 0;
	rep->stamp_ns = 0;
}

void fresh_merge(struct buf *paths, const struct buf *more)
{
	const char *p;
	for (p = more->s; p < more->s + more->len; p += strlen(p) + 1)
		if (!in_list(paths, p))
			buf_add(paths, p, strlen(p) + 1);
}

/* Removes rel (relative to tree) when it is an untracked regular file. */
static void remove_bytecode(const char *tree, const char *rel, const struct buf *tracked,
			    struct fresh_report *rep)
{
	struct stat st;
	char *full = xasprintf("%s/%s", tree, rel);
	if (!in_list(tracked, rel) && lstat(full, &st) == 0 && S_ISREG(st.st_mode) &&
	    unlink(full) == 0)
		buf_add(&rep->bytecode, rel, strlen(rel) + 1);
	free(full);
}

/*
 * The bytecode CPython (and pytest's assertion rewriter) may have cached
 * for dir/stem.py: dir/__pycache__/stem.<tag>.pyc for every tag, and a
 * legacy dir/stem.pyc beside it, which Python imports even without the
 * source (so a deleted module would live on).
 */
static void drop_python_bytecode(const char *tree, const char *path,
				 const struct buf *tracked, struct fresh_report *rep)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	char *stem = xstrndup(path + dirlen, strlen(path + dirlen) - 3);
	char *cache = xasprintf("%s/%.*s__pycache__", tree, (int)dirlen, path);
	DIR *d = opendir(cache);
	struct dirent *e;
	size_t sl = strlen(stem);

	while (d && (e = readdir(d))) {
		size_t nl = strlen(e->d_name);
		if (nl > sl + 5 && !strncmp(e->d_name, stem, sl) &&
		    e->d_name[sl] == '.' && !strcmp(e->d_name + nl - 4, ".pyc")) {
			char *rel = xasprintf("%.*s__pycache__/%s", (int)dirlen, path,
					      e->d_name);
			remove_bytecode(tree, rel, tracked, rep);
			free(rel);
		}
	}
	if (d)
		closedir(d);
	{
		char *legacy = xasprintf("%.*s%sc", (int)dirlen, path, path + dirlen);
		remove_bytecode(tree, legacy, tracked, rep);
		free(legacy);
	}
	free(stem);
	free(cache);
}

static int is_python(const char *path)
{
	size_t n = strlen(path);
	return n > 3 && !strcmp(path + n - 3, ".py");
}

/*
 * The second the stamp must be later than: the latest stamp, and the last
 * write of each path.  A write stamped far in the future (a planted mtime)
 * is left out: the stamp differs from it anyway, and waiting for it would
 * never end.  After a quiet turn (fresh_turn_quiet) the last writes are
 * loopgate's own, seen by no one: the turn's start stands for them (the
 * kernel stamps files from the same coarse clock, so every write a
 * process made before the turn is at or before it).
 */
static long long floor_sec(const struct fresh *f, const char *tree,
			   const struct buf *paths, long long now_sec)
{
	long long m = f->last_sec;
	const char *p;

	if (f->quiet)
		return m > f->turn_start_ns / 1000000000LL
			       ? m
			       : f->turn_start_ns / 1000000000LL;
	for (p = paths->s; p < paths->s + paths->len; p += strlen(p) + 1) {
		struct stat st;
		char *full = xasprintf("%s/%s", tree, p);
		if (lstat(full, &st) == 0 && st.st_mtim.tv_sec <= now_sec + 1 &&
		    st.st_mtim.tv_sec > m)
			m = st.st_mtim.tv_sec;
		free(full);
	}
	return m;
}

/* Waits until the wall clock's second is past floor; -ECANCELED on Ctrl-C. */
static int wait_past(long long floor, struct timespec *now, long long *waited_ms)
{
	long long t0 = clock_ms();
	clock_gettime(CLOCK_REALTIME, now);
	while (now->tv_sec <= floor) {
		struct timespec step = {0, 1000000000L - now->tv_nsec};
		if (now->tv_sec < floor)
			step.tv_nsec = WAIT_STEP_NS;
		else if (step.tv_nsec > WAIT_STEP_NS)
			step.tv_nsec = WAIT_STEP_NS;
		if (interrupt_pending())
			return -ECANCELED;
		nanosleep(&step, NULL);
		tick();
		clock_gettime(CLOCK_REALTIME, now);
	}
	*waited_ms += clock_ms() - t0;
	return 0;
}

int fresh_apply(struct fresh *f, const char *tree, const struct buf *paths,
		const struct buf *tracked, struct fresh_report *rep, struct buf *err)
{
	struct timespec now, ts[2];
	const char *p;
	int ret;

	if (!paths->len)
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	ret = wait_past(floor_sec(f, tree, paths, now.tv_sec), &now, &rep->waited_ms);
	if (ret < 0)
		return err_set(err, ret, "interrupted while waiting for the clock");
	/* now is read after every write it must follow: strictly later in ns
	 * too, whatever the file system's timestamp granularity */
	ts[0] = ts[1] = now;
	rep->stamp_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	for (p = paths->s; p < paths->s + paths->len; p += strlen(p) + 1) {
		char *full = xasprintf("%s/%s", tree, p);
		struct stat st;
		if (lstat(full, &st) == 0) {
			if (utimensat(AT_FDCWD, full, ts, AT_SYMLINK_NOFOLLOW) < 0) {
				ret = err_set(err, -errno,
					      "cannot set the mtime of %s: %s", full,
					      strerror(errno));
				free(full);
				return ret;
			}
			rep->stamped++;
		}
		free(full);
		if (is_python(p))
			drop_python_bytecode(tree, p, tracked, rep);
	}
	f->last_sec = now.tv_sec;
	return 0;
}
