/*
 * store_schema.c: the run store's schema, as the ordered migrations that
 * make it (store.h; docs/design/store.md, "Schema and migrations").
 */
#include "store/store.h"

const char *const store_migrations[] = {
	/* 0 -> 1: the index proper */
	"CREATE TABLE runs(id TEXT PRIMARY KEY, started TEXT, ended TEXT,"
	" goal TEXT, status TEXT, reason TEXT, exit_code INTEGER,"
	" iterations INTEGER, tokens_in INTEGER, tokens_out INTEGER,"
	" cost_usd REAL, calls INTEGER, duration_s REAL, branch TEXT, base TEXT,"
	" actor TEXT, provider TEXT, model TEXT, last_seq INTEGER,"
	" log_status TEXT, log_detail TEXT);"
	"CREATE INDEX runs_started ON runs(started);"
	"CREATE TABLE iterations(run_id TEXT NOT NULL REFERENCES runs(id)"
	" ON DELETE CASCADE, n INTEGER NOT NULL, started TEXT,"
	" gate_failed INTEGER, gate_exit INTEGER, describe TEXT, cost_usd REAL,"
	" tokens_in INTEGER, tokens_out INTEGER, files TEXT, noop INTEGER,"
	" duration_ms REAL, commit_sha TEXT, edits_applied INTEGER,"
	" edits_refused INTEGER, edit_blocks INTEGER, PRIMARY KEY(run_id, n));"
	"CREATE TABLE model_calls(run_id TEXT NOT NULL REFERENCES runs(id)"
	" ON DELETE CASCADE, seq INTEGER NOT NULL, iteration INTEGER,"
	" attempt INTEGER, http_status INTEGER, outcome TEXT, detail TEXT,"
	" tokens_in INTEGER, tokens_out INTEGER, usage_estimated INTEGER,"
	" cost_usd REAL, will_retry INTEGER, wait_ms INTEGER, ms REAL,"
	" stopped_by TEXT, PRIMARY KEY(run_id, seq));"
	"CREATE TABLE gate_results(run_id TEXT NOT NULL REFERENCES runs(id)"
	" ON DELETE CASCADE, seq INTEGER NOT NULL, iteration INTEGER,"
	" gate INTEGER, command TEXT, status TEXT, exit_code INTEGER,"
	" signal INTEGER, describe TEXT, duration_ms REAL, output_file TEXT,"
	" output_bytes INTEGER, passed INTEGER, tests TEXT, cached INTEGER,"
	" PRIMARY KEY(run_id, seq));"
	"CREATE INDEX gate_results_iteration ON gate_results(run_id, iteration);"
	"CREATE TABLE integrity_events(run_id TEXT NOT NULL REFERENCES runs(id)"
	" ON DELETE CASCADE, seq INTEGER NOT NULL, iteration INTEGER,"
	" kind TEXT, gate INTEGER, paths TEXT, detail TEXT,"
	" PRIMARY KEY(run_id, seq));",
	/* 1 -> 2: sampling review and signed checkpoints */
	"ALTER TABLE runs ADD COLUMN review TEXT;"
	"ALTER TABLE runs ADD COLUMN review_sample REAL;"
	"ALTER TABLE runs ADD COLUMN reviewer TEXT;"
	"ALTER TABLE runs ADD COLUMN review_note TEXT;"
	"ALTER TABLE runs ADD COLUMN review_ts TEXT;"
	"CREATE INDEX runs_review ON runs(review);"
	"CREATE TABLE checkpoints(run_id TEXT NOT NULL REFERENCES runs(id)"
	" ON DELETE CASCADE, seq INTEGER NOT NULL, h TEXT, key_id TEXT,"
	" sig TEXT, ts TEXT, PRIMARY KEY(run_id, seq));",
};
const int store_nmigrations = sizeof(store_migrations) / sizeof(store_migrations[0]);
