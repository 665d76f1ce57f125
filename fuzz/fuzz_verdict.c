/* A voting verifier's reply (judge/vote.h): parsed strictly, its reasons
 * rendered; a ballot is reused for a second parse of the same bytes. */
#include "fuzz.h"
#include "judge/vote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vote_ballot b = VOTE_BALLOT_INIT;
	struct buf t = BUF_INIT;
	int ret = vote_parse((const char *)data, size, &b);

	/* the contract: a verdict, or an abstention that says why */
	if ((ret == 0) != (b.verdict != VOTE_ABSTAIN) || (ret < 0 && !b.error))
		abort();
	(void)vote_score(&b);
	vote_reasons_text(&b, &t);
	vote_parse((const char *)data, size, &b);
	vote_ballot_release(&b);
	buf_release(&t);
	return 0;
}
