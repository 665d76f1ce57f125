/*
 * ledger: one budget shared by the processes of a fan-out run
 * (docs/design/fanout.md).
 *
 * A small file in the coordinator's run directory: a header with the run's
 * ceilings and one fixed-size slot per worker.  Every read-modify-write
 * holds an flock on it.  Each worker writes only its own slot, and always
 * absolute totals, so a resumed worker settles to the right figure again.
 *
 *   coordinator:  ledger_create(path, nslots, &ceil, err);
 *                 ledger_read(path, slots, nslots, err)   what was spent
 *   worker:       struct ledger *l = ledger_open(path, slot, err);
 *                 b->ledger = l;                  budget.c does the rest:
 *                 ledger_reserve(l, &req, why)    before a call / iteration
 *                 ledger_settle(l, &spent)        after it
 *                 ledger_close(l);
 *
 * A reservation is granted when the others' spent plus reserved, plus this
 * slot's spent, plus the request fit under every ceiling; it replaces the
 * slot's previous reservation (a worker makes one call at a time).  A
 * worker that dies mid-call leaves its reservation standing: the others
 * can never spend it, so the ceilings hold whatever happens.
 */
#ifndef LOOPGATE_LEDGER_H
#define LOOPGATE_LEDGER_H

#include <stddef.h>
#include "base/buf.h"

#define LEDGER_FILE "ledger"

/* The run's ceilings; <= 0 (< 0 for cost) means none. */
struct ledger_ceil {
	long max_iterations;
	long max_tokens;
	double max_cost;
};

/* What one slot holds: spent, and reserved for what is under way. */
struct ledger_use {
	long iterations;
	long tokens; /* in + out */
	double cost;
	long calls;
	long res_iterations;
	long res_tokens;
	double res_cost;
};

struct ledger;

/* Creates (or truncates) the ledger with nslots empty slots. */
int ledger_create(const char *path, size_t nslots, const struct ledger_ceil *ceil,
		  struct buf *err);
/* NULL with err set when the file or the slot is not there. */
struct ledger *ledger_open(const char *path, size_t slot, struct buf *err);
void ledger_close(struct ledger *l);
/*
 * Sets the slot's spent to req's spent fields (this worker's totals now),
 * then reserves req's res_* (each replaces the slot's reservation of its
 * kind; a negative one keeps it).  0, or -ENOSPC with why naming the
 * run-wide ceiling that would be passed (the reservation is then not
 * made), or another -errno.
 */
int ledger_reserve(struct ledger *l, const struct ledger_use *req, struct buf *why);
/* The slot's spent becomes spent's totals; its token and cost reservation
 * is dropped, its iteration reservation by the iterations now spent. */
int ledger_settle(struct ledger *l, const struct ledger_use *spent);
/* Every slot (at most n) into use[]; the count read, or -errno. */
long ledger_read(const char *path, struct ledger_use *use, size_t n,
		 struct ledger_ceil *ceil, struct buf *err);

#endif
