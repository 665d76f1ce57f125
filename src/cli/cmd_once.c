/*
 * cmd_once.c: `loopgate once` — one sandboxed, budgeted, audited actor
 * turn for a task that has no gate, its diff on a run branch.
 */
#include "base/clock.h"
#include "base/fileio.h"
#include "cli/cmd.h"
#include "cli/ui.h"
#include "config/config.h"
#include "engine/agent_turn.h"
#include "engine/loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const char once_usage[] =
	"usage: loopgate once --goal TEXT (--model P/NAME | --agent NAME | --agent-cmd "
	"CMD)\n"
	"                     [options]\n"
	"\n"
	"One actor turn for a task no gate can judge (a README, a refactor you will\n"
	"review): the actor works in the run's own tree, sandboxed, within the budget,\n"
	"every step in the audit log, and its change is committed on branch\n"
	"loopgate/<run id> and printed as a diff. Nothing judges it: review the diff.\n"
	"A task that a command can judge is a loop: loopgate run --gate CMD.\n"
	"\n"
	"Takes loopgate run's options except the gate ones (--gate, --confirm, ...):\n"
	"  --goal TEXT | --goal-file FILE, --model, --base-url, --agent, --agent-bin,\n"
	"  --actor-timeout, --agent-cmd,\n"
	"  --agent-env, --max-tokens, --max-cost, --deadline, --context, --protect\n"
	"  (nothing is protected by default: no gate defines the goal), --dir,\n"
	"  --config (gates: in it are ignored), --policy, --no-sandbox, --json.\n"
	"\n"
	"Exit status: 0 the turn ran (its diff, possibly empty, is on stdout and in\n"
	"diff.patch), 1 the actor failed or the budget or an interrupt stopped it,\n"
	"2 usage or configuration error, 3 could not run.\n";

/* The diff the turn made, on stdout (without --json). */
static void print_diff(const struct run *r)
{
	struct buf d = BUF_INIT;
	char *path = xasprintf("%s/diff.patch", r->run_dir);
	buf_init(&d, 64u << 20);
	if (buf_read_file(&d, path) == 0 || d.truncated)
		fwrite(d.s, 1, d.len, stdout);
	if (!d.len)
		fputs("(the turn changed nothing)\n", stdout);
	fflush(stdout);
	free(path);
	buf_release(&d);
}

static int cmd_once(int argc, char **argv)
{
	struct config flags, cfg;
	struct buf err = BUF_INIT;
	struct run r;
	int code, ui_flags = 0;

	config_init(&flags);
	config_init(&cfg);
	code = cmd_run_load(argc, argv, "once", once_usage, &flags, &cfg, &ui_flags,
			    &err);
	if (code >= 0)
		goto out;
	if (flags.gates.n) {
		err_set(&err, -EINVAL,
			"loopgate once runs no gate: a task that gates can judge "
			"is a loop (loopgate run --gate CMD ...)");
		code = cmd_run_fail(&flags, 2, &err);
		goto out;
	}
	/* loopgate.yaml's gates are for loops */
	config_gate_opts_clear(&cfg);
	strlist_clear(&cfg.gates);
	if (config_finalize_once(&cfg, &err) < 0 ||
	    (cfg.agent && agent_check_config(&cfg, &err) < 0)) {
		code = cmd_run_fail(&cfg, 2, &err);
		goto out;
	}
	cmd_run_begin(&r, &cfg, ui_flags);
	code = loop_once(&r, &err);
	code = cmd_run_report(&r, code, cfg.json == 1, &err);
	if (cfg.json != 1 && r.w->nits && (code == 0 || code == 1))
		print_diff(&r);
	run_release(&r);
out:
	config_release(&flags);
	config_release(&cfg);
	buf_release(&err);
	return code;
}

const struct cmd_entry cmd_once_entry = {"once",
					 "one sandboxed, audited actor turn for a "
					 "task with no gate",
					 cmd_once};
