/*
 * store.c: opening, migrating and feeding the run store.  See store.h and
 * docs/design/store.md.  Queries and reindex live in store_query.c.
 */
#include "store/store.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "record/checkpoint.h"
#include "store/sqlmem.h"
#include "store/store_impl.h"
#include "base/fault.h"
#include "base/hash.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

/*
 * The one mapping from records to rows.  Each entry is a statement run for
 * records of its kind; ?1 is the run id, ?2 the record's seq, ?3 its ts and
 * ?4... the body fields named in keys, in order ("a.b" looks inside an
 * object, "" is the whole body as JSON text; arrays and objects are bound as
 * JSON text).  A kind may have several entries; kinds without one are only
 * counted in runs.last_seq.
 */
struct mapping {
	const char *kind;
	const char *sql;
	const char *keys[16];
};

#define ITER_UPSERT(cols, vals, set)                                                     \
	"INSERT INTO iterations(run_id, n, " cols ") VALUES(?1, ?4, " vals ")"           \
	" ON CONFLICT(run_id, n) DO UPDATE SET " set

static const struct mapping mappings[] = {
	{EV_RUN_START,
	 "UPDATE runs SET started = ?3, goal = ?4, branch = ?5,"
	 " base = ?6, actor = ?7, model = coalesce(?8, ?9),"
	 " status = coalesce(status, 'running') WHERE id = ?1",
	 {"goal", "branch", "base", "actor", "config.model", "config.agent_cmd"}},
	{EV_MODEL_REQUEST, "UPDATE runs SET provider = ?4 WHERE id = ?1", {"provider"}},
	{EV_ITERATION_START,
	 ITER_UPSERT("started", "?3", "started = excluded.started"),
	 {"iteration"}},
	{EV_MODEL_ATTEMPT,
	 "INSERT OR REPLACE INTO model_calls(run_id, seq,"
	 " iteration, attempt, http_status, outcome, detail, tokens_in,"
	 " tokens_out, usage_estimated, cost_usd, will_retry, wait_ms, ms,"
	 " stopped_by) VALUES(?1, ?2, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	 " ?13, ?14, ?15, ?16)",
	 {"iteration", "attempt", "http_status", "outcome", "detail", "tokens_in",
	  "tokens_out", "usage_estimated", "cost_usd", "will_retry", "wait_ms",
	  "elapsed_ms", "stopped_by"}},
	{EV_EDITS,
	 ITER_UPSERT("edits_applied, edits_refused, edit_blocks", "?5, ?6, ?7",
		     "edits_applied = excluded.edits_applied,"
		     " edits_refused = excluded.edits_refused,"
		     " edit_blocks = excluded.edit_blocks"),
	 {"iteration", "applied", "refused", "blocks"}},
	{EV_COMMIT,
	 ITER_UPSERT("commit_sha, files, noop", "?5, ?6, ?7",
		     "commit_sha = excluded.commit_sha,"
		     " files = excluded.files, noop = excluded.noop"),
	 {"iteration", "sha", "files", "noop"}},
	{EV_GATE_END,
	 "INSERT OR REPLACE INTO gate_results(run_id, seq,"
	 " iteration, gate, command, status, exit_code, signal, describe,"
	 " duration_ms, output_file, output_bytes, passed, tests, cached)"
	 " VALUES(?1, ?2, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	 " ?15, 0)",
	 {"iteration", "gate", "command", "status", "exit_code", "signal", "describe",
	  "duration_ms", "output_file", "output_bytes", "passed", "tests"}},
	/* the failure an iteration ends with: its failing gate's describe */
	{EV_GATE_END,
	 "INSERT INTO iterations(run_id, n, gate_exit, describe)"
	 " SELECT ?1, ?4, ?5, ?6 WHERE ?4 > 0 AND NOT coalesce(?7, 0)"
	 " ON CONFLICT(run_id, n) DO UPDATE SET gate_exit = excluded.gate_exit,"
	 " describe = excluded.describe",
	 {"iteration", "exit_code", "describe", "passed"}},
	/* a claim the clean checkout rejected: the iteration's failure */
	{EV_REVERIFY_END,
	 "INSERT INTO iterations(run_id, n, gate_exit, describe)"
	 " SELECT ?1, ?4, ?5, 'in a clean checkout: ' || ?6"
	 " WHERE ?4 > 0 AND NOT coalesce(?7, 0)"
	 " ON CONFLICT(run_id, n) DO UPDATE SET gate_exit = excluded.gate_exit,"
	 " describe = excluded.describe",
	 {"iteration", "exit_code", "describe", "passed"}},
	{EV_GATE_CACHED,
	 "INSERT OR REPLACE INTO gate_results(run_id, seq,"
	 " iteration, gate, command, status, passed, output_file, cached)"
	 " VALUES(?1, ?2, ?4, ?5, ?6, 'cached', ?7, ?8, 1)",
	 {"iteration", "gate", "command", "passed", "output_file"}},
	{EV_INTEGRITY,
	 "INSERT OR REPLACE INTO integrity_events(run_id, seq,"
	 " iteration, kind, paths, detail) VALUES(?1, ?2, ?4, ?5, ?6, ?7)",
	 {"iteration", "kind", "paths", "diff"}},
	{EV_FLAKY,
	 "INSERT OR REPLACE INTO integrity_events(run_id, seq,"
	 " iteration, kind, gate, detail) VALUES(?1, ?2, ?4, 'flaky', ?5, ?6)",
	 {"iteration", "gate", ""}},
	{EV_TEST_FLOOR,
	 "INSERT OR REPLACE INTO integrity_events(run_id, seq,"
	 " iteration, kind, gate, detail) SELECT ?1, ?2, ?4, 'test_floor', ?5,"
	 " ?7 WHERE coalesce(?6, 0)",
	 {"iteration", "gate", "violated", ""}},
	{EV_RECOVERED_TAIL,
	 "INSERT OR REPLACE INTO integrity_events(run_id,"
	 " seq, kind, detail) VALUES(?1, ?2, 'recovered_tail', ?4)",
	 {""}},
	{EV_ITERATION_END,
	 ITER_UPSERT("gate_failed, noop, duration_ms,"
		     " tokens_in, tokens_out, cost_usd",
		     "?5, ?6, ?7, ?8, ?9, ?10",
		     "gate_failed = excluded.gate_failed,"
		     " noop = excluded.noop,"
		     " duration_ms = excluded.duration_ms,"
		     " tokens_in = excluded.tokens_in,"
		     " tokens_out = excluded.tokens_out,"
		     " cost_usd = excluded.cost_usd"),
	 {"iteration", "gate_failed", "noop", "duration_ms", "tokens_in", "tokens_out",
	  "cost_usd"}},
	{EV_BUDGET,
	 "UPDATE runs SET iterations = ?4, tokens_in = ?5,"
	 " tokens_out = ?6, cost_usd = ?7, calls = ?8 WHERE id = ?1",
	 {"iterations", "tokens_in", "tokens_out", "cost_usd", "calls"}},
	{EV_RUN_END,
	 "UPDATE runs SET ended = ?3, status = ?4, reason = ?5,"
	 " exit_code = ?6, iterations = ?7, tokens_in = ?8, tokens_out = ?9,"
	 " cost_usd = ?10, calls = ?11, duration_s = ?12 WHERE id = ?1",
	 {"status", "reason", "exit_code", "iterations", "tokens_in", "tokens_out",
	  "cost_usd", "calls", "elapsed_s"}},
	{EV_REVIEW_REQUESTED,
	 "UPDATE runs SET review = 'requested',"
	 " review_sample = ?4 WHERE id = ?1",
	 {"sample"}},
	{EV_REVIEW,
	 "UPDATE runs SET review = ?4, reviewer = ?5,"
	 " review_note = ?6, review_ts = ?3 WHERE id = ?1",
	 {"verdict", "reviewer", "note"}},
};
#define NMAPPINGS (sizeof(mappings) / sizeof(mappings[0]))
_Static_assert(NMAPPINGS <= STORE_MAX_MAPPINGS, "raise STORE_MAX_MAPPINGS");

/* Every record: the run's row exists, and how far its log was indexed. */
static const char ensure_sql[] =
	"INSERT INTO runs(id, last_seq) VALUES(?1, ?2) ON CONFLICT(id) DO UPDATE"
	" SET last_seq = max(coalesce(last_seq, 0), excluded.last_seq)";

/* struct store: store_impl.h */

sqlite3 *store_db(struct store *st)
{
	return st->db;
}

int store_sqlerr(struct store *st, struct buf *err, const char *what)
{
	int rc = sqlite3_extended_errcode(st->db);
	int code = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? -EBUSY
		   : (rc & 0xff) == SQLITE_FULL				      ? -ENOSPC
									      : -EIO;
	return err_set(err, code, "run store: %s: %s", what, sqlite3_errmsg(st->db));
}

int store_exec(struct store *st, const char *sql, struct buf *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlerr(st, err, sql);
	return 0;
}

/*
 * Switching to WAL takes an exclusive lock, and SQLite answers SQLITE_BUSY
 * at once, without the busy handler, when two processes race to do it on a
 * new database (each holds the shared lock the other waits on).  Retry for
 * as long as the busy timeout would have waited; WAL mode is persistent, so
 * only the first opens of a database ever race.
 */
static int set_wal(struct store *st, struct buf *err)
{
	long waited = 0;
	int rc;

	for (;;) {
		rc = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		if (waited >= STORE_BUSY_MS)
			break;
		usleep(5000);
		waited += 5;
	}
	return store_sqlerr(st, err, "PRAGMA journal_mode = WAL");
}

int store_prepare(struct store *st, const char *sql, sqlite3_stmt **ret, struct buf *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, ret, NULL) != SQLITE_OK) {
		*ret = NULL;
		return store_sqlerr(st, err, "prepare");
	}
	return 0;
}

int store_version(struct store *st)
{
	sqlite3_stmt *s;
	int v = -1;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Applies the migrations above the file's version, in one transaction. */
static int migrate(struct store *st, const char *path, struct buf *err)
{
	char sql[64];
	int v, ret = 0;

	if (store_exec(st, "BEGIN IMMEDIATE", err) < 0)
		return -EBUSY;
	v = store_version(st);
	if (v > store_nmigrations) {
		ret = err_set(err, -EPROTO,
			      "%s has schema version %d, newer than "
			      "this loopgate knows (%d): use the newer loopgate, or "
			      "move the file away and run `loopgate reindex`",
			      path, v, store_nmigrations);
		goto out;
	}
	for (; v >= 0 && v < store_nmigrations; v++)
		if ((ret = store_exec(st, store_migrations[v], err)) < 0)
			goto out;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_nmigrations);
	ret = store_exec(st, sql, err);
out:
	if (store_exec(st, ret < 0 ? "ROLLBACK" : "COMMIT", ret < 0 ? NULL : err) < 0 &&
	    ret == 0)
		ret = -EIO;
	return ret;
}

int store_open_into(struct store *st, const char *path, struct buf *err)
{
	int rc, ret = -EIO;

	sqlmem_setup();
	rc = sqlite3_open_v2(
		path, &st->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err_set(err, -EIO, "run store: cannot open %s: %s", path,
			st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	sqlite3_extended_result_codes(st->db, 1);
	/* WAL: readers never block the writer, and runs interleave. */
	if (set_wal(st, err) < 0 ||
	    store_exec(st, "PRAGMA synchronous = NORMAL", err) < 0 ||
	    store_exec(st, "PRAGMA foreign_keys = ON", err) < 0)
		goto fail;
	if ((rc = migrate(st, path, err)) < 0) {
		ret = rc;
		goto fail;
	}
	return 0;
fail:
	sqlite3_close(st->db);
	st->db = NULL;
	return ret;
}

int store_open(struct store **retp, const char *path, struct buf *err)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int ret = store_open_into(st, path, err);

	if (ret < 0) {
		free(st);
		return ret;
	}
	*retp = st;
	return 0;
}

void store_close(struct store *st)
{
	size_t i;
	if (!st)
		return;
	store_live_flush(st);
	free(st->pend);
	sqlite3_finalize(st->ensure);
	for (i = 0; i < NMAPPINGS; i++)
		sqlite3_finalize(st->stmts[i]);
	sqlite3_close(st->db);
	free(st);
}

/* Finds body's value at key ("a.b" nests, "" is body itself). */
static const json_t *lookup(const json_t *body, const char *key)
{
	const char *dot;
	char part[64];

	if (!*key)
		return body;
	while ((dot = strchr(key, '.')) && body) {
		size_t n = (size_t)(dot - key) < sizeof(part) - 1 ? (size_t)(dot - key)
								  : sizeof(part) - 1;
		memcpy(part, key, n);
		part[n] = 0;
		body = json_object_get(body, part);
		key = dot + 1;
	}
	return body ? json_object_get(body, key) : NULL;
}

int store_bind_json(sqlite3_stmt *s, int i, const json_t *v)
{
	char *text;
	int rc;

	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		return sqlite3_bind_text(s, i, json_string_value(v),
					 (int)json_string_length(v), SQLITE_TRANSIENT);
	case JSON_INTEGER:
		return sqlite3_bind_int64(s, i, json_integer_value(v));
	case JSON_REAL:
		return sqlite3_bind_double(s, i, json_real_value(v));
	case JSON_TRUE:
		return sqlite3_bind_int(s, i, 1);
	case JSON_FALSE:
		return sqlite3_bind_int(s, i, 0);
	case JSON_NULL:
		return sqlite3_bind_null(s, i);
	default:
		text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		if (!text)
			return sqlite3_bind_null(s, i);
		rc = sqlite3_bind_text(s, i, text, -1, SQLITE_TRANSIENT);
		free(text);
		return rc;
	}
}

/* Runs one mapping for one record. */
static int apply(struct store *st, size_t m, const char *run_id, json_int_t seq,
		 const json_t *ts, const json_t *body, struct buf *err)
{
	sqlite3_stmt *s;
	int i, rc;

	if (!st->stmts[m] && store_prepare(st, mappings[m].sql, &st->stmts[m], err) < 0)
		return -EIO;
	s = st->stmts[m];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, seq);
	store_bind_json(s, 3, ts);
	for (i = 0; mappings[m].keys[i]; i++)
		store_bind_json(s, 4 + i, lookup(body, mappings[m].keys[i]));
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, err, mappings[m].kind);
	return 0;
}

static int ingest_rows(struct store *st, const char *run_id, const json_t *rec,
		       struct buf *err)
{
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	const json_t *body = json_object_get(rec, "body");
	const json_t *ts = json_object_get(rec, "ts");
	json_int_t seq = json_integer_value(json_object_get(rec, "seq"));
	size_t m;
	int rc;

	if (!kind || !json_is_object(body))
		return err_set(err, -EINVAL, "run store: a record without kind or body");
	if (!st->ensure && store_prepare(st, ensure_sql, &st->ensure, err) < 0)
		return -EIO;
	sqlite3_reset(st->ensure);
	sqlite3_bind_text(st->ensure, 1, run_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st->ensure, 2, seq);
	rc = sqlite3_step(st->ensure);
	sqlite3_reset(st->ensure);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, err, "runs");
	/* A re-verification's gates (engine/reverify.h) are not the
	 * iteration's round: its verdict comes as reverify_end. */
	if (json_object_get(body, "phase"))
		return 0;
	for (m = 0; m < NMAPPINGS; m++)
		if (!strcmp(mappings[m].kind, kind) &&
		    (rc = apply(st, m, run_id, seq, ts, body, err)) < 0)
			return rc;
	return 0;
}

void store_set_in_txn(struct store *st, int on)
{
	st->in_txn = on;
}

int store_ingest(struct store *st, const char *run_id, const json_t *rec, struct buf *err)
{
	int ret;

	if (fault_fail("store.ingest"))
		return err_set(err, -EIO, "run store: injected failure (store.ingest)");
	if (st->in_txn)
		return ingest_rows(st, run_id, rec, err);
	if (store_exec(st, "BEGIN IMMEDIATE", err) < 0)
		return -EBUSY;
	ret = ingest_rows(st, run_id, rec, err);
	if (ret < 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return ret;
	}
	if (store_exec(st, "COMMIT", err) < 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -EIO;
	}
	return 0;
}

static const char checkpoint_sql[] =
	"INSERT OR REPLACE INTO checkpoints("
	"run_id, seq, h, key_id, sig, ts) VALUES(?1, ?2, ?3, ?4, ?5, ?6)";

/* One checkpoint line (checkpoint_line's JSON) into the prepared insert. */
static int put_checkpoint(struct store *st, sqlite3_stmt *s, const char *run_id,
			  const json_t *o, struct buf *err)
{
	static const char *const keys[] = {"seq", "h", "key_id", "sig", "ts"};
	int i;

	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_TRANSIENT);
	for (i = 0; i < 5; i++)
		store_bind_json(s, 2 + i, json_object_get(o, keys[i]));
	if (sqlite3_step(s) != SQLITE_DONE)
		return store_sqlerr(st, err, "checkpoints");
	return 0;
}

int store_put_checkpoint(struct store *st, const char *run_id, const json_t *o,
			 struct buf *err)
{
	sqlite3_stmt *s = NULL;
	int ret = o ? store_prepare(st, checkpoint_sql, &s, err)
		    : err_set(err, -EINVAL,
			      "run store: a checkpoint could not be encoded");

	if (ret == 0)
		ret = put_checkpoint(st, s, run_id, o, err);
	sqlite3_finalize(s);
	return ret;
}

int store_import_checkpoints(struct store *st, const char *run_id, const char *run_dir,
			     struct buf *err)
{
	char *path = xasprintf("%s/checkpoints.jsonl", run_dir);
	FILE *f = fopen(path, "re");
	sqlite3_stmt *s = NULL;
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;

	if (!f) {
		ret = errno == ENOENT ? 0
				      : err_set(err, -errno, "run store: %s: %s", path,
						strerror(errno));
		free(path);
		return ret;
	}
	if ((ret = store_prepare(st, checkpoint_sql, &s, err)) < 0)
		goto out;
	while (getline(&line, &cap, f) > 0) {
		json_t *o = json_loads(line, 0, NULL);
		if (!json_is_object(o) || !json_is_integer(json_object_get(o, "seq"))) {
			json_decref(o);
			continue; /* audit verify judges the file; we index */
		}
		ret = put_checkpoint(st, s, run_id, o, err);
		json_decref(o);
		if (ret < 0)
			break;
	}
out:
	sqlite3_finalize(s);
	free(line);
	fclose(f);
	free(path);
	return ret;
}

int store_review_pick(const char *run_id, double f)
{
	char hex[65];
	uint64_t x = 0;
	int i;

	if (!(f > 0))
		return 0;
	if (f >= 1)
		return 1;
	hash_sha256_hex(run_id, strlen(run_id), hex);
	for (i = 0; i < 16; i++) {
		char c = hex[i];
		x = x << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	/* x / 2^64 < f, in long double so f * 2^64 keeps its bits */
	return (long double)x < (long double)f * 18446744073709551616.0L;
}
