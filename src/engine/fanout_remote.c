/*
 * fanout_remote.c: fan-out workers run by a cluster scheduler instead of
 * as local processes (executor: slurm; docs/design/executors.md and
 * fanout.md).  The worker is the same `loopgate __worker` command; only
 * where it runs, how it is waited for and how it is stopped change.  On
 * Slurm the repository, the run directories and the budget ledger are on
 * the shared filesystem, so the coordinator reads a worker's summary, log
 * and branch exactly as for a local one.
 */
#include "engine/fanout.h"
#include "engine/fanout_impl.h"
#include "engine/run.h"
#include "dispatch/executor.h"
#include "base/clock.h"
#include "config/config.h"
#include "record/rundir.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often the scheduler is asked, at most (squeue is a process). */
#define REMOTE_TICK_MS 500

int fanout_remote_open(struct run *r, struct fanout *f, struct buf *err)
{
	const struct config *c = r->cfg;
	struct executor_opts o = EXECUTOR_OPTS_INIT;

	if (!c->executor || !strcmp(c->executor, "local"))
		return 0;
	o.slurm_partition = c->slurm_partition;
	f->ex = xcalloc(1, sizeof(*f->ex));
	if (executor_open(f->ex, c->executor, &o, err) < 0) {
		free(f->ex);
		f->ex = NULL;
		return -EINVAL;
	}
	return 0;
}

void fanout_remote_close(struct fanout *f)
{
	if (!f->ex)
		return;
	executor_close(f->ex);
	free(f->ex);
	f->ex = NULL;
}

/* The variable holding the worker's API key, by name (never its value). */
static const char *key_env(const struct config *wc, struct model_preset *p)
{
	if (wc->api_key_env)
		return wc->api_key_env;
	if (wc->model && config_resolve_model(wc, wc->model, p, NULL) == 0)
		return p->api_key_env;
	return NULL;
}

int fanout_remote_submit(struct run *r, struct fanout *f, struct fw *w,
			 const struct config *wc, const char *const *argv,
			 const char *out, struct buf *err)
{
	struct executor_job job = EXECUTOR_JOB_INIT;
	struct buf handle = BUF_INIT;
	struct model_preset p;
	char *script = xasprintf("%s/workers/%s.sbatch", r->run_dir, w->id);
	int ret;

	memset(&p, 0, sizeof(p));
	job.run_id = r->id;
	job.worker_id = w->id;
	job.argv = argv;
	job.workdir = r->repo;
	job.base_commit = w->base ? w->base : r->base_sha;
	job.secret_env = key_env(wc, &p);
	job.env_names = (const char *const *)wc->agent_env.v;
	job.cpus = r->cfg->worker_cpus > 0 ? (int)r->cfg->worker_cpus : 1;
	job.mem_mb = r->cfg->worker_mem_mb > 0 ? r->cfg->worker_mem_mb : 0;
	job.gpus = r->cfg->worker_gpus > 0 ? (int)r->cfg->worker_gpus : 0;
	job.time_limit_s = r->budget.deadline_at ? budget_ms_left(&r->budget) / 1000 + 1
						 : 0;
	job.log_path = out;
	job.script_path = script;
	ret = executor_submit(f->ex, &job, &handle, err);
	if (ret == 0) {
		free(w->handle);
		w->handle = buf_detach(&handle, NULL);
	}
	buf_release(&handle);
	free(script);
	return ret;
}

/* 1 when w's job has ended for good (its exit code set), 0 while it is
 * queued or running, < 0 when the scheduler could not be asked. */
static int poll_one(struct fanout *f, struct fw *w)
{
	struct executor_status st = EXECUTOR_STATUS_INIT;
	struct buf err = BUF_INIT;
	int ret = executor_poll(f->ex, w->handle, &st, &err);

	buf_release(&err);
	if (ret < 0)
		return ret;
	if (st.state == WS_QUEUED && !w->queued_noted) {
		w->queued_noted = 1; /* the reason is shown once, in worker_end */
		snprintf(w->queue_reason, sizeof(w->queue_reason), "%.95s", st.reason);
	}
	if (!worker_state_final(st.state))
		return 0;
	w->exit_code = st.state == WS_SUCCEEDED	  ? 0
		       : st.exit_code >= 0	  ? st.exit_code
		       : st.state == WS_CANCELLED ? 128 + SIGTERM
						  : -1;
	snprintf(w->native, sizeof(w->native), "%.47s", st.native);
	return 1;
}

struct fw *fanout_remote_wait(struct fanout *f)
{
	struct buf err = BUF_INIT;

	executor_wait(f->ex, REMOTE_TICK_MS, &err);
	buf_release(&err);
	for (size_t i = 0; i < f->n; i++) {
		struct fw *w = &f->w[i];
		if (w->state == FW_RUNNING && w->handle && poll_one(f, w) == 1) {
			w->state = FW_ENDED;
			return w;
		}
	}
	return NULL;
}

int fanout_remote_attach(struct fanout *f, struct fw *w)
{
	int ret = poll_one(f, w);
	if (ret == 0)
		w->state = FW_RUNNING;
	return ret;
}

void fanout_remote_cancel(struct fanout *f, struct fw *w)
{
	struct buf err = BUF_INIT;
	if (w->handle)
		executor_cancel(f->ex, w->handle, &err);
	buf_release(&err);
}
