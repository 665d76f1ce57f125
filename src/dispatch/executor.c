/*
 * executor: the backend table and the calls that go through it.
 */
#include "dispatch/executor.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

static const struct executor_ops *const backends[] = {
	&executor_slurm,
	&executor_kueue,
	NULL,
};

const char *worker_state_name(enum worker_state s)
{
	static const char *const names[] = {
		[WS_UNKNOWN] = "unknown",     [WS_QUEUED] = "queued",
		[WS_RUNNING] = "running",     [WS_SUCCEEDED] = "succeeded",
		[WS_FAILED] = "failed",	      [WS_CANCELLED] = "cancelled",
		[WS_PREEMPTED] = "preempted", [WS_LOST] = "lost",
	};
	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[s];
}

int worker_state_final(enum worker_state s)
{
	return s == WS_SUCCEEDED || s == WS_FAILED || s == WS_CANCELLED || s == WS_LOST;
}

int executor_open(struct executor *ex, const char *name, const struct executor_opts *o,
		  struct buf *err)
{
	static const struct executor_opts none = EXECUTOR_OPTS_INIT;
	int i;

	for (i = 0; backends[i]; i++)
		if (!strcmp(backends[i]->name, name)) {
			ex->ops = backends[i];
			ex->impl = NULL;
			return ex->ops->open(ex, o ? o : &none, err);
		}
	/* "local" is fan-out's own process backend, not a table here */
	return err_set(err, -EINVAL,
		       "unknown executor '%s' (known here: slurm, kueue; local runs "
		       "workers as processes of this machine)",
		       name);
}

int executor_submit(struct executor *ex, const struct executor_job *job,
		    struct buf *handle, struct buf *err)
{
	if (!job->run_id || !job->worker_id || !job->argv || !job->argv[0])
		return err_set(err, -EINVAL, "a job needs a run, a worker and a command");
	buf_reset(handle);
	return ex->ops->submit(ex, job, handle, err);
}

int executor_poll(struct executor *ex, const char *handle, struct executor_status *st,
		  struct buf *err)
{
	*st = (struct executor_status)EXECUTOR_STATUS_INIT;
	return ex->ops->poll(ex, handle, st, err);
}

int executor_cancel(struct executor *ex, const char *handle, struct buf *err)
{
	return ex->ops->cancel(ex, handle, err);
}

int executor_log(struct executor *ex, const char *handle, struct buf *out,
		 struct buf *err)
{
	return ex->ops->log(ex, handle, out, err);
}

int executor_wait(struct executor *ex, long timeout_ms, struct buf *err)
{
	long long end = clock_ms() + timeout_ms;

	if (ex->ops->wait)
		return ex->ops->wait(ex, timeout_ms, err);
	/* in slices, so that an interrupt is heard */
	while (clock_ms() < end && !interrupt_pending()) {
		long long left = end - clock_ms();
		struct timespec ts = {0, (left > 50 ? 50 : left) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return interrupt_pending() ? err_set(err, -EINTR, "interrupted") : 0;
}

void executor_close(struct executor *ex)
{
	if (ex->ops && ex->ops->close)
		ex->ops->close(ex);
	ex->ops = NULL;
	ex->impl = NULL;
}

/* Keeps [a-z0-9-] of s (upper case lowered, the rest as '-'). */
static size_t name_part(char *out, size_t at, size_t cap, const char *s)
{
	for (; *s && at < cap; s++) {
		unsigned char c = (unsigned char)*s;
		out[at++] = isalnum(c) ? (char)tolower(c) : '-';
	}
	return at;
}

void executor_job_name(const struct executor_job *job, char out[64])
{
	size_t n = 0;

	size_t len = strlen(job->run_id);

	n = name_part(out, n, 63, "lg-");
	/* the whole run id (a loopgate id is 22 characters: its time, then a
	 * random part): two runs must never share a job name.  A longer one
	 * keeps its last 40, where an id's random part is. */
	n = name_part(out, n, 63, job->run_id + (len > 40 ? len - 40 : 0));
	n = name_part(out, n, 63, "-");
	n = name_part(out, n, 63, job->worker_id);
	/* a DNS label ends with an alphanumeric */
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
}
