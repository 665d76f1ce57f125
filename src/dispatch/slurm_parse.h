/*
 * slurm_parse: Slurm's command output into struct executor_status, and the
 * batch script a worker runs.  Pure functions (no process is started
 * here), tested by tables in tests/unit/test_slurm_parse.c.
 *
 *   slurm_parse_sbatch("1234;cluster\n", id, sizeof(id))   -> 0, id "1234"
 *   slurm_parse_squeue(out, "1234", &st)   out of: squeue -h -t all -o '%i|%T|%r'
 *   slurm_parse_sacct(out, "1234", &st)    out of: sacct -n -P -X -o JobID,State,ExitCode,Reason
 *   slurm_parse_scontrol(out, &st, stdout_path)  out of: scontrol -o show job ID
 *   slurm_script(&job, "debug", &script)   the #SBATCH script
 *
 * The parsers return 1 when the job was found and st filled, 0 when the
 * output does not mention it, -EINVAL for output that is not Slurm's.
 */
#ifndef LOOPGATE_SLURM_PARSE_H
#define LOOPGATE_SLURM_PARSE_H

#include <stddef.h>

#include "base/buf.h"
#include "dispatch/executor.h"

/* A Slurm job state word ("RUNNING", "CANCELLED by 0") as ours. */
enum worker_state slurm_state(const char *word);
int slurm_parse_sbatch(const char *out, char *id, size_t n);
int slurm_parse_squeue(const char *out, const char *id, struct executor_status *st);
int slurm_parse_sacct(const char *out, const char *id, struct executor_status *st);
/* stdout_path (may be NULL) gets the job's StdOut= path. */
int slurm_parse_scontrol(const char *out, struct executor_status *st,
			 struct buf *stdout_path);
/* "N:S" (exit status N, signal S) into st->exit_code (128+S when killed by
 * a signal) and a word in st->reason when it was a signal. */
void slurm_exit_code(const char *s, struct executor_status *st);
/* The batch script for job: #SBATCH lines, then exec of its argv. */
int slurm_script(const struct executor_job *job, const char *partition, struct buf *out,
		 struct buf *err);
/* Minutes for --time: time_limit_s rounded up, at least 1. */
long slurm_minutes(long time_limit_s);

#endif
