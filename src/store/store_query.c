/*
 * store_query.c: reading the run store, and rebuilding it from the logs.
 * See store.h.  Every query is a constant statement with bound parameters.
 */
#include "store/store.h"
#include "record/rundir.h"
#include "store/store_impl.h"
#include "record/audit.h"
#include "base/fileio.h"
#include "tree/git.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Columns holding JSON text that the queries hand back as JSON. */
static int json_column(const char *name)
{
	return !strcmp(name, "files") || !strcmp(name, "paths");
}

static json_t *row_to_json(sqlite3_stmt *s)
{
	json_t *o = json_object();
	int i, n = sqlite3_column_count(s);

	for (i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(s, i);
		const char *text;
		json_t *v;

		switch (sqlite3_column_type(s, i)) {
		case SQLITE_INTEGER:
			v = json_integer(sqlite3_column_int64(s, i));
			break;
		case SQLITE_FLOAT:
			v = json_real(sqlite3_column_double(s, i));
			break;
		case SQLITE_TEXT:
			text = (const char *)sqlite3_column_text(s, i);
			v = json_column(name) ? json_loads(text, 0, NULL) : NULL;
			if (!v)
				v = json_stringn_nocheck(
					text, (size_t)sqlite3_column_bytes(s, i));
			break;
		default:
			v = json_null();
		}
		json_object_set_new(o, name, v);
	}
	return o;
}

/* Runs a prepared statement to the end, appending each row to arr. */
static int collect(struct store *st, sqlite3_stmt *s, json_t *arr, struct buf *err)
{
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(arr, row_to_json(s));
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, err, "query");
	return 0;
}

/* A query with the run id as ?1, all rows. */
static int rows_of(struct store *st, const char *sql, const char *id, json_t **out,
		   struct buf *err)
{
	sqlite3_stmt *s;
	int ret;

	*out = json_array();
	if ((ret = store_prepare(st, sql, &s, err)) < 0)
		return ret;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	ret = collect(st, s, *out, err);
	sqlite3_finalize(s);
	return ret;
}

int store_find_run(struct store *st, const char *prefix, char id[65], struct buf *err)
{
	static const char sql[] = "SELECT id FROM runs WHERE substr(id, 1, ?2) = ?1"
				  " ORDER BY id LIMIT 4";
	sqlite3_stmt *s;
	struct buf names = BUF_INIT;
	int n = 0, rc, ret;

	if (!*prefix)
		return err_set(err, -EINVAL, "an empty run id");
	if ((ret = store_prepare(st, sql, &s, err)) < 0)
		return ret;
	sqlite3_bind_text(s, 1, prefix, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, 2, (int)strlen(prefix));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);
		if (!n)
			snprintf(id, 65, "%s", v);
		buf_addf(&names, "%s%s", n ? ", " : "", n < 3 ? v : "...");
		n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		ret = store_sqlerr(st, err, "find run");
	else if (!n)
		ret = err_set(err, -ENOENT,
			      "no run '%s' in the run store (see "
			      "`loopgate runs`; `loopgate reindex` if the store "
			      "is out of date)",
			      prefix);
	else if (n > 1 && strcmp(id, prefix)) /* an exact id wins (a fan-out
						 run's workers extend its id) */
		ret = err_set(err, -EEXIST,
			      "'%s' is ambiguous: it starts %s; give "
			      "more of the id",
			      prefix, names.s);
	buf_release(&names);
	return ret;
}

int store_list_runs(struct store *st, const struct store_filter *f, json_t **out,
		    struct buf *err)
{
	static const char sql[] =
		"SELECT id, started, ended, goal, status,"
		" exit_code, iterations, tokens_in, tokens_out, cost_usd,"
		" duration_s, branch, base, actor, model, review FROM runs"
		" WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR started >= ?2)"
		" AND (?3 IS NULL OR started < ?3) AND (?4 IS NULL OR review = ?4)"
		" ORDER BY started DESC, id DESC LIMIT ?5";
	sqlite3_stmt *s;
	int ret;

	*out = json_array();
	if ((ret = store_prepare(st, sql, &s, err)) < 0)
		return ret;
	if (f->status)
		sqlite3_bind_text(s, 1, f->status, -1, SQLITE_TRANSIENT);
	if (f->since)
		sqlite3_bind_text(s, 2, f->since, -1, SQLITE_TRANSIENT);
	if (f->until)
		sqlite3_bind_text(s, 3, f->until, -1, SQLITE_TRANSIENT);
	if (f->review)
		sqlite3_bind_text(s, 4, f->review, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 5, f->limit > 0 ? f->limit : -1);
	ret = collect(st, s, *out, err);
	sqlite3_finalize(s);
	return ret;
}

int store_show_run(struct store *st, const char *id, json_t **out, struct buf *err)
{
	static const struct {
		const char *key, *sql;
	} parts[] = {
		{"per_iteration",
		 "SELECT n, started, gate_failed, gate_exit,"
		 " describe, cost_usd, tokens_in, tokens_out, files, noop,"
		 " duration_ms, commit_sha, edits_applied, edits_refused"
		 " FROM iterations WHERE run_id = ?1 ORDER BY n"},
		{"gates", "SELECT iteration, gate, command, status, exit_code,"
			  " describe, duration_ms, passed, tests, cached, output_file"
			  " FROM gate_results WHERE run_id = ?1 ORDER BY seq"},
		{"model_calls",
		 "SELECT iteration, attempt, outcome, http_status,"
		 " tokens_in, tokens_out, cost_usd, ms, wait_ms, will_retry"
		 " FROM model_calls WHERE run_id = ?1 ORDER BY seq"},
		{"integrity", "SELECT iteration, kind, gate, paths, detail"
			      " FROM integrity_events WHERE run_id = ?1 ORDER BY seq"},
		{"checkpoints", "SELECT seq, h, key_id, sig, ts FROM checkpoints"
				" WHERE run_id = ?1 ORDER BY seq"},
	};
	json_t *run, *rows;
	size_t i;
	int ret;

	*out = NULL;
	ret = rows_of(st, "SELECT * FROM runs WHERE id = ?1", id, &rows, err);
	if (ret < 0 || !json_array_size(rows)) {
		json_decref(rows);
		return ret < 0 ? ret : err_set(err, -ENOENT, "no run '%s'", id);
	}
	run = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		ret = rows_of(st, parts[i].sql, id, &rows, err);
		json_object_set_new(run, parts[i].key, rows);
		if (ret < 0) {
			json_decref(run);
			return ret;
		}
	}
	*out = run;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The run directories' names under dir, sorted; NULL-terminated. */
static char **list_runs(const char *dir, struct buf *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;

	if (!d) {
		if (errno != ENOENT)
			err_set(err, -errno, "cannot read %s: %s", dir, strerror(errno));
		if (errno != ENOENT) {
			free(v);
			return NULL;
		}
		return v;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		v = xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = xstrdup(e->d_name);
		v[n] = NULL;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), by_name);
	return v;
}

/* Ingests the intact prefix of one log; 0, or -errno on a store failure. */
static int reindex_log(struct store *st, const char *run_id, const char *path,
		       struct store_reindex_report *rep, struct buf *err)
{
	static const char *const status[] = {"intact", "tampered", "torn"};
	static const char sql[] = "UPDATE runs SET log_status = ?2,"
				  " log_detail = ?3 WHERE id = ?1";
	struct audit_result res;
	struct buf verr = BUF_INIT, detail = BUF_INIT;
	sqlite3_stmt *s = NULL;
	long long off = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int ret = 0;

	if (audit_verify(path, &res, &verr) < 0) {
		buf_addf(&rep->notes, "%s: not indexed: %s\n", run_id, verr.s);
		rep->damaged++;
		buf_release(&verr);
		return 0;
	}
	if (!(f = fopen(path, "re"))) {
		buf_addf(&rep->notes, "%s: not indexed: %s: %s\n", run_id, path,
			 strerror(errno));
		rep->damaged++;
		return 0;
	}
	while (off < res.intact_bytes && (len = getline(&line, &cap, f)) > 0) {
		json_t *rec = json_loads(line, 0, NULL);
		off += len;
		if (!rec)
			break; /* cannot be: the prefix verified */
		ret = store_ingest(st, run_id, rec, err);
		json_decref(rec);
		if (ret < 0)
			goto out;
		rep->records++;
	}
	if (res.status != AUDIT_INTACT) {
		buf_addf(&detail, "line %ld: %s", res.bad_line, res.reason);
		buf_addf(&rep->notes,
			 "%s: log %s at %s; indexed its %ld intact "
			 "records (see loopgate audit verify %s)\n",
			 run_id, status[res.status], detail.s, res.records, run_id);
		rep->damaged++;
	}
	if ((ret = store_prepare(st, sql, &s, err)) < 0)
		goto out;
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, status[res.status], -1, SQLITE_STATIC);
	if (detail.len)
		sqlite3_bind_text(s, 3, detail.s, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_DONE)
		ret = store_sqlerr(st, err, "log status");
out:
	sqlite3_finalize(s);
	free(line);
	fclose(f);
	buf_release(&detail);
	return ret;
}

int store_reindex(struct store *st, const char *repo, struct store_reindex_report *rep,
		  struct buf *err)
{
	return store_reindex_but(st, repo, NULL, rep, err);
}

int store_reindex_but(struct store *st, const char *repo, const char *skip,
		      struct store_reindex_report *rep, struct buf *err)
{
	char *runs = rundir_runs(repo);
	char **names = list_runs(runs, err);
	size_t i;
	int ret = 0;

	if (!names) {
		free(runs);
		return -EIO;
	}
	if (store_exec(st, "BEGIN IMMEDIATE", err) < 0) {
		ret = -EBUSY;
		goto out;
	}
	store_set_in_txn(st, 1);
	ret = store_exec(st, "DELETE FROM runs", err); /* cascades */
	for (i = 0; names[i] && ret == 0; i++) {
		char *dir = xasprintf("%s/%s", runs, names[i]);
		char *log = rundir_file(dir, RUNDIR_EVENTS);
		struct stat sb;
		if ((!skip || strcmp(names[i], skip)) && stat(log, &sb) == 0) {
			ret = reindex_log(st, names[i], log, rep, err);
			if (ret == 0)
				ret = store_import_checkpoints(st, names[i], dir, err);
			rep->runs++;
		}
		free(log);
		free(dir);
	}
	store_set_in_txn(st, 0);
	if (ret == 0 && store_exec(st, "COMMIT", err) < 0)
		ret = -EIO;
	if (ret < 0)
		sqlite3_exec(store_db(st), "ROLLBACK", NULL, NULL, NULL);
out:
	for (i = 0; names[i]; i++)
		free(names[i]);
	free(names);
	free(runs);
	return ret;
}

int store_open_repo(struct store **ret, const char *dir, char **repo, int *reindexed,
		    struct buf *err)
{
	struct store_reindex_report rep = {0, 0, 0, BUF_INIT};
	struct buf top = BUF_INIT;
	struct stat sb;
	char *ldir = NULL, *path = NULL;
	int rc, fresh;

	*ret = NULL;
	if (reindexed)
		*reindexed = 0;
	if ((rc = git_toplevel(dir ? dir : ".", &top, err)) < 0) {
		rc = -ENOENT;
		goto out;
	}
	ldir = xasprintf("%s/.loopgate", top.s);
	path = xasprintf("%s/%s", ldir, STORE_FILE);
	fresh = stat(path, &sb) < 0;
	if (fresh && ((rc = fileio_mkdirs(ldir, err)) < 0 ||
		      (rc = git_exclude_loopgate_dir(top.s, err)) < 0))
		goto out;
	if ((rc = store_open(ret, path, err)) < 0)
		goto out;
	if (fresh) {
		rc = store_reindex(*ret, top.s, &rep, err);
		if (rc < 0) {
			store_close(*ret);
			*ret = NULL;
			goto out;
		}
		if (reindexed)
			*reindexed = 1;
	}
	if (repo)
		*repo = buf_detach(&top, NULL);
out:
	buf_release(&rep.notes);
	buf_release(&top);
	free(ldir);
	free(path);
	return rc;
}

int store_delete_run(struct store *st, const char *id, struct buf *err)
{
	sqlite3_stmt *s;
	int ret = store_prepare(st, "DELETE FROM runs WHERE id = ?1", &s, err), rc;

	if (ret < 0)
		return ret;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_sqlerr(st, err, "delete run");
}
