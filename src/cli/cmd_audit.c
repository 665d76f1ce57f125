/*
 * cmd_audit.c: `loopgate audit verify RUN` — is a run's event log intact?
 *
 * A thin layer over checkpoint_verify (checkpoint.h): finds the log from a
 * run id, a run directory or a path, verifies its hash chain and its signed
 * checkpoints (checkpoints.jsonl beside it) and says where it first breaks.
 * See docs/design/audit.md for what each can and cannot show.
 */
#include "record/audit.h"
#include "record/rundir.h"
#include "engine/auditkey.h"
#include "record/checkpoint.h"
#include "cli/cmd.h"
#include "config/config.h"
#include "tree/git.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_TAMPERED = 1, EXIT_USAGE = 2, EXIT_CANNOT = 3 };

static const char audit_usage[] =
	"usage: loopgate audit verify RUN [--dir PATH] [--key FILE] [--json]\n"
	"\n"
	"  verify   check a run's event log and its signed checkpoints\n"
	"           (loopgate audit verify --help)\n";

static const char verify_usage[] =
	"usage: loopgate audit verify RUN [--dir PATH] [--key FILE] [--json]\n"
	"\n"
	"Checks the hash chain of a run's events.jsonl: every record must be whole\n"
	"JSON, hash to its \"h\", name the previous record's \"h\" as \"prev\", and\n"
	"count seq up by one from the header (seq 0).  Then checks every signed\n"
	"checkpoint in checkpoints.jsonl beside it: signed by the audit key, for\n"
	"this run and header, at a seq the log holds, with that record's \"h\"; and\n"
	"nothing after a final checkpoint.  So a log cut short, or cut and\n"
	"rewritten, is caught.  Reports the first record or checkpoint that fails.\n"
	"A torn last line (a crash mid-write) is reported apart, as \"torn\".\n"
	"\n"
	"  RUN          a run id (under .loopgate/runs of the repository), a run\n"
	"               directory, or the path of an events.jsonl\n"
	"  --dir PATH   the git repository holding the run (default .)\n"
	"  --key FILE   the audit signing key (default $LOOPGATE_AUDIT_KEY, else\n"
	"               audit_key: in the repository's loopgate.yaml, else\n"
	"               $XDG_CONFIG_HOME/loopgate/audit-key.pem or\n"
	"               ~/.config/loopgate/audit-key.pem)\n"
	"  --json       print one JSON object on stdout\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 intact, 1 tampered or torn (the first bad record is named),\n"
	"2 usage error, 3 the log or the key could not be found or read.\n";

enum { O_DIR = 256, O_JSON, O_KEY };

static const struct option options[] = {
	{"dir", required_argument, NULL, O_DIR},
	{"key", required_argument, NULL, O_KEY},
	{"json", no_argument, NULL, O_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct verify_args {
	const char *run;
	const char *dir;
	const char *key;
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
		case 'h':
			return 1;
		case O_DIR:
			a->dir = optarg;
			break;
		case O_JSON:
			a->json = 1;
			break;
		case O_KEY:
			a->key = optarg;
			break;
		default:
			return err_set(err, -EINVAL,
				       "unknown or incomplete option '%s' "
				       "(see loopgate audit verify --help)",
				       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return err_set(err, -EINVAL, "which run? (loopgate audit verify RUN)");
	if (optind + 1 < argc)
		return err_set(err, -EINVAL,
			       "unexpected argument '%s' (see loopgate "
			       "audit verify --help)",
			       argv[optind + 1]);
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
		return rundir_file(a->run, RUNDIR_EVENTS);
	if (strchr(a->run, '/') || stat(a->run, &st) == 0)
		return xstrdup(a->run);
	if (!a->run[0] || a->run[0] == '.') {
		err_set(err, -EINVAL, "'%s' is not a run id", a->run);
		return NULL;
	}
	if (git_toplevel(a->dir ? a->dir : ".", &top, err) < 0)
		return NULL;
	path = rundir_run_file(top.s, a->run, RUNDIR_EVENTS);
	buf_release(&top);
	if (stat(path, &st) < 0) {
		err_set(err, -errno, "no run '%s' (%s: %s)", a->run, path,
			strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}

/* The verdict: the chain's, unless the checkpoints fail (worse than a
 * torn tail, which a crash can leave). */
struct verdict {
	struct audit_result res;
	struct checkpoint_result cr;
	long ncheckpoints;
	const char *key_id;
	/* a worker's log signed by its own key (in its pod), which the log of
	 * the run that started it vouches for (auditkey_vouched) */
	struct checkpoint_key alt;
	struct buf vouched;
};

static void fold_checkpoints(struct verdict *v)
{
	struct audit_result *res = &v->res;

	if (res->status == AUDIT_TAMPERED || !v->cr.reason)
		return;
	res->status = AUDIT_TAMPERED;
	res->reason = v->cr.detail.s;
	res->bad_seq = v->cr.bad_seq;
	res->bad_line = v->cr.bad_seq + 1; /* the header, seq 0, is line 1 */
}

static void print_text(const char *path, const struct verdict *v)
{
	const struct audit_result *res = &v->res;
	const struct checkpoint_result *cr = &v->cr;

	if (res->status == AUDIT_INTACT) {
		printf("ok: %ld records, head %ld %s\n", res->records, res->last_seq,
		       res->head);
		printf("  %ld checkpoints verified, signed up to seq %ld%s\n",
		       cr->checked, cr->signed_seq, cr->final ? " (final)" : "");
		if (v->alt.pkey)
			printf("  signed by the worker's own key %.16s... (made where it "
			       "ran), which %s names\n",
			       v->alt.key_id, v->vouched.s);
		if (cr->unsigned_records > 0)
			printf("  note: the last %ld records (seq %ld..%ld) are after "
			       "the "
			       "last checkpoint: the run did not close its log (still "
			       "running, or killed)\n",
			       cr->unsigned_records, cr->signed_seq + 1, res->last_seq);
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

static void print_json(const char *path, const struct verdict *v, const char *error)
{
	static const char *const names[] = {"intact", "tampered", "torn"};
	const struct audit_result *res = v ? &v->res : NULL;
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
			json_object_set_new(o, "bad_seq",
					    res->bad_seq >= 0 ? json_integer(res->bad_seq)
							      : json_null());
			json_object_set_new(o, "reason", json_string(res->reason));
		}
		json_object_set_new(
			o, "checkpoints",
			json_pack("{s:I,s:I,s:I,s:b,s:I,s:s?,s:s?}", "count",
				  (json_int_t)v->ncheckpoints, "verified",
				  (json_int_t)v->cr.checked, "signed_seq",
				  (json_int_t)v->cr.signed_seq, "final", v->cr.final,
				  "unsigned_records", (json_int_t)v->cr.unsigned_records,
				  "key_id", v->key_id, "error", v->cr.reason));
		if (v->alt.pkey)
			json_object_set_new(json_object_get(o, "checkpoints"),
					    "vouched_by", json_string(v->vouched.s));
	}
	s = json_dumps(o, JSON_SORT_KEYS);
	if (s)
		puts(s);
	free(s);
	json_decref(o);
}

/* 0 with v filled, or -errno (err says why: exit 3). */
static int verify(const char *path, const struct verify_args *a, struct checkpoint_key *k,
		  struct verdict *v, struct buf *err)
{
	struct checkpoint_list l = CHECKPOINT_LIST_INIT;
	struct buf why = BUF_INIT;
	char *kpath = NULL, *cpath = checkpoint_file_beside(path);
	int ret, file_bad = 0;

	if (access(path, R_OK) < 0) { /* the log first: a mistyped run */
		ret = err_set(err, -errno, "cannot open the event log %s: %s", path,
			      strerror(errno));
		goto out;
	}
	if ((ret = auditkey_load(a->dir, a->key, k, err)) < 0)
		goto out;
	v->key_id = k->key_id;
	ret = checkpoint_load(cpath, &l, &why);
	v->ncheckpoints = (long)l.n;
	if (ret == -ENOENT || ret == -EBADMSG) {
		/* the chain still gets its say; the checkpoints are the failure */
		file_bad = ret;
		l.n = 0;
	} else if (ret < 0) {
		err_set(err, ret, "%s", why.s);
		goto out;
	}
	if ((ret = checkpoint_verify(&l, k, path, &v->res, &v->cr, err)) < 0)
		goto out;
	if (v->cr.reason && !strcmp(v->cr.reason, "signed by another key")) {
		if (auditkey_vouched(path, &l, k, &v->alt, &v->vouched) == 0) {
			checkpoint_result_release(&v->cr);
			if ((ret = checkpoint_verify(&l, &v->alt, path, &v->res, &v->cr,
						     err)) < 0)
				goto out;
			v->key_id = v->alt.key_id;
		} else {
			buf_addf(&v->cr.detail, "; nothing here vouches for that key: %s",
				 v->vouched.s);
		}
	}
	if (file_bad && v->cr.reason) {
		v->cr.reason = file_bad == -ENOENT ? "no checkpoints file"
						   : "bad checkpoints file";
		buf_reset(&v->cr.detail);
		buf_addf(&v->cr.detail,
			 "%s: nothing shows that the log was not cut "
			 "short and rewritten",
			 why.s);
		v->cr.bad_seq = 0;
	}
	fold_checkpoints(v);
out:
	checkpoint_list_release(&l);
	buf_release(&why);
	free(cpath);
	free(kpath);
	return ret;
}

static int cmd_audit_verify(int argc, char **argv)
{
	struct verify_args a = {NULL, NULL, NULL, 0};
	struct checkpoint_key k = CHECKPOINT_KEY_INIT;
	struct verdict v;
	struct buf err = BUF_INIT;
	char *path = NULL;
	int ret, code;

	memset(&v, 0, sizeof(v));
	v.alt = (struct checkpoint_key)CHECKPOINT_KEY_INIT;
	buf_init(&v.vouched, 0);
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
	if (path && verify(path, &a, &k, &v, &err) == 0) {
		code = v.res.status == AUDIT_INTACT ? EXIT_OK : EXIT_TAMPERED;
		if (a.json)
			print_json(path, &v, NULL);
		else
			print_text(path, &v);
	} else {
		code = EXIT_CANNOT;
		fprintf(stderr, "loopgate: error: %s\n", err.s);
		if (a.json)
			print_json(path, NULL, err.s);
	}
	checkpoint_result_release(&v.cr);
	checkpoint_key_release(&k);
	checkpoint_key_release(&v.alt);
	buf_release(&v.vouched);
	free(path);
	buf_release(&err);
	return code;
}

static int cmd_audit(int argc, char **argv)
{
	return cmd_group(argc, argv, "verify", cmd_audit_verify, audit_usage);
}

const struct cmd_entry cmd_audit_entry = {"audit",
					  "verify a run's tamper-evident "
					  "event log",
					  cmd_audit};
