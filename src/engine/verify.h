/*
 * verify: a panel of voting verifiers judges material no gate can
 * (docs/design/verifiers.md).
 *
 * Each brief (config.h, verifiers:) is a perspective; each is asked,
 * samples times, through its own model (its model:, else roles.verifier,
 * else the run's model: route.h) for a structured verdict (judge/vote.h).
 * Every call is prechecked against the budget and charged to it at its
 * model's prices, and booked to the verifier role.  A reply that is no
 * verdict, or a call that failed, is an abstention with its reason: it
 * never accepts.  The panel accepts when M of K briefs accept.
 *
 *   struct verify_in in = {.cfg = c, .briefs = c->verifiers, ...};
 *   struct verify_out out = VERIFY_OUT_INIT;
 *   ret = verify_panel(&in, &out, &err);
 *       0:          the panel voted; out.accepted, out.summary ("2 of 3
 *                   accept; security rejected: ..."), out.feedback (each
 *                   dissenting brief's reasons), out.briefs (every vote)
 *       -ENOSPC:    the budget cannot carry the next call (err says why)
 *       -ECANCELED: interrupted; -ETIME: the deadline passed
 *       -EINVAL:    a verifier's model cannot be reached (err)
 *   verify_out_release(&out);
 *
 * With in.ev set, each call is a `vote` record and the tally a `verdict`
 * record (record/evkind.h).  In a run (engine/loop.c) the panel sees the
 * goal, the diff and the gates' results only after every gate passed: it
 * can reject a passing change, never pass a failing one.
 */
#ifndef LOOPGATE_VERIFY_H
#define LOOPGATE_VERIFY_H

#include <jansson.h>
#include "base/buf.h"
#include "config/config.h"
#include "engine/budget.h"
#include "engine/route.h"
#include "record/events.h"

struct verify_in {
	const struct config *cfg; /* models:, roles:, http: */
	const struct verifier_brief *briefs;
	size_t nbriefs;
	long accept;		  /* M; <= 0: a majority */
	double k;		  /* samples: mean - k*std */
	const char *question;	  /* what each verifier answers */
	const char *subject;	  /* the material, UTF-8 */
	struct budget *budget;	  /* prechecked and charged */
	struct role_spend *spend; /* the verifier role's; NULL: none kept */
	struct events *ev;	  /* NULL: no record */
	int iteration;		  /* for the records */
};

struct verify_out {
	int accepted;
	size_t accepts, needed, k;
	struct buf summary;  /* one line, every dissent named */
	struct buf feedback; /* the dissenting briefs' reasons, for a prompt */
	json_t *briefs;	     /* [{name, model, accepted, mean, std, votes}] */
	double score;	     /* the briefs' mean of (mean - k*std), 0..1 */
};
#define VERIFY_OUT_INIT                                                                  \
	{                                                                                \
		.summary = BUF_INIT, .feedback = BUF_INIT                                \
	}

int verify_panel(const struct verify_in *in, struct verify_out *out, struct buf *err);
void verify_out_release(struct verify_out *out);

/*
 * The panel's latest tally in a run: summary.json's "vote" (null when no
 * vote was taken), which a fan-out reads for every worker: `best` breaks a
 * tie of diff size by it, and the reports show it.
 */
struct vote_tally {
	int voted; /* 0: no vote was taken */
	int accepted;
	long accepts, of;
	double score; /* verify_out.score */
};
void vote_tally_set(struct vote_tally *t, const struct verify_out *out);
json_t *vote_tally_json(const struct vote_tally *t);
void vote_tally_from_json(struct vote_tally *t, const json_t *j);
/* -1, 0, 1 as a's vote is weaker, equal, stronger than b's (more accepts,
 * then the higher score; no vote is weakest). */
int vote_tally_cmp(const struct vote_tally *a, const struct vote_tally *b);

struct run;
struct worker;
/*
 * The panel of r's config on commit (iteration's, every gate passed): the
 * goal, the gates and the diff from the run's base (capped at 64 KiB),
 * recorded in r's log, charged to r's budget and verifier role.  Returns
 * as verify_panel.
 */
int verify_run_candidate(struct run *r, struct worker *w, int iteration,
			 const char *commit, struct verify_out *out, struct buf *err);

#endif
