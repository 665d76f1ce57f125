/* Unit tests for fault: LOOPGATE_FAULT parsing and hit counting.  fault.c
 * reads the variable once per process, so each case runs in a child. */
#include "unit.h"
#include "base/fault.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn in a child with LOOPGATE_FAULT=spec; returns its wait status and
 * what it wrote to the pipe (up to 15 bytes) in out. */
static int in_child(const char *spec, void (*fn)(int fd), char out[16])
{
	int p[2], status = -1;
	pid_t pid;
	ssize_t n;

	memset(out, 0, 16);
	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		setenv("LOOPGATE_FAULT", spec, 1);
		fn(p[1]);
		_exit(0);
	}
	close(p[1]);
	/* to EOF: closing early would SIGPIPE the child's next write */
	{
		size_t got = 0;
		while (got < 15 && (n = read(p[0], out + got, 15 - got)) > 0)
			got += (size_t)n;
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	return status;
}

static void kill_third(int fd)
{
	fault_kill("event.commit");
	if (write(fd, "a", 1) < 0) _exit(2);
	fault_kill("event.other");	/* another point: no effect */
	fault_kill("event.commit");
	if (write(fd, "b", 1) < 0) _exit(2);
	fault_kill("event.commit");	/* the third hit: dies here */
	if (write(fd, "c", 1) < 0) _exit(2);
}

TEST(kill_fires_on_the_nth_hit_of_its_point_only)
{
	char out[16];
	int st = in_child("fail:x,kill:event.commit@3", kill_third, out);
	CHECK(WIFSIGNALED(st));
	CHECK_INT(WIFSIGNALED(st) ? WTERMSIG(st) : 0, SIGKILL);
	CHECK_STR(out, "ab");
}

static void fail_second(int fd)
{
	char r[5];
	r[0] = (char)('0' + fault_fail("fdatasync"));
	r[1] = (char)('0' + fault_fail("fdatasync"));
	r[2] = (char)('0' + fault_fail("fdatasync"));
	r[3] = (char)('0' + fault_fail("write"));
	r[4] = (char)('0' + fault_active());
	if (write(fd, r, 5) < 0) _exit(2);
}

TEST(fail_fires_once_on_the_nth_hit)
{
	char out[16];
	int st = in_child("fail:fdatasync@2", fail_second, out);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_STR(out, "01001");
}

static void kill_due_body(int fd)
{
	if (fault_kill_due("torn.y"))
		_exit(3);
	if (fault_kill_due("torn.x")) {
		if (write(fd, "half", 4) < 0) _exit(2);
		fault_die();
	}
	_exit(4);
}

TEST(kill_due_lets_the_caller_do_partial_work)
{
	char out[16];
	int st = in_child("kill:torn.x", kill_due_body, out);
	CHECK(WIFSIGNALED(st));
	CHECK_STR(out, "half");
}

TEST(unset_or_garbage_is_inert)
{
	char out[16];
	int st = in_child("", fail_second, out);
	CHECK(WIFEXITED(st));
	CHECK_STR(out, "00000");
	st = in_child(",,@,kill:,fail:fdatasync@0", fail_second, out);
	CHECK(WIFEXITED(st));
	/* @0 is taken as @1: the first hit fires */
	CHECK_STR(out, "10001");
}

int main(void)
{
	RUN(kill_fires_on_the_nth_hit_of_its_point_only);
	RUN(fail_fires_once_on_the_nth_hit);
	RUN(kill_due_lets_the_caller_do_partial_work);
	RUN(unset_or_garbage_is_inert);
	return unit_done();
}
