/* Unit tests for the incremental Server-Sent Events parser. */
#include <errno.h>
#include <stdlib.h>

#include "base/buf.h"
#include "actor/sse.h"
#include "unit.h"

/* Every dispatched event is appended to a log as "[name]data|". */
struct collect {
	struct buf log;
	int stop_after;		/* return 7 from the Nth event; 0: never */
	int n;
};

static int on_event(void *ctx, const char *event, const char *data, size_t len)
{
	struct collect *c = ctx;
	buf_addf(&c->log, "[%s]", event);
	buf_add(&c->log, data, len);
	buf_addch(&c->log, '|');
	if (data[len] != '\0')
		buf_adds(&c->log, "(not NUL-terminated)");
	c->n++;
	return c->stop_after && c->n == c->stop_after ? 7 : 0;
}

/* Parses input split into chunks at a and b (a <= b), returns the log. */
static char *parse_split(const char *in, size_t a, size_t b, int *finish)
{
	struct collect c = { BUF_INIT, 0, 0 };
	struct sse s;
	size_t n = strlen(in);
	int ret;

	sse_init(&s, 1 << 20, on_event, &c);
	ret = sse_feed(&s, in, a);
	if (!ret)
		ret = sse_feed(&s, in + a, b - a);
	if (!ret)
		ret = sse_feed(&s, in + b, n - b);
	if (ret)
		buf_addf(&c.log, "ERR%d", ret);
	ret = sse_finish(&s);
	if (finish)
		*finish = ret;
	sse_release(&s);
	return buf_detach(&c.log, NULL);
}

/* The same result for every way of cutting the input into three chunks. */
static int check_all_splits(const char *in, const char *want)
{
	size_t n = strlen(in), a, b;
	int bad = 0;
	for (a = 0; a <= n; a++) {
		for (b = a; b <= n; b++) {
			char *got = parse_split(in, a, b, NULL);
			if (strcmp(got, want)) {
				if (!bad)
					fprintf(stderr, "split %zu/%zu: got \"%s\", want \"%s\"\n",
						a, b, got, want);
				bad++;
			}
			free(got);
		}
	}
	return bad;
}

TEST(basic_event)
{
	CHECK_INT(check_all_splits("event: add\ndata: hello\n\n", "[add]hello|"), 0);
}

TEST(default_name_and_no_space)
{
	CHECK_INT(check_all_splits("data:x\n\ndata:  two spaces\n\n",
				   "[message]x|[message] two spaces|"), 0);
}

TEST(line_ends_crlf_cr_lf)
{
	const char *want = "[a]1|[b]2|[c]3|";
	CHECK_INT(check_all_splits("event: a\r\ndata: 1\r\n\r\n"
				   "event: b\rdata: 2\r\r"
				   "event: c\ndata: 3\n\n", want), 0);
}

TEST(crlf_is_one_line_end)
{
	/* "\r\n" must not count as two line ends (which would dispatch an
	 * empty line early), however it is split. */
	CHECK_INT(check_all_splits("data: a\r\ndata: b\r\n\r\n", "[message]a\nb|"), 0);
}

TEST(multi_line_data)
{
	CHECK_INT(check_all_splits("data: one\ndata: two\ndata:\ndata: four\n\n",
				   "[message]one\ntwo\n\nfour|"), 0);
}

TEST(comments_and_unknown_fields_ignored)
{
	CHECK_INT(check_all_splits(": keep-alive\n\nretry: 10\nfoo: bar\nid: 9\n"
				   "data: x\n: in between\n\n", "[message]x|"), 0);
}

TEST(event_without_data_not_dispatched)
{
	CHECK_INT(check_all_splits("event: ping\n\nevent: e\ndata: d\n\n", "[e]d|"), 0);
}

TEST(field_without_colon)
{
	/* "data" alone is a data line with an empty value. */
	CHECK_INT(check_all_splits("data\ndata\n\n", "[message]\n|"), 0);
}

TEST(event_name_resets_after_dispatch)
{
	CHECK_INT(check_all_splits("event: x\ndata: 1\n\ndata: 2\n\n",
				   "[x]1|[message]2|"), 0);
}

TEST(bom_skipped)
{
	char *got = parse_split("\xEF\xBB\xBF" "data: b\n\n", 0, 0, NULL);
	CHECK_STR(got, "[message]b|");
	free(got);
}

TEST(byte_at_a_time)
{
	const char *in = "event: message_start\r\ndata: {\"a\":1}\r\n\r\n"
			 "data: [DONE]\r\n\r\n";
	struct collect c = { BUF_INIT, 0, 0 };
	struct sse s;
	size_t i;
	sse_init(&s, 1024, on_event, &c);
	for (i = 0; in[i]; i++)
		CHECK_INT(sse_feed(&s, in + i, 1), 0);
	CHECK_INT(sse_finish(&s), 0);
	CHECK_STR(c.log.s, "[message_start]{\"a\":1}|[message][DONE]|");
	sse_release(&s);
	buf_release(&c.log);
}

TEST(finish_reports_cut_stream)
{
	int fin = -1;
	char *got = parse_split("data: whole\n\ndata: cut", 5, 10, &fin);
	CHECK_STR(got, "[message]whole|");
	CHECK_INT(fin, 1);
	free(got);
	got = parse_split("data: a\n", 3, 3, &fin);	/* line done, event not */
	CHECK_STR(got, "");
	CHECK_INT(fin, 1);
	free(got);
	got = parse_split("data: a\n\n", 3, 3, &fin);
	CHECK_INT(fin, 0);
	free(got);
}

TEST(cap_on_long_line)
{
	struct collect c = { BUF_INIT, 0, 0 };
	struct sse s;
	char big[100];
	memset(big, 'x', sizeof(big));
	sse_init(&s, 64, on_event, &c);
	CHECK_INT(sse_feed(&s, "data: ", 6), 0);
	CHECK_INT(sse_feed(&s, big, sizeof(big)), -E2BIG);
	/* sticky */
	CHECK_INT(sse_feed(&s, "\n\n", 2), -E2BIG);
	CHECK_INT(sse_finish(&s), -E2BIG);
	CHECK_INT(c.n, 0);
	sse_release(&s);
	buf_release(&c.log);
}

TEST(cap_on_many_data_lines)
{
	/* Each line is short, but the pending event grows past the cap. */
	struct collect c = { BUF_INIT, 0, 0 };
	struct sse s;
	int i, ret = 0;
	sse_init(&s, 64, on_event, &c);
	for (i = 0; i < 20 && !ret; i++)
		ret = sse_feed(&s, "data: 0123456789\n", 17);
	CHECK_INT(ret, -E2BIG);
	CHECK(i < 20);
	CHECK_INT(c.n, 0);
	sse_release(&s);
	buf_release(&c.log);
}

TEST(cap_is_per_event)
{
	/* Many small events in total far beyond the cap are fine. */
	struct collect c = { BUF_INIT, 0, 0 };
	struct sse s;
	int i, ret = 0;
	sse_init(&s, 64, on_event, &c);
	for (i = 0; i < 100; i++)
		ret |= sse_feed(&s, "data: 0123456789\n\n", 18);
	CHECK_INT(ret, 0);
	CHECK_INT(c.n, 100);
	CHECK_INT((long)s.events, 100);
	sse_release(&s);
	buf_release(&c.log);
}

TEST(callback_stops_parsing)
{
	struct collect c = { BUF_INIT, 2, 0 };
	struct sse s;
	sse_init(&s, 1024, on_event, &c);
	CHECK_INT(sse_feed(&s, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27), 7);
	CHECK_INT(c.n, 2);
	CHECK_INT(sse_feed(&s, "data: 4\n\n", 9), 7);
	CHECK_INT(c.n, 2);
	sse_release(&s);
	buf_release(&c.log);
}

int main(void)
{
	RUN(basic_event);
	RUN(default_name_and_no_space);
	RUN(line_ends_crlf_cr_lf);
	RUN(crlf_is_one_line_end);
	RUN(multi_line_data);
	RUN(comments_and_unknown_fields_ignored);
	RUN(event_without_data_not_dispatched);
	RUN(field_without_colon);
	RUN(event_name_resets_after_dispatch);
	RUN(bom_skipped);
	RUN(byte_at_a_time);
	RUN(finish_reports_cut_stream);
	RUN(cap_on_long_line);
	RUN(cap_on_many_data_lines);
	RUN(cap_is_per_event);
	RUN(callback_stops_parsing);
	return unit_done();
}
