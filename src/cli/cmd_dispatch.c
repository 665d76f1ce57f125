/*
 * cmd_dispatch.c: `loopgate dispatch submit|poll|wait|cancel|log` — one
 * worker job on an executor (dispatch/executor.h), by hand.
 *
 * The fan-out engine is what submits workers in a run; this command drives
 * the same backend calls one at a time, for an operator (look at a job a
 * run recorded, cancel it) and for the tests, which run a test worker
 * command on a real Slurm cluster and on the fake Kubernetes API server.
 * Prints one JSON object per line on stdout.
 */
#include "cli/cmd.h"
#include "base/clock.h"
#include "dispatch/executor.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char dispatch_usage[] =
	"usage: loopgate dispatch COMMAND --executor slurm|kueue [options]\n"
	"\n"
	"  submit [job options] -- CMD [ARG...]   start one worker job; prints its "
	"handle\n"
	"  poll HANDLE...            each job's state, one JSON line each\n"
	"  wait HANDLE...            poll until every job ended; a line per change\n"
	"  cancel HANDLE...          stop jobs (a job already ended is fine)\n"
	"  log HANDLE                the job's output so far\n"
	"\n"
	"executor options:\n"
	"  --executor NAME           slurm or kueue\n"
	"  --partition NAME          slurm: the partition\n"
	"  --kubeconfig FILE         kueue: default $KUBECONFIG, ~/.kube/config, "
	"in-cluster\n"
	"  --namespace NS            kueue: default the context's\n"
	"  --queue NAME              kueue: the LocalQueue (kueue.x-k8s.io/queue-name)\n"
	"  --image REF               kueue: the loopgate image\n"
	"  --secret NAME             kueue: the Secret with the API key\n"
	"  --secret-key KEY          kueue: its key (default: the variable's name)\n"
	"  --service-account NAME    kueue: the pods' ServiceAccount\n"
	"job options (submit):\n"
	"  --run ID --worker ID      the job's run and worker (its name: lg-RUN-WORKER)\n"
	"  --cpus N --mem MB --gpus N --time SECONDS\n"
	"  --secret-env NAME         the variable holding the API key (its value is\n"
	"                            never written anywhere by loopgate)\n"
	"  --env NAME                another variable the worker gets (repeatable)\n"
	"  --repo URL --base COMMIT  where the worker's repository comes from\n"
	"  --workdir DIR --log FILE --script FILE   slurm: shared-filesystem paths\n"
	"  --interval-ms N           wait: longest time between polls (default 500;\n"
	"                            kueue polls again as soon as a Job changes)\n"
	"\n"
	"Exit status: 0 done (for wait: every job ended), 2 usage, 3 the executor "
	"failed.\n";

enum {
	O_EXECUTOR = 256,
	O_PARTITION,
	O_KUBECONFIG,
	O_NAMESPACE,
	O_QUEUE,
	O_IMAGE,
	O_SECRET,
	O_SECRET_KEY,
	O_ACCOUNT,
	O_RUN,
	O_WORKER,
	O_CPUS,
	O_MEM,
	O_GPUS,
	O_TIME,
	O_SECRET_ENV,
	O_ENV,
	O_REPO,
	O_BASE,
	O_WORKDIR,
	O_LOG,
	O_SCRIPT,
	O_INTERVAL,
};

static const struct option options[] = {
	{"executor", required_argument, NULL, O_EXECUTOR},
	{"partition", required_argument, NULL, O_PARTITION},
	{"kubeconfig", required_argument, NULL, O_KUBECONFIG},
	{"namespace", required_argument, NULL, O_NAMESPACE},
	{"queue", required_argument, NULL, O_QUEUE},
	{"image", required_argument, NULL, O_IMAGE},
	{"secret", required_argument, NULL, O_SECRET},
	{"secret-key", required_argument, NULL, O_SECRET_KEY},
	{"service-account", required_argument, NULL, O_ACCOUNT},
	{"run", required_argument, NULL, O_RUN},
	{"worker", required_argument, NULL, O_WORKER},
	{"cpus", required_argument, NULL, O_CPUS},
	{"mem", required_argument, NULL, O_MEM},
	{"gpus", required_argument, NULL, O_GPUS},
	{"time", required_argument, NULL, O_TIME},
	{"secret-env", required_argument, NULL, O_SECRET_ENV},
	{"env", required_argument, NULL, O_ENV},
	{"repo", required_argument, NULL, O_REPO},
	{"base", required_argument, NULL, O_BASE},
	{"workdir", required_argument, NULL, O_WORKDIR},
	{"log", required_argument, NULL, O_LOG},
	{"script", required_argument, NULL, O_SCRIPT},
	{"interval-ms", required_argument, NULL, O_INTERVAL},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

#define MAX_ENV 16

struct dispatch_args {
	const char *executor;
	struct executor_opts o;
	struct executor_job job;
	const char *env[MAX_ENV + 1];
	int n_env;
	long interval_ms;
};

static int num(const char *s, long lo, long hi, long *out, struct buf *err)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < lo || v > hi)
		return err_set(err, -EINVAL,
			       "expected a number from %ld to %ld, got '%s'", lo, hi, s);
	*out = v;
	return 0;
}

/* Options that set a string. */
static const char **str_slot(struct dispatch_args *a, int opt)
{
	switch (opt) {
	case O_EXECUTOR:
		return &a->executor;
	case O_PARTITION:
		return &a->o.slurm_partition;
	case O_KUBECONFIG:
		return &a->o.kubeconfig;
	case O_NAMESPACE:
		return &a->o.kube_namespace;
	case O_QUEUE:
		return &a->o.kube_queue;
	case O_IMAGE:
		return &a->o.kube_image;
	case O_SECRET:
		return &a->o.kube_secret;
	case O_SECRET_KEY:
		return &a->o.kube_secret_key;
	case O_ACCOUNT:
		return &a->o.kube_account;
	case O_RUN:
		return &a->job.run_id;
	case O_WORKER:
		return &a->job.worker_id;
	case O_SECRET_ENV:
		return &a->job.secret_env;
	case O_REPO:
		return &a->job.repo_url;
	case O_BASE:
		return &a->job.base_commit;
	case O_WORKDIR:
		return &a->job.workdir;
	case O_LOG:
		return &a->job.log_path;
	case O_SCRIPT:
		return &a->job.script_path;
	default:
		return NULL;
	}
}

static int num_opt(struct dispatch_args *a, int opt, const char *v, struct buf *err)
{
	long n = 0;
	int ret = num(v, 0, opt == O_INTERVAL ? 600000 : 1L << 30, &n, err);
	if (ret < 0)
		return ret;
	if (opt == O_CPUS)
		a->job.cpus = (int)n;
	else if (opt == O_GPUS)
		a->job.gpus = (int)n;
	else if (opt == O_MEM)
		a->job.mem_mb = n;
	else if (opt == O_TIME)
		a->job.time_limit_s = n;
	else
		a->interval_ms = n;
	return 0;
}

/* 1 help, 0 parsed, -EINVAL usage error. */
static int parse_args(int argc, char **argv, struct dispatch_args *a, struct buf *err)
{
	const char **slot;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		if (opt == 'h')
			return 1;
		if ((slot = str_slot(a, opt))) {
			*slot = optarg;
		} else if (opt == O_ENV) {
			if (a->n_env == MAX_ENV)
				return err_set(err, -EINVAL, "at most %d --env", MAX_ENV);
			a->env[a->n_env++] = optarg;
		} else if (opt == O_CPUS || opt == O_MEM || opt == O_GPUS ||
			   opt == O_TIME || opt == O_INTERVAL) {
			if (num_opt(a, opt, optarg, err) < 0)
				return -EINVAL;
		} else {
			return err_set(err, -EINVAL,
				       "unknown or incomplete option '%s' (see loopgate "
				       "dispatch --help)",
				       argv[optind - 1]);
		}
	}
	if (!a->executor)
		return err_set(err, -EINVAL, "which executor? (--executor slurm|kueue)");
	if (strcmp(a->executor, "slurm") && strcmp(a->executor, "kueue"))
		return err_set(err, -EINVAL, "unknown executor '%s' (slurm or kueue)",
			       a->executor);
	a->job.env_names = a->env;
	return 0;
}

static void print_status(const char *handle, const struct executor_status *st)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "handle", handle, "state",
			      worker_state_name(st->state), "native", st->native,
			      "reason", st->reason);
	if (st->exit_code >= 0)
		json_object_set_new(o, "exit_code", json_integer(st->exit_code));
	if (st->position > 0) {
		json_object_set_new(o, "position", json_integer(st->position));
		json_object_set_new(o, "waiting", json_integer(st->waiting));
	}
	cmd_print_json(o);
	fflush(stdout);
}

static int do_submit(struct executor *ex, struct dispatch_args *a, char **rest, int n,
		     struct buf *err)
{
	struct buf handle = BUF_INIT;
	int ret;

	if (n < 1)
		return err_set(err, -EINVAL,
			       "submit: the worker's command goes after --");
	a->job.argv = (const char *const *)rest;
	if ((ret = executor_submit(ex, &a->job, &handle, err)) == 0)
		cmd_print_json(json_pack("{s:s}", "handle", handle.s));
	buf_release(&handle);
	return ret;
}

static int do_poll(struct executor *ex, char **h, int n, struct buf *err)
{
	struct executor_status st;
	int i, ret;

	for (i = 0; i < n; i++) {
		if ((ret = executor_poll(ex, h[i], &st, err)) < 0)
			return ret;
		print_status(h[i], &st);
	}
	return 0;
}

/* Polls until every job's state is final; prints a line on each change. */
static int do_wait(struct executor *ex, char **h, int n, long interval_ms,
		   struct buf *err)
{
	struct executor_status st;
	enum worker_state *last = xcalloc((size_t)n, sizeof(*last));
	int i, left, ret = 0;

	for (i = 0; i < n; i++)
		last[i] = (enum worker_state) - 1;
	do {
		left = 0;
		for (i = 0; i < n && ret == 0; i++) {
			if (last[i] != (enum worker_state) - 1 &&
			    worker_state_final(last[i]))
				continue;
			if ((ret = executor_poll(ex, h[i], &st, err)) < 0)
				break;
			if (st.state != last[i])
				print_status(h[i], &st);
			last[i] = st.state;
			left += !worker_state_final(st.state);
		}
		if (left && ret == 0)
			ret = executor_wait(ex, interval_ms, err);
	} while (left && ret == 0);
	free(last);
	return ret;
}

static int run_sub(struct executor *ex, const char *sub, struct dispatch_args *a,
		   char **rest, int n, struct buf *err)
{
	struct buf out = BUF_INIT;
	int i, ret = 0;

	if (!strcmp(sub, "submit"))
		return do_submit(ex, a, rest, n, err);
	if (n < 1)
		return err_set(err, -EINVAL, "%s: which job? (a handle)", sub);
	if (!strcmp(sub, "poll"))
		return do_poll(ex, rest, n, err);
	if (!strcmp(sub, "wait"))
		return do_wait(ex, rest, n, a->interval_ms, err);
	if (!strcmp(sub, "cancel")) {
		for (i = 0; i < n && ret == 0; i++)
			ret = executor_cancel(ex, rest[i], err);
		return ret;
	}
	if ((ret = executor_log(ex, rest[0], &out, err)) == 0)
		fwrite(out.s, 1, out.len, stdout);
	buf_release(&out);
	return ret;
}

static int cmd_dispatch(int argc, char **argv)
{
	static const char *const subs[] = {"submit", "poll", "wait",
					   "cancel", "log",  NULL};
	struct dispatch_args a = {
		.o = EXECUTOR_OPTS_INIT, .job = EXECUTOR_JOB_INIT, .interval_ms = 500};
	struct executor ex = EXECUTOR_INIT;
	struct buf err = BUF_INIT;
	const char *sub = argc > 1 ? argv[1] : "";
	int i, ret;

	for (i = 0; subs[i] && strcmp(subs[i], sub); i++)
		;
	if (!subs[i]) {
		int help = argc > 1 && (!strcmp(sub, "--help") || !strcmp(sub, "-h"));
		if (!help && argc > 1)
			fprintf(stderr, "loopgate: unknown dispatch command '%s'\n\n",
				sub);
		fputs(dispatch_usage, help ? stdout : stderr);
		return help ? 0 : CMD_USAGE;
	}
	if ((ret = parse_args(argc - 1, argv + 1, &a, &err)) != 0) {
		if (ret == 1)
			fputs(dispatch_usage, stdout);
		else
			fprintf(stderr, "loopgate: %s\n", err.s);
		buf_release(&err);
		return ret == 1 ? 0 : CMD_USAGE;
	}
	interrupt_install();
	/* a bad handle or job is the user's (2); a cluster that cannot be
	 * reached or read, however it fails, is 3 */
	if ((ret = executor_open(&ex, a.executor, &a.o, &err)) < 0)
		ret = -EIO;
	if (ret == 0)
		ret = run_sub(&ex, sub, &a, argv + 1 + optind, argc - 1 - optind, &err);
	executor_close(&ex);
	if (ret < 0)
		fprintf(stderr, "loopgate: dispatch %s: %s\n", sub, err.s);
	buf_release(&err);
	return ret == -EINVAL ? CMD_USAGE : ret < 0 ? CMD_CANNOT : CMD_OK;
}

const struct cmd_entry cmd_dispatch_entry = {
	.name = "dispatch",
	.summary = "run one worker job on Slurm or Kueue by hand",
	.exec = cmd_dispatch,
};
