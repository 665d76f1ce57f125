/*
 * fanout_remote.c: fan-out workers run by a cluster scheduler instead of
 * as local processes (executor: slurm; docs/design/executors.md and
 * fanout.md).  The worker is the same `loopgate __worker` command; only
 * where it runs, how it is waited for and how it is stopped change.  On
 * Slurm the repository, the run directories and the budget ledger are on
 * the shared filesystem, so the coordinator reads a worker's summary, log
 * and branch exactly as for a local one.
 *
 * On Kueue (executor: kueue) nothing is shared but the git remote: the
 * base commit is pushed there for the pod to clone, the worker's settings
 * travel in its Job's environment with a budget slice as its own ceilings
 * (reserved in the ledger, so the run's ceiling holds whatever the pod
 * does), and when the Job ends its branch and signed log are fetched back
 * into the places a local worker's are; then it is read, re-verified and
 * chosen exactly like one.
 */
#include "engine/fanout.h"
#include "engine/fanout_impl.h"
#include "engine/run.h"
#include "dispatch/executor.h"
#include "base/clock.h"
#include "config/config.h"
#include "engine/ledger.h"
#include "record/evkind.h"
#include "record/events.h"
#include "record/rundir.h"
#include "tree/git.h"
#include "tree/git_remote.h"
#include "base/fileio.h"

#include <jansson.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often the scheduler is asked, at most (squeue is a process). */
#define REMOTE_TICK_MS 500

/* executor kueue: the remote the pods clone and push to (remote:, else
 * the repository's origin). */
static int kueue_remote(const struct config *c, const char *repo, char **remote,
			struct buf *err)
{
	struct buf url = BUF_INIT;

	if (c->remote) {
		*remote = xstrdup(c->remote);
		return 0;
	}
	if (git_run(repo, &url, NULL, "remote", "get-url", "origin", NULL) == 0) {
		buf_rtrim(&url);
		if (url.len) {
			*remote = buf_detach(&url, NULL);
			return 0;
		}
	}
	buf_release(&url);
	return err_set(err, -EINVAL,
		       "executor: kueue: the workers clone the repository from a git "
		       "remote and push their branches back to it, and %s has no "
		       "origin: name one with remote: (--remote URL)",
		       repo);
}

int fanout_remote_connect(const struct config *c, const char *repo, struct executor **ex,
			  char **remote, struct buf *err)
{
	struct executor_opts o = EXECUTOR_OPTS_INIT;

	*ex = NULL;
	*remote = NULL;
	if (!c->executor || !strcmp(c->executor, "local"))
		return 0;
	o.slurm_partition = c->slurm_partition;
	o.kubeconfig = c->kubeconfig;
	o.kube_namespace = c->kube_namespace;
	o.kube_queue = c->kube_queue;
	o.kube_image = c->kube_image;
	o.kube_secret = c->kube_secret;
	o.kube_secret_key = c->kube_secret_key;
	o.kube_account = c->kube_service_account;
	if (!strcmp(c->executor, "kueue") && kueue_remote(c, repo, remote, err) < 0)
		return -EINVAL;
	*ex = xcalloc(1, sizeof(**ex));
	if (executor_open(*ex, c->executor, &o, err) < 0) {
		free(*ex);
		*ex = NULL;
		free(*remote);
		*remote = NULL;
		return -EINVAL;
	}
	return 0;
}

int fanout_remote_open(struct run *r, struct fanout *f, struct buf *err)
{
	return fanout_remote_connect(r->cfg, r->repo, &f->ex, &f->remote, err);
}

void fanout_remote_close(struct fanout *f)
{
	free(f->remote);
	f->remote = NULL;
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

/*
 * executor kueue: an equal share of what the run has left, among the
 * workers not started yet (w included), for each ceiling the run has; the
 * share is reserved in w's ledger slot (released when w's summary is
 * read, kept when w never reports) and becomes w's own ceilings.
 */
static int kueue_slice(struct fanout *f, struct fw *w, json_t *cfg, struct buf *err)
{
	struct ledger_use use[FANOUT_MAX_SLOTS], req;
	struct ledger_ceil ceil;
	long n = ledger_read(f->ledger, use, f->n, &ceil, err), it = 0, tok = 0,
	     waiting = 0;
	double cost = 0;
	struct ledger *l;
	int ret;

	if (n < 0)
		return (int)n;
	for (long i = 0; i < n; i++) {
		it += use[i].iterations + use[i].res_iterations;
		tok += use[i].tokens + use[i].res_tokens;
		cost += use[i].cost + use[i].res_cost;
	}
	for (size_t i = 0; i < f->n; i++)
		waiting += f->w[i].state == FW_WAITING;
	waiting = waiting > 0 ? waiting : 1;
	memset(&req, 0, sizeof(req));
	if (ceil.max_iterations > 0) {
		req.res_iterations = (ceil.max_iterations - it) / waiting;
		json_object_set_new(
			cfg, "max_iterations",
			json_integer(req.res_iterations > 0 ? req.res_iterations : 1));
	}
	if (ceil.max_tokens > 0) {
		req.res_tokens = (ceil.max_tokens - tok) / waiting;
		json_object_set_new(
			cfg, "max_tokens",
			json_integer(req.res_tokens > 0 ? req.res_tokens : 1));
	}
	if (ceil.max_cost >= 0) {
		req.res_cost = (ceil.max_cost - cost) / (double)waiting;
		json_object_set_new(cfg, "max_cost",
				    json_real(req.res_cost > 0 ? req.res_cost : 0));
	}
	w->slice_iterations = req.res_iterations;
	w->slice_tokens = req.res_tokens;
	w->slice_cost = req.res_cost;
	if (!(l = ledger_open(f->ledger, w->slot, err)))
		return -EIO;
	ret = ledger_reserve(l, &req, err);
	ledger_close(l);
	return ret;
}

/* The worker's settings for its Job's environment: the coordinator's
 * file, in the pod's clone ("dir": "."), with its slice. */
static char *kueue_config(struct fanout *f, struct fw *w, const char *cfg_path,
			  struct buf *err)
{
	json_error_t je;
	json_t *j = json_load_file(cfg_path, 0, &je);
	char *text = NULL, *env;

	if (!j) {
		err_set(err, -EIO, "cannot read %s: %s", cfg_path, je.text);
		return NULL;
	}
	json_object_set_new(j, "dir", json_string("."));
	/* in a pod the container is the jail: bubblewrap needs user
	 * namespaces, which RuntimeDefault seccomp denies (kube_sandbox) */
	json_object_set_new(
		j, "sandbox",
		json_boolean(json_is_true(json_object_get(j, "kube_sandbox"))));
	if (kueue_slice(f, w, j, err) == 0)
		text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (!text)
		return NULL;
	env = xasprintf("%s=%s", WORKER_CONFIG_ENV, text);
	free(text);
	return env;
}

/* The base pushed where the pod's clone finds it (tools/loopgate-worker
 * fetches refs/loopgate/<run>/<worker>/base when its clone lacks it). */
static int kueue_push_base(struct run *r, struct fanout *f, struct fw *w,
			   const char *base, struct buf *err)
{
	char *spec = xasprintf("%s:refs/loopgate/%s/%s/base", base, r->id, w->id);
	const char *args[] = {"push", "--quiet", "--force", f->remote, spec, NULL};
	int ret = git_transfer(r->repo, args, err);
	free(spec);
	return ret;
}

int fanout_remote_submit(struct run *r, struct fanout *f, struct fw *w,
			 const struct config *wc, const char *cfg_path,
			 const char *const *argv, const char *out, struct buf *err)
{
	struct executor_job job = EXECUTOR_JOB_INIT;
	struct buf handle = BUF_INIT;
	struct model_preset p;
	char *script = xasprintf("%s/workers/%s.sbatch", r->run_dir, w->id);
	const char *envv[2] = {NULL, NULL};
	int ret = 0;

	memset(&p, 0, sizeof(p));
	job.run_id = r->id;
	job.worker_id = w->id;
	job.argv = argv;
	job.workdir = r->repo;
	job.base_commit = w->base ? w->base : r->base_sha;
	job.secret_env = key_env(wc, &p);
	job.env_names = (const char *const *)wc->agent_env.v;
	if (f->remote) { /* kueue: nothing shared but the remote */
		job.repo_url = f->remote;
		job.env_values = envv;
		if ((ret = kueue_push_base(r, f, w, job.base_commit, err)) < 0 ||
		    !(envv[0] = kueue_config(f, w, cfg_path, err)))
			ret = ret < 0 ? ret : -EIO;
	}
	job.cpus = r->cfg->worker_cpus > 0 ? (int)r->cfg->worker_cpus : 1;
	job.mem_mb = r->cfg->worker_mem_mb > 0 ? r->cfg->worker_mem_mb : 0;
	job.gpus = r->cfg->worker_gpus > 0 ? (int)r->cfg->worker_gpus : 0;
	job.time_limit_s = r->budget.deadline_at ? budget_ms_left(&r->budget) / 1000 + 1
						 : 0;
	job.log_path = out;
	job.script_path = script;
	if (ret == 0)
		ret = executor_submit(f->ex, &job, &handle, err);
	if (ret == 0) {
		free(w->handle);
		w->handle = buf_detach(&handle, NULL);
	}
	buf_release(&handle);
	free((char *)envv[0]);
	free(script);
	return ret;
}

/* One file of the worker's log commit into its run directory. */
static int kueue_log_file(struct run *r, const struct fw *w, const char *ref,
			  const char *name, struct buf *err)
{
	struct buf blob = BUF_INIT;
	char *obj = xasprintf("%s:.loopgate/runs/%s/%s", ref, w->run_id, name);
	char *path = rundir_file(w->run_dir, name);
	int ret = git_run(r->repo, &blob, NULL, "cat-file", "blob", obj, NULL);

	if (ret == 0)
		ret = fileio_write_atomic(path, blob.s ? blob.s : "", blob.len, err);
	else
		ret = 0; /* a file the worker did not write (handoff.md) */
	buf_release(&blob);
	free(obj);
	free(path);
	return ret;
}

void fanout_remote_collect(struct run *r, struct fanout *f, struct fw *w)
{
	static const char *const files[] = {"events.jsonl", "checkpoints.jsonl",
					    "summary.json", "handoff.md"};
	struct buf err = BUF_INIT;
	char *ref = xasprintf("refs/loopgate/%s/log", w->run_id);
	int lk, ret;
	char *branch = xasprintf("+refs/heads/loopgate/%s/%s:refs/heads/%s", r->id, w->id,
				 w->branch);
	char *log = xasprintf("+refs/loopgate/%s/%s/log:%s", r->id, w->id, ref);
	const char *args[] = {"fetch", "--quiet", "--no-tags", f->remote,
			      branch,  log,	  NULL};

	if (!f->remote)
		goto out;
	/* what the worker pushed: none when it died before it could, and
	 * then it has no summary here either (lost, charged its slice) */
	/* fetch into refs/heads lists the worktrees: not while one is made */
	lk = git_worktrees_lock(r->repo);
	ret = git_transfer(r->repo, args, &err);
	git_worktrees_unlock(lk);
	if (ret < 0 || fileio_mkdirs(w->run_dir, &err) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		if (kueue_log_file(r, w, ref, files[i], &err) < 0)
			break;
out:
	buf_release(&err);
	free(ref);
	free(branch);
	free(log);
}

void fanout_remote_settle(struct fanout *f, struct fw *w)
{
	struct ledger_use spent;
	struct ledger *l;

	if (!f->remote)
		return;
	/* each attempt Kueue evicted ran with the same slice and reported
	 * nothing: it is charged the whole slice, the most it could spend */
	w->iterations += w->preemptions * w->slice_iterations;
	w->tokens_in += w->preemptions * w->slice_tokens;
	w->cost += w->preemptions * w->slice_cost;
	if (!(l = ledger_open(f->ledger, w->slot, NULL)))
		return;
	memset(&spent, 0, sizeof(spent));
	spent.iterations = w->iterations;
	spent.tokens = w->tokens_in + w->tokens_out;
	spent.cost = w->cost;
	spent.calls = w->calls;
	ledger_settle(l, &spent);
	ledger_close(l);
}

/* Each change of w's job state, on record: queued (with the scheduler's
 * reason: Kueue's quota message, Slurm's Resources), running (admitted),
 * preempted (requeued by Kueue: its first attempt's spend still counts). */
static void note_state(struct run *r, struct fw *w, const struct executor_status *st)
{
	json_t *b;

	if (w->job_state == (int)st->state && !strcmp(w->native, st->native) &&
	    w->position == st->position)
		return;
	w->preemptions += st->state == WS_PREEMPTED && w->job_state != WS_PREEMPTED;
	w->job_state = (int)st->state;
	w->position = st->position;
	snprintf(w->native, sizeof(w->native), "%.47s", st->native);
	if (worker_state_final(st->state))
		return; /* worker_end says it */
	b = json_pack("{s:s,s:s,s:s,s:s,s:s}", "worker", w->id, "handle", w->handle,
		      "state", worker_state_name(st->state), "native", st->native,
		      "reason", st->reason);
	/* queued: its place in line (Kueue's visibility API), 1 = next */
	if (st->position > 0) {
		json_object_set_new(b, "position", json_integer(st->position));
		json_object_set_new(b, "waiting", json_integer(st->waiting));
	}
	events_append(&r->ev, EV_WORKER_STATE, b);
}

/* 1 when w's job has ended for good (its exit code set), 0 while it is
 * queued or running, < 0 when the scheduler could not be asked. */
static int poll_one(struct run *r, struct fanout *f, struct fw *w)
{
	struct executor_status st = EXECUTOR_STATUS_INIT;
	struct buf err = BUF_INIT;
	int ret = executor_poll(f->ex, w->handle, &st, &err);

	buf_release(&err);
	if (ret < 0)
		return ret;
	note_state(r, w, &st);
	if (!worker_state_final(st.state))
		return 0;
	w->exit_code = st.state == WS_SUCCEEDED	  ? 0
		       : st.exit_code >= 0	  ? st.exit_code
		       : st.state == WS_CANCELLED ? 128 + SIGTERM
						  : -1;
	return 1;
}

struct fw *fanout_remote_wait(struct run *r, struct fanout *f)
{
	struct buf err = BUF_INIT;

	executor_wait(f->ex, REMOTE_TICK_MS, &err);
	buf_release(&err);
	for (size_t i = 0; i < f->n; i++) {
		struct fw *w = &f->w[i];
		if (w->state == FW_RUNNING && w->handle && poll_one(r, f, w) == 1) {
			w->state = FW_ENDED;
			return w;
		}
	}
	return NULL;
}

int fanout_remote_attach(struct run *r, struct fanout *f, struct fw *w)
{
	int ret = poll_one(r, f, w);
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
