/* A gate's raw output through every reader of it: test counts, JUnit,
 * failing test ids, fingerprints, locations and the condenser. */
#include "fuzz.h"
#include "judge/failids.h"
#include "judge/feedback.h"
#include "judge/fingerprint.h"
#include "judge/testcount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct testcount tc;
	struct buf b = BUF_INIT;
	struct location *loc = NULL;
	char **ids = NULL, hex[65];
	size_t n;

	memset(&tc, 0, sizeof(tc));
	testcount_parse(s, size, &tc);
	testcount_describe(&tc, &b);
	memset(&tc, 0, sizeof(tc));
	testcount_parse_junit(s, size, &tc);
	n = failids_extract(s, size, &ids, 64);
	failids_free(ids, n);
	ids = NULL;
	n = fingerprint_failed_tests(s, size, &ids, 64);
	fingerprint_free_list(ids, n);
	fingerprint_gate(0, "exit 1", s, size, hex);
	fingerprint_normalise(s, size, &b);
	n = feedback_locations(s, size, &loc, 64);
	feedback_locations_free(loc, n);
	buf_reset(&b);
	feedback_condense(s, size, 2048, &b);
	buf_release(&b);
	return 0;
}
