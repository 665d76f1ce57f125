/*
 * store_live.c: a run's live indexing of its own event log (store.h:
 * store_live_open, store_attach, store_live_close).  Records wait for the
 * log's next sync and go in one transaction; a repository's first store
 * is made in a thread while the run sets up.  See docs/design/store.md.
 */
#include "store/store.h"
#include "record/checkpoint.h"
#include "record/rundir.h"
#include "store/store_impl.h"
#include "base/clock.h"
#include "base/fault.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void live_warn(const struct store *st, const char *msg)
{
	if (st->warn)
		st->warn(st->warn_ctx, msg);
}

/* A failure to index: warned once, and indexing stops. */
static void live_failed(struct store *st, const struct buf *err)
{
	struct buf msg = BUF_INIT;
	st->failed = 1;
	buf_addf(&msg,
		 "%s; the run goes on, but its "
		 "index is incomplete from here (the event log is complete): "
		 "run `loopgate reindex` to repair it",
		 err->s);
	live_warn(st, msg.s);
	buf_release(&msg);
}

/*
 * Indexes the records waiting for the log's sync, in one transaction (a
 * transaction per record cost about as much as the rest of writing it).
 * The store is never left holding its write lock between two flushes:
 * other runs of the repository index theirs meanwhile.
 */
void store_live_flush(struct store *st)
{
	struct buf err = BUF_INIT;
	int ret = 0;

	if (st->npend && !st->failed) {
		if (store_exec(st, "BEGIN IMMEDIATE", &err) < 0)
			ret = -EBUSY;
		st->in_txn = 1;
		for (size_t i = 0; ret == 0 && i < st->npend; i++)
			ret = store_ingest(st, st->run_id, st->pend[i], &err);
		st->in_txn = 0;
		if (ret == 0 && store_exec(st, "COMMIT", &err) < 0)
			ret = -EIO;
		if (ret < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			live_failed(st, &err);
		}
	}
	for (size_t i = 0; i < st->npend; i++)
		json_decref(st->pend[i]);
	st->npend = 0;
	buf_release(&err);
}

/* The store cannot be used at all: one warning, and the run goes on. */
static void unusable(store_warn_fn *warn_fn, void *warn_ctx, const struct buf *err)
{
	struct buf msg = BUF_INIT;

	if (!warn_fn)
		return;
	buf_addf(&msg,
		 "%s; the run goes on without "
		 "indexing it (the event log is complete): run `loopgate "
		 "reindex` later",
		 err->s);
	warn_fn(warn_ctx, msg.s);
	buf_release(&msg);
}

/*
 * A repository's first run makes its store (the schema, the WAL switch and
 * the reindex of the logs already there: 3-4 ms and several fsyncs) in a
 * thread while the run sets up (the worktree, the sandbox).  The thread
 * touches only the database, and never this run's log (its thread is
 * writing it): the records and checkpoints that come meanwhile are kept in
 * order and ingested when the run's thread takes the store over (made), at
 * the first record after it is done or at store_live_close.
 */
struct making {
	pthread_t thread;
	atomic_int done;
	char *repo, *path, *run_id;
	int ret;
	struct buf err;
	json_t *queue; /* [{"r": record} or {"c": checkpoint}, ...] */
};

/* A run only appends: its inserts touch the b-trees' right edges and a few
 * index pages, so SQLite's default page cache (2 MB, filled as a long run's
 * pages go by) would hold mostly pages never read again. */
static void live_cache(struct store *st)
{
	(void)store_exec(st, "PRAGMA cache_size = " STORE_LIVE_CACHE, NULL);
}

static void *make_thread(void *arg)
{
	struct store *st = arg;
	struct making *m = st->making;
	struct store_reindex_report rep = {0, 0, 0, BUF_INIT};
	sigset_t all;

	sigfillset(&all); /* signals are the run's thread's business */
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	m->ret = store_open_into(st, m->path, &m->err);
	if (m->ret == 0 &&
	    (m->ret = store_reindex_but(st, m->repo, m->run_id, &rep, &m->err)) < 0) {
		sqlite3_close(st->db);
		st->db = NULL;
	}
	if (m->ret == 0)
		live_cache(st);
	buf_release(&rep.notes);
	atomic_store(&m->done, 1);
	return NULL;
}

static void ingest_record(struct store *st, const json_t *rec);
static void ingest_checkpoint(struct store *st, const json_t *o);

/* 1 when the store is made (or failed, and warned) and taken over; 0 while
 * the thread is still at it and wait is 0. */
static int made(struct store *st, int wait)
{
	struct making *m = st->making;
	size_t i;
	json_t *it;

	if (!m)
		return 1;
	if (!wait && !atomic_load(&m->done))
		return 0;
	pthread_join(m->thread, NULL);
	st->making = NULL;
	if (m->ret < 0) {
		st->failed = 1;
		unusable(st->warn, st->warn_ctx, &m->err);
	}
	json_array_foreach(m->queue, i, it)
	{
		const json_t *r = json_object_get(it, "r");
		if (r)
			ingest_record(st, r);
		else
			ingest_checkpoint(st, json_object_get(it, "c"));
	}
	store_live_flush(st); /* the records first: the checkpoints need the run's row */
	if (!st->failed) {    /* the log's first checkpoint came before the observer */
		char *dir = rundir_path(m->repo, st->run_id);
		buf_reset(&m->err);
		if (store_import_checkpoints(st, st->run_id, dir, &m->err) < 0)
			live_failed(st, &m->err);
		free(dir);
	}
	json_decref(m->queue);
	buf_release(&m->err);
	free(m->repo);
	free(m->path);
	free(m->run_id);
	free(m);
	return 1;
}

/* Each record waits for the log's next sync (at most PENDING_MAX of them),
 * then they go in one transaction (flush); the first failure warns once. */
#define PENDING_MAX 64
static void ingest_record(struct store *st, const json_t *rec)
{
	if (st->failed)
		return;
	if (!st->pend)
		st->pend = xcalloc(PENDING_MAX, sizeof(*st->pend));
	st->pend[st->npend++] = json_incref((json_t *)rec);
	if (st->npend == PENDING_MAX)
		store_live_flush(st);
}

static void flush_made(void *ctx)
{
	struct store *st = ctx;

	if (made(st, 0))
		store_live_flush(st);
}

/* The log was synced: the records waiting go in at loopgate's next wait
 * (tick_defer: the model's reply, a gate), not on the path to the action
 * the sync came before (a transaction, ~0.1-0.3 ms, at each of an
 * iteration's barriers).  A checkpoint, a full batch and the close flush
 * sooner; a reader of the index sees a live run a wait behind at most. */
static void observe_synced(void *ctx)
{
	tick_defer(flush_made, ctx);
}

static void observe(void *ctx, const json_t *rec)
{
	struct store *st = ctx;

	if (!made(st, 0)) {
		json_array_append_new(st->making->queue,
				      json_pack("{s:o}", "r", json_deep_copy(rec)));
		return;
	}
	ingest_record(st, rec);
}

/*
 * The checkpoint observer: the store's own copy of each signed checkpoint,
 * taken as it is written (a checkpoints.jsonl cut or rewritten later does
 * not change it).  Failures warn once, like records.
 */
static void ingest_checkpoint(struct store *st, const json_t *o)
{
	struct buf err = BUF_INIT;

	store_live_flush(st); /* the records it signs first: their run's row exists */
	if (st->failed)
		return;
	if (store_put_checkpoint(st, st->run_id, o, &err) < 0)
		live_failed(st, &err);
	buf_release(&err);
}

static void observe_checkpoint(void *ctx, const struct checkpoint *cp)
{
	struct store *st = ctx;
	char *line;
	json_t *o;

	if (st->failed)
		return;
	line = checkpoint_line(cp);
	o = line ? json_loads(line, 0, NULL) : NULL;
	if (!made(st, 0))
		json_array_append_new(st->making->queue, o ? json_pack("{s:O}", "c", o)
							   : json_pack("{s:n}", "c"));
	else
		ingest_checkpoint(st, o);
	json_decref(o);
	free(line);
}

int store_attach(struct store *st, struct events *ev, const char *run_id,
		 store_warn_fn *warn_fn, void *warn_ctx, struct buf *err)
{
	if (!st)
		return 0;
	snprintf(st->run_id, sizeof(st->run_id), "%s", run_id);
	st->warn = warn_fn;
	st->warn_ctx = warn_ctx;
	/* a full observer table leaves the run unindexed, like a failed open */
	if (events_observe(ev, &(struct events_observer){.record = observe,
							 .checkpoint = observe_checkpoint,
							 .synced = observe_synced,
							 .ctx = st}) < 0)
		return err_set(err, -ENOSPC,
			       "too many event observers; the run "
			       "goes on without indexing it: run `loopgate reindex` "
			       "later");
	return 0;
}

/*
 * The records of the run's log beyond what the store holds: a run killed
 * between two syncs of its log never flushed the last ones (observe), and
 * the resumed run indexes them now.  A new run's log has none.
 */
static void catch_up(struct store *st, const char *repo)
{
	char *runs = rundir_runs(repo), *dir = xasprintf("%s/%s", runs, st->run_id);
	char *path = rundir_file(dir, RUNDIR_EVENTS), *line = NULL;
	FILE *f = fopen(path, "re");
	sqlite3_stmt *s = NULL;
	long long last = -1;
	size_t cap = 0;

	if (f && sqlite3_prepare_v2(st->db, "SELECT last_seq FROM runs WHERE id = ?1", -1,
				    &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, st->run_id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(s) == SQLITE_ROW &&
		    sqlite3_column_type(s, 0) != SQLITE_NULL)
			last = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	while (f && !st->failed && getline(&line, &cap, f) > 0) {
		json_t *rec = json_loads(line, 0, NULL);
		if (json_integer_value(json_object_get(rec, "seq")) > last)
			observe(st, rec);
		json_decref(rec);
	}
	store_live_flush(st);
	if (f)
		fclose(f);
	free(line);
	free(path);
	free(dir);
	free(runs);
}

/* A new store is made in a thread (struct making); one that exists is
 * opened here (it is quick). */
struct store *store_live_open(const char *repo, struct events *ev, const char *run_id,
			      store_warn_fn *warn_fn, void *warn_ctx)
{
	struct store_reindex_report rep = {0, 0, 0, BUF_INIT};
	struct buf err = BUF_INIT;
	struct store *st = NULL;
	struct stat sb;
	char *path = rundir_state(repo, STORE_FILE);
	int fresh = stat(path, &sb) < 0;
	struct making *m;

	if (fresh) {
		st = xcalloc(1, sizeof(*st));
		m = st->making = xcalloc(1, sizeof(*m));
		m->repo = xstrdup(repo);
		m->path = xstrdup(path);
		m->run_id = xstrdup(run_id);
		m->queue = json_array();
		fault_active(); /* parsed here, not first in the thread */
		if (pthread_create(&m->thread, NULL, make_thread, st) == 0)
			goto attach;
		json_decref(m->queue);
		free(m->repo);
		free(m->path);
		free(m->run_id);
		free(m);
		free(st);
		st = NULL;
	}
	if (store_open(&st, path, &err) == 0 && fresh &&
	    store_reindex(st, repo, &rep, &err) < 0) {
		store_close(st);
		st = NULL;
	}
	if (!st)
		unusable(warn_fn, warn_ctx, &err);
	else
		live_cache(st);
attach:
	if (store_attach(st, ev, run_id, warn_fn, warn_ctx, &err) < 0 && warn_fn)
		warn_fn(warn_ctx, err.s);
	if (st && !fresh)
		catch_up(st, repo);
	buf_release(&rep.notes);
	buf_release(&err);
	free(path);
	return st;
}

void store_live_close(struct store *st, struct events *ev)
{
	if (!st)
		return;
	made(st, 1);
	tick_defer_cancel(st);
	if (ev)
		events_unobserve(ev, st);
	/* the WAL stays for the next opener to go on with: a run does not
	 * end waiting for a checkpoint's fsyncs (the index can be rebuilt) */
	if (st->db)
		sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	store_close(st);
}
