/* Unit tests for src/judge/condense.c: the one condenser gives the same
 * bytes however its input is cut into feeds, and stays in bounded memory
 * on an output far larger than its budget.  (What it selects is tested
 * through feedback_condense in test_feedback.c.) */
#include "unit.h"
#include "judge/condense.h"
#include "judge/feedback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned long long rnd_state = 0x9E3779B97F4A7C15ULL;

static unsigned rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (unsigned)(rnd_state >> 11);
}

/* Feeds in[0..len) in pieces: step 0 whole, 1 byte by byte, else random
 * sizes from 1 to step. */
static void condense_pieces(const char *in, size_t len, size_t max, size_t step,
			    struct buf *out)
{
	struct condense *c = condense_begin(max, feedback_line_is_key);
	size_t o = 0;

	while (o < len) {
		size_t k = step == 0 ? len - o : step == 1 ? 1 : 1 + rnd() % step;
		if (k > len - o)
			k = len - o;
		condense_feed(c, in + o, k);
		o += k;
	}
	CHECK_INT(condense_end(c, out), 0);
}

/* ---- inputs ---- */

static void gen_keys(struct buf *b)
{
	for (int i = 1; i <= 1000; i++)
		if (i % 97 == 0)
			buf_addf(b, "src/m%d.c:%d:3: error: bad %d\n", i, i, i);
		else
			buf_addf(b, "compiling unit %04d ...\n", i);
}

static void gen_giant_line(struct buf *b)
{
	buf_adds(b, "first\n");
	for (int i = 0; i < 30000; i++)
		buf_add(b, i % 3 ? "q" : "\xc3\xa9", i % 3 ? 1 : 2);
	buf_adds(b, "\nlast FAIL\n");
}

static void gen_only_line(struct buf *b)
{
	for (int i = 0; i < 20000; i++)
		buf_add(b, "\xe2\x82\xac", 3);
}

/* Invalid UTF-8, NULs and sequences that a feed may cut anywhere. */
static void gen_binary(struct buf *b)
{
	static const char *const bits[] = {"\xf0\x9f\x98\x80", "\xe2\x82", "\xff", "\0",
					   "\xc3\xa9", "\xed\xa0\x80", "\n", "x.c:1: error\n"};
	for (int i = 0; i < 6000; i++) {
		const char *s = bits[rnd() % 8];
		buf_add(b, s, *s ? strlen(s) : 1);
		buf_addch(b, (char)('a' + rnd() % 26));
	}
	buf_add(b, "\xf0\x9f\x98", 3); /* cut by the output itself */
}

static void gen_short(struct buf *b)
{
	buf_adds(b, "line one\r\n  trailing spaces   \nno newline at end");
}

static void gen_noise(struct buf *b)
{
	for (int i = 0; i < 4000; i++) {
		int n = (int)(rnd() % 90);
		if (rnd() % 9 == 0)
			buf_addf(b, "t/x%d.py:%d: AssertionError ", i, i + 1);
		while (n--)
			buf_addch(b, (char)(rnd() % 5 ? 'a' + rnd() % 26 : ' '));
		buf_addch(b, '\n');
	}
}

/* The same bytes fed whole, byte by byte and in random pieces condense to
 * the same result, and that result is feedback_condense's. */
TEST(chunk_independence)
{
	static const struct {
		const char *name;
		void (*gen)(struct buf *);
		size_t max;
	} cases[] = {
		{"key lines", gen_keys, 2000},	  {"key lines, tiny max", gen_keys, 100},
		{"giant line", gen_giant_line, 1000}, {"only line", gen_only_line, 700},
		{"binary", gen_binary, 1500},	  {"binary, fits", gen_binary, 1 << 20},
		{"short, fits", gen_short, 100},	  {"short, cut", gen_short, 20},
		{"noise", gen_noise, 4096},	  {"empty", NULL, 100},
	};
	static const size_t steps[] = {1, 2, 3, 7, 64, 4096};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf in = BUF_INIT, whole = BUF_INIT, ref = BUF_INIT;
		if (cases[i].gen)
			cases[i].gen(&in);
		condense_pieces(in.s, in.len, cases[i].max, 0, &whole);
		CHECK_INT(feedback_condense(in.s, in.len, cases[i].max, &ref), 0);
		CHECK_INT(whole.len, ref.len);
		CHECK(!memcmp(whole.s, ref.s, ref.len));
		CHECK(whole.len <= (cases[i].max >= 192 ? cases[i].max : cases[i].max + 48));
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			struct buf cut = BUF_INIT;
			condense_pieces(in.s, in.len, cases[i].max, steps[s], &cut);
			if (cut.len != whole.len || memcmp(cut.s, whole.s, whole.len))
				fprintf(stderr, "%s: pieces of up to %zu bytes differ\n",
					cases[i].name, steps[s]);
			CHECK_INT(cut.len, whole.len);
			CHECK(!memcmp(cut.s, whole.s, whole.len));
			buf_release(&cut);
		}
		buf_release(&in);
		buf_release(&whole);
		buf_release(&ref);
	}
}

/* ---- an output far larger than memory should hold ---- */

#define BIG_LINES 800000 /* of 64 bytes: 51.2 MB */
#define BIG_KEY_EVERY 20000

/* Line i (0-based) of the big output: noise, every BIG_KEY_EVERY-th a
 * failure naming its number. */
static size_t big_line(size_t i, char *p)
{
	if (i % BIG_KEY_EVERY == BIG_KEY_EVERY / 2)
		return (size_t)snprintf(p, 80, "src/big.c:%zu: error: failure %07zu here\n",
					i + 1, i);
	return (size_t)snprintf(p, 80, "noise %07zu lorem ipsum dolor sit amet consectetur "
				       "adipiscing\n",
				i);
}

TEST(fifty_megabytes_bounded)
{
	struct condense *c = condense_begin(8000, feedback_line_is_key);
	struct buf out = BUF_INIT, chunk = BUF_INIT;
	size_t total = 0, peak;
	char line[96];

	for (size_t i = 0; i < BIG_LINES; i++) {
		buf_add(&chunk, line, big_line(i, line));
		if (chunk.len >= 60000 || i + 1 == BIG_LINES) {
			/* odd pieces: lines and characters cut anywhere */
			size_t o = 0;
			while (o < chunk.len) {
				size_t k = 1 + rnd() % 9000;
				k = k < chunk.len - o ? k : chunk.len - o;
				condense_feed(c, chunk.s + o, k);
				o += k;
			}
			total += chunk.len;
			buf_reset(&chunk);
		}
	}
	CHECK(total > 50000000);
	peak = condense_peak(c);
	CHECK_INT(condense_end(c, &out), 0);
	fprintf(stderr, "50 MB in, %zu bytes out, peak %zu bytes held\n", out.len, peak);
	CHECK(out.len <= 8000);
	/* memory: a few times max, never the output */
	CHECK(peak <= 8 * 8000);
	/* head and tail, whole */
	CHECK(!strncmp(out.s, "noise 0000000 lorem", 19));
	CHECK(out.len > 60 && !strcmp(out.s + out.len - 64,
				      "noise 0799999 lorem ipsum dolor sit amet consectetur "
				      "adipiscing\n"));
	/* the failures nearest the head and the tail are kept, and not all
	 * 40 fit: the one in the very middle goes */
	CHECK_CONTAINS(out.s, "failure 0010000 here\n");
	CHECK_CONTAINS(out.s, "failure 0030000 here\n");
	CHECK_CONTAINS(out.s, "failure 0790000 here\n");
	CHECK_CONTAINS(out.s, "failure 0770000 here\n");
	CHECK(!strstr(out.s, "failure 0410000 here\n"));
	CHECK_CONTAINS(out.s, " lines elided ...]\n");
	buf_release(&out);
	buf_release(&chunk);
}

/* ---- the file helper ---- */

TEST(file_is_the_same_condenser)
{
	char path[] = "/tmp/loopgate-condense.XXXXXX";
	int fd = mkstemp(path);
	struct buf in = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	int not_text = -1;

	CHECK(fd >= 0);
	gen_binary(&in);
	gen_keys(&in);
	CHECK_INT(write(fd, in.s, in.len), (long long)in.len);
	close(fd);
	CHECK_INT(feedback_condense_file(path, 1200, &a, &not_text), 0);
	CHECK_INT(not_text, 1); /* gen_binary's bytes */
	feedback_condense(in.s, in.len, 1200, &b);
	CHECK_INT(a.len, b.len);
	CHECK(!memcmp(a.s, b.s, b.len));
	/* text only: nothing replaced */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	buf_reset(&in);
	gen_keys(&in);
	CHECK_INT(write(fd, in.s, in.len), (long long)in.len);
	close(fd);
	buf_reset(&a);
	CHECK_INT(feedback_condense_file(path, 1200, &a, &not_text), 0);
	CHECK_INT(not_text, 0);
	CHECK(a.len > 0 && a.len <= 1200);
	unlink(path);
	buf_reset(&a);
	CHECK_INT(feedback_condense_file(path, 1200, &a, &not_text), -ENOENT);
	CHECK_INT(a.len, 0);
	buf_release(&in);
	buf_release(&a);
	buf_release(&b);
}

int main(void)
{
	RUN(chunk_independence);
	RUN(fifty_megabytes_bounded);
	RUN(file_is_the_same_condenser);
	return unit_done();
}
