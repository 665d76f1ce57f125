/*
 * slurm_parse: see slurm_parse.h.  The formats asked of squeue and sacct
 * are '|'-separated so that a reason with spaces stays one field; scontrol's
 * one-line form is "Key=Value" words, of which the ones read here never
 * hold a space.
 */
#include "dispatch/slurm_parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *word;
	enum worker_state state;
} states[] = {
	{"PENDING", WS_QUEUED},	     {"REQUEUED", WS_QUEUED},
	{"REQUEUE_HOLD", WS_QUEUED}, {"REQUEUE_FED", WS_QUEUED},
	{"SUSPENDED", WS_QUEUED},    {"RESV_DEL_HOLD", WS_QUEUED},
	{"CONFIGURING", WS_RUNNING}, {"RUNNING", WS_RUNNING},
	{"COMPLETING", WS_RUNNING},  {"RESIZING", WS_RUNNING},
	{"SIGNALING", WS_RUNNING},   {"STAGE_OUT", WS_RUNNING},
	{"STOPPED", WS_RUNNING},     {"COMPLETED", WS_SUCCEEDED},
	{"FAILED", WS_FAILED},	     {"TIMEOUT", WS_FAILED},
	{"NODE_FAIL", WS_FAILED},    {"OUT_OF_MEMORY", WS_FAILED},
	{"BOOT_FAIL", WS_FAILED},    {"DEADLINE", WS_FAILED},
	{"SPECIAL_EXIT", WS_FAILED}, {"CANCELLED", WS_CANCELLED},
	{"REVOKED", WS_CANCELLED},   {"PREEMPTED", WS_PREEMPTED},
};

enum worker_state slurm_state(const char *word)
{
	size_t i, n = strcspn(word, " +");

	/* "CANCELLED by 0", "CANCELLED+" (sacct marks a truncated word) */
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strlen(states[i].word) == n && !strncmp(states[i].word, word, n))
			return states[i].state;
	return WS_UNKNOWN;
}

static void set_word(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int slurm_parse_sbatch(const char *out, char *id, size_t n)
{
	size_t len;

	while (isspace((unsigned char)*out))
		out++;
	/* --parsable: "ID" or "ID;CLUSTER" */
	len = strspn(out, "0123456789");
	if (!len || len >= n ||
	    (out[len] && out[len] != ';' && !isspace((unsigned char)out[len])))
		return -EINVAL;
	memcpy(id, out, len);
	id[len] = '\0';
	return 0;
}

/* Splits line [p, end) at '|' into up to max fields (pointers and lengths). */
static int split_fields(const char *p, const char *end, const char **f, size_t *fl,
			int max)
{
	int k = 0;
	while (k < max) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		const char *stop = bar ? bar : end;
		f[k] = p;
		fl[k] = (size_t)(stop - p);
		k++;
		if (!bar)
			break;
		p = bar + 1;
	}
	return k;
}

/* Finds the line whose first field is id exactly; fills f/fl; returns the
 * field count, 0 when no line is about id. */
static int find_line(const char *out, const char *id, const char **f, size_t *fl, int max)
{
	const char *p = out;
	size_t idlen = strlen(id);

	while (*p) {
		const char *end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		if ((size_t)(end - p) > idlen && !strncmp(p, id, idlen) &&
		    p[idlen] == '|')
			return split_fields(p, end, f, fl, max);
		p = *end ? end + 1 : end;
	}
	return 0;
}

static void fill_state(struct executor_status *st, const char *w, size_t wl)
{
	set_word(st->native, sizeof(st->native), w, wl);
	st->state = slurm_state(st->native);
}

static void fill_reason(struct executor_status *st, const char *r, size_t rl)
{
	/* "None" and "(null)" say there is no reason */
	if ((rl == 4 && !strncmp(r, "None", 4)) || (rl == 6 && !strncmp(r, "(null)", 6)))
		rl = 0;
	set_word(st->reason, sizeof(st->reason), r, rl);
}

int slurm_parse_squeue(const char *out, const char *id, struct executor_status *st)
{
	const char *f[3];
	size_t fl[3];
	int k = find_line(out, id, f, fl, 3);

	if (!k)
		return 0;
	if (k < 3)
		return -EINVAL;
	fill_state(st, f[1], fl[1]);
	fill_reason(st, f[2], fl[2]);
	return st->state == WS_UNKNOWN ? -EINVAL : 1;
}

void slurm_exit_code(const char *s, struct executor_status *st)
{
	char *end;
	long code = strtol(s, &end, 10), sig = 0;

	if (end == s)
		return;
	if (*end == ':')
		sig = strtol(end + 1, NULL, 10);
	if (sig > 0 && sig < 65) {
		st->exit_code = (int)(128 + sig);
		if (!st->reason[0])
			snprintf(st->reason, sizeof(st->reason), "signal %ld", sig);
	} else if (code >= 0 && code < 256) {
		st->exit_code = (int)code;
	}
}

int slurm_parse_sacct(const char *out, const char *id, struct executor_status *st)
{
	const char *f[4];
	size_t fl[4];
	char code[32];
	int k = find_line(out, id, f, fl, 4);

	if (!k)
		return 0;
	if (k < 3)
		return -EINVAL;
	fill_state(st, f[1], fl[1]);
	if (k > 3)
		fill_reason(st, f[3], fl[3]);
	set_word(code, sizeof(code), f[2], fl[2]);
	slurm_exit_code(code, st);
	return st->state == WS_UNKNOWN ? -EINVAL : 1;
}

/* The value of " Key=" in scontrol's one-line output, up to a space. */
static const char *sc_value(const char *out, const char *key, size_t *n)
{
	size_t kl = strlen(key);
	const char *p = out;

	while ((p = strstr(p, key))) {
		if ((p == out || p[-1] == ' ') && p[kl] == '=') {
			p += kl + 1;
			*n = strcspn(p, " \n");
			return p;
		}
		p += kl;
	}
	return NULL;
}

int slurm_parse_scontrol(const char *out, struct executor_status *st,
			 struct buf *stdout_path)
{
	const char *v;
	char code[32];
	size_t n;

	if (!sc_value(out, "JobId", &n))
		return 0;
	if (!(v = sc_value(out, "JobState", &n)))
		return -EINVAL;
	fill_state(st, v, n);
	if ((v = sc_value(out, "Reason", &n)))
		fill_reason(st, v, n);
	if ((v = sc_value(out, "ExitCode", &n))) {
		set_word(code, sizeof(code), v, n);
		/* a job still running has "0:0": not an exit yet */
		if (worker_state_final(st->state) || st->state == WS_PREEMPTED)
			slurm_exit_code(code, st);
	}
	if (stdout_path && (v = sc_value(out, "StdOut", &n))) {
		buf_reset(stdout_path);
		buf_add(stdout_path, v, n);
	}
	return st->state == WS_UNKNOWN ? -EINVAL : 1;
}

long slurm_minutes(long time_limit_s)
{
	long m = (time_limit_s + 59) / 60;
	return m < 1 ? 1 : m;
}

/* Appends s single-quoted for /bin/sh ('it'\''s'). */
static void sh_quote(struct buf *out, const char *s)
{
	buf_addch(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_adds(out, "'\\''");
		else
			buf_addch(out, *s);
	}
	buf_addch(out, '\'');
}

/* NAME='value'; export NAME (nothing when value is NULL). */
static void export_var(struct buf *out, const char *name, const char *value)
{
	if (!value)
		return;
	buf_addf(out, "%s=", name);
	sh_quote(out, value);
	buf_addf(out, "; export %s\n", name);
}

/* A variable name: [A-Za-z_][A-Za-z0-9_]*. */
static int env_name_ok(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/* #SBATCH words may not hold a newline: one would start a shell line. */
static int one_line(const char *s)
{
	return !s || !strpbrk(s, "\n\r");
}

static int script_exports(const struct executor_job *job, struct buf *out,
			  struct buf *err)
{
	const char *const *e;

	/* Only what the worker needs reaches it: no --export=ALL of
	 * loopgate's environment, and the key goes by name, never by value. */
	buf_adds(out, "#SBATCH --export=PATH,HOME,LANG");
	if (job->secret_env) {
		if (!env_name_ok(job->secret_env))
			return err_set(err, -EINVAL, "not a variable name: '%s'",
				       job->secret_env);
		buf_addf(out, ",%s", job->secret_env);
	}
	for (e = job->env_names; e && *e; e++) {
		if (!env_name_ok(*e))
			return err_set(err, -EINVAL, "not a variable name: '%s'", *e);
		buf_addf(out, ",%s", *e);
	}
	buf_addch(out, '\n');
	return 0;
}

int slurm_script(const struct executor_job *job, const char *partition, struct buf *out,
		 struct buf *err)
{
	char name[64];
	const char *const *a;

	if (!one_line(partition) || !one_line(job->log_path) || !one_line(job->workdir))
		return err_set(err, -EINVAL, "a Slurm option holds a newline");
	executor_job_name(job, name);
	buf_adds(out, "#!/bin/sh\n");
	buf_addf(out, "#SBATCH --job-name=%s\n", name);
	buf_addf(out, "#SBATCH --cpus-per-task=%d\n", job->cpus > 0 ? job->cpus : 1);
	buf_adds(out, "#SBATCH --ntasks=1\n");
	if (job->mem_mb > 0)
		buf_addf(out, "#SBATCH --mem=%ldM\n", job->mem_mb);
	if (job->gpus > 0)
		buf_addf(out, "#SBATCH --gres=gpu:%d\n", job->gpus);
	if (job->time_limit_s > 0)
		buf_addf(out, "#SBATCH --time=%ld\n", slurm_minutes(job->time_limit_s));
	if (partition)
		buf_addf(out, "#SBATCH --partition=%s\n", partition);
	if (job->log_path)
		buf_addf(out, "#SBATCH --output=%s\n", job->log_path);
	if (job->workdir)
		buf_addf(out, "#SBATCH --chdir=%s\n", job->workdir);
	if (script_exports(job, out, err) < 0)
		return -EINVAL;
	/* what tools/loopgate-worker reads, as a Kueue Job's env has it */
	export_var(out, "LOOPGATE_RUN", job->run_id);
	export_var(out, "LOOPGATE_WORKER", job->worker_id);
	export_var(out, "LOOPGATE_REPO", job->repo_url);
	export_var(out, "LOOPGATE_BASE", job->base_commit);
	buf_adds(out, "exec");
	for (a = job->argv; *a; a++) {
		buf_addch(out, ' ');
		sh_quote(out, *a);
	}
	buf_addch(out, '\n');
	return out->truncated ? err_set(err, -E2BIG, "the batch script is too long") : 0;
}
