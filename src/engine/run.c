/*
 * run.c: a run's making and unmaking (run_init, run_release: loop.h).
 */
#include "engine/loop.h"
#include "engine/fanout.h"
#include "engine/ledger.h"
#include "exec/warden.h"
#include "base/clock.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void run_init(struct run *r, const struct config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->ev = (struct events)EVENTS_INIT;
	/* durable at each action others can see, in one group commit
	 * (events_barrier), not at every record: docs/design/durability.md */
	r->ev.sync_each = 0;
	r->ev.barrier = 1;
	r->audit_key = (struct checkpoint_key)CHECKPOINT_KEY_INIT;
	r->lock_fd = -1;
	budget_init(&r->budget);
	buf_init(&r->reason, 0);
	/* one worker today; fan-out will make more */
	r->nworkers = 1;
	r->workers = xcalloc(r->nworkers, sizeof(*r->workers));
	for (size_t i = 0; i < r->nworkers; i++)
		worker_init(&r->workers[i]);
	r->w = &r->workers[0];
	r->status = "error";
	r->start_ms = clock_ms();
}

void run_release(struct run *r)
{
	fileio_atomic_close(&r->summary, NULL);
	events_close(&r->ev); /* its final checkpoint is still indexed */
	store_live_close(r->store, &r->ev);
	r->store = NULL;
	checkpoint_key_release(&r->audit_key);
	run_unlock(r);
	for (size_t i = 0; i < r->nworkers; i++)
		worker_release(&r->workers[i]);
	free(r->workers);
	r->workers = r->w = NULL;
	r->nworkers = 0;
	buf_release(&r->reason);
	ledger_close(r->budget.ledger);
	r->budget.ledger = NULL;
	fanout_free(r->fan);
	r->fan = NULL;
	free(r->link.id);
	free(r->link.parent);
	free(r->link.worker);
	free(r->link.ledger);
	free(r->link.base);
	free(r->repo);
	free(r->run_dir);
	free(r->base_sha);
}
