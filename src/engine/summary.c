/*
 * summary.c: the run's summary object.  See summary.h.
 */
#include "engine/summary.h"
#include "engine/route.h"
#include "base/clock.h"
#include "store/store.h"
#include "engine/fanout.h"

#include <string.h>

json_t *run_summary(const struct run *r, int exit_code)
{
	json_t *o = json_object();
	json_object_set_new(o, "run_id", json_string(r->id));
	json_object_set_new(o, "status", json_string(r->status));
	/* the reason may quote a path or a command: never let it vanish */
	json_object_set_new(o, "reason", events_strn(r->reason.s, r->reason.len));
	json_object_set_new(o, "exit_code", json_integer(exit_code));
	json_object_set_new(o, "iterations", json_integer(r->budget.iterations));
	json_object_set_new(o, "tokens_in", json_integer(r->budget.tokens_in));
	json_object_set_new(o, "tokens_out", json_integer(r->budget.tokens_out));
	json_object_set_new(o, "cost_usd", json_real(r->budget.cost));
	json_object_set_new(o, "calls", json_integer(r->budget.calls));
	/* who spent it: worker, verifier, escalation (route.h); they add up */
	json_object_set_new(o, "roles", route_spend_json(r));
	json_object_set_new(o, "elapsed_s",
			    json_real((clock_ms() - r->start_ms) / 1000.0));
	json_object_set_new(o, "branch", events_str(r->w->branch));
	json_object_set_new(o, "run_dir", events_str(r->run_dir));
	json_object_set_new(o, "base",
			    r->base_sha ? json_string(r->base_sha) : json_null());
	/* review_sample: this converged run is picked for human review */
	if (exit_code == 0 && r->status && !strcmp(r->status, "converged") &&
	    store_review_pick(r->id, r->cfg->review_sample))
		json_object_set_new(o, "review_requested", json_true());
	/* loopgate resume: how many times the run was continued after a crash */
	json_object_set_new(o, "resumed", json_integer(r->resumes));
	/* loopgate once: one turn, no gate; its change is in diff.patch */
	if (!r->cfg->gates.n) {
		json_object_set_new(o, "mode", json_string("once"));
		json_object_set_new(o, "diff_file", json_string("diff.patch"));
	}
	/* "--no-sandbox" is on the record wherever the run is read */
	json_object_set_new(o, "sandbox", json_boolean(r->cfg->sandbox != 0));
	/* the verifiers' latest tally (a fan-out's `best` reads it) */
	json_object_set_new(o, "vote", vote_tally_json(&r->w->vote));
	/* fan-out: every worker, what became of it, who won and why */
	if (r->fan) {
		json_object_set_new(o, "workers", fanout_json(r->fan));
		json_object_set_new(o, "select", json_string(fanout_select(r->fan)));
	}
	if (r->link.parent) {
		json_object_set_new(o, "parent", json_string(r->link.parent));
		json_object_set_new(o, "worker",
				    json_string(r->link.worker ? r->link.worker : ""));
	}
	return o;
}
