/*
 * cmd_audit.c: `loopgate audit verify RUN` — is a run's event log intact?
 *
 * A thin layer over audit_verify (audit.h): finds the log from a run id, a
 * run directory or a path, verifies its hash chain and says where it first
 * breaks.  See docs/design/audit.md for what the chain can and cannot show.
 */
#include "audit.h"
#include "cmd.h"
#include "git.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { EXIT_OK = 0, EXIT_TAMPERED = 1, EXIT_USAGE = 2, EXIT_CANNOT = 3 };

static const char audit_usage[] =
"usage: loopgate audit verify RUN [--dir PATH] [--json]\n"
"\n"
"  verify   check the hash chain of a run's event log (loopgate audit verify --help)\n";

static const char verify_usage[] =
"usage: loopgate audit verify RUN [--dir PATH] [--json]\n"
"\n"
"Checks the hash chain of a run's events.jsonl: every record must be whole\n"
"JSON, hash to its \"h\", name the previous record's \"h\" as \"prev\", and\n"
"count seq up by one from the header (seq 0).  Reports the first record that\n"
"does not.  A log cut after a whole record (and records appended with a new\n"
"chain) still verifies: only signed checkpoints, not yet implemented, can\n"
"show that.\n"
"\n"
"  RUN          a run id (under .loopgate/runs of the repository), a run\n"
"               directory, or the path of an events.jsonl\n"
"  --dir PATH   the git repository holding the run (default .)\n"
"  --json       print one JSON object on stdout\n"
"  -h, --help\n"
"\n"
"Exit status: 0 intact, 1 tampered or torn (the first bad record is named),\n"
"2 usage error, 3 the log could not be found or read.\n";

enum { O_DIR = 256, O_JSON };

static const struct option options[] = {
	{ "dir", required_argument, NULL, O_DIR },
	{ "json", no_argument, NULL, O_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct verify_args {
	const char *run;
	const char *dir;
	int json;
};

/* 1 help, 0 parsed, -EINVAL usage error (err says why). */
static int parse_args(int argc, char **argv, struct verify_args *a, struct buf *err)
{
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'h': return 1;
		case O_DIR: a->dir = optarg; break;
		case O_JSON: a->json = 1; break;
		default:
			return err_set(err, -EINVAL, "unknown or incomplete option '%s' "
				       "(see loopgate audit verify --help)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return err_set(err, -EINVAL, "which run? (loopgate audit verify RUN)");
	if (optind + 1 < argc)
		return err_set(err, -EINVAL, "unexpected argument '%s' (see loopgate "
			       "audit verify --help)", argv[optind + 1]);
	a->run = argv[optind];
	return 0;
}

/* The events.jsonl that RUN names, or NULL (err says why). */
static char *find_log(const struct verify_args *a, struct buf *err)
{
	struct buf top = BUF_INIT;
	struct stat st;
	char *path;

	if (stat(a->run, &st) == 0 && S_ISDIR(st.st_mode))
		return xasprintf("%s/events.jsonl", a->run);
	if (strchr(a->run, '/') || stat(a->run, &st) == 0)
		return xstrdup(a->run);
	if (!a->run[0] || a->run[0] == '.') {
		err_set(err, -EINVAL, "'%s' is not a run id", a->run);
		return NULL;
	}
	if (git_toplevel(a->dir ? a->dir : ".", &top, err) < 0)
		return NULL;
	path = xasprintf("%s/.loopgate/runs/%s/events.jsonl", top.s, a->run);
	buf_release(&top);
	if (stat(path, &st) < 0) {
		err_set(err, -errno, "no run '%s' (%s: %s)", a->run, path,
			strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}

static void print_text(const char *path, const struct audit_result *res)
{
	if (res->status == AUDIT_INTACT) {
		printf("ok: %ld records, head %ld %s\n", res->records, res->last_seq,
		       res->head);
		return;
	}
	printf("%s: line %ld", res->status == AUDIT_TORN ? "torn" : "tampered",
	       res->bad_line);
	if (res->bad_seq >= 0)
		printf(" (seq %ld)", res->bad_seq);
	printf(": %s\n", res->reason);
	printf("  %s\n  the %ld records before it are intact", path, res->records);
	if (res->records)
		printf(" (head %ld %s)", res->last_seq, res->head);
	printf("\n");
}

static void print_json(const char *path, const struct audit_result *res,
		       const char *error)
{
	static const char *const names[] = { "intact", "tampered", "torn" };
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "path", path ? json_string(path) : json_null());
	if (error) {
		json_object_set_new(o, "status", json_string("error"));
		json_object_set_new(o, "error", json_string(error));
	} else {
		json_object_set_new(o, "status", json_string(names[res->status]));
		json_object_set_new(o, "ok", json_boolean(res->status == AUDIT_INTACT));
		json_object_set_new(o, "records", json_integer(res->records));
		json_object_set_new(o, "last_seq", json_integer(res->last_seq));
		json_object_set_new(o, "head", json_string(res->head));
		json_object_set_new(o, "run_id", json_string(res->run_id));
		if (res->status != AUDIT_INTACT) {
			json_object_set_new(o, "bad_line", json_integer(res->bad_line));
			json_object_set_new(o, "bad_seq", res->bad_seq >= 0 ?
					    json_integer(res->bad_seq) : json_null());
			json_object_set_new(o, "reason", json_string(res->reason));
		}
	}
	s = json_dumps(o, JSON_SORT_KEYS);
	if (s)
		puts(s);
	free(s);
	json_decref(o);
}

static int cmd_audit_verify(int argc, char **argv)
{
	struct verify_args a = { NULL, NULL, 0 };
	struct audit_result res;
	struct buf err = BUF_INIT;
	char *path = NULL;
	int ret, code;

	ret = parse_args(argc, argv, &a, &err);
	if (ret != 0) {
		if (ret > 0)
			fputs(verify_usage, stdout);
		else
			fprintf(stderr, "loopgate: %s\n", err.s);
		buf_release(&err);
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	}
	path = find_log(&a, &err);
	if (path && audit_verify(path, &res, &err) == 0) {
		code = res.status == AUDIT_INTACT ? EXIT_OK : EXIT_TAMPERED;
		if (a.json)
			print_json(path, &res, NULL);
		else
			print_text(path, &res);
	} else {
		code = EXIT_CANNOT;
		fprintf(stderr, "loopgate: error: %s\n", err.s);
		if (a.json)
			print_json(path, NULL, err.s);
	}
	free(path);
	buf_release(&err);
	return code;
}

static int cmd_audit(int argc, char **argv)
{
	return cmd_group(argc, argv, "verify", cmd_audit_verify, audit_usage);
}

const struct cmd_entry cmd_audit_entry = { "audit", "verify a run's tamper-evident "
					   "event log", cmd_audit };
