/*
 * store_impl.h: what store.c shares with store_query.c (not for callers).
 */
#ifndef LOOPGATE_STORE_IMPL_H
#define LOOPGATE_STORE_IMPL_H

#include <sqlite3.h>
#include "store/store.h"

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
