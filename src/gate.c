/*
 * gate.c: one gate command, run and described.  See gate.h.
 */
#include "gate.h"

#include <stdlib.h>
#include <string.h>

void gate_outcome_release(struct gate_outcome *g)
{
	free(g->describe);
	free(g->output_file);
	buf_release(&g->output);
	memset(g, 0, sizeof(*g));
	buf_init(&g->output, 0);
}

int gate_run(const struct gate_spec *s, struct gate_outcome *g, struct buf *err)
{
	const char *argv[] = { "/bin/sh", "-c", s->cmd, NULL };
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	struct buf what = BUF_INIT;
	int ret;

	o.argv = argv;
	o.cwd = s->tree;
	o.env = s->env;
	o.merge_output = 1;
	o.output_path = s->output_path;
	o.timeout_ms = s->timeout_ms;
	o.deadline_ms = s->deadline_ms;
	ret = proc_run(&o, &r, err);
	if (ret < 0) {
		proc_result_release(&r);
		return ret;
	}
	gate_outcome_release(g);
	g->ran = 1;
	g->index = s->index;
	g->status = r.status;
	g->exit_code = r.exit_code;
	g->term_signal = r.term_signal;
	g->passed = r.status == PROC_EXITED && r.exit_code == 0;
	proc_describe(&r, s->timeout_ms, &what);
	g->describe = buf_detach(&what, NULL);
	g->output = r.out;	/* moves the buffer */
	buf_init(&r.out, 0);
	g->output_total = r.out_total;
	g->output_file = xstrdup(s->output_rel);
	g->elapsed_ms = r.elapsed_ms;
	proc_result_release(&r);
	return 0;
}
