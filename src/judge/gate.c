/*
 * gate.c: one gate command, run and described.  See gate.h.
 */
#include "judge/gate.h"
#include "judge/feedback.h"
#include "config/policy.h"
#include "exec/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Raw output kept in memory; past it the output is condensed from the
 * file (gate.h).  Small on purpose: the prompt shows a few KiB anyway. */
#define GATE_MEMORY_MAX (1u << 20)

static size_t gate_memory_max(size_t feedback_max)
{
	return feedback_max > GATE_MEMORY_MAX ? feedback_max : GATE_MEMORY_MAX;
}

void gate_outcome_release(struct gate_outcome *g)
{
	free(g->describe);
	free(g->output_file);
	buf_release(&g->output);
	memset(g, 0, sizeof(*g));
	buf_init(&g->output, 0);
}

int gate_program_missing(const struct gate_outcome *g, char *name, size_t n)
{
	static const char *const tails[] = {": command not found", ": not found"};
	const char *s = g->output.s, *end, *start;

	if (!s || g->status != PROC_EXITED || g->exit_code != 127)
		return 0;
	for (size_t t = 0; t < sizeof(tails) / sizeof(*tails); t++) {
		if (!(end = strstr(s, tails[t])))
			continue;
		/* the name: back to the ": " (or line start) before it */
		for (start = end;
		     start > s && start[-1] != '\n' &&
		     !(start[-1] == ' ' && start - 1 > s && start[-2] == ':');
		     start--)
			;
		if (end == start || (size_t)(end - start) >= n ||
		    memchr(start, '/', (size_t)(end - start)) ||
		    memchr(start, ' ', (size_t)(end - start)))
			return 0;
		memcpy(name, start, (size_t)(end - start));
		name[end - start] = 0;
		return 1;
	}
	return 0;
}

int gate_module_missing(const struct gate_outcome *g, char *name, size_t n)
{
	static const char mark[] = ": No module named ";
	const char *s = g->output.s, *hit, *start, *end;

	if (!s || g->status != PROC_EXITED || g->exit_code == 0)
		return 0;
	for (hit = strstr(s, mark); hit; hit = strstr(hit + 1, mark)) {
		const char *base = hit;
		for (start = hit; start > s && start[-1] != '\n'; start--)
			;
		while (base > start && base[-1] != '/')
			base--;
		end = hit + sizeof(mark) - 1;
		end += strcspn(end, "\n");
		hit += sizeof(mark) - 1;
		if (strncmp(base, "python", 6) || end == hit || *hit == '\'' ||
		    (size_t)(end - hit) >= n || memchr(hit, ' ', (size_t)(end - hit)))
			continue;
		memcpy(name, hit, (size_t)(end - hit));
		name[end - hit] = 0;
		return 1;
	}
	return 0;
}

/* ---- running a gate ---------------------------------------------------- */

/* s->env plus the policy's env names that loopgate's environment has. */
static void gate_env(const struct gate_spec *s, struct proc_env *env)
{
	for (const char *const *e = s->env; e && *e; e++) {
		size_t n = strcspn(*e, "=");
		char *name = xstrndup(*e, n);
		proc_env_set(env, name, (*e)[n] ? *e + n + 1 : "");
		free(name);
	}
	for (size_t i = 0; s->policy && i < s->policy->env.n; i++) {
		const char *v = getenv(s->policy->env.v[i]);
		if (v)
			proc_env_set(env, s->policy->env.v[i], v);
	}
}

/* out holds the head of the output (total bytes, all in path): too much for
 * memory, it becomes the condensed whole, since the head alone would lose
 * the tail (where test runners put their summary) and every failure past
 * the cap. */
static void condense_big(const char *path, size_t feedback_max, size_t total,
			 struct buf *out, int *binary)
{
	struct buf small = BUF_INIT;

	if (total > out->len && feedback_max &&
	    feedback_condense_file(path, feedback_max, &small, binary) == 0) {
		buf_release(out);
		*out = small;
		out->truncated = 1;
	} else {
		buf_release(&small);
	}
}

int gate_output_reload(struct gate_outcome *g, const char *run_dir, size_t feedback_max)
{
	char *path;
	struct buf out;
	int fd, binary = 0;

	if (!g->output_file)
		return -ENOENT;
	path = xasprintf("%s/%s", run_dir, g->output_file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(path);
		return -ENOENT;
	}
	buf_init(&out, gate_memory_max(feedback_max));
	buf_read_fd(&out, fd);
	close(fd);
	condense_big(path, feedback_max, g->output_total, &out, &binary);
	free(path);
	buf_release(&g->output);
	g->output = out;
	g->output_binary = binary;
	return 0;
}

int gate_run(const struct gate_spec *s, struct gate_outcome *g, struct buf *err)
{
	const char *argv[] = {"/bin/sh", "-c", s->cmd, NULL};
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	struct buf what = BUF_INIT;
	struct proc_env env = PROC_ENV_INIT;
	int ret, binary = 0;

	gate_env(s, &env);
	o.argv = argv;
	o.cwd = s->tree;
	o.env = (const char *const *)env.v;
	o.sandbox = s->sandbox;
	o.merge_output = 1;
	o.output_path = s->output_path;
	o.max_output = gate_memory_max(s->feedback_max);
	o.timeout_ms = s->timeout_ms;
	o.deadline_ms = s->deadline_ms;
	ret = proc_run(&o, &r, err);
	proc_env_release(&env);
	if (ret < 0) {
		proc_result_release(&r);
		return ret;
	}
	condense_big(s->output_path, s->feedback_max, r.out_total, &r.out, &binary);
	gate_outcome_release(g);
	g->ran = 1;
	g->index = s->index;
	g->status = r.status;
	g->exit_code = r.exit_code;
	g->term_signal = r.term_signal;
	g->passed = r.status == PROC_EXITED && r.exit_code == 0;
	proc_describe(&r, s->timeout_ms, &what);
	g->describe = buf_detach(&what, NULL);
	g->output = r.out; /* moves the buffer */
	buf_init(&r.out, 0);
	g->output_total = r.out_total;
	g->output_binary = binary;
	g->output_file = xstrdup(s->output_rel);
	g->elapsed_ms = r.elapsed_ms;
	proc_result_release(&r);
	return 0;
}
