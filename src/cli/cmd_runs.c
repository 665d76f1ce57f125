/*
 * cmd_runs.c: `loopgate runs` — the runs of a repository, newest first —
 * and `loopgate reindex`, which rebuilds the run store from the logs.
 * Thin layers over store.h; see docs/design/store.md.
 */
#include "cli/cmd.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char runs_usage[] =
	"usage: loopgate runs [--dir PATH] [--status S] [--since DATE] [--until DATE]\n"
	"                     [--limit N] [--json]\n"
	"\n"
	"Lists the runs of the repository, newest first: id, start, status,\n"
	"iterations, cost, duration and goal, from the run store\n"
	"(.loopgate/loopgate.db, built from the run logs when missing).\n"
	"\n"
	"  --dir PATH     the git repository (default .)\n"
	"  --status S     only runs that ended with status S (converged, stalled,\n"
	"                 budget_exhausted, error, ...; running: not ended)\n"
	"  --since DATE   only runs started at or after DATE (2026-11-24, or a UTC\n"
	"                 time 2026-11-24T13:00)\n"
	"  --until DATE   only runs started before DATE\n"
	"  --limit N      at most N runs\n"
	"  --json         one JSON array on stdout\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 ok, 2 usage error, 3 the store could not be read.\n";

static const char reindex_usage[] =
	"usage: loopgate reindex [--dir PATH]\n"
	"\n"
	"Rebuilds the run store (.loopgate/loopgate.db) from every\n"
	".loopgate/runs/*/events.jsonl, in one transaction.  A log that fails\n"
	"`loopgate audit verify` is indexed up to its last good record and named.\n"
	"\n"
	"Exit status: 0 ok (damaged logs are reported, not fatal), 2 usage error,\n"
	"3 the store could not be written.\n";

enum { O_DIR = 256, O_JSON, O_STATUS, O_SINCE, O_UNTIL, O_LIMIT };

static const struct option runs_options[] = {
	{"dir", required_argument, NULL, O_DIR},
	{"json", no_argument, NULL, O_JSON},
	{"status", required_argument, NULL, O_STATUS},
	{"since", required_argument, NULL, O_SINCE},
	{"until", required_argument, NULL, O_UNTIL},
	{"limit", required_argument, NULL, O_LIMIT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* YYYY-MM-DD, optionally followed by THH[:MM[:SS]]: compares as text. */
static int valid_date(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i, n = strlen(s);

	if (n != 10 && n != 13 && n != 16 && n != 19)
		return 0;
	for (i = 0; i < n; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return 0;
	return 1;
}

void cmd_runs_duration(double s, char *out, size_t n)
{
	if (s < 0)
		snprintf(out, n, "-");
	else if (s < 60)
		snprintf(out, n, "%.1fs", s);
	else if (s < 3600)
		snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(out, n, "%dh%02dm", (int)s / 3600, (int)s / 60 % 60);
}

/* The goal on one line, cut at max bytes (never inside a UTF-8 sequence). */
static void short_goal(const char *goal, char *out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; goal && goal[i] && n + 4 < max; i++)
		out[n++] = (unsigned char)goal[i] < ' ' ? ' ' : goal[i];
	if (goal && goal[i]) {
		while (n && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
			n--;
		if (n && (unsigned char)out[n - 1] >= 0xc0)
			n--;
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = 0;
}

static double num(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return v ? json_number_value(v) : -1;
}

static const char *str(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
}

static void print_table(const json_t *runs)
{
	char started[17], dur[16], cost[16], goal[61];
	size_t i;
	const json_t *r;

	if (!json_array_size(runs)) {
		printf("no runs\n");
		return;
	}
	printf("%-22s  %-16s  %-16s  %4s  %9s  %7s  %s\n", "ID", "STARTED (UTC)",
	       "STATUS", "ITER", "COST", "TIME", "GOAL");
	json_array_foreach(runs, i, r)
	{
		snprintf(started, sizeof(started), "%s", str(r, "started", "-"));
		if (started[10] == 'T')
			started[10] = ' ';
		cmd_runs_duration(num(r, "duration_s"), dur, sizeof(dur));
		if (num(r, "cost_usd") >= 0)
			snprintf(cost, sizeof(cost), "$%.4f", num(r, "cost_usd"));
		else
			snprintf(cost, sizeof(cost), "-");
		short_goal(str(r, "goal", ""), goal, sizeof(goal));
		printf("%-22s  %-16s  %-16s  %4.0f  %9s  %7s  %s\n", str(r, "id", "?"),
		       started, str(r, "status", "-"),
		       num(r, "iterations") < 0 ? 0 : num(r, "iterations"), cost, dur,
		       goal);
	}
}

static int cmd_runs(int argc, char **argv)
{
	struct store_filter f = {NULL, NULL, NULL, NULL, 0};
	struct buf err = BUF_INIT;
	struct store *st;
	const char *dir = NULL;
	json_t *runs = NULL;
	char *end;
	int opt, json = 0, code;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", runs_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(runs_usage, stdout);
			return CMD_OK;
		case O_DIR:
			dir = optarg;
			break;
		case O_JSON:
			json = 1;
			break;
		case O_STATUS:
			f.status = optarg;
			break;
		case O_SINCE:
			f.since = optarg;
			break;
		case O_UNTIL:
			f.until = optarg;
			break;
		case O_LIMIT:
			f.limit = strtol(optarg, &end, 10);
			if (*end || end == optarg || f.limit < 1) {
				fprintf(stderr,
					"loopgate: --limit %s: expected a "
					"positive number of runs\n",
					optarg);
				return CMD_USAGE;
			}
			break;
		default:
			return cmd_usage_error("runs", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"loopgate: unexpected argument '%s' (see loopgate "
			"runs --help)\n",
			argv[optind]);
		return CMD_USAGE;
	}
	if ((f.since && !valid_date(f.since)) || (f.until && !valid_date(f.until))) {
		fprintf(stderr,
			"loopgate: --since/--until '%s': expected a UTC date "
			"YYYY-MM-DD or time YYYY-MM-DDTHH:MM[:SS]\n",
			f.since && !valid_date(f.since) ? f.since : f.until);
		return CMD_USAGE;
	}
	if ((code = cmd_store_open(dir, &st, NULL)) != 0)
		return code;
	/* "running" runs have no end yet; the column says so */
	if (store_list_runs(st, &f, &runs, &err) < 0) {
		fprintf(stderr, "loopgate: %s\n", err.s);
		code = CMD_CANNOT;
	} else if (json) {
		cmd_print_json(json_incref(runs));
	} else {
		print_table(runs);
	}
	json_decref(runs);
	store_close(st);
	buf_release(&err);
	return code;
}

static int cmd_reindex(int argc, char **argv)
{
	static const struct option options[] = {
		{"dir", required_argument, NULL, O_DIR},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct store_reindex_report rep = {0, 0, 0, BUF_INIT};
	struct buf err = BUF_INIT;
	struct store *st;
	const char *dir = NULL;
	char *repo = NULL;
	int opt, code;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(reindex_usage, stdout);
			return CMD_OK;
		case O_DIR:
			dir = optarg;
			break;
		default:
			return cmd_usage_error("reindex", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"loopgate: unexpected argument '%s' (see loopgate "
			"reindex --help)\n",
			argv[optind]);
		return CMD_USAGE;
	}
	if ((code = cmd_store_open(dir, &st, &repo)) != 0)
		return code;
	if (store_reindex(st, repo, &rep, &err) < 0) {
		fprintf(stderr, "loopgate: %s; the previous index is unchanged\n", err.s);
		code = CMD_CANNOT;
	} else {
		fputs(rep.notes.s, stdout);
		printf("reindexed %ld run(s), %ld record(s)", rep.runs, rep.records);
		if (rep.damaged)
			printf("; %ld log(s) damaged, indexed up to their last good "
			       "record",
			       rep.damaged);
		printf("\n");
	}
	store_close(st);
	free(repo);
	buf_release(&rep.notes);
	buf_release(&err);
	return code;
}

const struct cmd_entry cmd_runs_entry = {"runs", "list the runs of a repository",
					 cmd_runs};
const struct cmd_entry cmd_reindex_entry = {"reindex",
					    "rebuild the run store "
					    "from the run logs",
					    cmd_reindex};
