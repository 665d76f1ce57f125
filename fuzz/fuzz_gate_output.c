/* A gate's raw output through every reader of it: test counts, JUnit,
 * failing test ids, fingerprints, locations and the condenser, which must
 * give the same bytes fed whole or in pieces, within its bound. */
#include "fuzz.h"
#include "judge/condense.h"
#include "judge/failids.h"
#include "judge/feedback.h"
#include "judge/fingerprint.h"
#include "judge/testcount.h"

/* The one condenser (condense.h): feedback_condense feeds it the whole
 * input at once; here it gets pieces whose sizes the input's own bytes
 * choose, cutting lines and UTF-8 sequences anywhere. */
static void check_condense(const char *s, size_t size, size_t max)
{
	struct buf whole = BUF_INIT, cut = BUF_INIT;
	struct condense *c = condense_begin(max, feedback_line_is_key);
	size_t o = 0;

	feedback_condense(s, size, max, &whole);
	while (o < size) {
		size_t k = 1 + ((unsigned char)s[o] * 7u + o) % 97;
		k = k < size - o ? k : size - o;
		condense_feed(c, s + o, k);
		o += k;
	}
	condense_end(c, &cut);
	if (cut.len != whole.len || memcmp(cut.s, whole.s, whole.len))
		abort(); /* the result depends on how the bytes arrived */
	if (whole.len > (max >= 192 ? max : max + 48))
		abort(); /* past condense.h's bound */
	buf_release(&whole);
	buf_release(&cut);
}

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
	buf_release(&b);
	check_condense(s, size, 2048);
	check_condense(s, size, 100);
	return 0;
}
