/*
 * fanout_impl.h: PRIVATE to fanout.c (starting and waiting), fanout_end.c
 * (a worker's end, the choice), fanout_check.c (its claim checked) and
 * fanout_resume.c.
 */
#ifndef LOOPGATE_FANOUT_IMPL_H
#define LOOPGATE_FANOUT_IMPL_H

#include <stddef.h>
#include <sys/types.h>
#include "base/buf.h"
#include "config/config.h"
#include "engine/verify.h"

struct run;
struct executor;

enum fw_state { FW_WAITING, FW_RUNNING, FW_ENDED };

/* executor kueue: the variable of a worker's Job holding its settings
 * (`__worker --config-env`) */
#define WORKER_CONFIG_ENV "LOOPGATE_WORKER_CONFIG"

/* Ledger slots and worker entries at most: the workers, and in split work
 * one conflict-resolution worker per task besides. */
#define FANOUT_MAX_SLOTS (2 * CONFIG_MAX_WORKERS)

/* One worker, as the coordinator sees it. */
struct fw {
	char id[24];	    /* "w1" */
	char *name;	    /* workers: name, else the id */
	char *run_id;	    /* <run>-w1 */
	char *run_dir;	    /* its run directory */
	char *branch;	    /* loopgate/<run>-w1 */
	char *settings;	    /* who acts: "model openai/x" */
	size_t slot;	    /* in the ledger, and in workers: or tasks: */
	struct config *cfg; /* split work: the task's config (its gates judge
			       its claim), else NULL */
	char *base;	    /* the commit it starts from; NULL: the run's base */
	int resolves;	    /* split work: the task (index + 1) whose merge
			       conflict this worker redoes, else 0 */
	/* executor: slurm (fanout_remote.c) */
	char *handle;	 /* the scheduler's job id */
	int job_state;	 /* enum worker_state last recorded */
	int preemptions; /* times its job was evicted and requeued */
	/* kueue: its budget slice (the ceilings it was given) */
	long slice_iterations, slice_tokens;
	double slice_cost;
	char native[48]; /* the scheduler's last word on it */
	int position;	 /* its place in the queue last recorded (0: none) */
	enum fw_state state;
	int resume; /* start it as `__worker --resume` */
	pid_t pid;
	int pidfd;
	long long started_ms;
	int exit_code;
	/* from its summary.json (or the ledger, when it wrote none) */
	char *status;
	char *reason;
	long iterations, tokens_in, tokens_out, calls;
	double cost;
	/* its claim, checked */
	int check_wanted; /* converged: its claim waits for its check */
	pid_t check_pid;  /* > 0: being checked in that process */
	int check_pidfd;
	char *commit;
	int verified;  /* -1 not a claim, 0 rejected, 1 verified */
	char *verdict; /* why rejected */
	long diff_lines, diff_files;
	struct vote_tally vote; /* its verifiers' latest tally (summary.json) */
	/* of its spend, what its verifiers and escalations spent (summary.json
	 * "roles"): the coordinator reports spend per role across workers */
	struct role_spend roles[ROLE_N];
};

struct fanout {
	struct fw *w;
	size_t n;
	size_t cap;	    /* entries allocated: ledger slots */
	size_t ntasks;	    /* split work: the first ntasks entries are the tasks */
	const char *select; /* "first" | "best" | "tasks" (split work) */
	int tasks;	    /* split work: every verified task is merged */
	long max_parallel;
	char *ledger; /* path */
	int stopping; /* no more workers start */
	const char *stop_why;
	int interrupted;
	int checks_async;    /* claims are checked in processes of their own,
				at most max_parallel at once (fanout_drive) */
	int winner;	     /* index, or -1 */
	struct executor *ex; /* executor: slurm, kueue; NULL: local processes */
	char *remote;	     /* kueue: the git remote workers clone and push to */
	char *why;	     /* why it won */
};

/* fanout.c: the workers as the config describes them (r->fan = f). */
struct fanout *fanout_new(struct run *r);
/* fanout.c: starts w now (resume: its own resume); 0 or -errno. */
int fanout_start_worker(struct run *r, struct fanout *f, struct fw *w, int resume,
			struct buf *err);
/* fanout.c: blocks until w ends (passing SIGINT/SIGTERM on), then
 * fanout_worker_ended. */
void fanout_wait_worker(struct run *r, struct fanout *f, struct fw *w);
/* fanout.c: a pidfd for the child pid (poll()able: it ends), -1 when the
 * kernel has none (the caller then waits by pid). */
int fanout_pidfd(pid_t pid);
/* fanout.c: a new entry at f->w[f->n] (split work's resolution worker). */
struct fw *fanout_add_worker(struct run *r, struct fanout *f, const char *id);
/* fanout.c: runs workers until none is open, then fanout_choose. */
int fanout_drive(struct run *r, struct fanout *f, struct buf *err);
/* fanout_remote.c: workers as cluster jobs (f->ex).  open: NULL ex for
 * executor local; submit: the job for argv (wc: the worker's config, for
 * the names of the variables it needs); wait: polls, returns a worker
 * whose job ended (exit_code set) or NULL after a tick, recording each
 * change of a job's state (worker_state: queued with the scheduler's
 * reason, running, preempted); attach (resume):
 * 1 ended, 0 running again, < 0 unknown; cancel: stop it. */
int fanout_remote_open(struct run *r, struct fanout *f, struct buf *err);
void fanout_remote_close(struct fanout *f);
/* The executor (NULL for local) and, for kueue, the git remote (owned)
 * that config c names for a run in repo: what fanout_remote_open opens,
 * for others that must reach a run's jobs (run_remove.h). */
struct executor;
int fanout_remote_connect(const struct config *c, const char *repo, struct executor **ex,
			  char **remote, struct buf *err);
int fanout_remote_submit(struct run *r, struct fanout *f, struct fw *w,
			 const struct config *wc, const char *cfg_path,
			 const char *const *argv, const char *out, struct buf *err);
struct fw *fanout_remote_wait(struct run *r, struct fanout *f);
/* fanout_remote.c: a remote worker that ended, brought back (kueue: its
 * branch and log fetched from the remote into the places a local worker's
 * are; slurm: nothing to do), before its summary is read. */
void fanout_remote_collect(struct run *r, struct fanout *f, struct fw *w);
/* fanout_remote.c: its ledger slot settled to the spend its summary
 * reports (kueue: the slice reserved at submit is released), plus a whole
 * slice for each attempt Kueue preempted (w's spend grows by as much). */
void fanout_remote_settle(struct fanout *f, struct fw *w);
int fanout_remote_attach(struct run *r, struct fanout *f, struct fw *w);
void fanout_remote_cancel(struct fanout *f, struct fw *w);
/* fanout_end.c */
void fanout_stop(struct fanout *f, const char *why);
void fanout_skip(struct run *r, struct fw *w, const char *why);
void fanout_lost(struct run *r, struct fanout *f, struct fw *w, const char *why);
void fanout_worker_ended(struct run *r, struct fanout *f, struct fw *w);
/* w's spend into the coordinator's totals. */
void fanout_account(struct run *r, const struct fw *w);
/* w->roles from a "roles" object of spend_json / summary.json. */
void fanout_spend_roles(struct fw *w, const json_t *roles);
int fanout_choose(struct run *r, struct fanout *f, struct buf *err);
/*
 * fanout_check.c: a converged worker's claim checked (reverify_claim on
 * its branch head), its records and a `candidate` record written.
 * fanout_check: here and now.  fanout_checks_fill: each claim waiting
 * (check_wanted) checked: with checks_async in a forked process
 * (at most max_parallel at once, the others wait),
 * else here and now.  A forked check's records reach the log only at
 * fanout_check_end (its pid reaped), in one block with its candidate.
 */
void fanout_check(struct run *r, struct fanout *f, struct fw *w);
void fanout_checks_fill(struct run *r, struct fanout *f);
size_t fanout_checks_running(const struct fanout *f);
void fanout_check_end(struct run *r, struct fanout *f, struct fw *w, int wstatus);
/* fanout_merge.c: split work's end: each task's verified commit merged
 * in order, each merge verified against every gate so far. */
int fanout_merge(struct run *r, struct fanout *f, struct buf *err);
/* fanout_end.c: one line per worker, what became of it. */
void fanout_outcomes(const struct fanout *f, struct buf *out);

#endif
