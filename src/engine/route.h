/*
 * route: which model does which job (docs/design/verifiers.md).
 *
 * roles: in loopgate.yaml names a model per role: worker (the actor: its
 * turns), verifier (the voting verifiers without a model of their own:
 * engine/verify.h) and escalation (the turn after a stall).  All calls
 * share the run's one budget, each priced at its own model's rates; the
 * spend is kept per role so the summary, handoff.md and `loopgate show`
 * can say who spent what.  The worker's share is the rest of the run's
 * total, so the roles always add up to it, also after a resume.
 *
 *   route_provider(cfg, spec, &preset, &prov, err);  any role's client
 *   route_escalate(r, w, iteration)      from the stall detector: 1 when
 *                                        the next turn is the escalation's
 *   route_turn_begin(r, w, &t) ... act ... route_turn_end(r, w, &t)
 *                                        around an actor turn: swaps in
 *                                        the escalation model for it and
 *                                        books its spend to that role
 *   route_spend_json(r)                  {"worker": {...}, ...}
 */
#ifndef LOOPGATE_ROUTE_H
#define LOOPGATE_ROUTE_H

#include <jansson.h>
#include "base/buf.h"
#include "config/config.h"

struct run;
struct worker;
struct provider;

enum role { ROLE_WORKER, ROLE_VERIFIER, ROLE_ESCALATION, ROLE_N };

struct role_spend {
	long tokens_in;
	long tokens_out;
	long calls;
	double cost;
};

const char *role_name(enum role role);
void role_spend_add(struct role_spend *s, long tin, long tout, long calls, double cost);

/*
 * A client for the model spec (config_resolve_model), with the config's
 * HTTP settings (record: its turns go to --record too); preset is filled (borrowed strings).  Its API key is
 * registered for redaction.  -EINVAL with err set: unknown provider, or
 * no key for a public API; -ELIBACC: libcurl cannot be loaded (the
 * machine lacks it: the run cannot start).
 */
int route_provider(const struct config *c, const char *spec, int record,
		   struct model_preset *preset, struct provider **out, struct buf *err);

/* The stall detector fired at iteration: 1 when roles.escalation takes
 * the next turn (recorded), 0 when none is left (recorded too). */
int route_escalate(struct run *r, struct worker *w, int iteration);

struct route_turn {
	enum role role;
	struct provider *prov; /* the worker's own, while swapped out */
	struct model_preset preset;
	double price_in, price_out;
	long max_output_tokens;
	long tin, tout, calls;
	double cost;
};
void route_turn_begin(struct run *r, struct worker *w, struct route_turn *t);
void route_turn_end(struct run *r, struct worker *w, struct route_turn *t);

/* Spend per role; "worker" is the run's total minus the others. */
json_t *route_spend_json(const struct run *r);
/* route_spend_json's object (summary.json's "roles") as lines
 * "  worker      openai/cheap  3 calls, 1100 in / 52 out tokens, $0.0012",
 * each after prefix; roles that made no call are left out. */
void route_spend_text(const json_t *roles, const char *prefix, struct buf *out);

#endif
