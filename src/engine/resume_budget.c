/*
 * resume_budget.c: the budget as the log charged it, replayed from the
 * reduced log's charges (resume_state.h) into the run.
 */
#include "engine/resume_impl.h"
#include "engine/resume_state.h"
#include "engine/run.h"
#include "base/ckd.h"

/* A recorded vote (verify.h): its spend, as the panel charged it. */
static void replay_vote(struct run *r, const struct resume_charge *c)
{
	r->budget.calls += c->calls;
	r->budget.tokens_in = ckd_add(r->budget.tokens_in, c->tokens_in);
	r->budget.tokens_out = ckd_add(r->budget.tokens_out, c->tokens_out);
	r->budget.cost += c->cost;
	role_spend_add(&r->spend[ROLE_VERIFIER], c->tokens_in, c->tokens_out, c->calls,
		       c->cost);
}

/* An attempt of an escalated turn: at the escalation model's prices. */
static void replay_escalated(struct run *r, const struct resume_charge *c)
{
	struct model_preset p;
	struct budget *bg = &r->budget;
	long tin = bg->tokens_in, tout = bg->tokens_out, calls = bg->calls;
	double cost = bg->cost;

	if (config_resolve_model(r->cfg, r->cfg->role_escalation, &p, NULL) < 0)
		p.price_in = p.price_out = -1;
	budget_charge_at(bg, c->tokens_in, c->tokens_out, c->prompt_bytes, p.price_in,
			 p.price_out);
	role_spend_add(&r->spend[ROLE_ESCALATION], bg->tokens_in - tin,
		       bg->tokens_out - tout, bg->calls - calls, bg->cost - cost);
}

/*
 * Every attempt charged in log order, exactly as on_attempt charged it, so
 * the totals and the measured bytes-per-token come out the same; plus what
 * earlier resumes charged for calls killed in flight, the verifiers' votes
 * and the escalations (route.h) used so far.
 */
void resume_replay_budget(struct run *r, const struct resume_state *s)
{
	for (size_t i = 0; i < s->ncharges; i++) {
		const struct resume_charge *c = &s->charges[i];
		if (c->kind == RESUME_CHARGE_VOTE)
			replay_vote(r, c);
		else if (c->kind == RESUME_CHARGE_ATTEMPT && c->escalated &&
			 r->cfg->role_escalation)
			replay_escalated(r, c);
		else
			budget_charge(&r->budget, c->tokens_in, c->tokens_out,
				      c->prompt_bytes);
	}
	r->w->escalations_used += s->escalations_used;
	r->w->escalate_next = s->escalate_next;
}
