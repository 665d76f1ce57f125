/*
 * Unit tests for src/judge/vote.c: the verdict parser case by case (one
 * table: reply text -> verdict or the reason it is none), scores, the
 * samples rule mean - k*std and the M-of-K count.
 */
#include "unit.h"
#include "judge/vote.h"

#include <math.h>

static const struct {
	const char *reply;
	enum vote_verdict want;
	const char *error; /* a substring of b.error when want is ABSTAIN */
	size_t nreasons;
} cases[] = {
	{"{\"verdict\":\"accept\",\"confidence\":0.9,\"reasons\":[]}", VOTE_ACCEPT, NULL,
	 0},
	{"  {\"verdict\":\"reject\",\"confidence\":1,\"reasons\":[{\"file\":\"a.py\","
	 "\"line\":3,\"text\":\"special-cases add(2, 3)\"}]}\n",
	 VOTE_REJECT, NULL, 1},
	{"```json\n{\"verdict\":\"accept\",\"confidence\":0,\"reasons\":[{\"text\":"
	 "\"ok\","
	 "\"file\":null,\"line\":null}]}\n```",
	 VOTE_ACCEPT, NULL, 1},
	{"```\n{\"verdict\":\"accept\",\"confidence\":0.5,\"reasons\":[],\"extra\":1}\n``"
	 "`\n",
	 VOTE_ACCEPT, NULL, 0},
	/* no verdict: each says why */
	{"", VOTE_ABSTAIN, "empty", 0},
	{"   \n", VOTE_ABSTAIN, "empty", 0},
	{"looks good to me", VOTE_ABSTAIN, "not one JSON object", 0},
	{"Sure! {\"verdict\":\"accept\",\"confidence\":1,\"reasons\":[]}", VOTE_ABSTAIN,
	 "not one JSON object", 0},
	{"[1,2]", VOTE_ABSTAIN, "not an object", 0},
	{"{\"confidence\":1,\"reasons\":[]}", VOTE_ABSTAIN, "verdict", 0},
	{"{\"verdict\":\"ACCEPT\",\"confidence\":1,\"reasons\":[]}", VOTE_ABSTAIN,
	 "neither accept nor reject", 0},
	{"{\"verdict\":\"maybe\",\"confidence\":1,\"reasons\":[]}", VOTE_ABSTAIN,
	 "neither", 0},
	{"{\"verdict\":\"accept\",\"reasons\":[]}", VOTE_ABSTAIN, "confidence", 0},
	{"{\"verdict\":\"accept\",\"confidence\":\"0.9\",\"reasons\":[]}", VOTE_ABSTAIN,
	 "confidence", 0},
	{"{\"verdict\":\"accept\",\"confidence\":1.5,\"reasons\":[]}", VOTE_ABSTAIN,
	 "confidence", 0},
	{"{\"verdict\":\"accept\",\"confidence\":-0.1,\"reasons\":[]}", VOTE_ABSTAIN,
	 "confidence", 0},
	{"{\"verdict\":\"accept\",\"confidence\":1}", VOTE_ABSTAIN, "reasons", 0},
	{"{\"verdict\":\"reject\",\"confidence\":1,\"reasons\":[]}", VOTE_ABSTAIN,
	 "reject with no reasons", 0},
	{"{\"verdict\":\"reject\",\"confidence\":1,\"reasons\":[\"bad\"]}", VOTE_ABSTAIN,
	 "not an object", 0},
	{"{\"verdict\":\"reject\",\"confidence\":1,\"reasons\":[{\"file\":\"a\"}]}",
	 VOTE_ABSTAIN, "no text", 0},
	{"{\"verdict\":\"reject\",\"confidence\":1,\"reasons\":[{\"text\":\"x\","
	 "\"line\":-2}]}",
	 VOTE_ABSTAIN, "line number", 0},
	{"{\"verdict\":\"reject\",\"confidence\":1,\"reasons\":[{\"text\":\"x\","
	 "\"line\":\"3\"}]}",
	 VOTE_ABSTAIN, "line number", 0},
	{"{\"verdict\":\"reject\",\"confidence\":1,\"reasons\":[{\"text\":\"x\","
	 "\"file\":7}]}",
	 VOTE_ABSTAIN, "file", 0},
	{"{\"verdict\":\"accept\",\"verdict\":\"reject\",\"confidence\":1,\"reasons\":[]"
	 "}",
	 VOTE_ABSTAIN, "not one JSON object", 0},
	{"{\"verdict\":\"accept\",\"confidence\":1,\"reasons\":[]} {}", VOTE_ABSTAIN,
	 "not one JSON object", 0},
	{"```json\n{\"verdict\":\"accept\",\"confidence\":1,\"reasons\":[]}",
	 VOTE_ABSTAIN, "not one JSON object", 0},
};

TEST(parse_table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vote_ballot b = VOTE_BALLOT_INIT;
		int ret = vote_parse(cases[i].reply, strlen(cases[i].reply), &b);
		if ((int)b.verdict != (int)cases[i].want ||
		    (ret < 0) != (cases[i].want == VOTE_ABSTAIN) ||
		    (cases[i].error && (!b.error || !strstr(b.error, cases[i].error))) ||
		    (!cases[i].error && b.error) || b.nreasons != cases[i].nreasons) {
			fprintf(stderr, "case %zu: %s\n  got %s (%s), %zu reasons\n", i,
				cases[i].reply, vote_verdict_name(b.verdict),
				b.error ? b.error : "-", b.nreasons);
			unit_cur_failed = 1;
		}
		vote_ballot_release(&b);
	}
}

TEST(reason_fields_and_text)
{
	const char *s =
		"{\"verdict\":\"reject\",\"confidence\":0.8,\"reasons\":["
		"{\"file\":\"calc.py\",\"line\":2,\"text\":\"returns 5 for (2, 3)\"},"
		"{\"file\":\"calc.py\",\"text\":\"no general case\"},"
		"{\"text\":\"gamed\"}]}";
	struct vote_ballot b = VOTE_BALLOT_INIT;
	struct buf t = BUF_INIT;
	CHECK_INT(vote_parse(s, strlen(s), &b), 0);
	CHECK_INT(b.nreasons, 3);
	CHECK_INT(b.reasons[0].line, 2);
	CHECK_INT(b.reasons[1].line, -1);
	CHECK(b.reasons[2].file == NULL);
	CHECK(fabs(b.confidence - 0.8) < 1e-12);
	vote_reasons_text(&b, &t);
	CHECK_STR(t.s, "- calc.py:2: returns 5 for (2, 3)\n- calc.py: no general case\n"
		       "- gamed\n");
	buf_release(&t);
	vote_ballot_release(&b);
}

TEST(parse_reuses_a_ballot)
{
	struct vote_ballot b = VOTE_BALLOT_INIT;
	const char *bad = "nope", *good = "{\"verdict\":\"accept\",\"confidence\":1,"
					  "\"reasons\":[{\"text\":\"fine\"}]}";
	CHECK(vote_parse(bad, strlen(bad), &b) < 0);
	CHECK(b.error != NULL);
	CHECK_INT(vote_parse(good, strlen(good), &b), 0);
	CHECK(b.error == NULL);
	CHECK_INT(b.nreasons, 1);
	CHECK(vote_parse(NULL, 0, &b) < 0);
	CHECK_INT(b.nreasons, 0);
	vote_ballot_release(&b);
}

TEST(long_reason_is_capped)
{
	struct buf s = BUF_INIT;
	struct vote_ballot b = VOTE_BALLOT_INIT;
	buf_adds(&s,
		 "{\"verdict\":\"reject\",\"confidence\":1,\"reasons\":[{\"text\":\"");
	for (int i = 0; i < 5000; i++)
		buf_addch(&s, 'x');
	buf_adds(&s, "\"}]}");
	CHECK_INT(vote_parse(s.s, s.len, &b), 0);
	CHECK_INT(strlen(b.reasons[0].text), VOTE_MAX_REASON_TEXT);
	vote_ballot_release(&b);
	buf_release(&s);
}

TEST(scores_and_samples)
{
	struct vote_ballot a = {.verdict = VOTE_ACCEPT, .confidence = 1};
	struct vote_ballot r = {.verdict = VOTE_REJECT, .confidence = 0.6};
	struct vote_ballot x = {.verdict = VOTE_ABSTAIN};
	double mean, std;
	double one[] = {0.75}, split[] = {1.0, 0.0, 1.0}, steady[] = {0.8, 0.8, 0.8};
	double shaky[] = {1.0, 0.6, 1.0}, low[] = {0.5};

	CHECK(fabs(vote_score(&a) - 1.0) < 1e-12);
	CHECK(fabs(vote_score(&r) - 0.2) < 1e-12);
	CHECK(vote_score(&x) == 0);
	CHECK(vote_brief_accepts(one, 1, 1.0, &mean, &std));
	CHECK(std == 0);
	/* two of three samples accept, but the spread sinks it at k = 1 */
	CHECK(!vote_brief_accepts(split, 3, 1.0, &mean, &std));
	/* ... and only the mean counts at k = 0 */
	CHECK(vote_brief_accepts(split, 3, 0.0, &mean, &std));
	CHECK(vote_brief_accepts(steady, 3, 1.0, &mean, &std));
	CHECK(fabs(mean - 0.8) < 1e-9);
	CHECK(vote_brief_accepts(shaky, 3, 1.0, &mean, &std));
	CHECK(!vote_brief_accepts(shaky, 3, 3.0, &mean, &std));
	CHECK(vote_brief_accepts(low, 1, 1.0, &mean, &std)); /* accept, confidence 0 */
	CHECK(!vote_brief_accepts(one, 0, 1.0, &mean, &std));
}

TEST(needed)
{
	CHECK_INT(vote_needed(-1, 1), 1);
	CHECK_INT(vote_needed(-1, 2), 2);
	CHECK_INT(vote_needed(-1, 3), 2);
	CHECK_INT(vote_needed(-1, 4), 3);
	CHECK_INT(vote_needed(1, 3), 1);
	CHECK_INT(vote_needed(3, 3), 3);
}

int main(void)
{
	RUN(parse_table);
	RUN(reason_fields_and_text);
	RUN(parse_reuses_a_ballot);
	RUN(long_reason_is_capped);
	RUN(scores_and_samples);
	RUN(needed);
	return unit_done();
}
