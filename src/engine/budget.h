/*
 * budget: the loop's ceilings and what has been spent against them.
 *
 * The guarantee (docs/manual.md, "Budgets"): before each model call,
 * budget_precheck computes the worst case of that call — the estimated
 * prompt tokens plus max_output_tokens, priced at the model's rates — and
 * refuses when it could pass the remaining tokens or money.  max_output
 * tokens is sent to the server, so a reply cannot be longer.  The prompt
 * estimate is ceil(bytes / bpt) where bpt starts at 3 bytes per token
 * (real tokenizers average ~4 on code and English) and drops to the lowest
 * ratio measured from the server's reported usage.  So recorded spend never
 * passes --max-tokens or --max-cost unless a server reports more prompt
 * tokens than bytes/bpt; that case is recorded as an overrun.
 *
 * Every attempt is charged, failed ones included (budget_charge).
 *
 * In a fan-out worker (b->ledger set) the same worst case is also reserved
 * in the run's shared ledger before the call, and each iteration before it
 * starts, so the run's ceilings hold for the sum of its workers
 * (docs/design/fanout.md).
 */
#ifndef LOOPGATE_BUDGET_H
#define LOOPGATE_BUDGET_H

#include <stddef.h>
#include "base/buf.h"

struct budget {
	/* limits; <= 0 (or < 0 for cost) means none */
	long max_iterations;
	long max_tokens;
	double max_cost;
	long long deadline_at; /* clock_ms(); 0: none */
	double price_in;       /* USD per million tokens; < 0 unknown */
	double price_out;

	/* spent */
	long iterations;
	long tokens_in;
	long tokens_out;
	double cost;
	long calls;  /* attempts, failed ones included */
	double bpt;  /* bytes per token used for estimates */
	int overrun; /* a call's reported usage passed its estimate */

	/* A fan-out worker's share of the run's budget (ledger.h), or NULL:
	 * budget_precheck and budget_spent then also reserve there against
	 * the run's ceilings, and every charge settles there. */
	struct ledger *ledger;
};

void budget_init(struct budget *b);
double budget_price(const struct budget *b, long tin, long tout);
/* Charges what an agent CLI reported for a turn, at the cost given. */
void budget_charge_cost(struct budget *b, long tin, long tout, double cost);
/* Charges one attempt; prompt_bytes (0: unknown) refines the estimate. */
void budget_charge(struct budget *b, long tin, long tout, size_t prompt_bytes);
long budget_estimate_tokens(const struct budget *b, size_t bytes);
/* tokens_in + tokens_out, saturated at LONG_MAX (never wraps). */
long budget_tokens_used(const struct budget *b);
/* 0: the call may be made.  -ENOSPC: it might not fit; why says so.
 * With a ledger, 0 also means the worst case is reserved there. */
int budget_precheck(const struct budget *b, size_t prompt_bytes, long max_out,
		    struct buf *why);
/*
 * The same at another model's prices (a verifier or the escalation model,
 * engine/route.h): one budget, calls priced by the model that made them.
 */
double budget_price_at(double price_in, double price_out, long tin, long tout);
void budget_charge_at(struct budget *b, long tin, long tout, size_t prompt_bytes,
		      double price_in, double price_out);
int budget_precheck_at(const struct budget *b, size_t prompt_bytes, long max_out,
		       double price_in, double price_out, struct buf *why);
/* 0 while within budget; otherwise which ceiling was reached (why).
 * With a ledger, 0 also means one more iteration is reserved there. */
int budget_spent(const struct budget *b, struct buf *why);
/* Remaining milliseconds before the deadline (LONG_MAX: none). */
long budget_ms_left(const struct budget *b);

#endif
