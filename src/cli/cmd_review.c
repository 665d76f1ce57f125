/*
 * cmd_review.c: `loopgate review` — the converged runs that review_sample
 * picked for a human, with their diff and gate evidence — and `loopgate
 * review RUN --accept|--reject`, which appends the verdict to the run's own
 * event log (and so to the run store).  See docs/design/store.md.
 */
#include "record/checkpoint.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "engine/auditkey.h"
#include "cli/cmd.h"
#include "cli/ui.h"
#include "record/events.h"
#include "tree/git.h"
#include "store/store.h"
#include "report/html.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REVIEW_PATCH_MAX (64u << 10)
#define REVIEW_TAIL_MAX	 (1u << 20)

static const char review_usage[] =
	"usage: loopgate review [--dir PATH] [--json]\n"
	"       loopgate review RUN --accept|--reject [--note TEXT] [--reviewer NAME]\n"
	"                           [--force] [--dir PATH]\n"
	"\n"
	"Without RUN: lists the runs awaiting review (converged runs that the\n"
	"config key review_sample picked), each with its diff (base..run branch:\n"
	"stat and patch, the patch capped at 64 KiB) and its gate evidence (the\n"
	"final passing round: each gate's command, exit, test counts, output file).\n"
	"With RUN (an id or unique prefix): records the verdict as a `review`\n"
	"record appended to the run's event log.  A run already judged keeps its\n"
	"verdict unless --force.\n"
	"\n"
	"  --accept, --reject  the verdict\n"
	"  --note TEXT         why\n"
	"  --reviewer NAME     who (default $USER)\n"
	"  --force             record a new verdict over an earlier one (both stay\n"
	"                      in the log)\n"
	"  --dir PATH          the git repository (default .)\n"
	"  --json              one JSON array on stdout (the listing)\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 ok, 2 usage error, unknown run, run not ended or already\n"
	"judged, 3 the log or store could not be read or written.\n";

enum { O_DIR = 256, O_JSON, O_ACCEPT, O_REJECT, O_NOTE, O_REVIEWER, O_FORCE };

static const struct option options[] = {
	{"dir", required_argument, NULL, O_DIR},
	{"json", no_argument, NULL, O_JSON},
	{"accept", no_argument, NULL, O_ACCEPT},
	{"reject", no_argument, NULL, O_REJECT},
	{"note", required_argument, NULL, O_NOTE},
	{"reviewer", required_argument, NULL, O_REVIEWER},
	{"force", no_argument, NULL, O_FORCE},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct review_args {
	const char *dir, *run, *verdict, *note, *reviewer;
	int json, force;
};

static const char *str(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
}

/* The gates of the run's last round, with absolute output paths. */
static json_t *evidence(const json_t *run, const char *run_dir)
{
	json_t *out = json_array(), *g;
	json_int_t last = -1;
	size_t i;

	json_array_foreach(json_object_get(run, "gates"), i,
			   g) if (json_integer_value(json_object_get(g, "iteration")) >
				  last)
		last = json_integer_value(json_object_get(g, "iteration"));
	json_array_foreach(json_object_get(run, "gates"), i, g)
	{
		json_t *e;
		if (json_integer_value(json_object_get(g, "iteration")) != last)
			continue;
		e = json_deep_copy(g);
		if (str(g, "output_file", NULL)) {
			char *p = xasprintf("%s/%s", run_dir, str(g, "output_file", ""));
			json_object_set_new(e, "output_path", json_string(p));
			free(p);
		}
		json_array_append_new(out, e);
	}
	return out;
}

/* Diff stat and (capped) patch of base..branch into o. */
static void add_diff(json_t *o, const char *repo, const char *base, const char *branch)
{
	struct buf stat = BUF_INIT, patch = BUF_INIT, err = BUF_INIT;
	char *range;

	if (!base || !branch) {
		json_object_set_new(o, "diff_error",
				    json_string("no base or branch recorded"));
		return;
	}
	range = xasprintf("%s..%s", base, branch);
	buf_init(&patch, REVIEW_PATCH_MAX);
	if (git_run(repo, &stat, &err, "diff", "--stat", range, "--", NULL) < 0 ||
	    (git_run(repo, &patch, &err, "diff", range, "--", NULL) < 0 &&
	     !patch.truncated)) {
		json_object_set_new(o, "diff_error", events_strn(err.s, err.len));
	} else {
		json_object_set_new(o, "diff_stat", events_strn(stat.s, stat.len));
		json_object_set_new(o, "patch", events_strn(patch.s, patch.len));
		json_object_set_new(o, "patch_truncated", json_boolean(patch.truncated));
	}
	free(range);
	buf_release(&stat);
	buf_release(&patch);
	buf_release(&err);
}

static void print_item(const json_t *it)
{
	const json_t *g;
	size_t i;

	printf("run %s  (ended %s, %s)\n  goal:   %s\n", str(it, "id", "?"),
	       str(it, "ended", "-"), str(it, "branch", "-"), str(it, "goal", ""));
	printf("  gate evidence (final round):\n");
	json_array_foreach(json_object_get(it, "gates"), i, g)
	{
		printf("    gate %lld `%s`: %s",
		       json_integer_value(json_object_get(g, "gate")),
		       str(g, "command", "?"),
		       json_integer_value(json_object_get(g, "cached"))
			       ? "cached pass"
			       : str(g, "describe", str(g, "status", "?")));
		if (str(g, "tests", NULL) && *str(g, "tests", ""))
			printf(", tests: %s", str(g, "tests", ""));
		printf("\n      output: %s\n", str(g, "output_path", "(none)"));
	}
	if (str(it, "diff_error", NULL)) {
		printf("  diff unavailable: %s\n\n", str(it, "diff_error", ""));
		return;
	}
	printf("  diff:\n%s\n%s", str(it, "diff_stat", ""), str(it, "patch", ""));
	if (json_is_true(json_object_get(it, "patch_truncated")))
		printf("\n(patch cut at %u bytes: git diff %s..%s for all of it)\n",
		       REVIEW_PATCH_MAX, str(it, "base", ""), str(it, "branch", ""));
	printf("\n");
}

static int list_pending(struct store *st, const char *repo, int json)
{
	struct store_filter f = {NULL, NULL, NULL, "requested", 0};
	struct buf err = BUF_INIT;
	json_t *runs = NULL, *out = json_array(), *r;
	size_t i;
	int code = CMD_OK;

	if (store_list_runs(st, &f, &runs, &err) < 0)
		goto fail;
	json_array_foreach(runs, i, r)
	{
		json_t *full = NULL, *it;
		char *run_dir;
		if (store_show_run(st, str(r, "id", ""), &full, &err) < 0)
			goto fail;
		run_dir = rundir_path(repo, str(r, "id", ""));
		it = json_pack("{s:O,s:O,s:O,s:O,s:O,s:s}", "id",
			       json_object_get(r, "id"), "goal",
			       json_object_get(r, "goal"), "ended",
			       json_object_get(r, "ended"), "branch",
			       json_object_get(r, "branch"), "base",
			       json_object_get(r, "base"), "run_dir", run_dir);
		json_object_set_new(it, "gates", evidence(full, run_dir));
		add_diff(it, repo, str(r, "base", NULL), str(r, "branch", NULL));
		json_array_append_new(out, it);
		json_decref(full);
		free(run_dir);
	}
	if (json)
		cmd_print_json(json_incref(out));
	else if (!json_array_size(out))
		printf("no run awaits review\n");
	else
		json_array_foreach(out, i, r) print_item(r);
	goto out;
fail:
	fprintf(stderr, "loopgate: %s\n", err.s);
	code = CMD_CANNOT;
out:
	json_decref(runs);
	json_decref(out);
	buf_release(&err);
	return code;
}

/* The kind of the log's last whole record, or NULL (err says why). */
static char *last_kind(const char *path, struct buf *err)
{
	struct buf b = BUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size;
	char *nl, *kind = NULL;
	json_t *rec;

	if (fd < 0) {
		err_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	/* the last MiB holds the last record: run_end and review are small */
	size = lseek(fd, 0, SEEK_END);
	if (size < 0 ||
	    lseek(fd, size > (off_t)REVIEW_TAIL_MAX ? size - (off_t)REVIEW_TAIL_MAX : 0,
		  SEEK_SET) < 0) {
		err_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	buf_init(&b, REVIEW_TAIL_MAX);
	buf_read_fd(&b, fd);
	close(fd);
	if (b.len && b.s[b.len - 1] == '\n')
		b.s[--b.len] = 0;
	nl = strrchr(b.s, '\n');
	rec = json_loads(nl ? nl + 1 : b.s, 0, NULL);
	if (rec && json_string_value(json_object_get(rec, "kind")))
		kind = xstrdup(json_string_value(json_object_get(rec, "kind")));
	else
		err_set(err, -EBADMSG,
			"the last record of %s is not whole JSON (a "
			"torn or damaged log: see loopgate audit verify)",
			path);
	json_decref(rec);
	buf_release(&b);
	return kind;
}

/* The verdict is part of the record: report.html shows it from now on. */
static void refresh_report(const char *repo, const char *id)
{
	struct buf err = BUF_INIT;
	char *dir = rundir_path(repo, id);

	if (report_html_write(dir, NULL, &err) < 0)
		fprintf(stderr, "loopgate: warning: %s/%s not updated: %s\n", dir,
			REPORT_HTML_FILE, err.s);
	free(dir);
	buf_release(&err);
}

static int verdict(struct store *st, const char *repo, const struct review_args *a)
{
	struct events ev = EVENTS_INIT;
	struct checkpoint_key key = CHECKPOINT_KEY_INIT;
	struct buf err = BUF_INIT;
	json_t *run = NULL;
	char id[65], *path = NULL, *kind = NULL;
	const char *prev;
	int code;

	if ((code = cmd_store_find(st, a->run, id)) != 0)
		return code;
	if (store_show_run(st, id, &run, &err) < 0) {
		code = CMD_CANNOT;
		goto fail;
	}
	prev = str(run, "review", NULL);
	if (prev && strcmp(prev, "requested") && !a->force) {
		fprintf(stderr,
			"loopgate: run %s was already %s by %s at %s; pass "
			"--force to record a new verdict (both stay in the log)\n",
			id, prev, str(run, "reviewer", "?"), str(run, "review_ts", "?"));
		code = CMD_USAGE;
		goto out;
	}
	path = rundir_run_file(repo, id, RUNDIR_EVENTS);
	if (!(kind = last_kind(path, &err))) {
		code = CMD_CANNOT;
		goto fail;
	}
	/* Only an ended run: a live one's log has a writer already. */
	if (strcmp(kind, EV_RUN_END) && strcmp(kind, EV_REVIEW)) {
		fprintf(stderr,
			"loopgate: run %s has not ended (its log ends with "
			"a %s record): review it once it has\n",
			id, kind);
		code = CMD_USAGE;
		goto out;
	}
	/* The verdict is signed like the run: a final checkpoint seals the
	 * log again after it, or verify would see records past the seal. */
	if (auditkey_load(a->dir, NULL, &key, &err) < 0) {
		code = CMD_CANNOT;
		goto fail;
	}
	events_set_signer(&ev, &key, CHECKPOINT_EVERY);
	if (events_reopen(&ev, path, &err) < 0) {
		code = CMD_CANNOT;
		goto fail;
	}
	if (store_attach(st, &ev, id, ui_warn, NULL, &err) < 0) {
		ui_warn(NULL, err.s);
		buf_reset(&err);
	}
	events_append(&ev, EV_REVIEW,
		      json_pack("{s:s,s:o,s:o,s:o}", "verdict", a->verdict, "reviewer",
				events_str(a->reviewer), "note", events_str(a->note),
				"previous", events_str(prev)));
	if (events_sync(&ev) < 0 || ev.failed) {
		buf_sets(&err, ev.err.s);
		events_close(&ev);
		code = CMD_CANNOT;
		goto fail;
	}
	events_close(&ev);
	printf("run %s: %s by %s\n", id, a->verdict, a->reviewer);
	refresh_report(repo, id);
	goto out;
fail:
	fprintf(stderr, "loopgate: %s\n", err.s);
out:
	buf_release(&ev.err);
	checkpoint_key_release(&key);
	json_decref(run);
	free(path);
	free(kind);
	buf_release(&err);
	return code;
}

static int parse(int argc, char **argv, struct review_args *a)
{
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(review_usage, stdout);
			return -1;
		case O_DIR:
			a->dir = optarg;
			break;
		case O_JSON:
			a->json = 1;
			break;
		case O_ACCEPT:
		case O_REJECT:
			if (a->verdict) {
				fprintf(stderr,
					"loopgate: one verdict: --accept or --reject\n");
				return CMD_USAGE;
			}
			a->verdict = opt == O_ACCEPT ? "accepted" : "rejected";
			break;
		case O_NOTE:
			a->note = optarg;
			break;
		case O_REVIEWER:
			a->reviewer = optarg;
			break;
		case O_FORCE:
			a->force = 1;
			break;
		default:
			return cmd_usage_error("review", argv[optind - 1]);
		}
	}
	if (optind < argc)
		a->run = argv[optind++];
	if (optind < argc) {
		fprintf(stderr,
			"loopgate: unexpected argument '%s' (see loopgate "
			"review --help)\n",
			argv[optind]);
		return CMD_USAGE;
	}
	if (a->run && !a->verdict) {
		fprintf(stderr,
			"loopgate: what is the verdict on %s? pass --accept "
			"or --reject\n",
			a->run);
		return CMD_USAGE;
	}
	if (!a->run && (a->verdict || a->note || a->reviewer || a->force)) {
		fprintf(stderr, "loopgate: which run? (loopgate review RUN --accept; "
				"loopgate review lists the runs awaiting review)\n");
		return CMD_USAGE;
	}
	if (a->run && !a->reviewer)
		a->reviewer = getenv("USER");
	if (a->run && (!a->reviewer || !*a->reviewer)) {
		fprintf(stderr, "loopgate: who is reviewing? pass --reviewer NAME "
				"(or set USER)\n");
		return CMD_USAGE;
	}
	return 0;
}

static int cmd_review(int argc, char **argv)
{
	struct review_args a = {NULL, NULL, NULL, NULL, NULL, 0, 0};
	struct store *st;
	char *repo = NULL;
	int code = parse(argc, argv, &a);

	if (code)
		return code < 0 ? CMD_OK : code;
	if ((code = cmd_store_open(a.dir, &st, &repo)) != 0)
		return code;
	code = a.run ? verdict(st, repo, &a) : list_pending(st, repo, a.json);
	store_close(st);
	free(repo);
	return code;
}

const struct cmd_entry cmd_review_entry = {"review",
					   "list runs awaiting review, "
					   "or record a verdict",
					   cmd_review};
