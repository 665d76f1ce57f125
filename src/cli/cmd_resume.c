/*
 * cmd_resume.c: `loopgate resume RUN` — continue a run whose process died.
 */
#include "base/clock.h"
#include "cli/cmd.h"
#include "config/config.h"
#include "engine/loop.h"
#include "engine/resume.h"
#include "cli/ui.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char resume_usage[] =
	"usage: loopgate resume RUN [--dir PATH] [--json] [--no-progress]\n"
	"\n"
	"Continues a run whose loopgate process died (killed, crashed, power lost)\n"
	"from its last completed step, with the configuration it started with.\n"
	"RUN is the run id or a unique prefix of it (see .loopgate/runs/).  The\n"
	"state comes from the run's events.jsonl alone: an interrupted model call\n"
	"is made again (its earlier spend stays counted), a half-applied change is\n"
	"rolled back to the run branch's last commit, an interrupted gate round\n"
	"runs again.  API keys come from the environment, as for `loopgate run`.\n"
	"\n"
	"  --dir PATH   the git repository (default .)\n"
	"  --json       print a JSON summary on stdout at the end\n"
	"  --no-progress  no live status line on a terminal: one line per step\n"
	"  -h, --help\n"
	"\n"
	"Exit status: as `loopgate run` (0 converged, 1 halted, 3 could not run);\n"
	"2 when nothing was resumed: no such run, the run already ended, or another\n"
	"live loopgate process holds it (its pid is named).\n";

static const struct option options[] = {
	{"dir", required_argument, NULL, 'd'},
	{"json", no_argument, NULL, 'j'},
	{"no-progress", no_argument, NULL, 'P'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int cmd_resume(int argc, char **argv)
{
	struct config cfg;
	struct buf err = BUF_INIT;
	const char *dir = ".";
	struct run r;
	int opt, json = 0, code, ui_flags = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(resume_usage, stdout);
			return 0;
		case 'd':
			dir = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'P':
			ui_flags |= UI_NO_PROGRESS;
			break;
		default:
			fprintf(stderr,
				"loopgate: error: unknown or incomplete option "
				"'%s' (see loopgate resume --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "loopgate: error: %s (see loopgate resume --help)\n",
			optind == argc ? "which run? give its id" : "give one run id");
		return 2;
	}
	config_init(&cfg);
	ui_init(ui_flags);
	interrupt_install();
	run_init(&r, &cfg);
	ui_watch(&r);
	code = resume_run(&r, &cfg, dir, argv[optind], &err);
	code = cmd_run_report(&r, code, json, &err);
	run_release(&r);
	config_release(&cfg);
	buf_release(&err);
	return code;
}

const struct cmd_entry cmd_resume_entry = {"resume",
					   "continue a run whose "
					   "process died, from its event log",
					   cmd_resume};
