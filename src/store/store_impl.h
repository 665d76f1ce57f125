/*
 * store_impl.h: what store.c shares with store_query.c and store_live.c
 * (not for callers).
 */
#ifndef LOOPGATE_STORE_IMPL_H
#define LOOPGATE_STORE_IMPL_H

#include <sqlite3.h>
#include "store/store.h"

/* The most mapping entries store.c may have (its table is checked). */
#define STORE_MAX_MAPPINGS 64

struct making;
struct store {
	sqlite3 *db;
	sqlite3_stmt *ensure;
	sqlite3_stmt *stmts[STORE_MAX_MAPPINGS];
	int in_txn; /* inside store_begin: ingest opens none */
	/* live indexing: records wait in pend for the log's next sync, then
	 * go in one transaction (flush) */
	char run_id[65];
	int failed;
	json_t **pend;
	size_t npend;
	store_warn_fn *warn; /* the first failure goes there (store_attach) */
	void *warn_ctx;
	struct making *making; /* a new store still being made (store_live_open) */
};

/* Opens (creating and migrating) the database at path into st; on failure
 * st holds no database. */
int store_open_into(struct store *st, const char *path, struct buf *err);
/* One checkpoint (checkpoint_line's JSON; NULL: could not be encoded). */
int store_put_checkpoint(struct store *st, const char *run_id, const json_t *o,
			 struct buf *err);
/* store_live.c: indexes the records waiting for the log's sync, in one
 * transaction (store_close calls it). */
void store_live_flush(struct store *st);

sqlite3 *store_db(struct store *st);
/* err = "run store: WHAT: sqlite's message"; returns -EBUSY, -ENOSPC or -EIO. */
int store_sqlerr(struct store *st, struct buf *err, const char *what);
/* Runs constant SQL (never built from data). */
int store_exec(struct store *st, const char *sql, struct buf *err);
int store_prepare(struct store *st, const char *sql, sqlite3_stmt **ret, struct buf *err);
/* Binds a JSON value: scalars as themselves, arrays and objects as text. */
int store_bind_json(sqlite3_stmt *s, int i, const json_t *v);
/* While on, store_ingest runs inside the caller's transaction. */
void store_set_in_txn(struct store *st, int on);

/* store_reindex without the run skip (NULL: none): a live run's log, which
 * its own thread is writing, is indexed live instead. */
int store_reindex_but(struct store *st, const char *repo, const char *skip,
		      struct store_reindex_report *rep, struct buf *err);

#endif
