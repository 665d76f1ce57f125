/*
 * verify.c: a panel of voting verifiers.  See verify.h.
 */
#include "engine/verify.h"
#include "engine/run.h"
#include "tree/git.h"
#include "actor/provider.h"
#include "base/ckd.h"
#include "base/clock.h"
#include "base/utf8.h"
#include "judge/vote.h"
#include "record/evkind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A verdict is a few hundred tokens; a small ceiling keeps the worst case
 * the budget must carry small. */
#define VERIFY_MAX_OUTPUT 1024

/* One call's spend, charged attempt by attempt (failed ones included). */
struct call {
	const struct verify_in *in;
	const struct model_preset *mp;
	size_t prompt_bytes;
	long max_out;
	long tin, tout, calls;
	double cost;
	int budget_stop;
	struct buf why;
};

static int on_attempt(void *ctx, const struct provider_attempt *a)
{
	struct call *c = ctx;
	struct budget *b = c->in->budget;
	double before = b->cost;

	budget_charge_at(b, a->tokens_in, a->tokens_out,
			 a->usage_estimated ? 0 : c->prompt_bytes, c->mp->price_in,
			 c->mp->price_out);
	c->tin = ckd_add(c->tin, a->tokens_in);
	c->tout = ckd_add(c->tout, a->tokens_out);
	c->calls++;
	c->cost += b->cost - before;
	buf_reset(&c->why);
	if (a->will_retry &&
	    (budget_spent(b, &c->why) ||
	     budget_precheck_at(b, c->prompt_bytes, c->max_out, c->mp->price_in,
				c->mp->price_out, &c->why) < 0))
		c->budget_stop = 1;
	return c->budget_stop;
}

static void system_text(const struct verifier_brief *v, struct buf *out)
{
	buf_addf(out,
		 "You are '%s', one of several independent, skeptical verifiers. "
		 "Your perspective:\n\n%s\n\nJudge only from that perspective and "
		 "only from the material given. Deterministic checks (tests, "
		 "compilers) have already run; your job is what they cannot see. "
		 "Answer with exactly one JSON object and nothing else:\n"
		 "{\"verdict\": \"accept\" or \"reject\", \"confidence\": a number "
		 "from 0 to 1, \"reasons\": [{\"file\": a path or null, \"line\": a "
		 "line number or null, \"text\": one sentence}]}\n"
		 "A reject gives at least one reason, with file and line where it "
		 "can. When in doubt, reject.\n",
		 v->name, v->brief);
}

static json_t *reasons_json(const struct vote_ballot *b)
{
	json_t *a = json_array();
	for (size_t i = 0; i < b->nreasons; i++) {
		const struct vote_reason *r = &b->reasons[i];
		json_array_append_new(
			a, json_pack("{s:o,s:o,s:o}", "file",
				     r->file ? events_str(r->file) : json_null(), "line",
				     r->line >= 0 ? json_integer(r->line) : json_null(),
				     "text", events_str(r->text)));
	}
	return a;
}

/*
 * One sample of one brief.  The ballot is an abstention with its reason
 * when the reply is no verdict or the call failed for a reason of the
 * model's side; returns < 0 only for what ends the panel (budget,
 * interrupt, deadline).
 */
static int ask(const struct verify_in *in, const struct verifier_brief *v, int sample,
	       struct provider *p, const struct model_preset *mp, json_t *votes,
	       struct vote_ballot *b, struct buf *err)
{
	struct buf sys = BUF_INIT, raw = BUF_INIT, user = BUF_INIT, why = BUF_INIT;
	struct provider_reply reply = PROVIDER_REPLY_INIT;
	struct provider_request req;
	struct call c = {.in = in, .mp = mp, .why = BUF_INIT};
	int ret;

	system_text(v, &sys);
	buf_addf(&raw, "# Question\n\n%s\n\n%s", in->question, in->subject);
	utf8_clean(raw.s, raw.len, &user); /* the request is JSON */
	c.prompt_bytes = sys.len + user.len;
	c.max_out = in->cfg->max_output_tokens > 0 &&
				    in->cfg->max_output_tokens < VERIFY_MAX_OUTPUT
			    ? in->cfg->max_output_tokens
			    : VERIFY_MAX_OUTPUT;
	ret = budget_precheck_at(in->budget, c.prompt_bytes, c.max_out, mp->price_in,
				 mp->price_out, &why);
	if (ret < 0) {
		err_set(err, ret, "verifier '%s': %s", v->name, why.s);
		goto out;
	}
	req = (struct provider_request){.system = sys.s,
					.prompt = user.s,
					.max_output_tokens = c.max_out,
					.deadline_ms = in->budget->deadline_at};
	provider_set_attempt_cb(p, on_attempt, &c);
	/* what came before is on record first, or the verifier is not asked */
	if (in->ev && (ret = events_barrier(in->ev)) < 0) {
		err_set(err, ret, "%s", in->ev->err.s);
		goto out;
	}
	ret = provider_complete(p, &req, &reply, &why);
	if (ret == 0) {
		vote_parse(reply.text.s, reply.text.len, b);
	} else if (c.budget_stop || ret == -ECANCELED || ret == -ETIME) {
		err_set(err, c.budget_stop ? -ENOSPC : ret, "verifier '%s': %s", v->name,
			c.budget_stop ? c.why.s : why.s);
		ret = c.budget_stop ? -ENOSPC : ret;
	} else {
		/* the model's side failed: an abstention, on the record */
		vote_ballot_release(b);
		b->error = xasprintf("the call failed: %s", why.s);
		ret = 0;
	}
	if (in->spend)
		role_spend_add(in->spend, c.tin, c.tout, c.calls, c.cost);
	{
		json_t *vote = json_pack(
			"{s:i,s:o,s:i,s:o,s:s,s:f,s:o,s:o,s:I,s:I,s:I,s:f}", "iteration",
			in->iteration, "verifier", events_str(v->name), "sample", sample,
			"model", events_str(mp->model), "verdict",
			vote_verdict_name(b->verdict), "confidence", b->confidence,
			"reasons", reasons_json(b), "error",
			b->error ? events_str(b->error) : json_null(), "tokens_in",
			(json_int_t)c.tin, "tokens_out", (json_int_t)c.tout, "calls",
			(json_int_t)c.calls, "cost_usd", c.cost);
		if (in->ev)
			events_append(in->ev, EV_VOTE, json_incref(vote));
		json_array_append_new(votes, vote);
	}
out:
	provider_reply_release(&reply);
	buf_release(&sys);
	buf_release(&raw);
	buf_release(&user);
	buf_release(&why);
	buf_release(&c.why);
	return ret;
}

static const char *brief_model(const struct verify_in *in, const struct verifier_brief *v)
{
	return v->model			? v->model
	       : in->cfg->role_verifier ? in->cfg->role_verifier
					: in->cfg->model;
}

/* The dissent of one brief, for the summary line and the next prompt. */
static void dissent(struct verify_out *out, const struct verifier_brief *v,
		    const struct vote_ballot *b)
{
	const char *first = b->nreasons ? b->reasons[0].text : b->error ? b->error : "";
	int abstained = b->verdict == VOTE_ABSTAIN;

	buf_addf(&out->summary, "; %s %s: %.200s", v->name,
		 abstained ? "abstained" : "rejected", first);
	buf_addf(&out->feedback, "## %s %s", v->name,
		 abstained ? "gave no verdict" : "rejected the change");
	if (!abstained)
		buf_addf(&out->feedback, " (confidence %.2f)", b->confidence);
	buf_adds(&out->feedback, "\n\n");
	if (abstained)
		buf_addf(&out->feedback, "- %s\n", b->error ? b->error : "no verdict");
	vote_reasons_text(b, &out->feedback);
	buf_adds(&out->feedback, "\n");
}

/* Every sample of brief v; *accepts set. */
static int judge_brief(const struct verify_in *in, const struct verifier_brief *v,
		       struct verify_out *out, int *accepts, struct buf *err)
{
	struct model_preset mp;
	struct provider *p = NULL;
	struct vote_ballot b = VOTE_BALLOT_INIT, last = VOTE_BALLOT_INIT;
	long n = v->samples > 0 ? v->samples : 1;
	double scores[CONFIG_MAX_SAMPLES], mean = 0, std = 0;
	json_t *votes = json_array();
	int ret = route_provider(in->cfg, brief_model(in, v), 0, &mp, &p, err);

	*accepts = 0;
	if (n > CONFIG_MAX_SAMPLES)
		n = CONFIG_MAX_SAMPLES;
	for (long s = 0; ret == 0 && s < n; s++) {
		ret = ask(in, v, (int)s + 1, p, &mp, votes, &b, err);
		scores[s] = vote_score(&b);
		/* the reasons shown for a dissent: the most negative sample's */
		if (ret == 0 && (s == 0 || scores[s] < vote_score(&last))) {
			vote_ballot_release(&last);
			last = b;
			b = (struct vote_ballot)VOTE_BALLOT_INIT;
		}
	}
	if (ret == 0) {
		*accepts = vote_brief_accepts(scores, (size_t)n, in->k, &mean, &std);
		if (!*accepts)
			dissent(out, v, &last);
		json_array_append_new(
			out->briefs,
			json_pack("{s:o,s:o,s:b,s:f,s:f,s:i,s:o}", "name",
				  events_str(v->name), "model", events_str(mp.model),
				  "accepted", *accepts, "mean", mean, "std", std,
				  "samples", (int)n, "votes", json_incref(votes)));
	}
	json_decref(votes);
	vote_ballot_release(&b);
	vote_ballot_release(&last);
	if (p)
		provider_free(p);
	return ret;
}

int verify_panel(const struct verify_in *in, struct verify_out *out, struct buf *err)
{
	struct buf tail = BUF_INIT;
	json_t *names = json_array(), *slim;
	int ret = 0;

	out->k = in->nbriefs;
	out->needed = vote_needed(in->accept, in->nbriefs);
	out->accepts = 0;
	out->score = 0;
	out->briefs = json_array();
	for (size_t i = 0; ret == 0 && i < in->nbriefs; i++) {
		int acc = 0;
		if (interrupt_pending())
			ret = err_set(err, -ECANCELED, "interrupted during the vote");
		else
			ret = judge_brief(in, &in->briefs[i], out, &acc, err);
		out->accepts += (size_t)acc;
		if (acc)
			json_array_append_new(names, events_str(in->briefs[i].name));
	}
	if (ret == 0) {
		for (size_t i = 0; i < json_array_size(out->briefs); i++) {
			const json_t *b = json_array_get(out->briefs, i);
			out->score += json_number_value(json_object_get(b, "mean")) -
				      in->k * json_number_value(
						      json_object_get(b, "std"));
		}
		if (json_array_size(out->briefs))
			out->score /= (double)json_array_size(out->briefs);
		out->accepted = out->accepts >= out->needed;
		buf_add(&tail, out->summary.s, out->summary.len);
		buf_reset(&out->summary);
		buf_addf(&out->summary, "%zu of %zu accept (%zu needed): %s%s",
			 out->accepts, out->k, out->needed,
			 out->accepted ? "accepted" : "rejected", tail.s);
		/* each vote is its own record already: the tally names briefs */
		slim = json_deep_copy(out->briefs);
		for (size_t i = 0; i < json_array_size(slim); i++)
			json_object_del(json_array_get(slim, i), "votes");
		if (in->ev)
			events_append(in->ev, EV_VERDICT,
				      json_pack("{s:i,s:b,s:I,s:I,s:I,s:O,s:o,s:O}",
						"iteration", in->iteration, "accepted",
						out->accepted, "accepts",
						(json_int_t)out->accepts, "needed",
						(json_int_t)out->needed, "of",
						(json_int_t)out->k, "accepted_by", names,
						"summary", events_str(out->summary.s),
						"briefs", slim));
		json_decref(slim);
	}
	json_decref(names);
	buf_release(&tail);
	return ret;
}

void verify_out_release(struct verify_out *out)
{
	buf_release(&out->summary);
	buf_release(&out->feedback);
	json_decref(out->briefs);
	out->briefs = NULL;
}

void vote_tally_set(struct vote_tally *t, const struct verify_out *out)
{
	t->voted = 1;
	t->accepted = out->accepted;
	t->accepts = (long)out->accepts;
	t->of = (long)out->k;
	t->score = out->score;
}

json_t *vote_tally_json(const struct vote_tally *t)
{
	if (!t->voted)
		return json_null();
	return json_pack("{s:b,s:I,s:I,s:f}", "accepted", t->accepted, "accepts",
			 (json_int_t)t->accepts, "of", (json_int_t)t->of, "score",
			 t->score);
}

void vote_tally_from_json(struct vote_tally *t, const json_t *j)
{
	memset(t, 0, sizeof(*t));
	if (!json_is_object(j))
		return;
	t->voted = 1;
	t->accepted = json_is_true(json_object_get(j, "accepted"));
	t->accepts = (long)json_integer_value(json_object_get(j, "accepts"));
	t->of = (long)json_integer_value(json_object_get(j, "of"));
	t->score = json_number_value(json_object_get(j, "score"));
}

int vote_tally_cmp(const struct vote_tally *a, const struct vote_tally *b)
{
	if (a->voted != b->voted)
		return a->voted ? 1 : -1;
	if (a->accepts != b->accepts)
		return a->accepts > b->accepts ? 1 : -1;
	if (a->score != b->score)
		return a->score > b->score ? 1 : -1;
	return 0;
}

/* ---- in a run: the panel on a commit every gate passed ------------------ */

#define VERIFY_DIFF_MAX (64 * 1024)

static void run_subject(struct run *r, struct worker *w, const char *commit,
			struct buf *out)
{
	struct buf diff = BUF_INIT;
	const struct config *c = r->cfg;

	buf_init(&diff, VERIFY_DIFF_MAX);
	buf_addf(out,
		 "# The goal\n\n%s\n\n# The gates\n\nEvery gate exits 0 on this "
		 "change:\n\n",
		 r->goal);
	for (size_t i = 0; i < c->gates.n; i++)
		buf_addf(out, "%zu. `%s`\n", i + 1, c->gates.v[i]);
	git_run(w->tree, &diff, NULL, "diff", "--no-ext-diff", "--no-textconv", "--stat",
		"--patch", r->base_sha, commit, NULL);
	buf_addf(out, "\n# The change (git diff %.12s..%.12s)%s\n\n```diff\n",
		 r->base_sha, commit,
		 diff.truncated ? ", cut at 64 KiB: judge what is shown, and say "
				  "so if it is not enough"
				: "");
	buf_add(out, diff.s, diff.len);
	buf_adds(out, "\n```\n");
	buf_release(&diff);
}

int verify_run_candidate(struct run *r, struct worker *w, int iteration,
			 const char *commit, struct verify_out *out, struct buf *err)
{
	struct buf subject = BUF_INIT;
	const struct config *c = r->cfg;
	struct verify_in in = {
		.cfg = c,
		.briefs = c->verifiers,
		.nbriefs = c->nverifiers,
		.accept = c->verify_accept,
		.k = c->verify_k >= 0 ? c->verify_k : 1,
		.question = "Every gate passes on this change. Does it really meet "
			    "the goal, honestly and in general, as your perspective "
			    "judges it (not only for the inputs the tests use)?",
		.budget = &r->budget,
		.spend = &r->spend[ROLE_VERIFIER],
		.ev = &r->ev,
		.iteration = iteration,
	};
	int ret;

	run_subject(r, w, commit, &subject);
	in.subject = subject.s;
	ret = verify_panel(&in, out, err);
	buf_release(&subject);
	return ret;
}
