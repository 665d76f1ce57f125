/*
 * Unit tests for the own HTTP/1.1 client (actor/http_wire.c): body framings
 * (Content-Length, chunked, close-delimited), keep-alive and its retry,
 * caps, truncation, resets, timeouts, interim replies, kept headers, bad
 * URLs and secrets, against a scripted server thread on 127.0.0.1.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actor/http.h"
#include "base/buf.h"
#include "base/clock.h"
#include "unit.h"

/* What the server does after reading a request. */
enum act {
	KEEP,	/* send the reply, keep the connection for the next request */
	CLOSE,	/* send the reply, close */
	RESET,	/* send the reply (may be empty), then RST */
	SILENT, /* send nothing; wait for the client to hang up */
};

struct step {
	const char *reply; /* NULL: big */
	enum act act;
};

struct srv {
	int lfd, port;
	pthread_t th;
	const struct step *steps;
	int nsteps;
	int accepts, requests;
	char last_head[4096];
	const char *big; /* a reply of big_len bytes */
	size_t big_len;
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one request (head and Content-Length body): 0, or -1 at EOF. */
static int read_request(struct srv *s, int fd)
{
	char buf[1 << 16];
	size_t n = 0;
	char *end = NULL, *cl;
	long body;
	ssize_t r;

	while (!end) {
		r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	end += 4;
	snprintf(s->last_head, sizeof(s->last_head), "%.*s", (int)(end - buf), buf);
	cl = strcasestr(s->last_head, "content-length:");
	body = cl ? strtol(cl + 15, NULL, 10) : 0;
	body -= (long)(n - (size_t)(end - buf));
	while (body > 0) {
		r = recv(fd, buf, sizeof(buf), 0);
		if (r <= 0)
			return -1;
		body -= r;
	}
	return 0;
}

static void *serve(void *arg)
{
	struct srv *s = arg;
	int fd = -1, i = 0;
	char c;

	while (i < s->nsteps) {
		if (fd < 0) {
			if ((fd = accept(s->lfd, NULL, NULL)) < 0)
				break;
			s->accepts++;
		}
		if (read_request(s, fd) < 0) {
			close(fd);
			fd = -1;
			continue;
		}
		s->requests++;
		const struct step *st = &s->steps[i++];
		if (st->reply)
			write_all(fd, st->reply, strlen(st->reply));
		else
			write_all(fd, s->big, s->big_len);
		if (st->act == SILENT)
			while (recv(fd, &c, 1, 0) > 0)
				;
		if (st->act == RESET) {
			struct linger l = {1, 0};
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		}
		if (st->act != KEEP) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0) {
		/* the client's side of the last kept connection: wait for its close */
		while (recv(fd, &c, 1, 0) > 0)
			;
		close(fd);
	}
	return NULL;
}

static void srv_start(struct srv *s, const struct step *steps, int n)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->steps = steps;
	s->nsteps = n;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bind(s->lfd, (struct sockaddr *)&a, sizeof(a));
	listen(s->lfd, 8);
	getsockname(s->lfd, (struct sockaddr *)&a, &len);
	s->port = ntohs(a.sin_port);
}

static void srv_run(struct srv *s)
{
	pthread_create(&s->th, NULL, serve, s);
}

/* Closes the listener (a server thread waiting in accept gives up) and
 * joins.  The client's idle pool may hold a connection to this server:
 * a later test's pool lookup finds its port unused and drops it. */
static void srv_stop(struct srv *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	close(s->lfd);
	pthread_join(s->th, NULL);
}

struct call {
	struct http_response rs;
	struct buf err, streamed;
	int ret;
};

static int on_data(void *ctx, const char *p, size_t n)
{
	return buf_add(ctx, p, n) < 0 ? -E2BIG : 0;
}

/* One POST to the server; stream: 2xx body to on_data. */
static void post(struct srv *s, struct call *c, size_t cap, long read_ms, int stream)
{
	char url[128];
	const char *hdrs[] = {"content-type: application/json",
			      "authorization: Bearer sk-SECRET-123", "Expect:", NULL};
	struct http_request rq = HTTP_REQUEST_INIT;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/chat?x=1#frag", s->port);
	rq.url = url;
	rq.headers = hdrs;
	rq.body = "{\"a\":1}";
	rq.body_len = 7;
	rq.read_timeout_ms = read_ms;
	rq.connect_timeout_ms = 2000;
	if (stream) {
		rq.on_data = on_data;
		rq.ctx = &c->streamed;
	}
	http_response_init(&c->rs, cap);
	c->err = (struct buf)BUF_INIT;
	c->streamed = (struct buf)BUF_INIT;
	c->ret = http_post(&rq, &c->rs, &c->err);
}

static void call_release(struct call *c)
{
	http_response_release(&c->rs);
	buf_release(&c->err);
	buf_release(&c->streamed);
}

#define OK_HEAD "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"

TEST(content_length_body_and_the_request_head)
{
	static const struct step st[] = {{OK_HEAD "content-length: 5\r\n\r\nhello", CLOSE}};
	struct srv s;
	struct call c;

	srv_start(&s, st, 1);
	srv_run(&s);
	post(&s, &c, 1 << 20, 2000, 0);
	srv_stop(&s);
	CHECK_INT(c.ret, 0);
	CHECK_INT(c.rs.status, 200);
	CHECK_STR(c.rs.body.s, "hello");
	CHECK_STR(c.rs.content_type, "application/json");
	CHECK(!strncmp(s.last_head, "POST /v1/chat?x=1 HTTP/1.1\r\n", 28));
	CHECK_CONTAINS(s.last_head, "\r\nContent-Length: 7\r\n");
	CHECK_CONTAINS(s.last_head, "authorization: Bearer sk-SECRET-123\r\n");
	CHECK(strcasestr(s.last_head, "\r\nhost: 127.0.0.1:") != NULL);
	CHECK(strcasestr(s.last_head, "expect") == NULL);
	call_release(&c);
}

TEST(chunked_body_with_extensions_and_trailers_streamed)
{
	static const struct step st[] = {
		{OK_HEAD "Transfer-Encoding: chunked\r\n\r\n"
			 "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nx-trailer: t\r\n\r\n",
		 CLOSE}};
	struct srv s;
	struct call c;

	srv_start(&s, st, 1);
	srv_run(&s);
	post(&s, &c, 1 << 20, 2000, 1);
	srv_stop(&s);
	CHECK_INT(c.ret, 0);
	CHECK_STR(c.streamed.s, "hello 0123456789");
	CHECK_INT(c.rs.body.len, 0);
	CHECK_INT(c.rs.received, 16);
	call_release(&c);
}

TEST(keep_alive_one_connection_for_two_requests)
{
	static const struct step st[] = {
		{OK_HEAD "content-length: 3\r\n\r\none", KEEP},
		{OK_HEAD "transfer-encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n", KEEP},
		{OK_HEAD "content-length: 5\r\n\r\nthree", CLOSE},
	};
	struct srv s;
	struct call c;

	srv_start(&s, st, 3);
	srv_run(&s);
	for (int i = 0; i < 3; i++) {
		post(&s, &c, 1 << 20, 2000, 0);
		CHECK_INT(c.ret, 0);
		CHECK_STR(c.rs.body.s, i == 0 ? "one" : i == 1 ? "two" : "three");
		call_release(&c);
	}
	srv_stop(&s);
	CHECK_INT(s.accepts, 1);
	CHECK_INT(s.requests, 3);
}

TEST(close_delimited_body_is_whole_and_not_reused)
{
	static const struct step st[] = {
		{"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nto the end", CLOSE},
		{"HTTP/1.0 200 OK\r\n\r\nagain", CLOSE},
		{OK_HEAD "content-length: 2\r\n\r\nok", CLOSE},
	};
	struct srv s;
	struct call c;

	srv_start(&s, st, 3);
	srv_run(&s);
	for (int i = 0; i < 3; i++) {
		post(&s, &c, 1 << 20, 2000, 0);
		CHECK_INT(c.ret, 0);
		CHECK_STR(c.rs.body.s, i == 0 ? "to the end" : i == 1 ? "again" : "ok");
		call_release(&c);
	}
	srv_stop(&s);
	CHECK_INT(s.accepts, 3);
}

TEST(huge_binary_body_byte_for_byte)
{
	static const struct step st[] = {{NULL, CLOSE}};
	size_t n = 9 << 20, head;
	char *big = xmalloc(n + 100);
	struct srv s;
	struct call c;

	head = (size_t)sprintf(big, OK_HEAD "content-length: %zu\r\n\r\n", n);
	for (size_t i = 0; i < n; i++)
		big[head + i] = (char)(i * 7 + (i >> 13));
	srv_start(&s, st, 1);
	s.big = big;
	s.big_len = head + n;
	srv_run(&s);
	post(&s, &c, 16 << 20, 5000, 0);
	srv_stop(&s);
	CHECK_INT(c.ret, 0);
	CHECK_INT(c.rs.body.len, n);
	CHECK(c.rs.body.len == n && !memcmp(c.rs.body.s, big + head, n));
	call_release(&c);
	free(big);
}

TEST(body_past_the_cap_is_too_big)
{
	char reply[2000];
	struct step big[1] = {{reply, CLOSE}};
	struct srv s;
	struct call c;

	snprintf(reply, sizeof(reply), OK_HEAD "content-length: 1000\r\n\r\n%01000d", 0);
	srv_start(&s, big, 1);
	srv_run(&s);
	post(&s, &c, 100, 2000, 1);
	srv_stop(&s);
	CHECK_INT(c.ret, -E2BIG);
	CHECK_STR(c.rs.failure, "too_big");
	CHECK_CONTAINS(c.err.s, "larger than allowed");
	call_release(&c);
}

TEST(truncated_bodies_are_epipe)
{
	static const struct step st[] = {
		{OK_HEAD "content-length: 10\r\n\r\nhalf", CLOSE},
		{OK_HEAD "transfer-encoding: chunked\r\n\r\n5\r\nhel", CLOSE},
		{OK_HEAD "transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n", CLOSE},
	};
	struct srv s;
	struct call c;

	srv_start(&s, st, 3);
	srv_run(&s);
	for (int i = 0; i < 3; i++) {
		post(&s, &c, 1 << 20, 2000, 0);
		CHECK_INT(c.ret, -EPIPE);
		CHECK_STR(c.rs.failure, "truncated");
		CHECK_INT(c.rs.status, 200);
		CHECK_CONTAINS(c.err.s, "cut-off reply from http://127.0.0.1:");
		if (i == 0)
			CHECK_CONTAINS(c.err.s, "after 4 of 10 bytes");
		call_release(&c);
	}
	srv_stop(&s);
}

TEST(reset_and_empty_replies_on_a_new_connection)
{
	static const struct step st[] = {{"", RESET}, {"", CLOSE}, {"HTTP/1.1 200 OK\r\nx-a", CLOSE}};
	struct srv s;
	struct call c;

	srv_start(&s, st, 3);
	srv_run(&s);
	for (int i = 0; i < 3; i++) {
		post(&s, &c, 1 << 20, 2000, 0);
		CHECK_INT(c.ret, -ECONNRESET);
		CHECK_STR(c.rs.failure, "reset");
		CHECK_CONTAINS(c.err.s, "lost the connection to");
		call_release(&c);
	}
	srv_stop(&s);
	CHECK_INT(s.accepts, 3);
}

TEST(a_kept_connection_dropped_before_the_reply_is_retried_once_anew)
{
	static const struct step st[] = {
		{OK_HEAD "content-length: 3\r\n\r\none", KEEP},
		{"", CLOSE}, /* the server had closed it: no reply */
		{OK_HEAD "content-length: 3\r\n\r\ntwo", CLOSE},
	};
	struct srv s;
	struct call c;

	srv_start(&s, st, 3);
	srv_run(&s);
	post(&s, &c, 1 << 20, 2000, 0);
	CHECK_INT(c.ret, 0);
	call_release(&c);
	post(&s, &c, 1 << 20, 2000, 0);
	CHECK_INT(c.ret, 0);
	CHECK_STR(c.rs.body.s, "two");
	call_release(&c);
	srv_stop(&s);
	CHECK_INT(s.accepts, 2);
	CHECK_INT(s.requests, 3);
}

TEST(silence_is_a_timeout_within_its_slice)
{
	static const struct step st[] = {{"", SILENT}, {"HTTP/1.1 200 OK\r\nx-slow: 1\r\n", SILENT},
					  {OK_HEAD "content-length: 10\r\n\r\nab", SILENT}};
	static const char *const want[] = {"no complete reply line for 200 ms",
					   "did not complete within 200 ms",
					   "heard nothing for 200 ms"};
	struct srv s;
	struct call c;
	long long t0;

	srv_start(&s, st, 3);
	srv_run(&s);
	for (int i = 0; i < 3; i++) {
		t0 = clock_ms();
		post(&s, &c, 1 << 20, 200, 0);
		CHECK(clock_ms() - t0 < 1000);
		CHECK_INT(c.ret, -ETIMEDOUT);
		CHECK_STR(c.rs.failure, "timeout");
		CHECK_CONTAINS(c.err.s, want[i]);
		call_release(&c);
	}
	srv_stop(&s);
}

TEST(interim_reply_then_the_reply_and_its_kept_headers)
{
	static const struct step st[] = {
		{"HTTP/1.1 100 Continue\r\nx-request-id: early\r\n\r\n"
		 "HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\nretry-after-ms: 7000\r\n"
		 "x-request-id: req-42\r\ncontent-length: 9\r\n\r\nslow down",
		 CLOSE}};
	struct srv s;
	struct call c;

	srv_start(&s, st, 1);
	srv_run(&s);
	post(&s, &c, 1 << 20, 2000, 1);
	srv_stop(&s);
	CHECK_INT(c.ret, 0);
	CHECK_INT(c.rs.status, 429);
	CHECK_STR(c.rs.retry_after, "7");
	CHECK_STR(c.rs.retry_after_ms, "7000");
	CHECK_STR(c.rs.request_id, "req-42");
	CHECK_STR(c.rs.body.s, "slow down"); /* not 2xx: collected, not streamed */
	CHECK_INT(c.streamed.len, 0);
	call_release(&c);
}

TEST(http09_reply_is_a_reset_not_a_bad_url)
{
	static const struct step st[] = {{"{\"choices\": []}\n", CLOSE}};
	struct srv s;
	struct call c;

	srv_start(&s, st, 1);
	srv_run(&s);
	post(&s, &c, 1 << 20, 2000, 0);
	srv_stop(&s);
	CHECK_INT(c.ret, -ECONNRESET);
	CHECK_STR(c.rs.failure, "reset");
	CHECK_CONTAINS(c.err.s, "without an HTTP status line");
	call_release(&c);
}

static int plain_call(const char *url, struct http_response *rs, struct buf *err)
{
	const char *hdrs[] = {"x-api-key: sk-SECRET-456", NULL};
	struct http_request rq = HTTP_REQUEST_INIT;

	rq.url = url;
	rq.headers = hdrs;
	rq.connect_timeout_ms = 2000;
	http_response_init(rs, 1024);
	return http_post(&rq, rs, err);
}

TEST(bad_urls_and_refused_connections_never_show_headers)
{
	static const char *const bad[] = {"ftp://127.0.0.1/x", "http://", "http://h:99999/",
					  "http://[::1/x", "http://h:12ab/"};
	struct http_response rs;
	struct buf err = BUF_INIT;
	struct srv s;
	char url[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		CHECK_INT(plain_call(bad[i], &rs, &err), -EINVAL);
		CHECK_STR(rs.failure, "bad_url");
		CHECK_CONTAINS(err.s, "cannot use the URL");
		http_response_release(&rs);
	}
	/* a port nothing listens on: bound, then closed */
	srv_start(&s, NULL, 0);
	close(s.lfd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.port);
	CHECK_INT(plain_call(url, &rs, &err), -ECONNREFUSED);
	CHECK_STR(rs.failure, "connect_failed");
	CHECK_CONTAINS(err.s, "could not connect to http://127.0.0.1:");
	CHECK(!strstr(err.s, "SECRET"));
	http_response_release(&rs);
	buf_release(&err);
}

TEST(http_dates_in_their_three_forms)
{
	CHECK_INT(http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
	CHECK_INT(http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
	CHECK_INT(http_date("Sun Nov  6 08:49:37 1994"), 784111777);
	CHECK_INT(http_date("soon"), -1);
	CHECK_INT(http_date(""), -1);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	unsetenv("LOOPGATE_HTTP");
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");
	RUN(content_length_body_and_the_request_head);
	RUN(chunked_body_with_extensions_and_trailers_streamed);
	RUN(keep_alive_one_connection_for_two_requests);
	RUN(close_delimited_body_is_whole_and_not_reused);
	RUN(huge_binary_body_byte_for_byte);
	RUN(body_past_the_cap_is_too_big);
	RUN(truncated_bodies_are_epipe);
	RUN(reset_and_empty_replies_on_a_new_connection);
	RUN(a_kept_connection_dropped_before_the_reply_is_retried_once_anew);
	RUN(silence_is_a_timeout_within_its_slice);
	RUN(interim_reply_then_the_reply_and_its_kept_headers);
	RUN(http09_reply_is_a_reset_not_a_bad_url);
	RUN(bad_urls_and_refused_connections_never_show_headers);
	RUN(http_dates_in_their_three_forms);
	return unit_done();
}
