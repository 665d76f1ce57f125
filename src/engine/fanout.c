/*
 * fanout.c: the coordinator of a run of several workers.  See fanout.h and
 * docs/design/fanout.md.
 */
#include "engine/fanout.h"
#include "engine/fanout_impl.h"
#include "engine/ledger.h"
#include "engine/loop.h"
#include "engine/reverify.h"
#include "engine/run.h"
#include "base/clock.h"
#include "base/fileio.h"
#include "exec/proc.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "tree/git.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum { EXIT_DONE = 0, EXIT_HALTED = 1, EXIT_CANNOT = 3 };
/* Longest wait between looks at the interrupt flag and the deadline. */
#define TICK_MS 200

int fanout_wanted(const struct config *c)
{
	return c->workers > 1 || c->nworker_specs > 0 || c->ntask_specs > 0;
}

void fanout_free(struct fanout *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		struct fw *w = &f->w[i];
		free(w->name);
		free(w->run_id);
		free(w->run_dir);
		free(w->branch);
		free(w->settings);
		free(w->status);
		free(w->reason);
		free(w->commit);
		free(w->verdict);
		free(w->base);
		free(w->handle);
		if (w->cfg)
			config_release(w->cfg);
		free(w->cfg);
		if (w->pidfd >= 0)
			close(w->pidfd);
		if (w->check_pidfd >= 0)
			close(w->check_pidfd);
	}
	fanout_remote_close(f);
	free(f->w);
	free(f->ledger);
	free(f->why);
	free(f);
}

/* "model openai/x", "agent claude", "command ./fix.sh": who acts, on one
 * line (a table cell, a terminal line). */
static char *settings_of(const struct config *c)
{
	char *s;
	if (c->agent)
		s = xasprintf("agent %s%s%s", c->agent, c->model ? " model " : "",
			      c->model ? c->model : "");
	else if (c->agent_cmd)
		s = xasprintf("command %s", c->agent_cmd);
	else
		s = xasprintf("model %s", c->model ? c->model : "?");
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t' || *p == '|')
			*p = *p == '|' ? '/' : ' ';
	return s;
}

/*
 * The worker's configuration: the run's (through the same JSON a resume
 * reads), its workers: entry laid over it, the run's deadline as what
 * remains of it.  Written to workers/wK.json; settings describes it.
 */
/* The run's config with worker slot's settings over it, into wc. */
static int worker_config(const struct config *c, size_t slot, struct config *wc,
			 struct buf *err)
{
	json_t *j = NULL;
	int ret;

	config_init(wc);
	config_to_json(c, (void **)&j);
	ret = config_from_json(wc, j, err);
	json_decref(j);
	if (ret < 0)
		return ret;
	if (c->ntask_specs)
		config_worker_config(wc, &c->task_specs[slot]);
	else
		config_worker_config(wc, slot < c->nworker_specs ? &c->worker_specs[slot]
								 : NULL);
	return 0;
}

static int write_worker_config(struct run *r, struct fw *w, const char *path,
			       struct buf *err)
{
	struct config wc;
	json_t *j = NULL;
	char *text;
	int ret;

	if (w->cfg) { /* a task's: made and checked already */
		config_init(&wc);
		config_to_json(w->cfg, (void **)&j);
		ret = config_from_json(&wc, j, err);
		json_decref(j);
		j = NULL;
	} else {
		ret = worker_config(r->cfg, w->slot, &wc, err);
	}
	if (ret == 0) {
		free(wc.dir);
		wc.dir = xstrdup(r->repo);
		if (r->budget.deadline_at)
			wc.deadline_ms = budget_ms_left(&r->budget) + 1;
		w->settings = settings_of(&wc);
		config_to_json(&wc, (void **)&j);
		text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
		ret = text ? fileio_write_atomic(path, text, strlen(text), err)
			   : err_set(err, -ENOMEM, "cannot write %s", path);
		free(text);
		json_decref(j);
	}
	config_release(&wc);
	return ret;
}

struct fanout *fanout_new(struct run *r)
{
	const struct config *c = r->cfg;
	struct fanout *f = xcalloc(1, sizeof(*f));

	f->n = (size_t)(c->workers > 1 ? c->workers : 1);
	if (f->n < c->nworker_specs)
		f->n = c->nworker_specs;
	f->tasks = c->ntask_specs > 0;
	if (f->tasks)
		f->n = f->ntasks = c->ntask_specs;
	f->cap = f->tasks ? 2 * f->n : f->n;
	f->w = xcalloc(f->cap, sizeof(*f->w));
	for (size_t i = 0; i < f->n; i++) {
		struct fw *w = &f->w[i];
		const struct config *spec = f->tasks		   ? &c->task_specs[i]
					    : i < c->nworker_specs ? &c->worker_specs[i]
								   : NULL;
		const char *name = spec ? spec->worker_name : NULL;
		if (f->tasks) {
			w->cfg = xcalloc(1, sizeof(*w->cfg));
			if (worker_config(c, i, w->cfg, NULL) < 0 ||
			    config_finalize(w->cfg, NULL) < 0) {
				config_release(w->cfg);
				free(w->cfg);
				w->cfg = NULL; /* checked before the run: cannot fail */
			}
		}
		w->slot = i;
		w->pidfd = w->check_pidfd = -1;
		snprintf(w->id, sizeof(w->id), "w%zu", i + 1);
		w->name = xstrdup(name ? name : w->id);
		w->run_id = xasprintf("%s-%s", r->id, w->id);
		w->run_dir = rundir_path(r->repo, w->run_id);
		w->branch = rundir_branch(w->run_id);
	}
	f->select = f->tasks				      ? "tasks"
		    : c->select && !strcmp(c->select, "best") ? "best"
							      : "first";
	/* on a cluster every worker is submitted at once: its scheduler
	 * queues them under its quota, not loopgate */
	f->max_parallel = c->max_parallel > 0 ? c->max_parallel
			  : c->executor && strcmp(c->executor, "local")
				  ? (long)f->n
				  : sysconf(_SC_NPROCESSORS_ONLN);
	if (f->max_parallel < 1)
		f->max_parallel = 1;
	f->ledger = rundir_file(r->run_dir, LEDGER_FILE);
	f->winner = -1;
	r->fan = f;
	return f;
}

int fanout_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

struct fw *fanout_add_worker(struct run *r, struct fanout *f, const char *id)
{
	struct fw *w;

	if (f->n >= f->cap)
		return NULL;
	w = &f->w[f->n];
	memset(w, 0, sizeof(*w));
	w->slot = f->n++;
	w->pidfd = w->check_pidfd = -1;
	w->verified = -1;
	snprintf(w->id, sizeof(w->id), "%s", id);
	w->name = xstrdup(id);
	w->run_id = xasprintf("%s-%s", r->id, w->id);
	w->run_dir = rundir_path(r->repo, w->run_id);
	w->branch = rundir_branch(w->run_id);
	return w;
}

/* The job for a worker on a cluster (fanout_remote.c), with the worker's
 * config read back from cfg_path for the names of its key variables. */
static int submit_remote(struct run *r, struct fanout *f, struct fw *w,
			 const char *cfg_path, const char *const *argv, const char *out,
			 struct buf *err)
{
	json_t *j = json_load_file(cfg_path, 0, NULL);
	struct config wc;
	int ret;

	config_init(&wc);
	ret = config_from_json(&wc, j, err);
	json_decref(j);
	if (ret == 0)
		ret = fanout_remote_submit(r, f, w, &wc, cfg_path, argv, out, err);
	config_release(&wc);
	return ret;
}

/* Starts worker w (resume: continues its run); 0 or -errno. */
int fanout_start_worker(struct run *r, struct fanout *f, struct fw *w, int resume,
			struct buf *err)
{
	char self[4096], slot[24];
	char *cfg = xasprintf("%s/workers/%s.json", r->run_dir, w->id);
	char *out = xasprintf("%s/workers/%s.log", r->run_dir, w->id);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct proc_opts o = PROC_OPTS_INIT;
	int ret = 0;

	snprintf(slot, sizeof(slot), "%zu", w->slot);
	if (n <= 0) {
		ret = err_set(err, -errno, "cannot find loopgate's own program: %s",
			      strerror(errno));
		goto out;
	}
	self[n] = 0;
	if (!resume && (ret = write_worker_config(r, w, cfg, err)) < 0)
		goto out;
	{
		/* kueue: the pod shares nothing but the git remote: its loopgate
		 * is the image's, its settings come in the Job's environment and
		 * its budget is the slice it is given, not the ledger file */
		int pod = f->remote != NULL;
		const char *argv[18];
		size_t k = 0;

		argv[k++] = pod ? "loopgate" : self;
		argv[k++] = "__worker";
		argv[k++] = resume ? "--resume" : "--start";
		argv[k++] = pod ? "--config-env" : "--config-json";
		argv[k++] = pod ? WORKER_CONFIG_ENV : cfg;
		argv[k++] = "--run-id";
		argv[k++] = w->run_id;
		argv[k++] = "--parent";
		argv[k++] = r->id;
		argv[k++] = "--worker";
		argv[k++] = w->id;
		argv[k++] = "--slot";
		argv[k++] = slot;
		if (!pod) {
			argv[k++] = "--ledger";
			argv[k++] = f->ledger;
		}
		if (w->base) {
			argv[k++] = "--base";
			argv[k++] = w->base;
		}
		argv[k] = NULL;
		o.argv = argv;
		o.cwd = r->repo;
		o.env = (const char *const *)environ; /* the worker is loopgate: it
							 keeps keys from its children */
		o.output_path = out;
		if (f->ex)
			ret = submit_remote(r, f, w, cfg, argv, out, err);
		else
			ret = proc_start(&o, &w->pid, err);
	}
	if (ret < 0)
		goto out;
	w->state = FW_RUNNING;
	w->pidfd = f->ex ? -1 : fanout_pidfd(w->pid);
	w->started_ms = clock_ms();
	events_append(&r->ev, EV_WORKER_START,
		      json_pack("{s:s,s:s,s:s,s:I,s:s,s:o,s:o,s:b,s:o,s:s,s:o}", "worker",
				w->id, "name", w->name, "run_id", w->run_id, "pid",
				(json_int_t)w->pid, "branch", w->branch, "log",
				events_str(w->run_dir), "settings",
				events_str(w->settings), "resumed", resume, "output",
				events_str(out), "executor",
				f->ex ? r->cfg->executor : "local", "handle",
				events_str(w->handle)));
out:
	free(cfg);
	free(out);
	return ret;
}

static void stop_workers(struct fanout *f, int sig)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->w[i].state == FW_RUNNING && f->ex)
			fanout_remote_cancel(f, &f->w[i]);
		else if (f->w[i].state == FW_RUNNING && f->w[i].pid > 0)
			kill(-f->w[i].pid, sig);
}

/* The worker that ended as pid, or whose check did (*check set), or NULL. */
static struct fw *by_pid(struct fanout *f, pid_t pid, int *check)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->w[i].state == FW_RUNNING && f->w[i].pid == pid) {
			*check = 0;
			return &f->w[i];
		}
		if (f->w[i].check_pid == pid) {
			*check = 1;
			return &f->w[i];
		}
	}
	return NULL;
}

/* Waits for a running worker or a check to end (or a tick to pass); the
 * ended one (*check: its check ended), or NULL. */
static struct fw *wait_one(struct fanout *f, int *wstatus, int *check)
{
	struct pollfd pf[2 * FANOUT_MAX_SLOTS];
	nfds_t n = 0;
	pid_t pid = waitpid(-1, wstatus, WNOHANG);

	if (pid > 0) {
		proc_forget(pid);
		return by_pid(f, pid, check);
	}
	for (size_t i = 0; i < f->n; i++) {
		if (f->w[i].state == FW_RUNNING && f->w[i].pidfd >= 0)
			pf[n++] = (struct pollfd){.fd = f->w[i].pidfd, .events = POLLIN};
		if (f->w[i].check_pid > 0 && f->w[i].check_pidfd >= 0)
			pf[n++] = (struct pollfd){.fd = f->w[i].check_pidfd,
						  .events = POLLIN};
	}
	poll(pf, n, TICK_MS);
	pid = waitpid(-1, wstatus, WNOHANG);
	if (pid > 0) {
		proc_forget(pid);
		return by_pid(f, pid, check);
	}
	return NULL;
}

/* The run's ceilings reached across the workers (the ledger's sums). */
static int run_spent(struct run *r, struct fanout *f, struct buf *why)
{
	struct ledger_use use[FANOUT_MAX_SLOTS];
	struct ledger_ceil ceil;
	long n = ledger_read(f->ledger, use, f->n, &ceil, NULL), iters = 0, toks = 0;
	double cost = 0;

	for (long i = 0; i < n; i++) {
		iters += use[i].iterations;
		toks += use[i].tokens;
		cost += use[i].cost;
	}
	if (ceil.max_iterations > 0 && iters >= ceil.max_iterations)
		return err_set(why, 1,
			       "the run's --max-iterations %ld is used up by its workers",
			       ceil.max_iterations);
	if (ceil.max_tokens > 0 && toks >= ceil.max_tokens)
		return err_set(why, 1,
			       "the run's --max-tokens %ld is used up by its workers",
			       ceil.max_tokens);
	if (ceil.max_cost >= 0 && cost >= ceil.max_cost)
		return err_set(why, 1,
			       "the run's --max-cost $%.4f is spent by its workers",
			       ceil.max_cost);
	if (r->budget.deadline_at && clock_ms() >= r->budget.deadline_at)
		return err_set(why, 1, "the --deadline passed");
	return 0;
}

/* Starts waiting workers while there is room; a worker that cannot be
 * started ends as an error of its own. */
static void fill(struct run *r, struct fanout *f)
{
	struct buf err = BUF_INIT;
	size_t running = 0;

	for (size_t i = 0; i < f->n; i++)
		running += f->w[i].state == FW_RUNNING;
	for (size_t i = 0; i < f->n && running < (size_t)f->max_parallel; i++) {
		struct fw *w = &f->w[i];
		if (w->state != FW_WAITING)
			continue;
		buf_reset(&err);
		if (f->stopping || run_spent(r, f, &err)) {
			fanout_skip(r, w, f->stopping ? f->stop_why : err.s);
			continue;
		}
		if (fanout_start_worker(r, f, w, w->resume, &err) < 0)
			fanout_lost(r, f, w, err.s);
		else
			running++;
	}
	buf_release(&err);
}

/* w's exit status, read. */
static void ended(struct fw *w, int wstatus)
{
	w->state = FW_ENDED;
	w->exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
					  : 128 + WTERMSIG(wstatus);
	if (w->pidfd >= 0)
		close(w->pidfd);
	w->pidfd = -1;
}

void fanout_wait_worker(struct run *r, struct fanout *f, struct fw *w)
{
	int wstatus = 0, sent = 0;
	pid_t got;

	while (f->ex && w->state == FW_RUNNING) {
		if (interrupt_pending() && !sent++) {
			f->interrupted = interrupt_pending();
			fanout_remote_cancel(f, w);
		}
		fanout_remote_wait(r, f); /* may end others too: they are read later */
	}
	if (f->ex) {
		fanout_worker_ended(r, f, w);
		return;
	}
	while ((got = waitpid(w->pid, &wstatus, 0)) < 0 && errno == EINTR)
		if (interrupt_pending() && !sent++) {
			f->interrupted = interrupt_pending();
			kill(-w->pid, SIGTERM);
		}
	proc_forget(w->pid);
	ended(w, got == w->pid ? wstatus : 0);
	fanout_worker_ended(r, f, w);
}

/*
 * Runs the workers and checks their claims until none is open.  A claim is
 * checked in a process of its own (local workers: fanout_check.c), so that
 * the claims of workers ending together are checked at once, at most
 * max_parallel of them; the log's records stay the coordinator's alone.
 */
int fanout_drive(struct run *r, struct fanout *f, struct buf *err)
{
	int wstatus, check = 0;

	(void)err;
	f->checks_async = !f->ex;
	for (;;) {
		size_t open;
		struct fw *w;

		if (interrupt_pending() && !f->interrupted) {
			f->interrupted = interrupt_pending();
			fanout_stop(f, "the run was interrupted");
			stop_workers(f, SIGTERM);
		}
		/* select first: a verified claim (its check ended) ends the rest */
		if (f->winner >= 0 && !strcmp(f->select, "first") && !f->stopping &&
		    !f->tasks) {
			fanout_stop(f, "another worker's candidate was verified first");
			stop_workers(f, SIGTERM);
		}
		fill(r, f);
		fanout_checks_fill(r, f);
		open = fanout_checks_running(f);
		for (size_t i = 0; i < f->n; i++)
			open += f->w[i].state == FW_RUNNING;
		if (!open)
			break;
		if (f->ex) {
			if (!(w = fanout_remote_wait(r, f)))
				continue;
			fanout_worker_ended(r, f, w);
		} else {
			if (!(w = wait_one(f, &wstatus, &check)))
				continue;
			if (check) {
				fanout_check_end(r, f, w, wstatus);
			} else {
				ended(w, wstatus);
				fanout_worker_ended(r, f, w);
			}
		}
	}
	f->checks_async = 0; /* a resolution worker's claim: checked when it ends */
	return fanout_choose(r, f, err);
}

int fanout_run(struct run *r, struct buf *err)
{
	struct fanout *f = fanout_new(r);
	struct ledger_ceil ceil = {
		.max_iterations = r->cfg->max_iterations,
		.max_tokens = r->cfg->max_tokens > 0 ? r->cfg->max_tokens : 0,
		.max_cost = r->cfg->max_cost};
	char *dir = xasprintf("%s/workers", r->run_dir);
	json_t *ws = json_array();
	int ret;

	ret = fileio_mkdirs(dir, err);
	free(dir);
	if (ret == 0)
		ret = ledger_create(f->ledger, f->cap, &ceil, err);
	if (ret == 0)
		ret = fanout_remote_open(r, f, err);
	if (ret < 0) {
		json_decref(ws);
		return loop_halt(r, "error", EXIT_CANNOT, "%s", err->s);
	}
	for (size_t i = 0; i < f->n; i++)
		json_array_append_new(ws, json_pack("{s:s,s:s,s:s}", "worker", f->w[i].id,
						    "name", f->w[i].name, "run_id",
						    f->w[i].run_id));
	events_append(&r->ev, EV_FANOUT_START,
		      json_pack("{s:o,s:s,s:I,s:s}", "workers", ws, "select", f->select,
				"max_parallel", (json_int_t)f->max_parallel, "ledger",
				LEDGER_FILE));
	events_sync(&r->ev);
	return fanout_drive(r, f, err);
}
