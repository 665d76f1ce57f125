/* Unit tests for fresh: mtimes later than any earlier state, stale bytecode
 * of changed .py files removed, tracked files and other modules kept. */
#include "unit.h"
#include "tree/fresh.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char tree[] = "/tmp/loopgate-fresh-XXXXXX";

static char *at(const char *rel)
{
	return xasprintf("%s/%s", tree, rel);
}

static void make(const char *rel)
{
	char *p = at(rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs("x\n", f);
		fclose(f);
	}
	free(p);
}

static int exists(const char *rel)
{
	struct stat st;
	char *p = at(rel);
	int ok = lstat(p, &st) == 0;
	free(p);
	return ok;
}

static struct timespec mtime_of(const char *rel)
{
	struct stat st;
	struct timespec t = {0, 0};
	char *p = at(rel);
	if (stat(p, &st) == 0)
		t = st.st_mtim;
	free(p);
	return t;
}

static void set_mtime(const char *rel, time_t sec)
{
	struct timespec ts[2] = {{sec, 0}, {sec, 0}};
	char *p = at(rel);
	utimensat(AT_FDCWD, p, ts, 0);
	free(p);
}

static void list(struct buf *b, const char *const *paths)
{
	for (; *paths; paths++)
		buf_add(b, *paths, strlen(*paths) + 1);
}

TEST(stamps_later_in_whole_seconds_and_drops_bytecode)
{
	struct fresh f = FRESH_INIT;
	struct fresh_report rep = FRESH_REPORT_INIT;
	struct buf paths = BUF_INIT, tracked = BUF_INIT, err = BUF_INIT;
	const char *changed[] = {"pkg/calc.py", "gone.py", "missing/x.c", NULL};
	const char *kept[] = {"pkg/__pycache__/calc.cpython-311.opt-1.pyc", NULL};
	struct timespec before, after, now;
	char *dir;

	dir = at("pkg");
	mkdir(dir, 0755);
	free(dir);
	dir = at("pkg/__pycache__");
	mkdir(dir, 0755);
	free(dir);
	make("pkg/calc.py");
	make("pkg/__pycache__/calc.cpython-311.pyc");
	make("pkg/__pycache__/calc.cpython-311-pytest-8.3.4.pyc");
	make("pkg/__pycache__/calc.cpython-311.opt-1.pyc");
	make("pkg/__pycache__/calculus.cpython-311.pyc");
	make("gone.pyc"); /* legacy bytecode of a deleted module */
	clock_gettime(CLOCK_REALTIME, &now);
	before = mtime_of("pkg/calc.py");
	list(&paths, changed);
	list(&tracked, kept);
	CHECK_INT(fresh_apply(&f, tree, &paths, &tracked, &rep, &err), 0);
	after = mtime_of("pkg/calc.py");
	CHECK(after.tv_sec > before.tv_sec);
	CHECK(after.tv_sec > now.tv_sec - 1);
	CHECK_INT(rep.stamped, 1);
	CHECK_INT(f.last_sec, after.tv_sec);
	CHECK(!exists("pkg/__pycache__/calc.cpython-311.pyc"));
	CHECK(!exists("pkg/__pycache__/calc.cpython-311-pytest-8.3.4.pyc"));
	CHECK(!exists("gone.pyc"));
	CHECK(exists("pkg/__pycache__/calc.cpython-311.opt-1.pyc")); /* tracked */
	CHECK(exists("pkg/__pycache__/calculus.cpython-311.pyc"));   /* another module */
	fresh_report_release(&rep);

	/* again at once: later than the previous stamp, in whole seconds */
	CHECK_INT(fresh_apply(&f, tree, &paths, &tracked, &rep, &err), 0);
	CHECK(mtime_of("pkg/calc.py").tv_sec > after.tv_sec);
	fresh_report_release(&rep);
	buf_release(&paths);
	buf_release(&tracked);
	buf_release(&err);
}

TEST(a_planted_future_mtime_is_not_waited_for)
{
	struct fresh f = FRESH_INIT;
	struct fresh_report rep = FRESH_REPORT_INIT;
	struct buf paths = BUF_INIT, err = BUF_INIT;
	const char *changed[] = {"future.txt", NULL};
	time_t far = time(NULL) + 365 * 24 * 3600;

	make("future.txt");
	set_mtime("future.txt", far);
	list(&paths, changed);
	CHECK_INT(fresh_apply(&f, tree, &paths, NULL, &rep, &err), 0);
	CHECK(rep.waited_ms < 1500);
	CHECK(mtime_of("future.txt").tv_sec != far);
	fresh_report_release(&rep);
	buf_release(&paths);
	buf_release(&err);
}

/* The paths of a NUL-separated list, joined by spaces (to compare). */
static char *joined(const struct buf *b)
{
	struct buf j = BUF_INIT;
	for (const char *p = b->s; p && p < b->s + b->len; p += strlen(p) + 1)
		buf_addf(&j, "%s%s", j.len ? " " : "", p);
	return buf_detach(&j, NULL);
}

TEST(a_quiet_turn_touches_what_it_wrote_not_what_came_before)
{
	struct fresh f = FRESH_INIT;
	struct buf tracked = BUF_INIT, wrote = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	const char *files[] = {"a.txt", "b.txt", NULL};
	const char *edits[] = {"a.txt", "a.txt", "new.txt", NULL};
	char *cmd = xasprintf("cd %s && git init -q . && git add a.txt b.txt && "
			      "git -c user.name=t -c user.email=t@t commit -q -m i",
			      tree),
	     *s;
	FILE *fp;

	make("a.txt");
	make("b.txt");
	CHECK_INT(system(cmd), 0);
	list(&tracked, files);
	list(&wrote, edits);
	/* every file's ctime at or after the turn's start: the checkout, or a
	 * gate, wrote them in the tick the turn began in */
	f.turn_start_ns = 1;
	CHECK_INT(fresh_touched(&f, tree, &tracked, &wrote, &out, &err), 0);
	CHECK_STR((s = joined(&out)), "a.txt b.txt"); /* not quiet: both, by ctime */
	free(s);
	/* quiet: only loopgate wrote, and only what its edit blocks named
	 * (once each; an untracked one is the staged change's to name) */
	fresh_turn_quiet(&f);
	buf_reset(&out);
	CHECK_INT(fresh_touched(&f, tree, &tracked, &wrote, &out, &err), 0);
	CHECK_STR((s = joined(&out)), "a.txt");
	free(s);
	/* a content change git sees is listed whoever made it */
	s = at("b.txt");
	if ((fp = fopen(s, "w"))) {
		fputs("changed\n", fp);
		fclose(fp);
	}
	free(s);
	buf_reset(&out);
	CHECK_INT(fresh_touched(&f, tree, &tracked, &wrote, &out, &err), 0);
	CHECK_STR((s = joined(&out)), "b.txt a.txt");
	free(s);
	free(cmd);
	cmd = xasprintf("rm -rf %s/.git %s/a.txt %s/b.txt", tree, tree, tree);
	CHECK_INT(system(cmd), 0);
	free(cmd);
	buf_release(&tracked);
	buf_release(&wrote);
	buf_release(&out);
	buf_release(&err);
}

int main(void)
{
	if (!mkdtemp(tree))
		return 1;
	RUN(stamps_later_in_whole_seconds_and_drops_bytecode);
	RUN(a_planted_future_mtime_is_not_waited_for);
	RUN(a_quiet_turn_touches_what_it_wrote_not_what_came_before);
	{
		const char *rm[] = {"pkg/__pycache__/calc.cpython-311.opt-1.pyc",
				    "pkg/__pycache__/calculus.cpython-311.pyc",
				    "pkg/__pycache__",
				    "pkg/calc.py",
				    "pkg",
				    "future.txt"};
		for (size_t i = 0; i < sizeof(rm) / sizeof(rm[0]); i++) {
			char *p = at(rm[i]);
			if (unlink(p) < 0)
				rmdir(p);
			free(p);
		}
		rmdir(tree);
	}
	return unit_done();
}
