/*
 * proc_describe.c: a child's result in words.  See proc.h.
 */
#include "exec/proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *proc_status_name(enum proc_status s)
{
	switch (s) {
	case PROC_EXITED:
		return "exited";
	case PROC_SIGNALED:
		return "signaled";
	case PROC_TIMED_OUT:
		return "timed_out";
	case PROC_DEADLINE:
		return "deadline";
	case PROC_INTERRUPTED:
		return "interrupted";
	}
	return "unknown";
}

void proc_describe(const struct proc_result *r, long timeout_ms, struct buf *out)
{
	switch (r->status) {
	case PROC_EXITED:
		buf_addf(out, "exit %d", r->exit_code);
		break;
	case PROC_SIGNALED:
		buf_addf(out, "killed by signal %d (%s)", r->term_signal,
			 strsignal(r->term_signal));
		break;
	case PROC_TIMED_OUT:
		if (r->limit && !strcmp(r->limit, "wall_seconds"))
			timeout_ms = (long)r->limit_value * 1000;
		buf_addf(out, "timed out after %.1fs and was killed",
			 timeout_ms / 1000.0);
		break;
	case PROC_DEADLINE:
		buf_adds(out, "stopped: the run's deadline passed");
		break;
	case PROC_INTERRUPTED:
		buf_adds(out, "stopped: loopgate was interrupted");
		break;
	}
	if (r->limit)
		buf_addf(out, ": it exceeded policy.limits.%s (%lld)", r->limit,
			 r->limit_value);
}

void proc_result_release(struct proc_result *r)
{
	buf_release(&r->out);
	buf_release(&r->err);
	free(r->net_denied);
	r->net_denied = NULL;
}

/* ---- spawning ---- */
