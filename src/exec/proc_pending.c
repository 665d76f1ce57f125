/*
 * proc_pending.c: a child run in two halves (proc_begin, proc_end: proc.h),
 * while loopgate does other work.
 */
#include "exec/proc_impl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

struct proc_pending {
	struct proc_opts o; /* argv and env are not used after the exec */
	struct run_state s;
	struct cgroup cg;
	int outp[2], errp[2];
	int rep[2];    /* the exec's report, read at proc_end */
	char what[64]; /* argv[0], for its error */
};

int proc_begin(const struct proc_opts *o, struct proc_pending **out, struct buf *err)
{
	struct proc_pending *p;
	/* the exec is waited for at proc_end: meanwhile loopgate goes on */
	struct child_ctx cx = {o->argv, -1, NULL, -1, NULL, 0, getpid(), -1, 0, 1};
	int file_fd = -1, in_fd, ret;

	proc_count_spawn();
	*out = NULL;
	if (!o->argv || !o->argv[0] || o->sandbox || o->output_path)
		return err_set(err, -EINVAL, "proc_begin: not a plain command");
	p = xcalloc(1, sizeof(*p));
	p->o = *o;
	p->cg = (struct cgroup)CGROUP_INIT;
	cx.cg = &p->cg;
	p->s.pidfd = p->s.ctl = -1;
	p->s.timeout_ms = o->timeout_ms;
	p->outp[0] = p->outp[1] = p->errp[0] = p->errp[1] = p->rep[0] = p->rep[1] = -1;
	snprintf(p->what, sizeof(p->what), "%s", o->argv[0]);
	if ((ret = in_fd = proc_open_stdin(o, err)) >= 0) {
		ret = proc_open_ends(o, &file_fd, p->outp, p->errp, p->rep, err);
		if (ret == 0)
			ret = proc_spawn_child(o, &cx, &p->s, in_fd, p->outp, p->errp,
					       p->rep, err);
		close(in_fd);
	}
	/* spared by the tree kill that ends a per-spawn sandboxed child */
	if (ret == 0 && (ret = proc_keep(p->s.pid)) < 0) {
		proc_kill_group(p->s.pid, SIGKILL);
		waitpid(p->s.pid, NULL, 0);
		err_set(err, ret, "too many children at once");
	}
	if (ret < 0) {
		proc_close_pair(p->outp);
		proc_close_pair(p->errp);
		proc_close_pair(p->rep);
		free(p);
		return ret;
	}
	*out = p;
	return 0;
}

int proc_end(struct proc_pending *p, struct proc_result *r, struct buf *err)
{
	struct drain d[2];
	int ret;

	buf_init(&r->out, p->o.max_output ? p->o.max_output : DEFAULT_MAX_OUTPUT);
	buf_init(&r->err, p->o.max_output ? p->o.max_output : DEFAULT_MAX_OUTPUT);
	r->out_total = r->err_total = 0;
	ret = proc_await_exec(p->s.pid, p->what, p->outp, p->errp, p->rep, err);
	proc_close_pair(p->rep);
	if (ret == 0) {
		proc_drain_child(&p->o, &p->s, r, p->outp, p->errp, -1, DEFAULT_MAX_FILE,
				 d);
		proc_fill_result(&p->o, &p->s, r);
	}
	proc_forget(p->s.pid);
	if (p->s.pidfd >= 0)
		close(p->s.pidfd);
	cgroup_destroy(&p->cg);
	proc_close_pair(p->outp);
	proc_close_pair(p->errp);
	free(p);
	return ret;
}
