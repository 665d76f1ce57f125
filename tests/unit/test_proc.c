/* Unit tests for proc: spawning, exit classification, group kill, caps. */
#include "unit.h"
#include "exec/proc.h"
#include "exec/proc_impl.h"
#include "base/fileio.h"
#include "base/clock.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1 once pid is gone or a zombie, polling /proc; 0 if still alive at the end. */
static int wait_dead(long pid, long max_ms)
{
	long long until = clock_ms() + max_ms;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	for (;;) {
		struct buf st = BUF_INIT;
		int dead = buf_read_file(&st, path) < 0 || strstr(st.s, ") Z ") ||
			   strstr(st.s, ") X ");
		buf_release(&st);
		if (dead)
			return 1;
		if (clock_ms() > until)
			return 0;
		usleep(1000);
	}
}

static int run_sh(const char *script, struct proc_opts *o, struct proc_result *r)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct proc_env env = PROC_ENV_INIT;
	struct buf err = BUF_INIT;
	int ret;
	proc_env_base(&env);
	o->argv = argv;
	o->env = (const char *const *)env.v;
	ret = proc_run(o, r, &err);
	proc_env_release(&env);
	buf_release(&err);
	return ret;
}

TEST(exit_code_is_data)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	CHECK_INT(run_sh("echo hi; exit 3", &o, &r), 0);
	CHECK_INT(r.status, PROC_EXITED);
	CHECK_INT(r.exit_code, 3);
	CHECK_STR(r.out.s, "hi\n");
	proc_result_release(&r);
}

TEST(spawn_failure_is_an_error)
{
	const char *argv[] = { "no-such-program-loopgate", NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", NULL };
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	struct buf err = BUF_INIT;
	o.argv = argv;
	o.env = env;
	CHECK_INT(proc_run(&o, &r, &err), -ENOENT);
	CHECK_CONTAINS(err.s, "no-such-program-loopgate");
	proc_result_release(&r);
	buf_release(&err);
}

/* proc_begin returns once the child is forked: an exec that fails is
 * proc_end's error, and a command that ran is proc_end's result. */
TEST(begin_does_not_wait_for_the_exec)
{
	const char *missing[] = { "no-such-program-loopgate", NULL };
	const char *sh[] = { "/bin/sh", "-c", "echo hi; exit 3", NULL };
	const char *env[] = { "PATH=/usr/bin:/bin", NULL };
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	struct proc_pending *p = NULL;
	struct buf err = BUF_INIT;
	o.argv = missing;
	o.env = env;
	CHECK_INT(proc_begin(&o, &p, &err), 0);
	CHECK(p != NULL);
	CHECK_INT(proc_end(p, &r, &err), -ENOENT);
	CHECK_CONTAINS(err.s, "cannot run no-such-program-loopgate: No such file");
	proc_result_release(&r);
	buf_reset(&err);
	o.argv = sh;
	CHECK_INT(proc_begin(&o, &p, &err), 0);
	CHECK_INT(proc_end(p, &r, &err), 0);
	CHECK_INT(r.status, PROC_EXITED);
	CHECK_INT(r.exit_code, 3);
	CHECK_STR(r.out.s, "hi\n");
	proc_result_release(&r);
	buf_release(&err);
}

TEST(merged_output_keeps_terminal_order)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	o.merge_output = 1;
	CHECK_INT(run_sh("echo one; echo two >&2; echo three", &o, &r), 0);
	CHECK_STR(r.out.s, "one\ntwo\nthree\n");
	proc_result_release(&r);
}

TEST(separate_streams)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	CHECK_INT(run_sh("echo out; echo err >&2", &o, &r), 0);
	CHECK_STR(r.out.s, "out\n");
	CHECK_STR(r.err.s, "err\n");
	proc_result_release(&r);
}

TEST(timeout_kills_the_whole_group)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	char path[] = "/tmp/loopgate-proc-XXXXXX";
	char script[512];
	struct buf pid = BUF_INIT;
	int fd = mkstemp(path);
	close(fd);
	/* A grandchild in the background that would outlive the shell. */
	snprintf(script, sizeof(script),
		 "sleep 30 & echo $! > %s; echo started; wait", path);
	o.timeout_ms = 200;
	o.kill_grace_ms = 200;
	CHECK_INT(run_sh(script, &o, &r), 0);
	CHECK_INT(r.status, PROC_TIMED_OUT);
	CHECK_STR(r.out.s, "started\n");
	CHECK(buf_read_file(&pid, path) == 0);
	/* The group got SIGKILL; the grandchild closes its descriptors (our
	 * EOF) a moment before it becomes a zombie, so wait for that state,
	 * bounded: a process that survived would still be running after 5 s. */
	CHECK(wait_dead(atol(pid.s), 5000));
	unlink(path);
	buf_release(&pid);
	proc_result_release(&r);
}

TEST(orphans_are_killed_when_the_child_exits)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	long long t0 = clock_ms();
	/* The background sleep holds stdout open; without the group kill
	 * proc_run would wait 30 s for EOF. */
	CHECK_INT(run_sh("sleep 30 & echo done", &o, &r), 0);
	CHECK_INT(r.status, PROC_EXITED);
	CHECK_INT(r.exit_code, 0);
	CHECK_STR(r.out.s, "done\n");
	CHECK(clock_ms() - t0 < 20000);
	proc_result_release(&r);
}

TEST(signal_death_is_reported)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	CHECK_INT(run_sh("kill -SEGV $$", &o, &r), 0);
	CHECK_INT(r.status, PROC_SIGNALED);
	CHECK_INT(r.term_signal, SIGSEGV);
	proc_result_release(&r);
}

TEST(output_cap_bounds_memory_but_counts_everything)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	char path[] = "/tmp/loopgate-proc-out-XXXXXX";
	struct buf f = BUF_INIT;
	int fd = mkstemp(path);
	close(fd);
	o.max_output = 1000;
	o.output_path = path;
	o.max_file_output = 5000;
	CHECK_INT(run_sh("head -c 100000 /dev/zero", &o, &r), 0);
	CHECK_INT(r.out.len, 1000);
	CHECK(r.out.truncated);
	CHECK_INT(r.out_total, 100000);
	CHECK(buf_read_file(&f, path) == 0);
	CHECK(f.len > 5000 && f.len < 5200);
	CHECK_CONTAINS(f.s + 5000, "[loopgate: output cut at 5000 bytes]");
	unlink(path);
	buf_release(&f);
	proc_result_release(&r);
}

TEST(environment_is_an_allow_list)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	setenv("OPENAI_API_KEY", "sk-secret-value", 1);
	CHECK_INT(run_sh("env", &o, &r), 0);
	CHECK(!strstr(r.out.s, "sk-secret-value"));
	CHECK_CONTAINS(r.out.s, "PATH=");
	unsetenv("OPENAI_API_KEY");
	proc_result_release(&r);
}

TEST(stdin_from_file)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	char path[] = "/tmp/loopgate-proc-in-XXXXXX";
	int fd = mkstemp(path);
	CHECK(write(fd, "prompt text\n", 12) == 12);
	close(fd);
	o.stdin_path = path;
	CHECK_INT(run_sh("cat", &o, &r), 0);
	CHECK_STR(r.out.s, "prompt text\n");
	unlink(path);
	proc_result_release(&r);
}

TEST(deadline_stops_the_child)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	o.deadline_ms = clock_ms() + 150;
	o.kill_grace_ms = 100;
	CHECK_INT(run_sh("sleep 30", &o, &r), 0);
	CHECK_INT(r.status, PROC_DEADLINE);
	proc_result_release(&r);
}

TEST(term_ignoring_child_gets_killed)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	o.timeout_ms = 100;
	o.kill_grace_ms = 100;
	CHECK_INT(run_sh("trap '' TERM; sleep 30", &o, &r), 0);
	CHECK_INT(r.status, PROC_TIMED_OUT);
	proc_result_release(&r);
}

/* Writes an executable script printing word at dir/name. */
static void put_script(const char *dir, const char *name, const char *word)
{
	char path[512], text[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(text, sizeof(text), "#!/bin/sh\necho %s\n", word);
	CHECK_INT(fileio_write_atomic(path, text, strlen(text), NULL), 0);
	CHECK_INT(chmod(path, 0755), 0);
}

static const char *run_named(const char *name, const char *path_var, int *ret)
{
	static char got[64];
	const char *argv[] = {name, NULL};
	char pv[1200];
	const char *env[] = {pv, NULL};
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	struct buf err = BUF_INIT;
	snprintf(pv, sizeof(pv), "PATH=%s", path_var);
	o.argv = argv;
	o.env = env;
	*ret = proc_run(&o, &r, &err);
	snprintf(got, sizeof(got), "%s", *ret == 0 ? r.out.s : err.s);
	proc_result_release(&r);
	buf_release(&err);
	return got;
}

/* A PATH search is done once, in the parent; an entry gone stale (the
 * program moved) falls back to the child's own search. */
TEST(path_resolved_in_the_parent_every_spawn)
{
	char base[] = "/tmp/lg-resolve.XXXXXX", a[600], b[600], pv[1200];
	char out[PROC_RESOLVE_MAX], old[700];
	const char *full;
	int ret;
	CHECK(mkdtemp(base) != NULL);
	snprintf(a, sizeof(a), "%s/a", base);
	snprintf(b, sizeof(b), "%s/b", base);
	CHECK_INT(mkdir(a, 0755), 0);
	CHECK_INT(mkdir(b, 0755), 0);
	snprintf(pv, sizeof(pv), "%s:%s", a, b);
	put_script(b, "lg-prog", "from-b");
	CHECK(proc_resolve("lg-prog", "lg-rel:/bin", out) == NULL); /* relative: the child's */
	CHECK(proc_resolve("/bin/sh", pv, out) == NULL);
	CHECK(proc_resolve("lg-missing", pv, out) == NULL);
	full = proc_resolve("lg-prog", pv, out);
	CHECK(full && !strcmp(full + strlen(full) - 9, "b/lg-prog"));
	CHECK_STR(run_named("lg-prog", pv, &ret), "from-b\n");
	/* installed earlier in PATH during the run (npm install into
	 * node_modules/.bin): the next spawn runs it, as a shell would */
	put_script(a, "lg-prog", "from-a");
	full = proc_resolve("lg-prog", pv, out);
	CHECK(full && !strcmp(full + strlen(full) - 9, "a/lg-prog"));
	CHECK_STR(run_named("lg-prog", pv, &ret), "from-a\n");
	/* gone from there: the one later in PATH again */
	snprintf(old, sizeof(old), "%s/lg-prog", a);
	CHECK_INT(unlink(old), 0);
	CHECK_STR(run_named("lg-prog", pv, &ret), "from-b\n");
	/* not found anywhere: the child's error, as before */
	snprintf(old, sizeof(old), "%s/lg-prog", b);
	CHECK_INT(unlink(old), 0);
	CHECK_CONTAINS(run_named("lg-prog", pv, &ret), "cannot run lg-prog: No such file");
	CHECK_INT(ret, -ENOENT);
	rmdir(a);
	rmdir(b);
	rmdir(base);
}

int main(void)
{
	RUN(exit_code_is_data);
	RUN(spawn_failure_is_an_error);
	RUN(begin_does_not_wait_for_the_exec);
	RUN(path_resolved_in_the_parent_every_spawn);
	RUN(merged_output_keeps_terminal_order);
	RUN(separate_streams);
	RUN(timeout_kills_the_whole_group);
	RUN(orphans_are_killed_when_the_child_exits);
	RUN(signal_death_is_reported);
	RUN(output_cap_bounds_memory_but_counts_everything);
	RUN(environment_is_an_allow_list);
	RUN(stdin_from_file);
	RUN(deadline_stops_the_child);
	RUN(term_ignoring_child_gets_killed);
	return unit_done();
}
