/*
 * budget.c: ceilings and spend.  See budget.h for the guarantee.
 */
#include "engine/budget.h"
#include "base/ckd.h"
#include "base/clock.h"
#include "engine/ledger.h"

#include <errno.h>
#include <limits.h>
#include <math.h>

#define INITIAL_BPT 3.0
/* No tokenizer packs more than a few tokens into a byte. */
#define BPT_MIN 0.25

void budget_init(struct budget *b)
{
	b->max_iterations = 0;
	b->max_tokens = 0;
	b->max_cost = -1;
	b->deadline_at = 0;
	b->price_in = b->price_out = -1;
	b->iterations = 0;
	b->tokens_in = b->tokens_out = 0;
	b->cost = 0;
	b->calls = 0;
	b->bpt = INITIAL_BPT;
	b->overrun = 0;
	b->ledger = NULL;
}

/* This worker's spend now, for the ledger; reservations kept (-1). */
static struct ledger_use ledger_use_of(const struct budget *b)
{
	return (struct ledger_use){.iterations = b->iterations,
				   .tokens = budget_tokens_used(b),
				   .cost = b->cost,
				   .calls = b->calls,
				   .res_iterations = -1,
				   .res_tokens = -1,
				   .res_cost = -1};
}

static void settle(const struct budget *b)
{
	struct ledger_use u = ledger_use_of(b);
	if (b->ledger)
		ledger_settle(b->ledger, &u);
}

double budget_price_at(double price_in, double price_out, long tin, long tout)
{
	double in = price_in > 0 ? price_in : 0;
	double out = price_out > 0 ? price_out : 0;
	return (tin * in + tout * out) / 1e6;
}

double budget_price(const struct budget *b, long tin, long tout)
{
	return budget_price_at(b->price_in, b->price_out, tin, tout);
}

void budget_charge_cost(struct budget *b, long tin, long tout, double cost)
{
	b->calls++;
	b->tokens_in += tin;
	b->tokens_out += tout;
	b->cost += cost;
	settle(b);
}

long budget_estimate_tokens(const struct budget *b, size_t bytes)
{
	return ckd_dtol(ceil((double)bytes / b->bpt));
}

void budget_charge(struct budget *b, long tin, long tout, size_t prompt_bytes)
{
	budget_charge_at(b, tin, tout, prompt_bytes, b->price_in, b->price_out);
}

void budget_charge_at(struct budget *b, long tin, long tout, size_t prompt_bytes,
		      double price_in, double price_out)
{
	b->calls++;
	/* a server may report anything up to INT64_MAX: saturate, never wrap */
	b->tokens_in = ckd_add(b->tokens_in, tin < 0 ? 0 : tin);
	b->tokens_out = ckd_add(b->tokens_out, tout < 0 ? 0 : tout);
	b->cost += budget_price_at(price_in, price_out, tin, tout);
	if (prompt_bytes && tin > 0) {
		double measured = (double)prompt_bytes / (double)tin;
		if (tin > budget_estimate_tokens(b, prompt_bytes))
			b->overrun = 1;
		/* a lying server must not drive estimates to infinity */
		if (measured < BPT_MIN)
			measured = BPT_MIN;
		if (measured < b->bpt)
			b->bpt = measured;
	}
	settle(b);
}

long budget_tokens_used(const struct budget *b)
{
	return ckd_add(b->tokens_in, b->tokens_out);
}

int budget_precheck(const struct budget *b, size_t prompt_bytes, long max_out,
		    struct buf *why)
{
	return budget_precheck_at(b, prompt_bytes, max_out, b->price_in, b->price_out,
				  why);
}

int budget_precheck_at(const struct budget *b, size_t prompt_bytes, long max_out,
		       double price_in, double price_out, struct buf *why)
{
	long est = budget_estimate_tokens(b, prompt_bytes);
	long worst = ckd_add(est, max_out); /* --max-output-tokens near INT64_MAX */
	if (b->max_tokens > 0) {
		long left = ckd_sub(b->max_tokens, budget_tokens_used(b));
		if (worst > left)
			return err_set(why, -ENOSPC,
				       "the next model call could use up to %ld tokens "
				       "(about %ld prompt + %ld output) but only %ld of "
				       "--max-tokens %ld remain",
				       worst, est, max_out, left < 0 ? 0 : left,
				       b->max_tokens);
	}
	if (b->max_cost >= 0) {
		double wcost = budget_price_at(price_in, price_out, est, max_out);
		double left = b->max_cost - b->cost;
		if (wcost > left)
			return err_set(
				why, -ENOSPC,
				"the next model call could cost up to $%.4f but only "
				"$%.4f of --max-cost $%.4f remains",
				wcost, left < 0 ? 0 : left, b->max_cost);
	}
	if (b->ledger) {
		struct ledger_use u = ledger_use_of(b);
		u.res_tokens = worst;
		u.res_cost = budget_price_at(price_in, price_out, est, max_out);
		return ledger_reserve(b->ledger, &u, why);
	}
	return 0;
}

int budget_spent(const struct budget *b, struct buf *why)
{
	if (b->max_iterations > 0 && b->iterations >= b->max_iterations)
		return err_set(why, 1, "--max-iterations %ld reached", b->max_iterations);
	if (b->max_tokens > 0 && budget_tokens_used(b) >= b->max_tokens)
		return err_set(why, 1, "--max-tokens %ld reached (%ld used)",
			       b->max_tokens, budget_tokens_used(b));
	if (b->max_cost >= 0 && b->cost >= b->max_cost)
		return err_set(why, 1, "--max-cost $%.4f reached ($%.4f spent)",
			       b->max_cost, b->cost);
	if (b->deadline_at && clock_ms() >= b->deadline_at)
		return err_set(why, 1, "the --deadline passed");
	if (b->ledger) {
		struct ledger_use u = ledger_use_of(b);
		u.res_iterations = 1;
		if (ledger_reserve(b->ledger, &u, why) < 0)
			return 1;
	}
	return 0;
}

long budget_ms_left(const struct budget *b)
{
	long long left;
	if (!b->deadline_at)
		return LONG_MAX;
	left = b->deadline_at - clock_ms();
	return left > 0 ? (long)left : 0;
}
