/*
 * cmd_worker.c: hidden `loopgate __worker`: one worker of a fan-out run,
 * started by its coordinator (engine/fanout.h, docs/design/fanout.md).
 *
 *   loopgate __worker --start|--resume --config-json FILE --run-id ID
 *                     --parent ID --worker wK --slot K --ledger PATH
 *                     [--base COMMIT]
 *   loopgate __worker --start --config-env NAME --run-id ID --parent ID
 *                     --worker wK --slot K [--base COMMIT]
 *
 * --config-env: the configuration is the value of the variable NAME (a
 * worker on a cluster node that shares no filesystem with its coordinator:
 * executor kueue).  Without --ledger the worker shares no budget file: its
 * own ceilings, the slice the coordinator gave it, hold alone.
 *
 * --start: a run of one loop from the configuration the coordinator wrote
 * (its id, branch and directory given), its budget shared through the
 * ledger.  --resume: the worker's own run continued (`loopgate resume`),
 * when the coordinator was itself resumed.  Output: one line per step, to
 * the file the coordinator gave as stdout; the exit status is the run's.
 */
#include "base/clock.h"
#include "cli/cmd.h"
#include "cli/ui.h"
#include "config/config.h"
#include "engine/loop.h"
#include "engine/resume.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker_args {
	int resume;
	const char *config, *config_env, *run_id, *parent, *worker, *ledger, *base;
	long slot;
};

static int parse(int argc, char **argv, struct worker_args *a)
{
	static const struct option opts[] = {
		{"start", no_argument, NULL, 's'},
		{"resume", no_argument, NULL, 'r'},
		{"config-json", required_argument, NULL, 'c'},
		{"config-env", required_argument, NULL, 'e'},
		{"run-id", required_argument, NULL, 'i'},
		{"parent", required_argument, NULL, 'p'},
		{"worker", required_argument, NULL, 'w'},
		{"slot", required_argument, NULL, 'k'},
		{"ledger", required_argument, NULL, 'l'},
		{"base", required_argument, NULL, 'b'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	opterr = 0;
	memset(a, 0, sizeof(*a));
	a->slot = -1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			a->resume = 0;
			break;
		case 'r':
			a->resume = 1;
			break;
		case 'c':
			a->config = optarg;
			break;
		case 'e':
			a->config_env = optarg;
			break;
		case 'i':
			a->run_id = optarg;
			break;
		case 'p':
			a->parent = optarg;
			break;
		case 'w':
			a->worker = optarg;
			break;
		case 'k':
			a->slot = strtol(optarg, NULL, 10);
			break;
		case 'l':
			a->ledger = optarg;
			break;
		case 'b':
			a->base = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (!a->run_id || (!a->resume && (!(a->config || a->config_env) || !a->parent ||
					  !a->worker || a->slot < 0)))
		return -EINVAL;
	return 0;
}

/* The configuration the coordinator wrote (a file, or the variable
 * a->config_env); 0 or -errno with err set. */
static int load(struct config *cfg, const struct worker_args *a, struct buf *err)
{
	json_error_t je;
	const char *text = a->config_env ? getenv(a->config_env) : NULL;
	json_t *j = a->config_env ? json_loads(text ? text : "", 0, &je)
				  : json_load_file(a->config, 0, &je);
	int ret;

	if (!j)
		return err_set(err, -EINVAL,
			       "cannot read the worker's configuration %s%s: %s",
			       a->config_env ? "from $" : "",
			       a->config_env ? a->config_env : a->config, je.text);
	ret = config_from_json(cfg, j, err);
	json_decref(j);
	if (ret == 0)
		ret = config_finalize(cfg, err);
	return ret;
}

static int cmd_worker(int argc, char **argv)
{
	struct worker_args a;
	struct config cfg;
	struct buf err = BUF_INIT;
	struct run r;
	int code;

	if (parse(argc, argv, &a) < 0) {
		fprintf(stderr, "loopgate __worker: started by a fan-out run only\n");
		return 2;
	}
	config_init(&cfg);
	ui_init(UI_NO_PROGRESS);
	interrupt_install();
	run_init(&r, &cfg);
	ui_watch(&r);
	if (a.resume) {
		code = resume_run(&r, &cfg, ".", a.run_id, &err);
	} else if (load(&cfg, &a, &err) < 0) {
		code = 2;
	} else {
		r.link.id = xstrdup(a.run_id);
		r.link.parent = xstrdup(a.parent);
		r.link.worker = xstrdup(a.worker);
		r.link.ledger = a.ledger ? xstrdup(a.ledger) : NULL;
		r.link.slot = a.slot;
		r.link.base = a.base ? xstrdup(a.base) : NULL;
		code = loop_run(&r, &err);
	}
	code = cmd_run_report(&r, code, 0, &err);
	run_release(&r);
	config_release(&cfg);
	buf_release(&err);
	return code;
}

const struct cmd_entry cmd_worker_entry = {"__worker", "one worker of a fan-out run",
					   cmd_worker};
