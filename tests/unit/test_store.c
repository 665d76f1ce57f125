/*
 * test_store.c: the run store — migrations, the record->rows mapping for
 * every kind, idempotent ingest, prefix lookup, filters, checkpoints and
 * the review sample.
 */
#include "unit.h"
#include "store/store.h"
#include "store/store_impl.h"
#include "record/events.h"
#include "record/rundir.h"
#include "base/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[64];

static char *db_path(const char *name)
{
	return xasprintf("%s/%s", tmp, name);
}

static int ingest(struct store *st, const char *run, long seq, const char *kind,
		  const char *body_json)
{
	struct buf err = BUF_INIT;
	json_t *body = json_loads(body_json, 0, NULL);
	json_t *rec;
	int ret;

	if (!body) {
		fprintf(stderr, "bad test JSON: %s\n", body_json);
		return -EINVAL;
	}
	rec = json_pack("{s:I,s:s,s:s,s:o}", "seq", (json_int_t)seq, "kind", kind, "ts",
			"2026-01-02T03:04:05.000Z", "body", body);
	ret = store_ingest(st, run, rec, &err);
	if (ret < 0)
		fprintf(stderr, "ingest %s: %s\n", kind, err.s);
	json_decref(rec);
	buf_release(&err);
	return ret;
}

static struct store *open_fresh(const char *name)
{
	struct buf err = BUF_INIT;
	struct store *st = NULL;
	char *p = db_path(name);
	unlink(p);
	if (store_open(&st, p, &err) < 0)
		fprintf(stderr, "store_open: %s\n", err.s);
	free(p);
	buf_release(&err);
	return st;
}

TEST(migrates_an_older_schema)
{
	char *p = db_path("old.db");
	struct buf err = BUF_INIT;
	struct store *st = NULL;
	sqlite3 *db;
	json_t *runs = NULL;
	struct store_filter f = {NULL, NULL, NULL, NULL, 0};

	unlink(p);
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, store_migrations[0], NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_exec(
		      db,
		      "PRAGMA user_version = 1;"
		      "INSERT INTO runs(id, status, started) VALUES"
		      "('20250101-000000-abcdef', 'converged', '2025-01-01T00:00:00Z')",
		      NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(store_open(&st, p, &err), 0);
	CHECK(st != NULL);
	if (!st)
		goto out;
	CHECK_INT(store_version(st), store_nmigrations);
	CHECK(store_nmigrations >= 2);
	CHECK_INT(store_list_runs(st, &f, &runs, &err), 0);
	CHECK_INT(json_array_size(runs), 1);
	/* the row survived and has the version-2 columns */
	CHECK(json_is_null(json_object_get(json_array_get(runs, 0), "review")));
	CHECK_STR(json_string_value(json_object_get(json_array_get(runs, 0), "status")),
		  "converged");
	json_decref(runs);
	store_close(st);
out:
	free(p);
	buf_release(&err);
}

TEST(refuses_a_newer_schema)
{
	char *p = db_path("new.db");
	struct buf err = BUF_INIT;
	struct store *st = NULL;
	sqlite3 *db;

	unlink(p);
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) ==
	      SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(store_open(&st, p, &err), -EPROTO);
	CHECK(st == NULL);
	CHECK_CONTAINS(err.s, "newer than this loopgate");
	CHECK_CONTAINS(err.s, "loopgate reindex");
	free(p);
	buf_release(&err);
}

static const json_t *row(const json_t *run, const char *part, size_t i)
{
	return json_array_get(json_object_get(run, part), i);
}

static double num(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A whole run, one record of each kind, as the loop writes them. */
static int feed_run(struct store *st, const char *id)
{
	static const struct {
		const char *kind, *body;
	} recs[] = {
		{"header",
		 "{\"format\":\"loopgate-events-1\",\"nonce\":\"n\",\"run_id\":\"x\"}"},
		{"run_start",
		 "{\"goal\":\"fix add\",\"branch\":\"loopgate/x\",\"base\":\"abc\","
		 "\"actor\":\"model\",\"config\":{\"model\":\"openai/m\"},\"repo\":\"/"
		 "r\"}"},
		{"carried_changes", "{\"patch\":\"carried.patch\",\"bytes\":3}"},
		{"gate_start",
		 "{\"iteration\":0,\"gate\":1,\"command\":\"sh t\",\"focus\":false}"},
		{"gate_end",
		 "{\"iteration\":0,\"gate\":1,\"command\":\"sh t\",\"status\":\"exited\","
		 "\"exit_code\":1,\"signal\":0,\"describe\":\"exit "
		 "1\",\"duration_ms\":5.0,"
		 "\"output_file\":\"baseline/"
		 "gate-1.out\",\"output_bytes\":10,\"passed\":false,"
		 "\"tests\":\"\"}"},
		{"baseline", "{\"passed\":false,\"gate\":1,\"describe\":\"exit 1\"}"},
		{"iteration_start", "{\"iteration\":1}"},
		{"model_request",
		 "{\"iteration\":1,\"provider\":\"openai\",\"model\":\"m\"}"},
		{"model_attempt", "{\"iteration\":1,\"attempt\":1,\"http_status\":500,"
				  "\"outcome\":\"http_error\",\"detail\":\"boom\","
				  "\"tokens_in\":0,\"tokens_out\":0,"
				  "\"usage_estimated\":false,\"cost_usd\":0.0,\"will_"
				  "retry\":true,\"wait_ms\":250,"
				  "\"elapsed_ms\":12.5,\"stopped_by\":null}"},
		{"model_attempt",
		 "{\"iteration\":1,\"attempt\":2,\"http_status\":200,"
		 "\"outcome\":\"ok\",\"detail\":\"\",\"tokens_in\":100,\"tokens_out\":20,"
		 "\"usage_estimated\":false,\"cost_usd\":0.5,\"will_retry\":false,\"wait_"
		 "ms\":0,"
		 "\"elapsed_ms\":30.0,\"stopped_by\":null}"},
		{"model_response",
		 "{\"iteration\":1,\"tokens_in\":100,\"tokens_out\":20}"},
		{"edits", "{\"iteration\":1,\"blocks\":2,\"applied\":1,\"refused\":1,"
			  "\"items\":[],\"problems\":\"\"}"},
		{"integrity", "{\"iteration\":1,\"kind\":\"protected_change\","
			      "\"paths\":[\"test.sh\"],\"diff\":\"-x\\n+y\",\"diff_"
			      "truncated\":false}"},
		{"commit",
		 "{\"iteration\":1,\"sha\":\"c1\",\"files\":[\"calc.py\",\"b.py\"],"
		 "\"noop\":false}"},
		{"gate_end",
		 "{\"iteration\":1,\"gate\":1,\"command\":\"sh t\",\"status\":\"exited\","
		 "\"exit_code\":0,\"signal\":0,\"describe\":\"exit "
		 "0\",\"duration_ms\":5.0,"
		 "\"output_file\":\"iter-001/"
		 "gate-1.out\",\"output_bytes\":10,\"passed\":true,"
		 "\"tests\":\"1 passed\"}"},
		{"gate_end",
		 "{\"iteration\":1,\"gate\":2,\"command\":\"make\",\"status\":\"timed_"
		 "out\","
		 "\"exit_code\":-1,\"signal\":9,\"describe\":\"timed out after 1.0s\","
		 "\"duration_ms\":1000.0,\"output_file\":\"iter-001/gate-2.out\","
		 "\"output_bytes\":0,\"passed\":false,\"tests\":\"\"}"},
		{"fingerprint", "{\"iteration\":1,\"gate\":2,\"fingerprint\":\"f\","
				"\"same_in_a_row\":1,\"noop_in_a_row\":0}"},
		{"iteration_end", "{\"iteration\":1,\"noop\":false,\"gate_failed\":2,"
				  "\"duration_ms\":1100.0,\"tokens_in\":100,\"tokens_"
				  "out\":20,\"cost_usd\":0.5}"},
		{"budget", "{\"iterations\":1,\"tokens_in\":100,\"tokens_out\":20,"
			   "\"cost_usd\":0.5,\"calls\":1}"},
		{"iteration_start", "{\"iteration\":2}"},
		{"actor_start", "{\"iteration\":2,\"command\":\"a\"}"},
		{"actor_end", "{\"iteration\":2,\"status\":\"exited\",\"exit_code\":0}"},
		{"gate_cached",
		 "{\"iteration\":2,\"gate\":1,\"command\":\"sh t\",\"tree\":\"t\","
		 "\"key\":\"k\",\"passed\":true,\"output_file\":\"iter-001/"
		 "gate-1.out\"}"},
		{"flaky",
		 "{\"iteration\":2,\"gate\":2,\"command\":\"make\","
		 "\"passed_output\":\"a\",\"failed_output\":\"b\",\"confirm_run\":1}"},
		{"test_floor",
		 "{\"iteration\":2,\"gate\":1,\"known\":true,\"baseline\":\"3\","
		 "\"now\":\"1\",\"violated\":true}"},
		{"test_floor",
		 "{\"iteration\":2,\"gate\":1,\"known\":true,\"baseline\":\"3\","
		 "\"now\":\"3\",\"violated\":false}"},
		{"escalation", "{\"iteration\":2,\"available\":false,\"note\":\"n\"}"},
		{"iteration_end", "{\"iteration\":2,\"noop\":true,\"gate_failed\":0,"
				  "\"duration_ms\":50.0,\"tokens_in\":0,\"tokens_out\":0,"
				  "\"cost_usd\":0.0}"},
		{"recovered_tail", "{\"dropped_bytes\":7,\"line\":30}"},
		{"review_requested", "{\"sample\":0.5}"},
		{"run_end",
		 "{\"run_id\":\"x\",\"status\":\"converged\",\"reason\":\"done\","
		 "\"exit_code\":0,\"iterations\":2,\"tokens_in\":100,\"tokens_out\":20,"
		 "\"cost_usd\":0.5,\"calls\":1,\"elapsed_s\":1.25}"},
		{"review",
		 "{\"verdict\":\"rejected\",\"reviewer\":\"bob\",\"note\":\"meh\"}"},
		{"some_future_kind", "{\"x\":1}"},
	};
	size_t i;
	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++)
		if (ingest(st, id, (long)i, recs[i].kind, recs[i].body) < 0)
			return -1;
	return 0;
}

TEST(ingests_every_kind)
{
	struct store *st = open_fresh("kinds.db");
	struct buf err = BUF_INIT;
	json_t *r = NULL;
	const json_t *it;

	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_INT(feed_run(st, "R1"), 0);
	CHECK_INT(store_show_run(st, "R1", &r, &err), 0);
	if (!r)
		goto out;
	CHECK_STR(str(r, "goal"), "fix add");
	CHECK_STR(str(r, "status"), "converged");
	CHECK_STR(str(r, "model"), "openai/m");
	CHECK_STR(str(r, "provider"), "openai");
	CHECK_STR(str(r, "branch"), "loopgate/x");
	CHECK_STR(str(r, "started"), "2026-01-02T03:04:05.000Z");
	CHECK_INT(num(r, "exit_code"), 0);
	CHECK_INT(num(r, "iterations"), 2);
	CHECK(num(r, "duration_s") == 1.25);
	CHECK(num(r, "cost_usd") == 0.5);
	CHECK_INT(num(r, "last_seq"), 32);
	CHECK_STR(str(r, "review"), "rejected");
	CHECK_STR(str(r, "reviewer"), "bob");
	CHECK_STR(str(r, "review_note"), "meh");
	CHECK(num(r, "review_sample") == 0.5);
	/* iterations: failure, files, commit, edits, noop */
	CHECK_INT(json_array_size(json_object_get(r, "per_iteration")), 2);
	it = row(r, "per_iteration", 0);
	CHECK_INT(num(it, "n"), 1);
	CHECK_INT(num(it, "gate_failed"), 2);
	CHECK_STR(str(it, "describe"), "timed out after 1.0s");
	CHECK_INT(num(it, "gate_exit"), -1);
	CHECK_STR(str(it, "commit_sha"), "c1");
	CHECK_INT(json_array_size(json_object_get(it, "files")), 2);
	CHECK_STR(json_string_value(json_array_get(json_object_get(it, "files"), 1)),
		  "b.py");
	CHECK_INT(num(it, "edits_refused"), 1);
	CHECK(num(it, "cost_usd") == 0.5);
	it = row(r, "per_iteration", 1);
	CHECK_INT(num(it, "gate_failed"), 0);
	CHECK_INT(num(it, "noop"), 1);
	CHECK(json_is_null(json_object_get(it, "describe")));
	/* gate results: baseline, two real, one cached */
	CHECK_INT(json_array_size(json_object_get(r, "gates")), 4);
	CHECK_INT(num(row(r, "gates", 0), "iteration"), 0);
	CHECK_STR(str(row(r, "gates", 2), "status"), "timed_out");
	CHECK_INT(num(row(r, "gates", 3), "cached"), 1);
	CHECK_STR(str(row(r, "gates", 3), "output_file"), "iter-001/gate-1.out");
	/* model calls: both attempts */
	CHECK_INT(json_array_size(json_object_get(r, "model_calls")), 2);
	CHECK_STR(str(row(r, "model_calls", 0), "outcome"), "http_error");
	CHECK_INT(num(row(r, "model_calls", 0), "wait_ms"), 250);
	CHECK_INT(num(row(r, "model_calls", 1), "tokens_in"), 100);
	/* integrity: protected change, flaky, the violated floor, the tail */
	CHECK_INT(json_array_size(json_object_get(r, "integrity")), 4);
	CHECK_STR(str(row(r, "integrity", 0), "kind"), "protected_change");
	CHECK_STR(json_string_value(json_array_get(
			  json_object_get(row(r, "integrity", 0), "paths"), 0)),
		  "test.sh");
	CHECK_STR(str(row(r, "integrity", 1), "kind"), "flaky");
	CHECK_STR(str(row(r, "integrity", 2), "kind"), "test_floor");
	CHECK_STR(str(row(r, "integrity", 3), "kind"), "recovered_tail");
out:
	json_decref(r);
	store_close(st);
	buf_release(&err);
}

TEST(ingest_is_idempotent)
{
	struct store *st = open_fresh("idem.db");
	struct buf err = BUF_INIT;
	json_t *r = NULL;

	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_INT(feed_run(st, "R1"), 0);
	CHECK_INT(feed_run(st, "R1"), 0);
	CHECK_INT(store_show_run(st, "R1", &r, &err), 0);
	CHECK_INT(json_array_size(json_object_get(r, "model_calls")), 2);
	CHECK_INT(json_array_size(json_object_get(r, "gates")), 4);
	CHECK_INT(json_array_size(json_object_get(r, "per_iteration")), 2);
	json_decref(r);
	store_close(st);
	buf_release(&err);
}

TEST(finds_runs_by_unique_prefix)
{
	struct store *st = open_fresh("prefix.db");
	struct buf err = BUF_INIT;
	char id[65];

	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_INT(ingest(st, "20260101-000000-aaaaaa", 1, "budget", "{}"), 0);
	CHECK_INT(ingest(st, "20260101-000000-aabbbb", 1, "budget", "{}"), 0);
	CHECK_INT(ingest(st, "20260102-000000-cccccc", 1, "budget", "{}"), 0);
	CHECK_INT(store_find_run(st, "20260102", id, &err), 0);
	CHECK_STR(id, "20260102-000000-cccccc");
	CHECK_INT(store_find_run(st, "20260101-000000-aab", id, &err), 0);
	CHECK_STR(id, "20260101-000000-aabbbb");
	CHECK_INT(store_find_run(st, "20260101-000000-aaaaaa", id, &err), 0);
	CHECK_STR(id, "20260101-000000-aaaaaa");
	CHECK_INT(store_find_run(st, "2026", id, &err), -EEXIST);
	CHECK_CONTAINS(err.s, "ambiguous");
	CHECK_CONTAINS(err.s, "20260101-000000-aaaaaa");
	CHECK_INT(store_find_run(st, "2027", id, &err), -ENOENT);
	CHECK_CONTAINS(err.s, "no run '2027'");
	/* LIKE wildcards are not wildcards here */
	CHECK_INT(store_find_run(st, "2026010_", id, &err), -ENOENT);
	CHECK_INT(store_find_run(st, "%", id, &err), -ENOENT);
	store_close(st);
	buf_release(&err);
}

TEST(lists_with_filters_newest_first)
{
	struct store *st = open_fresh("list.db");
	struct buf err = BUF_INIT;
	struct store_filter f = {NULL, NULL, NULL, NULL, 0};
	json_t *runs = NULL;

	CHECK(st != NULL);
	if (!st)
		return;
	CHECK_INT(feed_run(st, "A"), 0);
	CHECK_INT(ingest(st, "B", 1, "run_start", "{\"goal\":\"g\"}"), 0);
	/* B started later than A (ingest stamps one ts: fix it up) */
	CHECK_INT(store_exec(st,
			     "UPDATE runs SET started = '2026-02-01T00:00:00.000Z'"
			     " WHERE id = 'B'",
			     &err),
		  0);
	CHECK_INT(store_list_runs(st, &f, &runs, &err), 0);
	CHECK_INT(json_array_size(runs), 2);
	CHECK_STR(str(json_array_get(runs, 0), "id"), "B");
	CHECK_STR(str(json_array_get(runs, 0), "status"), "running");
	json_decref(runs);
	f.status = "converged";
	CHECK_INT(store_list_runs(st, &f, &runs, &err), 0);
	CHECK_INT(json_array_size(runs), 1);
	CHECK_STR(str(json_array_get(runs, 0), "id"), "A");
	json_decref(runs);
	f.status = NULL;
	f.since = "2026-01-15";
	CHECK_INT(store_list_runs(st, &f, &runs, &err), 0);
	CHECK_INT(json_array_size(runs), 1);
	CHECK_STR(str(json_array_get(runs, 0), "id"), "B");
	json_decref(runs);
	f.since = NULL;
	f.until = "2026-01-15";
	CHECK_INT(store_list_runs(st, &f, &runs, &err), 0);
	CHECK_INT(json_array_size(runs), 1);
	CHECK_STR(str(json_array_get(runs, 0), "id"), "A");
	json_decref(runs);
	f.until = NULL;
	f.limit = 1;
	CHECK_INT(store_list_runs(st, &f, &runs, &err), 0);
	CHECK_INT(json_array_size(runs), 1);
	json_decref(runs);
	store_close(st);
	buf_release(&err);
}

TEST(imports_checkpoints)
{
	struct store *st = open_fresh("cp.db");
	struct buf err = BUF_INIT;
	char *dir = db_path("run-cp"), *file;
	json_t *r = NULL;
	FILE *f;

	CHECK(st != NULL);
	if (!st)
		return;
	mkdir(dir, 0700);
	CHECK_INT(store_import_checkpoints(st, "C", dir, &err), 0); /* absent: fine */
	file = xasprintf("%s/checkpoints.jsonl", dir);
	f = fopen(file, "w");
	fputs("{\"run_id\":\"C\",\"seq\":10,\"h\":\"aa\",\"key_id\":\"k1\",\"sig\":\"s\","
	      "\"ts\":\"t\"}\nnot json\n{\"run_id\":\"C\",\"seq\":20,\"h\":\"bb\","
	      "\"key_id\":\"k1\",\"sig\":\"s2\",\"ts\":\"t2\"}\n",
	      f);
	fclose(f);
	CHECK_INT(ingest(st, "C", 1, "budget", "{}"), 0);
	CHECK_INT(store_import_checkpoints(st, "C", dir, &err), 0);
	CHECK_INT(store_show_run(st, "C", &r, &err), 0);
	CHECK_INT(json_array_size(json_object_get(r, "checkpoints")), 2);
	CHECK_STR(str(row(r, "checkpoints", 1), "h"), "bb");
	CHECK_STR(str(row(r, "checkpoints", 0), "key_id"), "k1");
	json_decref(r);
	unlink(file);
	rmdir(dir);
	free(file);
	free(dir);
	store_close(st);
	buf_release(&err);
}

TEST(review_sample_is_deterministic_and_fair)
{
	char id[32];
	int i, picked = 0, again = 0;

	for (i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "20260101-000000-%06x", i);
		picked += store_review_pick(id, 0.1);
		again += store_review_pick(id, 0.1);
		CHECK(!store_review_pick(id, 0));
		CHECK(store_review_pick(id, 1));
		/* a run picked at 0.1 is also picked at any larger fraction */
		if (store_review_pick(id, 0.1))
			CHECK(store_review_pick(id, 0.5));
	}
	CHECK_INT(picked, again);
	CHECK(picked > 850 && picked < 1150);
}

/* A connection's page cache holds the pages it read, not a bulk of 20
 * slots allocated and written at its first read (store/sqlmem.h): a store
 * reopened to read its version costs a few pages. */
TEST(open_allocates_no_page_cache_bulk)
{
	struct buf err = BUF_INIT;
	struct store *st = open_fresh("bulk.db");
	char *p = db_path("bulk.db");
	sqlite3_int64 before;

	CHECK(st != NULL);
	store_close(st);
	st = NULL;
	before = sqlite3_memory_used();
	CHECK_INT(store_open(&st, p, &err), 0);
	CHECK_INT(store_version(st), store_nmigrations);
	fprintf(stderr, "  reopened store: %lld bytes\n",
		(long long)(sqlite3_memory_used() - before));
	CHECK(sqlite3_memory_used() - before < 48 * 1024);
	store_close(st);
	free(p);
	buf_release(&err);
}

/* A run's live store keeps a bounded page cache however much it has
 * indexed (SQLite's default would grow to 2 MB with a long run). */
TEST(live_store_page_cache_is_bounded)
{
	struct buf err = BUF_INIT;
	struct events ev;
	struct store *st;
	char *repo = db_path("live"), *dir = xasprintf("%s/.loopgate", repo);
	char *db = xasprintf("%s/" STORE_FILE, dir), id[32];
	struct stat sb;
	int cur = 0, hi = 0, i;

	memset(&ev, 0, sizeof(ev));
	CHECK(mkdir(repo, 0700) == 0 && mkdir(dir, 0700) == 0);
	/* made first: a new store is made in a thread, which the direct
	 * ingests below would race */
	CHECK_INT(store_open(&st, db, &err), 0);
	store_close(st);
	st = store_live_open(repo, &ev, "live", NULL, NULL);
	CHECK(st != NULL);
	if (!st)
		goto out;
	for (i = 0; i < 2000 && (stat(db, &sb) < 0 || sb.st_size < (2 << 20)); i++) {
		snprintf(id, sizeof(id), "run-%04d", i);
		if (feed_run(st, id) < 0)
			break;
	}
	CHECK(stat(db, &sb) == 0 && sb.st_size >= (2 << 20));
	sqlite3_db_status(store_db(st), SQLITE_DBSTATUS_CACHE_USED, &cur, &hi, 0);
	fprintf(stderr, "  %d runs, %lld bytes indexed: page cache %d bytes\n", i,
		(long long)sb.st_size, cur);
	CHECK(cur < 512 * 1024);
	store_live_close(st, &ev);
out:
	buf_release(&err);
	free(db);
	free(dir);
	free(repo);
}

/* Iterations of run id another connection to the store sees. */
static size_t seen_iterations(const char *db, const char *id)
{
	struct store *st = NULL;
	struct buf err = BUF_INIT;
	json_t *r = NULL;
	size_t n = 0;

	if (store_open(&st, db, &err) == 0 && store_show_run(st, id, &r, &err) == 0)
		n = json_array_size(json_object_get(r, "per_iteration"));
	json_decref(r);
	store_close(st);
	buf_release(&err);
	return n;
}

/* The live store indexes a run's records after the log's sync, in one
 * transaction, not one per record, at loopgate's next wait (tick: not on
 * the path to the action the sync came before), never from a forked child;
 * records a killed run never flushed are indexed when the run's store is
 * opened again (resume). */
TEST(live_index_at_each_sync_and_catches_up)
{
	static const char id[] = "20260101-000000-live";
	char *repo = db_path("live2"), *dir = xasprintf("%s/.loopgate/runs/%s", repo, id);
	char *log = rundir_file(dir, RUNDIR_EVENTS), *db = rundir_state(repo, STORE_FILE);
	char *mk = xasprintf("mkdir -p %s", dir);
	struct events ev = EVENTS_INIT, ev2 = EVENTS_INIT;
	struct buf err = BUF_INIT;
	struct store *st;
	pid_t pid;
	int status = -1;

	CHECK_INT(system(mk), 0);
	/* an existing store: a new one is made in a thread, and records come
	 * in once it is done rather than at the sync (fixed-cost work) */
	CHECK_INT(store_open(&st, db, &err), 0);
	store_close(st);
	ev.sync_each = 0;
	ev.barrier = 1;
	CHECK_INT(events_open(&ev, log, id, &err), 0);
	st = store_live_open(repo, &ev, id, NULL, NULL);
	CHECK(st != NULL);
	events_append(&ev, "iteration_start", json_pack("{s:i}", "iteration", 1));
	CHECK_INT(seen_iterations(db, id), 0); /* waits for the sync */
	CHECK_INT(events_sync(&ev), 0);
	CHECK_INT(seen_iterations(db, id), 0); /* at the next wait */
	tick();
	CHECK_INT(seen_iterations(db, id), 1);
	/* a run killed before its next sync: the record is in the log only;
	 * a sync's flush left pending is not its forked child's to make */
	events_append(&ev, "iteration_start", json_pack("{s:i}", "iteration", 2));
	CHECK_INT(events_sync(&ev), 0);
	pid = fork();
	if (pid == 0) {
		tick();
		_exit(seen_iterations(db, id) == 1 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	CHECK_INT(status, 0);
	CHECK_INT(seen_iterations(db, id), 1);
	store_live_close(st, &ev); /* the pending flush: made at the close */
	CHECK_INT(seen_iterations(db, id), 2);
	pid = fork(); /* a run killed before its next sync */
	if (pid == 0) {
		events_append(&ev, "iteration_start", json_pack("{s:i}", "iteration", 3));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	CHECK_INT(status, 0);
	events_close(&ev);
	st = store_live_open(repo, &ev2, id, NULL, NULL);
	CHECK_INT(seen_iterations(db, id), 3);
	store_live_close(st, &ev2);
	buf_release(&err);
	free(mk);
	free(db);
	free(log);
	free(dir);
	free(repo);
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return remove(path);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/loopgate-store.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	/* first: SQLite's settings are made before its first connection,
	 * and the next tests open some directly */
	RUN(open_allocates_no_page_cache_bulk);
	RUN(migrates_an_older_schema);
	RUN(refuses_a_newer_schema);
	RUN(ingests_every_kind);
	RUN(ingest_is_idempotent);
	RUN(finds_runs_by_unique_prefix);
	RUN(lists_with_filters_newest_first);
	RUN(imports_checkpoints);
	RUN(review_sample_is_deterministic_and_fair);
	RUN(live_store_page_cache_is_bounded);
	RUN(live_index_at_each_sync_and_catches_up);
	if (nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	return unit_done();
}
