/*
 * run: the state of one `loopgate run`: the part shared by its workers
 * (worker.h holds each worker's tree, actor and judge state).
 */
#ifndef LOOPGATE_RUN_H
#define LOOPGATE_RUN_H

#include "base/buf.h"
#include "base/fileio.h"
#include "engine/budget.h"
#include "config/config.h"
#include "record/events.h"
#include "record/checkpoint.h"
#include "engine/worker.h"
#include "engine/route.h"

struct store;
struct fanout;

/*
 * A fan-out worker's link to its coordinator (docs/design/fanout.md): set
 * by `loopgate __worker` before run_setup, recorded in run_start and read
 * back by resume.  parent NULL: a run of its own.
 */
struct run_link {
	char *id;     /* the worker's run id, <parent>-wK (else one is made) */
	char *parent; /* the coordinator's run id */
	char *worker; /* "w1" */
	char *ledger; /* the coordinator's budget ledger (ledger.h) */
	long slot;    /* this worker's slot in it */
	char *base;   /* the commit to start from (NULL: HEAD) */
};

/*
 * One `loopgate run`: what its workers share.  The loop (loop.c) owns it;
 * the CLI reads it after the engine returns (report, ui).
 */
struct run {
	/* identity and config */
	const struct config *cfg;
	char id[64];
	char *repo;    /* the user's repository top level */
	char *run_dir; /* absolute .loopgate/runs/<id> */
	char *base_sha;
	char *goal;
	/* the record */
	struct events ev;    /* observers: the store, the CLI's view */
	struct store *store; /* the run store, indexing ev live (or NULL) */
	/* where warnings that are no record go (the store's failures): the
	 * CLI prints them (ui_watch sets it); NULL drops them */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
	struct checkpoint_key audit_key; /* signs ev's checkpoints */
	int lock_fd;			 /* the run lock (run_lock), or -1 */
	/* summary.json, in place since loop_finish, its fsync joined by
	 * run_release (the run_end record holds the same summary) */
	struct fileio_atomic summary;
	int resumes; /* times this run was resumed, this one included */
	/* budget and spend, shared by every worker; budget.deadline_at is the
	 * run's deadline */
	struct budget budget;
	/* spend of the verifier and escalation roles (route.h); the worker's
	 * is the rest of budget's */
	struct role_spend spend[ROLE_N];
	/* the workers (worker.h): one today */
	struct worker *workers;
	size_t nworkers;
	struct worker *w; /* the worker the loop drives: workers[0] */
	/* fan-out: as a worker, its coordinator; as a coordinator, its
	 * workers (fanout.h; NULL in a run of one loop) */
	struct run_link link;
	struct fanout *fan;
	/* the outcome */
	const char *status; /* final status, contract names */
	struct buf reason;
	long long start_ms;
};

#endif
