/*
 * vote: a voting verifier's verdict, parsed strictly, and the tally of a
 * panel (docs/design/verifiers.md).  Pure: no I/O, no model calls (those
 * are engine/verify.c's).
 *
 * A verifier answers with one JSON object, alone or in one ``` fence:
 *   {"verdict": "accept" | "reject", "confidence": 0..1,
 *    "reasons": [{"file": "calc.py", "line": 3, "text": "..."}, ...]}
 * verdict and confidence are required; reasons is required and a reject
 * needs at least one (the next prompt is built from them); in a reason,
 * text is required, file and line optional (null allowed).  Other keys are
 * ignored.  Anything else is no verdict: vote_parse says why and the ballot
 * is an abstention, never a crash and never an accept.
 *
 *   struct vote_ballot b = VOTE_BALLOT_INIT;
 *   if (vote_parse(reply, len, &b) < 0) ... b.error says why (ABSTAIN)
 *   score = vote_score(&b);
 *   vote_ballot_release(&b);
 *
 * A brief asked N times (samples) accepts when mean - k*std of its scores
 * is at least 0.5 (vote_brief_accepts); the panel accepts when at least M
 * of its K briefs accept (vote_needed: verify_accept, else a majority).
 */
#ifndef LOOPGATE_VOTE_H
#define LOOPGATE_VOTE_H

#include <stddef.h>
#include "base/buf.h"

enum vote_verdict { VOTE_ABSTAIN = 0, VOTE_ACCEPT, VOTE_REJECT };

#define VOTE_MAX_REASONS     32
#define VOTE_MAX_REASON_TEXT 2000

struct vote_reason {
	char *file; /* NULL: none given */
	long line;  /* -1: none given */
	char *text;
};

struct vote_ballot {
	enum vote_verdict verdict;
	double confidence;
	struct vote_reason *reasons;
	size_t nreasons;
	char *error; /* why the reply is no verdict (verdict ABSTAIN) */
};
#define VOTE_BALLOT_INIT                                                                 \
	{                                                                                \
		.verdict = VOTE_ABSTAIN                                                  \
	}

/* 0: b filled.  -EINVAL: no verdict; b->error says why, verdict ABSTAIN. */
int vote_parse(const char *text, size_t len, struct vote_ballot *b);
void vote_ballot_release(struct vote_ballot *b);
const char *vote_verdict_name(enum vote_verdict v);
/* accept: 0.5 + confidence/2, reject: 0.5 - confidence/2, abstain: 0. */
double vote_score(const struct vote_ballot *b);
/* 1 when mean - k*std (population std) of the n scores is >= 0.5; the
 * mean and std out. n 0 never accepts. */
int vote_brief_accepts(const double *scores, size_t n, double k, double *mean,
		       double *std);
/* How many of k briefs must accept: accept (> 0), else k/2 + 1. */
size_t vote_needed(long accept, size_t k);
/* The reasons as text lines "- file:line: text" into out. */
void vote_reasons_text(const struct vote_ballot *b, struct buf *out);

#endif
