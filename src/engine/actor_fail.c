/*
 * actor_fail.c: an agent command that fails is told plainly — its exit
 * status, the last lines it printed, the hosts the sandbox refused it, and
 * advice that matches the cause.  See actor.h.
 */
#include "engine/actor.h"
#include "base/utf8.h"
#include "config/policy.h"
#include "exec/proc.h"
#include "exec/sandbox.h"
#include "record/events.h"

#include <jansson.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define TAIL_BYTES 4096
#define TAIL_LINES 12

void actor_turn_release(struct actor_turn *t)
{
	free(t->describe);
	free(t->tail);
	free(t->net_denied);
	free(t->advice);
	t->describe = t->tail = t->net_denied = t->advice = NULL;
}

/* The last TAIL_LINES lines of the file (its last TAIL_BYTES at most). */
static char *file_tail(const char *path)
{
	char raw[TAIL_BYTES];
	struct buf clean = BUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size, from;
	ssize_t n;
	const char *p;
	int lines = 0;

	if (fd < 0)
		return NULL;
	size = lseek(fd, 0, SEEK_END);
	from = size > TAIL_BYTES ? size - TAIL_BYTES : 0;
	n = size > 0 ? pread(fd, raw, (size_t)(size - from), from) : 0;
	close(fd);
	if (n <= 0)
		return NULL;
	while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == '\r'))
		n--;
	for (p = raw + n; p > raw; p--)
		if (p[-1] == '\n' && ++lines == TAIL_LINES)
			break;
	utf8_clean(p, (size_t)(raw + n - p), &clean);
	return buf_detach(&clean, NULL);
}

/* Words in the output of a program that could not reach the network. */
static int looks_offline(const char *tail)
{
	static const char *const marks[] = {"connection refused",
					    "econnrefused",
					    "enotfound",
					    "eai_again",
					    "could not resolve",
					    "getaddrinfo",
					    "network is unreachable",
					    "name or service not known",
					    "temporary failure in name resolution",
					    "fetch failed"};
	for (size_t i = 0; tail && i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strcasestr(tail, marks[i]))
			return 1;
	return 0;
}

static char *advice(const struct run *r, const struct actor_turn *t,
		    const struct proc_result *res, const char *denied_rule)
{
	int sandboxed = r->w->sandbox && r->w->sandbox->bwrap_on;
	if (!res)
		return xasprintf("the policy denies the agent command (%s): allow it in "
				 "policy.commands, or change --agent-cmd",
				 denied_rule);
	if (res->status == PROC_EXITED && res->exit_code == 127)
		return xstrdup(
			"the agent command was not found (exit 127): check the "
			"command and PATH; it runs with loopgate's PATH inside the "
			"sandbox, where /tmp is private and only system and "
			"policy-listed directories are visible, so a CLI installed "
			"under /tmp or your home may be missing there");
	if (res->status == PROC_EXITED && res->exit_code == 126)
		return xstrdup("the agent command was found but could not be run (exit "
			       "126): check that it is executable and not a "
			       "directory");
	if (res->limit)
		return xasprintf("the agent was killed by policy.limits.%s (%lld): "
				 "raise that limit in the policy if the agent needs more",
				 res->limit, res->limit_value);
	if (res->status == PROC_TIMED_OUT)
		return xstrdup("the agent's turn hit its time limit and was killed "
			       "with its whole process tree: raise the limit or ask "
			       "for less per turn");
	if (t->net_denied)
		return xasprintf("the sandbox refused the agent network access to %s: "
				 "if it needs that host, allow it with network: [HOST] "
				 "in the policy (--policy FILE or policy: in "
				 "loopgate.yaml)",
				 t->net_denied);
	if (sandboxed && r->w->sandbox->network == POLICY_NET_OFF &&
	    looks_offline(t->tail))
		return xstrdup("the agent seems to need the network, which is off in "
			       "the sandbox: allow its API host with network: [HOST] "
			       "in the policy (--policy FILE or policy: in "
			       "loopgate.yaml)");
	return xasprintf("the agent command ended with %s each time; its last lines "
			 "are in handoff.md and iter-NNN/actor.out: run it by hand in "
			 "the run's tree (%s) to see why",
			 t->describe, r->w->tree);
}

void actor_fail_outcome(const struct run *r, struct actor_turn *t,
			const struct proc_result *res, long timeout_ms,
			const char *denied_rule, const char *out_path)
{
	struct buf d = BUF_INIT;

	actor_turn_release(t);
	if (res) {
		proc_describe(res, timeout_ms, &d);
		t->describe = buf_detach(&d, NULL);
		t->net_denied = res->net_denied ? xstrdup(res->net_denied) : NULL;
		t->failed = res->status != PROC_EXITED || res->exit_code != 0;
	} else {
		t->describe = xasprintf("not run: the policy denies it (%s)",
					denied_rule);
		t->failed = 1;
	}
	t->tail = file_tail(out_path);
	if (t->failed)
		t->advice = advice(r, t, res, denied_rule);
	buf_release(&d);
}

void *actor_end_json(const struct actor_turn *t, const struct proc_result *res,
		     const char *describe)
{
	return json_pack("{s:i,s:s,s:i,s:o,s:f,s:s,s:I,s:b,s:o,s:o}", "iteration",
			 t->iteration, "status", proc_status_name(res->status),
			 "exit_code", res->exit_code, "describe", events_str(describe),
			 "duration_ms", res->elapsed_ms, "output_file", "actor.out",
			 "output_bytes", (json_int_t)res->out_total, "failed", t->failed,
			 "network_denied",
			 t->net_denied ? events_str(t->net_denied) : json_null(),
			 /* the last lines, for the terminal's failure line */
			 "tail", t->tail ? events_str(t->tail) : json_null());
}
