/*
 * slurm: the Slurm backend of the executor (executor.h).  Each operation
 * is one Slurm command spawned through exec/proc (argv, never a shell
 * string); the output is read by slurm_parse.c.
 *
 * State, in the order that keeps every case answered: squeue while the
 * controller lists the job; then `scontrol -o show job` for the exit code
 * of a job that ended (kept for MinJobAge); then sacct when accounting
 * runs; a job none of them knows is lost.
 */
#include "dispatch/executor.h"
#include "dispatch/slurm_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "base/saferead.h"
#include "exec/proc.h"

/* A Slurm command answers in well under a second; a controller that does
 * not answer within this is reported, not waited for forever. */
#define SLURM_CMD_TIMEOUT_MS 30000

struct slurm {
	char *partition;
};

static int slurm_open(struct executor *ex, const struct executor_opts *o, struct buf *err)
{
	struct slurm *sl = xcalloc(1, sizeof(*sl));
	(void)err;
	sl->partition = o->slurm_partition ? xstrdup(o->slurm_partition) : NULL;
	ex->impl = sl;
	return 0;
}

static void slurm_close(struct executor *ex)
{
	struct slurm *sl = ex->impl;
	if (!sl)
		return;
	free(sl->partition);
	free(sl);
}

/* The environment of a Slurm command: the base set, SLURM_CONF (which
 * cluster), and for sbatch the variables the job exports by name. */
static void slurm_env(struct proc_env *env, const struct executor_job *job)
{
	const char *const *e;
	const char *v;

	proc_env_base(env);
	if ((v = getenv("SLURM_CONF")))
		proc_env_set(env, "SLURM_CONF", v);
	if (!job)
		return;
	if (job->secret_env && (v = getenv(job->secret_env)))
		proc_env_set(env, job->secret_env, v);
	for (e = job->env_names; e && *e; e++)
		if ((v = getenv(*e)))
			proc_env_set(env, *e, v);
}

/* Runs argv; r gets its result.  -errno when it could not run at all. */
static int slurm_run(const char *const *argv, const struct executor_job *job,
		     struct proc_result *r, struct buf *err)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_env env = PROC_ENV_INIT;
	int ret;

	slurm_env(&env, job);
	o.argv = argv;
	o.env = (const char *const *)env.v;
	o.timeout_ms = SLURM_CMD_TIMEOUT_MS;
	o.max_output = 1 << 20;
	ret = proc_run(&o, r, err);
	proc_env_release(&env);
	if (ret < 0)
		return err_set(err, ret,
			       "could not run %s (is Slurm installed and in PATH?)",
			       argv[0]);
	if (r->status != PROC_EXITED)
		return err_set(err, -ETIMEDOUT, "%s did not answer within %d s", argv[0],
			       SLURM_CMD_TIMEOUT_MS / 1000);
	return 0;
}

/* err gets "sbatch: <its stderr>" for a command that exited non-zero. */
static int slurm_failed(const char *what, struct proc_result *r, struct buf *err)
{
	buf_rtrim(&r->err);
	return err_set(err, -EIO, "%s exited %d: %s", what, r->exit_code,
		       r->err.len ? r->err.s : r->out.s);
}

static int slurm_submit(struct executor *ex, const struct executor_job *job,
			struct buf *handle, struct buf *err)
{
	struct slurm *sl = ex->impl;
	struct buf script = BUF_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	char id[32];
	int ret;

	if (!job->script_path)
		return err_set(err, -EINVAL, "a Slurm job needs a path for its script");
	if ((ret = slurm_script(job, sl->partition, &script, err)) < 0)
		goto out;
	if ((ret = fileio_write_atomic(job->script_path, script.s, script.len, err)) < 0)
		goto out;
	const char *argv[] = {"sbatch", "--parsable", job->script_path, NULL};
	if ((ret = slurm_run(argv, job, &r, err)) < 0)
		goto out;
	if (r.exit_code != 0) {
		ret = slurm_failed("sbatch", &r, err);
		goto out;
	}
	if (slurm_parse_sbatch(r.out.s, id, sizeof(id)) < 0) {
		buf_rtrim(&r.out);
		ret = err_set(err, -EPROTO, "sbatch printed no job id: '%s'", r.out.s);
		goto out;
	}
	buf_sets(handle, id);
	ret = 0;
out:
	proc_result_release(&r);
	buf_release(&script);
	return ret;
}

/* A job id is digits (an array task, 12_3, is not ours to poll). */
static int slurm_id_ok(const char *id, struct buf *err)
{
	if (!id || !*id || strspn(id, "0123456789") != strlen(id))
		return err_set(err, -EINVAL, "not a Slurm job id: '%s'", id ? id : "");
	return 0;
}

/* Runs a query; 1 with st filled, 0 when it does not know the job. */
static int slurm_query(const char *const *argv, const char *id,
		       struct executor_status *st, struct buf *path, struct buf *err)
{
	struct proc_result r = PROC_RESULT_INIT;
	int ret = slurm_run(argv, NULL, &r, err);

	if (ret < 0)
		goto out;
	/* "Invalid job id specified" comes with exit 1: not known */
	if (r.exit_code != 0) {
		ret = strstr(r.err.s, "nvalid job id") ? 0
						       : slurm_failed(argv[0], &r, err);
		goto out;
	}
	if (!strcmp(argv[0], "squeue"))
		ret = slurm_parse_squeue(r.out.s, id, st);
	else if (!strcmp(argv[0], "sacct"))
		ret = slurm_parse_sacct(r.out.s, id, st);
	else
		ret = slurm_parse_scontrol(r.out.s, st, path);
	if (ret < 0) {
		buf_rtrim(&r.out);
		ret = err_set(err, -EPROTO, "cannot read %s's answer: '%.200s'", argv[0],
			      r.out.s);
	}
out:
	proc_result_release(&r);
	return ret;
}

static int slurm_poll(struct executor *ex, const char *id, struct executor_status *st,
		      struct buf *err)
{
	const char *sq[] = {"squeue", "-h", "-t",	"all", "-j",
			    id,	      "-o", "%i|%T|%r", NULL};
	const char *sc[] = {"scontrol", "-o", "show", "job", id, NULL};
	const char *sa[] = {"sacct", "-n", "-P", "-X",
			    "-j",    id,   "-o", "JobID,State,ExitCode,Reason",
			    NULL};
	int ret;

	(void)ex;
	if (slurm_id_ok(id, err) < 0)
		return -EINVAL;
	if ((ret = slurm_query(sq, id, st, NULL, err)) < 0)
		return ret;
	if (ret == 1 && !worker_state_final(st->state))
		return 0;
	/* ended, or squeue forgot it: the exit code is in scontrol's record */
	*st = (struct executor_status)EXECUTOR_STATUS_INIT;
	if ((ret = slurm_query(sc, id, st, NULL, err)) != 0)
		return ret < 0 ? ret : 0;
	/* sacct fails outright where no accounting runs: then it is lost */
	if (slurm_query(sa, id, st, NULL, err) == 1)
		return 0;
	*st = (struct executor_status)EXECUTOR_STATUS_INIT;
	st->state = WS_LOST;
	snprintf(st->reason, sizeof(st->reason), "Slurm no longer knows job %s", id);
	buf_reset(err);
	return 0;
}

static int slurm_cancel(struct executor *ex, const char *id, struct buf *err)
{
	const char *argv[] = {"scancel", id, NULL};
	struct proc_result r = PROC_RESULT_INIT;
	int ret;

	(void)ex;
	if (slurm_id_ok(id, err) < 0)
		return -EINVAL;
	if ((ret = slurm_run(argv, NULL, &r, err)) == 0 && r.exit_code != 0 &&
	    !strstr(r.err.s, "nvalid job id") && !strstr(r.err.s, "already completing"))
		ret = slurm_failed("scancel", &r, err);
	proc_result_release(&r);
	return ret;
}

static int slurm_log(struct executor *ex, const char *id, struct buf *out,
		     struct buf *err)
{
	const char *sc[] = {"scontrol", "-o", "show", "job", id, NULL};
	struct executor_status st = EXECUTOR_STATUS_INIT;
	struct buf path = BUF_INIT;
	int ret;

	(void)ex;
	if (slurm_id_ok(id, err) < 0)
		return -EINVAL;
	ret = slurm_query(sc, id, &st, &path, err);
	if (ret == 0)
		ret = err_set(err, -ENOENT, "Slurm no longer knows job %s", id);
	else if (ret == 1 && !path.len)
		ret = err_set(err, -ENOENT, "job %s has no output file", id);
	else if (ret == 1)
		ret = saferead_user(path.s, "the job's output", 8 << 20, 0, out, err);
	buf_release(&path);
	return ret < 0 ? ret : 0;
}

const struct executor_ops executor_slurm = {
	.name = "slurm",
	.open = slurm_open,
	.submit = slurm_submit,
	.poll = slurm_poll,
	.cancel = slurm_cancel,
	.log = slurm_log,
	.close = slurm_close,
};
