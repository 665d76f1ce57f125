/*
 * cmd_report.c: `loopgate report RUN [-o FILE]` — the self-contained HTML
 * report of any run, rendered from its run directory (report/html.h).
 */
#include "cli/cmd.h"
#include "record/rundir.h"
#include "report/html.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char report_usage[] =
	"usage: loopgate report RUN [-o FILE] [--dir PATH]\n"
	"\n"
	"Renders one run as a self-contained HTML page (no script, no network):\n"
	"goal, status and reason, budgets against their ceilings, the gate outcome\n"
	"of every round, test counts, time, tokens and cost per iteration, each\n"
	"iteration's diff, edits, raw gate output and prompt, and the audit record.\n"
	"Everything comes from the run directory, so any past run can be rendered.\n"
	"Without -o the page is written to report.html in the run directory\n"
	"(loopgate run and resume write it there at the end of every run).\n"
	"\n"
	"  RUN            a run id, a unique prefix of one, or a run directory\n"
	"  -o FILE        write the page to FILE instead ('-': standard output)\n"
	"  --dir PATH     the git repository (default .)\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 written, 2 usage error or unknown run, 3 could not read\n"
	"the run or write the page.\n";

enum { O_DIR = 256 };

static const struct option options[] = {
	{"dir", required_argument, NULL, O_DIR},
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The run directory RUN names: a directory with an events.jsonl, else a
 * run id of the repository's store.  NULL after printing why (*code). */
static char *find_run_dir(const char *dir, const char *run, int *code)
{
	struct store *st;
	char id[65], *repo = NULL, *path = rundir_file(run, RUNDIR_EVENTS), *ret = NULL;
	struct stat sb;

	if (stat(path, &sb) == 0) {
		free(path);
		return xstrdup(run);
	}
	free(path);
	if ((*code = cmd_store_open(dir, &st, &repo)) != 0)
		return NULL;
	if ((*code = cmd_store_find(st, run, id)) == 0)
		ret = rundir_path(repo, id);
	store_close(st);
	free(repo);
	return ret;
}

static int cmd_report(int argc, char **argv)
{
	const char *dir = NULL, *out = NULL;
	struct buf err = BUF_INIT, page = BUF_INIT;
	char *run_dir;
	int opt, code = CMD_OK;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(report_usage, stdout);
			return CMD_OK;
		} else if (opt == O_DIR) {
			dir = optarg;
		} else if (opt == 'o') {
			out = optarg;
		} else {
			return cmd_usage_error("report", argv[optind - 1]);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "loopgate: %s (see loopgate report --help)\n",
			optind == argc ? "which run? give its id or directory"
				       : "give one run");
		return CMD_USAGE;
	}
	if (!(run_dir = find_run_dir(dir, argv[optind], &code)))
		return code;
	if (out && !strcmp(out, "-")) {
		if (report_html(run_dir, NULL, &page, &err) == 0)
			fwrite(page.s, 1, page.len, stdout);
	} else if (report_html_write(run_dir, out, &err) == 0) {
		fprintf(stderr, "loopgate: report written to %s%s%s\n",
			out ? out : run_dir, out ? "" : "/", out ? "" : REPORT_HTML_FILE);
	}
	if (err.len) {
		fprintf(stderr, "loopgate: error: %s\n", err.s);
		code = CMD_CANNOT;
	}
	free(run_dir);
	buf_release(&page);
	buf_release(&err);
	return code;
}

const struct cmd_entry cmd_report_entry = {"report",
					   "render a run as a self-contained HTML "
					   "page",
					   cmd_report};
