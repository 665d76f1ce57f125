/*
 * executor: where a worker runs.  One backend is one table of operations
 * (struct executor_ops); the fan-out engine holds a struct executor and
 * never knows which scheduler is behind it (docs/design/executors.md).
 *
 *   struct executor ex = EXECUTOR_INIT;
 *   struct executor_opts o = EXECUTOR_OPTS_INIT;       backend settings
 *   o.kube_queue = "team-a"; ...
 *   if (executor_open(&ex, "slurm", &o, &err) < 0) ...
 *   struct executor_job job = EXECUTOR_JOB_INIT;
 *   job.run_id = id; job.worker_id = "w1"; job.argv = argv; ...
 *   struct buf handle = BUF_INIT;
 *   executor_submit(&ex, &job, &handle, &err);         record handle.s
 *   struct executor_status st = EXECUTOR_STATUS_INIT;
 *   executor_poll(&ex, handle.s, &st, &err);           st.state, st.reason
 *   executor_cancel(&ex, handle.s, &err);              idempotent
 *   executor_log(&ex, handle.s, &out, &err);           output so far
 *   executor_close(&ex);
 *
 * The handle is a string the coordinator records in its event log: a
 * resumed coordinator re-attaches by polling the handles it recorded.
 * Every call returns 0 or -errno with a sentence in err; a worker that
 * failed is data (st.state), not an error.  Secrets never pass through
 * here as values: a job names the environment variable (and, on Kueue, the
 * Secret) that holds the key.
 */
#ifndef LOOPGATE_EXECUTOR_H
#define LOOPGATE_EXECUTOR_H

#include "base/buf.h"

enum worker_state {
	WS_UNKNOWN,
	WS_QUEUED,    /* waiting for resources or quota */
	WS_RUNNING,   /* started (Slurm RUNNING, Kueue admitted) */
	WS_SUCCEEDED, /* ended with exit 0 */
	WS_FAILED,    /* ended otherwise: exit_code, reason */
	WS_CANCELLED, /* stopped by loopgate or an operator */
	WS_PREEMPTED, /* evicted for another workload; requeued by the scheduler */
	WS_LOST,      /* the scheduler no longer knows the handle */
};
const char *worker_state_name(enum worker_state s);
/* Finished for good: succeeded, failed, cancelled, lost. */
int worker_state_final(enum worker_state s);

/* What one remote worker gets.  Strings are borrowed. */
struct executor_job {
	const char *run_id;
	const char *worker_id;
	const char *const *argv; /* the worker's command (loopgate, or a test's) */
	const char *workdir;	 /* Slurm: where it starts (shared filesystem) */
	const char *repo_url;	 /* Kueue: git remote the container clones */
	const char *base_commit; /* full hash the worker starts from */
	/* The API key: the variable's name (its value comes from loopgate's
	 * environment on Slurm, from the Secret on Kueue). */
	const char *secret_env;
	const char *const *env_names; /* more variables to pass by name */
	/* Kueue: NAME=value pairs the container gets as they are (never a
	 * secret: they are in the manifest); NULL-terminated, or NULL. */
	const char *const *env_values;
	int cpus;    /* 0: 1 */
	long mem_mb; /* 0: the scheduler's default */
	int gpus;
	long time_limit_s;	 /* from the run's deadline; 0: none */
	const char *log_path;	 /* Slurm: --output (absolute) */
	const char *script_path; /* Slurm: where the batch script is written */
};
#define EXECUTOR_JOB_INIT                                                                \
	{                                                                                \
		.run_id = NULL                                                           \
	}

struct executor_status {
	enum worker_state state;
	int exit_code;	  /* -1 unknown */
	char native[48];  /* the scheduler's own word: RUNNING, Admitted, ... */
	char reason[256]; /* why: Resources, Preempted, quota message, ... */
	/* queued: its place in line, 1 = next (0: the scheduler does not
	 * say; Kueue's visibility API), of how many waiting in its queue */
	int position, waiting;
};
#define EXECUTOR_STATUS_INIT                                                             \
	{                                                                                \
		.state = WS_UNKNOWN, .exit_code = -1                                     \
	}

/* Backend settings; NULL / 0 fields take the defaults. */
struct executor_opts {
	const char *slurm_partition;
	const char *kubeconfig;	     /* NULL: $KUBECONFIG, ~/.kube/config, in-cluster */
	const char *kube_namespace;  /* NULL: the context's, else "default" */
	const char *kube_queue;	     /* LocalQueue name (required for kueue) */
	const char *kube_image;	     /* the loopgate image */
	const char *kube_secret;     /* Secret holding the API key */
	const char *kube_secret_key; /* its key; NULL: the variable's name */
	const char *kube_account;    /* ServiceAccount of the pods; NULL: none */
};
#define EXECUTOR_OPTS_INIT                                                               \
	{                                                                                \
		.slurm_partition = NULL                                                  \
	}

struct executor;
struct executor_ops {
	const char *name;
	int (*open)(struct executor *ex, const struct executor_opts *o, struct buf *err);
	int (*submit)(struct executor *ex, const struct executor_job *job,
		      struct buf *handle, struct buf *err);
	int (*poll)(struct executor *ex, const char *handle, struct executor_status *st,
		    struct buf *err);
	int (*cancel)(struct executor *ex, const char *handle, struct buf *err);
	int (*log)(struct executor *ex, const char *handle, struct buf *out,
		   struct buf *err);
	/* Optional: returns when some job may have changed, or after
	 * timeout_ms (Kueue: a watch).  NULL: the caller just waits. */
	int (*wait)(struct executor *ex, long timeout_ms, struct buf *err);
	void (*close)(struct executor *ex);
};

struct executor {
	const struct executor_ops *ops;
	void *impl; /* the backend's state */
};
#define EXECUTOR_INIT                                                                    \
	{                                                                                \
		.ops = NULL                                                              \
	}

extern const struct executor_ops executor_slurm;
extern const struct executor_ops executor_kueue;

/* -EINVAL for an unknown name (err lists the known ones). */
int executor_open(struct executor *ex, const char *name, const struct executor_opts *o,
		  struct buf *err);
int executor_submit(struct executor *ex, const struct executor_job *job,
		    struct buf *handle, struct buf *err);
int executor_poll(struct executor *ex, const char *handle, struct executor_status *st,
		  struct buf *err);
int executor_cancel(struct executor *ex, const char *handle, struct buf *err);
int executor_log(struct executor *ex, const char *handle, struct buf *out,
		 struct buf *err);
/* Returns when a job may have changed (a watch event) or after timeout_ms;
 * poll then.  A backend without a watch sleeps.  -EINTR on an interrupt. */
int executor_wait(struct executor *ex, long timeout_ms, struct buf *err);
void executor_close(struct executor *ex);

/* "lg-<run>-<worker>": the job's name on both schedulers, cut to the
 * 63 characters of a Kubernetes name, lower case, [a-z0-9-] only. */
void executor_job_name(const struct executor_job *job, char out[64]);

#endif
