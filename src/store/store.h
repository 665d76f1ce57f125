/*
 * store: the run store, an SQLite index over the runs' event logs at
 * <repo>/.loopgate/loopgate.db.  The logs are the truth; the store can be
 * deleted and rebuilt from them (store_reindex).  See docs/design/store.md.
 *
 * Live, during a run (never fails the run):
 *
 *   struct store *st = NULL;
 *   store_open(&st, "<repo>/.loopgate/loopgate.db", &err);   may fail
 *   store_attach(st, &ev, run_id, warn, ctx, &err);
 *                                       an events observer feeds store_ingest;
 *                                       the first failure is passed once to
 *                                       warn (the CLI prints it; the store
 *                                       never prints) and indexing stops
 *   ... the run appends records ...     each record and each signed
 *                                       checkpoint is indexed as written
 *   store_close(st);
 *
 * Commands:
 *
 *   store_open_repo(&st, dir, &reindexed, &err);  top level of dir; builds
 *                                       a missing database by reindexing
 *   store_find_run(st, prefix, id, &err);  -ENOENT unknown, -EEXIST ambiguous
 *   store_list_runs(st, &filter, &array);  newest first, JSON objects
 *   store_show_run(st, id, &obj);          header facts + iterations
 *   store_reindex(st, repo, &report, &err);
 *
 * Functions return 0 or a negative errno with a sentence in err.  Query
 * results are jansson values owned by the caller: the JSON the commands
 * print with --json is exactly what these return, so it is stable.
 */
#ifndef LOOPGATE_STORE_H
#define LOOPGATE_STORE_H

#include <jansson.h>
#include "base/buf.h"
#include "record/events.h"

#define STORE_FILE    "loopgate.db"
#define STORE_BUSY_MS 5000
/* The live store's page cache during a run (PRAGMA cache_size: negative
 * is KiB) */
#define STORE_LIVE_CACHE "-256"

struct store;

/* Schema migrations, oldest first; migration i brings version i to i+1. */
extern const char *const store_migrations[];
extern const int store_nmigrations;

/* Opens (creating) the database and migrates it to the current version. */
int store_open(struct store **retp, const char *path, struct buf *err);
/* Opens <toplevel of dir>/.loopgate/loopgate.db; reindexes when it did not
 * exist (*reindexed = 1).  repo (optional) gets the top level. */
int store_open_repo(struct store **ret, const char *dir, char **repo, int *reindexed,
		    struct buf *err);
void store_close(struct store *st);
/* The schema version of an open store. */
int store_version(struct store *st);

/* Maps one log record to rows (all the kinds; unknown kinds are ignored). */
int store_ingest(struct store *st, const char *run_id, const json_t *rec,
		 struct buf *err);
/* Imports <run_dir>/checkpoints.jsonl when present. */
int store_import_checkpoints(struct store *st, const char *run_id, const char *run_dir,
			     struct buf *err);

/* Where live indexing's warnings go: msg is one sentence, borrowed for the
 * call.  A NULL function drops them. */
typedef void store_warn_fn(void *ctx, const char *msg);

/* Live indexing through an events observer (events_observe); see the
 * top of this file.  The first failure to index goes to warn(ctx, ...).
 * 0, or -ENOSPC with err set when ev has no room for another observer
 * (the run goes on unindexed). */
int store_attach(struct store *st, struct events *ev, const char *run_id,
		 store_warn_fn *warn, void *warn_ctx, struct buf *err);

/*
 * The run's side: opens <repo>/.loopgate/loopgate.db (reindexing the
 * existing logs first when it is new) and attaches it to ev.  NULL, after
 * one warning to warn, when the store cannot be used: the run goes on.
 */
struct store *store_live_open(const char *repo, struct events *ev, const char *run_id,
			      store_warn_fn *warn, void *warn_ctx);
/* Detaches from ev and closes.  NULL-safe.  Close the log first, so the
 * final checkpoint it writes is indexed too. */
void store_live_close(struct store *st, struct events *ev);

/* A unique run id starting with prefix, into id (65 bytes). */
int store_find_run(struct store *st, const char *prefix, char id[65], struct buf *err);
/* Forgets run id and everything indexed of it (its logs are not touched;
 * `loopgate reindex` would bring it back while they exist). */
int store_delete_run(struct store *st, const char *id, struct buf *err);

struct store_filter {
	const char *status; /* NULL: any */
	const char *since;  /* started >= since (ISO date or time), or NULL */
	const char *until;  /* started < until, or NULL */
	const char *review; /* runs.review equals this, or NULL */
	long limit;	    /* <= 0: no limit */
};
int store_list_runs(struct store *st, const struct store_filter *f, json_t **out,
		    struct buf *err);
/* {run facts..., "per_iteration":[...], "gates":[...], "model_calls":[...],
 *  "integrity":[...], "checkpoints":[...]} */
int store_show_run(struct store *st, const char *id, json_t **out, struct buf *err);

/* One line per log that is not intact, and counts, for the user. */
struct store_reindex_report {
	long runs;
	long records;
	long damaged; /* logs indexed only up to their last good record */
	struct buf notes;
};
/* Rebuilds every table from <repo>/.loopgate/runs/{*}/events.jsonl in one
 * transaction. */
int store_reindex(struct store *st, const char *repo, struct store_reindex_report *rep,
		  struct buf *err);

/* Is this run id in the review sample of fraction f (0..1)? */
int store_review_pick(const char *run_id, double f);

#endif
