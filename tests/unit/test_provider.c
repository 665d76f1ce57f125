/*
 * Unit tests for the provider module against tests/fake/fake_model.py.
 *
 * Each test starts its own fake server with its own script in a scratch
 * directory, so tests share nothing; the server's request log is the
 * evidence for what went over the wire.  Runs with cwd = tests/.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "actor/provider.h"
#include "unit.h"

#define KEY "sk-test-SECRET-key-0123456789"
#define LONG_TEXT "Hello, world! This reply is long enough to be split into several chunks."

/* ---- the fake server ---------------------------------------------------- */

struct fake {
	pid_t pid;
	char dir[64];
	char url[96];
	char path[160];		/* scratch for file names */
};

static const char *fake_file(struct fake *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	return f->path;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t n = strlen(text);
	int ok = fd >= 0 && write(fd, text, n) == (ssize_t)n;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static void exec_fake(struct fake *f)
{
	char script[160], log[160], port[160], errf[160];
	int fd;
	snprintf(script, sizeof(script), "%s/script.json", f->dir);
	snprintf(log, sizeof(log), "%s/log.jsonl", f->dir);
	snprintf(port, sizeof(port), "%s/port", f->dir);
	snprintf(errf, sizeof(errf), "%s/stderr", f->dir);
	fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execlp("python3", "python3", "fake/fake_model.py", "--script", script,
	       "--log", log, "--port-file", port, (char *)NULL);
	_exit(127);
}

/* Starts a fake server answering from script; 0 on success. */
static int fake_start(struct fake *f, const char *script)
{
	struct buf port = BUF_INIT;
	long long give_up = clock_ms() + 15000;
	int status;

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/lg-provider.XXXXXX");
	if (!mkdtemp(f->dir) || write_file(fake_file(f, "script.json"), script) < 0)
		return -1;
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (f->pid == 0)
		exec_fake(f);
	/* The server renames the port file into place once it listens. */
	while (access(fake_file(f, "port"), F_OK) != 0) {
		if (clock_ms() > give_up || waitpid(f->pid, &status, WNOHANG) == f->pid) {
			fprintf(stderr, "fake server did not start (see %s/stderr)\n", f->dir);
			f->pid = 0;
			return -1;
		}
		poll(NULL, 0, 10);
	}
	buf_read_file(&port, fake_file(f, "port"));
	buf_rtrim(&port);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%s/v1", port.s);
	buf_release(&port);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void fake_stop(struct fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	if (f->dir[0])
		nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* The request log: a JSON array of the logged requests. */
static json_t *fake_log(struct fake *f)
{
	struct buf b = BUF_INIT;
	json_t *all = json_array();
	char *line, *save = NULL;

	buf_read_file(&b, fake_file(f, "log.jsonl"));
	for (line = strtok_r(b.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		json_array_append_new(all, json_loads(line, 0, NULL));
	buf_release(&b);
	return all;
}

static size_t fake_requests(struct fake *f)
{
	json_t *log = fake_log(f);
	size_t n = json_array_size(log);
	json_decref(log);
	return n;
}

/* ---- calling the provider ----------------------------------------------- */

struct seen {
	int n;
	struct {
		int status, will_retry, est;
		char outcome[32];
		long wait_ms, tin, tout;
		char detail[512];
	} a[16];
	int stop_at;		/* return 1 from attempt stop_at */
	int raise_at;		/* raise SIGINT from attempt raise_at */
};

static int on_attempt(void *ctx, const struct provider_attempt *a)
{
	struct seen *s = ctx;
	if (s->n < 16) {
		s->a[s->n].status = a->http_status;
		s->a[s->n].will_retry = a->will_retry;
		s->a[s->n].est = a->usage_estimated;
		s->a[s->n].wait_ms = a->wait_ms;
		s->a[s->n].tin = a->tokens_in;
		s->a[s->n].tout = a->tokens_out;
		snprintf(s->a[s->n].outcome, sizeof(s->a[0].outcome), "%s", a->outcome);
		snprintf(s->a[s->n].detail, sizeof(s->a[0].detail), "%s",
			 a->detail ? a->detail : "");
	}
	s->n++;
	if (s->raise_at && s->raise_at == a->n)
		raise(SIGINT);
	return s->stop_at && s->stop_at == a->n;
}

struct call {
	struct provider_opts o;
	struct provider_request rq;
	struct provider_reply r;
	struct seen seen;
	struct buf err;
	long long elapsed_ms;
};

static void call_init(struct call *c, const char *kind, const char *url, int stream)
{
	struct provider_opts o = PROVIDER_OPTS_INIT;
	struct provider_reply r = PROVIDER_REPLY_INIT;
	memset(c, 0, sizeof(*c));
	o.kind = kind;
	o.model = "m-test";
	o.base_url = url;
	o.api_key = KEY;
	o.stream = stream;
	o.max_retries = 3;
	o.retry_base_ms = 5;
	o.retry_max_ms = 20;
	o.connect_timeout_ms = 2000;
	o.read_timeout_ms = 10000;
	c->o = o;
	c->r = r;
	c->rq.system = "You are terse.";
	c->rq.prompt = "Say hello.";
	c->rq.max_output_tokens = 77;
	buf_init(&c->err, 0);
}

static int call_run(struct call *c)
{
	struct provider *p;
	long long t0 = clock_ms();
	int ret = provider_new(&c->o, &p, &c->err);
	if (ret < 0)
		return ret;
	provider_set_attempt_cb(p, on_attempt, &c->seen);
	ret = provider_complete(p, &c->rq, &c->r, &c->err);
	c->elapsed_ms = clock_ms() - t0;
	provider_free(p);
	return ret;
}

static void call_release(struct call *c)
{
	provider_reply_release(&c->r);
	buf_release(&c->err);
}

/* Runs one call of kind/stream against a fresh fake with script. */
static int run_script(struct call *c, struct fake *f, const char *script,
		      const char *kind, int stream)
{
	if (fake_start(f, script) < 0)
		return -999;
	call_init(c, kind, f->url, stream);
	return 0;
}

static const char *json_str(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);
	if (path2)
		v = json_object_get(v, path2);
	return json_string_value(v);
}

/* ---- normal replies ----------------------------------------------------- */

static void normal_reply(const char *kind, int stream)
{
	struct fake f;
	struct call c;
	const char *fin = !strcmp(kind, "openai") ? "stop" : "end_turn";
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"content\": \"" LONG_TEXT "\", "
			     "\"usage\": {\"in\": 123, \"out\": 45}}]}", kind, stream), 0);
	CHECK_INT(call_run(&c), 0);
	CHECK_STR(c.r.text.s, LONG_TEXT);
	CHECK_INT(c.r.tokens_in, 123);
	CHECK_INT(c.r.tokens_out, 45);
	CHECK_INT(c.r.usage_estimated, 0);
	CHECK_STR(c.r.finish_reason, fin);
	CHECK_STR(c.r.model, "m-test");
	CHECK_INT(c.r.attempts, 1);
	CHECK_INT(c.seen.n, 1);
	CHECK_STR(c.seen.a[0].outcome, "ok");
	CHECK_INT(c.seen.a[0].status, 200);
	CHECK_INT(c.seen.a[0].tin, 123);
	CHECK_INT(c.seen.a[0].will_retry, 0);
	call_release(&c);
	fake_stop(&f);
}

TEST(openai_stream_reply) { normal_reply("openai", 1); }
TEST(openai_whole_reply) { normal_reply("openai", 0); }
TEST(anthropic_stream_reply) { normal_reply("anthropic", 1); }
TEST(anthropic_whole_reply) { normal_reply("anthropic", 0); }

TEST(openai_request_on_the_wire)
{
	struct fake f;
	struct call c;
	json_t *log, *req, *body, *msgs, *h;
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"content\": \"x\"}]}", "openai", 1), 0);
	c.o.temperature = 0.5;
	CHECK_INT(call_run(&c), 0);
	log = fake_log(&f);
	CHECK_INT(json_array_size(log), 1);
	req = json_array_get(log, 0);
	body = json_object_get(req, "body");
	h = json_object_get(req, "headers");
	msgs = json_object_get(body, "messages");
	CHECK_STR(json_str(req, "path", NULL), "/v1/chat/completions");
	CHECK_STR(json_str(body, "model", NULL), "m-test");
	CHECK_INT(json_array_size(msgs), 2);
	CHECK_STR(json_str(json_array_get(msgs, 0), "role", NULL), "system");
	CHECK_STR(json_str(json_array_get(msgs, 0), "content", NULL), "You are terse.");
	CHECK_STR(json_str(json_array_get(msgs, 1), "role", NULL), "user");
	CHECK_STR(json_str(json_array_get(msgs, 1), "content", NULL), "Say hello.");
	CHECK_INT(json_integer_value(json_object_get(body, "max_tokens")), 77);
	CHECK(json_is_true(json_object_get(body, "stream")));
	CHECK(json_is_true(json_object_get(json_object_get(body, "stream_options"),
					   "include_usage")));
	CHECK(json_real_value(json_object_get(body, "temperature")) == 0.5);
	CHECK_STR(json_str(h, "authorization", NULL), "Bearer " KEY);
	CHECK_STR(json_str(h, "content-type", NULL), "application/json");
	json_decref(log);
	call_release(&c);
	fake_stop(&f);
}

TEST(anthropic_request_on_the_wire)
{
	struct fake f;
	struct call c;
	json_t *log, *req, *body, *msgs, *h;
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"content\": \"x\"}]}", "anthropic", 0), 0);
	CHECK_INT(call_run(&c), 0);
	log = fake_log(&f);
	req = json_array_get(log, 0);
	body = json_object_get(req, "body");
	h = json_object_get(req, "headers");
	msgs = json_object_get(body, "messages");
	CHECK_STR(json_str(req, "path", NULL), "/v1/messages");
	CHECK_STR(json_str(body, "model", NULL), "m-test");
	CHECK_STR(json_str(body, "system", NULL), "You are terse.");
	CHECK_INT(json_array_size(msgs), 1);
	CHECK_STR(json_str(json_array_get(msgs, 0), "role", NULL), "user");
	CHECK_STR(json_str(json_array_get(msgs, 0), "content", NULL), "Say hello.");
	CHECK_INT(json_integer_value(json_object_get(body, "max_tokens")), 77);
	CHECK(json_is_false(json_object_get(body, "stream")));
	CHECK(!json_object_get(body, "temperature"));	/* -1: not sent */
	CHECK_STR(json_str(h, "x-api-key", NULL), KEY);
	CHECK_STR(json_str(h, "anthropic-version", NULL), "2023-06-01");
	CHECK_STR(json_str(h, "content-type", NULL), "application/json");
	CHECK(!json_object_get(h, "authorization"));
	json_decref(log);
	call_release(&c);
	fake_stop(&f);
}

static void no_key(const char *kind, const char *header)
{
	struct fake f;
	struct call c;
	json_t *log;
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"content\": \"x\"}]}", kind, 1), 0);
	c.o.api_key = NULL;
	CHECK_INT(call_run(&c), 0);
	log = fake_log(&f);
	CHECK_INT(json_array_size(log), 1);
	CHECK(json_is_object(json_object_get(json_array_get(log, 0), "headers")));
	CHECK(!json_object_get(json_object_get(json_array_get(log, 0), "headers"), header));
	json_decref(log);
	call_release(&c);
	fake_stop(&f);
}

TEST(openai_no_key_no_authorization) { no_key("openai", "authorization"); }
TEST(anthropic_no_key_no_x_api_key) { no_key("anthropic", "x-api-key"); }

TEST(openai_no_usage_is_estimated)
{
	struct fake f;
	struct call c;
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"content\": \"" LONG_TEXT "\", "
			     "\"no_usage\": true}]}", "openai", 1), 0);
	CHECK_INT(call_run(&c), 0);
	CHECK_STR(c.r.text.s, LONG_TEXT);
	CHECK_INT(c.r.usage_estimated, 1);
	CHECK_INT(c.r.tokens_out, (long)(strlen(LONG_TEXT) + 3) / 4);
	CHECK_INT(c.r.tokens_in, (long)(strlen("You are terse.Say hello.") + 3) / 4);
	CHECK_INT(c.seen.a[0].est, 1);
	call_release(&c);
	fake_stop(&f);
}

/* ---- retries ------------------------------------------------------------ */

/* First entry fails as scripted, the second answers "final answer". */
static void fail_then_ok(struct call *c, struct fake *f, const char *first,
			 const char *kind, int stream)
{
	char script[1024];
	snprintf(script, sizeof(script),
		 "{\"replies\": [%s, {\"content\": \"final answer\", "
		 "\"usage\": {\"in\": 10, \"out\": 3}}]}", first);
	CHECK_INT(run_script(c, f, script, kind, stream), 0);
}

static void check_recovered(struct call *c, struct fake *f, const char *outcome)
{
	CHECK_STR(c->r.text.s, "final answer");
	CHECK_INT(c->r.tokens_out, 3);
	CHECK_INT(c->r.attempts, 2);
	CHECK_INT(c->seen.n, 2);
	CHECK_STR(c->seen.a[0].outcome, outcome);
	CHECK_INT(c->seen.a[0].will_retry, 1);
	CHECK_STR(c->seen.a[1].outcome, "ok");
	CHECK_INT(fake_requests(f), 2);
}

static void retry_after(const char *kind)
{
	struct fake f;
	struct call c;
	fail_then_ok(&c, &f, "{\"status\": 429, \"headers\": {\"retry-after\": \"1\"}}", kind, 1);
	CHECK_INT(call_run(&c), 0);
	check_recovered(&c, &f, "http_error");
	CHECK_INT(c.seen.a[0].status, 429);
	/* retry-after: 1 s, but never past retry_max (20 ms here) */
	CHECK_INT(c.seen.a[0].wait_ms, 20);
	CHECK_CONTAINS(c.seen.a[0].detail, "429");
	CHECK(c.elapsed_ms >= 20 && c.elapsed_ms < 1000);
	call_release(&c);
	fake_stop(&f);
}

TEST(openai_429_retry_after) { retry_after("openai"); }
TEST(anthropic_429_retry_after) { retry_after("anthropic"); }

TEST(retry_after_http_date_in_the_past)
{
	struct fake f;
	struct call c;
	fail_then_ok(&c, &f, "{\"status\": 503, \"headers\": {\"retry-after\": "
		     "\"Wed, 21 Oct 2015 07:28:00 GMT\"}}", "openai", 1);
	CHECK_INT(call_run(&c), 0);
	check_recovered(&c, &f, "http_error");
	CHECK_INT(c.seen.a[0].wait_ms, 0);
	call_release(&c);
	fake_stop(&f);
}

static void status_then_ok(const char *kind, int stream, int status)
{
	struct fake f;
	struct call c;
	char first[64];
	snprintf(first, sizeof(first), "{\"status\": %d}", status);
	fail_then_ok(&c, &f, first, kind, stream);
	CHECK_INT(call_run(&c), 0);
	check_recovered(&c, &f, "http_error");
	CHECK_INT(c.seen.a[0].status, status);
	/* backoff with full jitter stays within retry_base_ms for attempt 1 */
	CHECK(c.seen.a[0].wait_ms >= 0 && c.seen.a[0].wait_ms <= 5);
	call_release(&c);
	fake_stop(&f);
}

TEST(openai_500_then_ok) { status_then_ok("openai", 1, 500); }
TEST(anthropic_500_then_ok) { status_then_ok("anthropic", 0, 500); }
TEST(anthropic_529_then_ok) { status_then_ok("anthropic", 1, 529); }
TEST(openai_408_then_ok) { status_then_ok("openai", 0, 408); }

static void fault_then_ok(const char *kind, int stream, const char *fault,
			  const char *outcome)
{
	struct fake f;
	struct call c;
	char first[256];
	snprintf(first, sizeof(first), "{\"fault\": \"%s\", \"content\": \"PARTIAL-TEXT "
		 "PARTIAL-TEXT PARTIAL-TEXT PARTIAL-TEXT PARTIAL-TEXT\", "
		 "\"usage\": {\"in\": 321, \"out\": 99}}", fault);
	fail_then_ok(&c, &f, first, kind, stream);
	CHECK_INT(call_run(&c), 0);
	check_recovered(&c, &f, outcome);
	CHECK(!strstr(c.r.text.s, "PARTIAL"));
	call_release(&c);
	fake_stop(&f);
}

TEST(openai_reset_then_ok) { fault_then_ok("openai", 1, "reset", "reset"); }
TEST(anthropic_reset_then_ok) { fault_then_ok("anthropic", 0, "reset", "reset"); }
TEST(openai_truncated_stream_then_ok) { fault_then_ok("openai", 1, "truncate", "truncated"); }
TEST(anthropic_truncated_stream_then_ok) { fault_then_ok("anthropic", 1, "truncate", "truncated"); }
TEST(openai_truncated_body_then_ok) { fault_then_ok("openai", 0, "truncate", "truncated"); }
TEST(openai_error_event_then_ok) { fault_then_ok("openai", 1, "error_event", "stream_error"); }
TEST(anthropic_error_event_then_ok) { fault_then_ok("anthropic", 1, "error_event", "stream_error"); }
TEST(openai_invalid_json_stream_then_ok) { fault_then_ok("openai", 1, "invalid_json", "bad_body"); }
TEST(openai_invalid_json_body_then_ok) { fault_then_ok("openai", 0, "invalid_json", "bad_body"); }
TEST(anthropic_invalid_json_stream_then_ok) { fault_then_ok("anthropic", 1, "invalid_json", "bad_body"); }
TEST(anthropic_invalid_json_body_then_ok) { fault_then_ok("anthropic", 0, "invalid_json", "bad_body"); }

/* A partial stream is charged: reported usage where the stream carried it,
 * otherwise an estimate from the bytes received. */
TEST(partial_stream_is_charged)
{
	struct fake f;
	struct call c;
	fail_then_ok(&c, &f, "{\"fault\": \"truncate\", \"content\": \"" LONG_TEXT "\", "
		     "\"usage\": {\"in\": 321, \"out\": 99}}", "anthropic", 1);
	CHECK_INT(call_run(&c), 0);
	CHECK_INT(c.seen.a[0].tin, 321);	/* from message_start */
	CHECK(c.seen.a[0].tout > 0 && c.seen.a[0].tout < 99);	/* estimated */
	CHECK_INT(c.seen.a[0].est, 1);
	call_release(&c);
	fake_stop(&f);

	fail_then_ok(&c, &f, "{\"fault\": \"error_event\", \"content\": \"" LONG_TEXT "\", "
		     "\"usage\": {\"in\": 321, \"out\": 99}}", "openai", 1);
	CHECK_INT(call_run(&c), 0);
	CHECK_INT(c.seen.a[0].tin, (long)(strlen("You are terse.Say hello.") + 3) / 4);
	CHECK(c.seen.a[0].tout > 0 && c.seen.a[0].tout < 99);
	CHECK_INT(c.seen.a[0].est, 1);
	call_release(&c);
	fake_stop(&f);
}

static void slow_server(const char *kind, int stream)
{
	struct fake f;
	struct call c;
	fail_then_ok(&c, &f, "{\"delay_ms\": 2000, \"content\": \"late\"}", kind, stream);
	c.o.read_timeout_ms = 300;
	CHECK_INT(call_run(&c), 0);
	check_recovered(&c, &f, "timeout");
	CHECK_INT(c.seen.a[0].status, 0);
	CHECK(c.elapsed_ms >= 300);
	call_release(&c);
	fake_stop(&f);
}

TEST(openai_read_timeout_then_ok) { slow_server("openai", 1); }
TEST(anthropic_read_timeout_then_ok) { slow_server("anthropic", 0); }

/* ---- final errors ------------------------------------------------------- */

static void no_retry(const char *kind, const char *entry, int want, int status,
		     const char *want_in_err)
{
	struct fake f;
	struct call c;
	char script[512];
	snprintf(script, sizeof(script), "{\"replies\": [%s], \"repeat_last\": true}", entry);
	CHECK_INT(run_script(&c, &f, script, kind, 1), 0);
	CHECK_INT(call_run(&c), want);
	CHECK_INT(fake_requests(&f), 1);
	CHECK_INT(c.r.attempts, 1);
	CHECK_INT(c.seen.n, 1);
	CHECK_INT(c.seen.a[0].status, status);
	CHECK_INT(c.seen.a[0].will_retry, 0);
	CHECK_CONTAINS(c.err.s, want_in_err);
	CHECK_CONTAINS(c.err.s, f.url);
	CHECK(!strstr(c.err.s, KEY));
	CHECK(!strstr(c.seen.a[0].detail, KEY));
	call_release(&c);
	fake_stop(&f);
}

TEST(openai_401_not_retried)
{
	/* The server echoes the key in its message: it must not reach err. */
	no_retry("openai", "{\"status\": 401, \"error_type\": \"invalid_request_error\", "
		 "\"error_code\": \"invalid_api_key\", \"error_message\": "
		 "\"Incorrect API key provided: " KEY "\"}", -EACCES, 401, "$OPENAI_API_KEY");
}

TEST(anthropic_401_not_retried)
{
	no_retry("anthropic", "{\"status\": 401, \"error_type\": \"authentication_error\", "
		 "\"error_message\": \"invalid x-api-key\"}", -EACCES, 401, "invalid x-api-key");
}

TEST(openai_400_not_retried)
{
	no_retry("openai", "{\"status\": 400, \"error_message\": \"Unsupported parameter: "
		 "max_tokens\"}", -EINVAL, 400, "Unsupported parameter");
}

TEST(anthropic_404_not_retried)
{
	no_retry("anthropic", "{\"status\": 404, \"error_type\": \"not_found_error\", "
		 "\"error_message\": \"model: m-test\"}", -EINVAL, 404, "model name m-test");
}

TEST(openai_insufficient_quota_not_retried)
{
	no_retry("openai", "{\"status\": 429, \"error_type\": \"insufficient_quota\", "
		 "\"error_code\": \"insufficient_quota\", \"error_message\": \"You exceeded "
		 "your current quota\"}", -EACCES, 429, "billing");
}

TEST(anthropic_billing_error_not_retried)
{
	no_retry("anthropic", "{\"status\": 400, \"error_type\": \"billing_error\", "
		 "\"error_message\": \"credit balance too low\"}", -EACCES, 400, "billing");
}

TEST(retries_exhausted)
{
	struct fake f;
	struct call c;
	int i;
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"status\": 502}], \"repeat_last\": true}",
			     "openai", 1), 0);
	c.o.max_retries = 2;
	CHECK_INT(call_run(&c), -EIO);
	CHECK_INT(c.r.attempts, 3);
	CHECK_INT(c.seen.n, 3);
	CHECK_INT(fake_requests(&f), 3);
	for (i = 0; i < 3; i++)
		CHECK_INT(c.seen.a[i].will_retry, i < 2);
	CHECK_INT(c.seen.a[2].wait_ms, 0);
	/* backoff caps: attempt 2 waits at most base*2 = 10 ms */
	CHECK(c.seen.a[1].wait_ms <= 10);
	CHECK_CONTAINS(c.err.s, "3 attempts");
	CHECK_CONTAINS(c.err.s, "HTTP 502");
	call_release(&c);
	fake_stop(&f);
}

TEST(script_exhausted_is_500_and_retried)
{
	struct fake f;
	struct call c;
	CHECK_INT(run_script(&c, &f, "{\"replies\": []}", "anthropic", 1), 0);
	c.o.max_retries = 1;
	CHECK_INT(call_run(&c), -EIO);
	CHECK_INT(fake_requests(&f), 2);
	CHECK_CONTAINS(c.err.s, "fake server script exhausted");
	call_release(&c);
	fake_stop(&f);
}

TEST(on_attempt_stops)
{
	struct fake f;
	struct call c;
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"status\": 500}], \"repeat_last\": true}",
			     "openai", 1), 0);
	c.seen.stop_at = 1;
	CHECK_INT(call_run(&c), -EINTR);
	CHECK_INT(c.seen.n, 1);
	CHECK_INT(fake_requests(&f), 1);
	call_release(&c);
	fake_stop(&f);
}

TEST(on_attempt_stop_keeps_final_error)
{
	struct fake f;
	struct call c;
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"status\": 403}]}", "openai", 0), 0);
	c.seen.stop_at = 1;
	CHECK_INT(call_run(&c), -EACCES);
	CHECK_INT(c.seen.n, 1);
	call_release(&c);
	fake_stop(&f);
}

TEST(deadline_mid_stall)
{
	struct fake f;
	struct call c;
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"fault\": \"stall\", \"delay_ms\": 5000, "
			     "\"content\": \"" LONG_TEXT "\"}], \"repeat_last\": true}",
			     "anthropic", 1), 0);
	c.rq.deadline_ms = clock_ms() + 400;
	CHECK_INT(call_run(&c), -ETIME);
	CHECK_INT(c.seen.n, 1);
	CHECK_STR(c.seen.a[0].outcome, "timeout");
	CHECK_INT(c.seen.a[0].status, 200);
	CHECK_INT(fake_requests(&f), 1);
	CHECK_CONTAINS(c.err.s, "deadline");
	CHECK(c.elapsed_ms >= 400);
	call_release(&c);
	fake_stop(&f);
}

TEST(retry_after_past_deadline_stops)
{
	struct fake f;
	struct call c;
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"status\": 429, \"headers\": "
			     "{\"retry-after\": \"30\"}}], \"repeat_last\": true}", "openai", 1), 0);
	c.rq.deadline_ms = clock_ms() + 5000;
	c.o.retry_max_ms = 60000; /* retry-after is capped at retry_max */
	CHECK_INT(call_run(&c), -ETIME);
	CHECK_INT(c.seen.n, 1);
	CHECK_INT(c.seen.a[0].will_retry, 0);
	CHECK_INT(fake_requests(&f), 1);
	CHECK_CONTAINS(c.err.s, "30000 ms");
	call_release(&c);
	fake_stop(&f);
}

/* A port nobody listens on: bind to port 0, note the port, close. */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		port = 1;
	else
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

TEST(connect_failed)
{
	struct call c;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", closed_port());
	call_init(&c, "openai", url, 1);
	c.o.max_retries = 1;
	CHECK_INT(call_run(&c), -EIO);
	CHECK_INT(c.seen.n, 2);
	CHECK_STR(c.seen.a[0].outcome, "connect_failed");
	CHECK_INT(c.seen.a[0].status, 0);
	CHECK_INT(c.seen.a[0].tin, 0);
	CHECK_CONTAINS(c.err.s, url);
	call_release(&c);
}

/* ---- replay and record -------------------------------------------------- */

static int replay_call(const char *file, struct call *c)
{
	call_init(c, "replay", NULL, 1);
	c->o.replay_file = file;
	return 0;
}

TEST(replay_two_turns_then_enodata)
{
	char dir[] = "/tmp/lg-replay.XXXXXX", path[64];
	struct provider *p;
	struct call c;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/t.jsonl", dir);
	CHECK_INT(write_file(path, "{\"content\": \"first\", \"tokens_in\": 5, \"tokens_out\": 2}\n"
			     "\n{\"content\": \"second\"}\n"), 0);
	replay_call(path, &c);
	CHECK_INT(provider_new(&c.o, &p, &c.err), 0);
	provider_set_attempt_cb(p, on_attempt, &c.seen);
	CHECK_INT(provider_complete(p, &c.rq, &c.r, &c.err), 0);
	CHECK_STR(c.r.text.s, "first");
	CHECK_INT(c.r.tokens_in, 5);
	CHECK_INT(c.r.tokens_out, 2);
	CHECK_INT(c.r.usage_estimated, 0);
	CHECK_INT(provider_complete(p, &c.rq, &c.r, &c.err), 0);
	CHECK_STR(c.r.text.s, "second");
	CHECK_INT(c.r.usage_estimated, 1);
	CHECK_INT(provider_complete(p, &c.rq, &c.r, &c.err), -ENODATA);
	CHECK_CONTAINS(c.err.s, path);
	CHECK_CONTAINS(c.err.s, "has 2 turns");
	CHECK_INT(c.seen.n, 2);
	CHECK_STR(c.seen.a[0].outcome, "ok");
	CHECK_INT(c.seen.a[0].tin, 5);
	provider_free(p);
	call_release(&c);
	unlink(path);
	rmdir(dir);
}

TEST(replay_malformed_line)
{
	char dir[] = "/tmp/lg-replay.XXXXXX", path[64], where[80];
	struct provider *p = NULL;
	struct call c;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/t.jsonl", dir);
	CHECK_INT(write_file(path, "{\"content\": \"ok\"}\n{\"content\": oops}\n"), 0);
	replay_call(path, &c);
	CHECK_INT(provider_new(&c.o, &p, &c.err), -EINVAL);
	snprintf(where, sizeof(where), "%s:2:", path);
	CHECK_CONTAINS(c.err.s, where);
	CHECK_INT(write_file(path, "{\"text\": \"no content\"}\n"), 0);
	CHECK_INT(provider_new(&c.o, &p, &c.err), -EINVAL);
	snprintf(where, sizeof(where), "%s:1:", path);
	CHECK_CONTAINS(c.err.s, where);
	call_release(&c);
	unlink(path);
	rmdir(dir);
}

TEST(record_then_replay)
{
	struct fake f;
	struct call c;
	struct provider *p;
	struct buf rec = BUF_INIT;
	char path[200];
	json_t *line;
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"content\": \"one \\u00e9\\n\\\"q\\\"\", "
			     "\"usage\": {\"in\": 7, \"out\": 3}}, {\"content\": \"" LONG_TEXT "\"}]}",
			     "openai", 1), 0);
	snprintf(path, sizeof(path), "%s/rec.jsonl", f.dir);
	c.o.record_file = path;
	CHECK_INT(provider_new(&c.o, &p, &c.err), 0);
	CHECK_INT(provider_complete(p, &c.rq, &c.r, &c.err), 0);
	CHECK_STR(c.r.text.s, "one \xc3\xa9\n\"q\"");
	CHECK_INT(provider_complete(p, &c.rq, &c.r, &c.err), 0);
	CHECK_STR(c.r.text.s, LONG_TEXT);
	provider_free(p);

	CHECK_INT(buf_read_file(&rec, path), 0);
	line = json_loadb(rec.s, strchr(rec.s, '\n') - rec.s, 0, NULL);
	CHECK_INT(json_integer_value(json_object_get(line, "v")), 1);
	CHECK_STR(json_str(line, "kind", NULL), "openai");
	CHECK_STR(json_str(line, "model", NULL), "m-test");
	/* sha256("Say hello.") */
	CHECK_STR(json_str(line, "prompt_sha256", NULL),
		  "c8e2c1437abb87b67330d0dddbd1de9a179ca6be207497f14873894c26e7d742");
	CHECK_INT(json_integer_value(json_object_get(line, "tokens_in")), 7);
	CHECK_STR(json_str(line, "finish_reason", NULL), "stop");
	json_decref(line);
	buf_release(&rec);
	call_release(&c);

	replay_call(path, &c);
	CHECK_INT(provider_new(&c.o, &p, &c.err), 0);
	CHECK_INT(provider_complete(p, &c.rq, &c.r, &c.err), 0);
	CHECK_STR(c.r.text.s, "one \xc3\xa9\n\"q\"");
	CHECK_INT(c.r.tokens_in, 7);
	CHECK_INT(c.r.tokens_out, 3);
	CHECK_INT(provider_complete(p, &c.rq, &c.r, &c.err), 0);
	CHECK_STR(c.r.text.s, LONG_TEXT);
	CHECK_INT(provider_complete(p, &c.rq, &c.r, &c.err), -ENODATA);
	provider_free(p);
	call_release(&c);
	fake_stop(&f);
}

TEST(bad_options)
{
	struct call c;
	struct provider *p;
	call_init(&c, "gemini", "http://127.0.0.1:1/v1", 1);
	CHECK_INT(provider_new(&c.o, &p, &c.err), -EINVAL);
	CHECK_CONTAINS(c.err.s, "gemini");
	c.o.kind = "openai";
	c.o.model = NULL;
	CHECK_INT(provider_new(&c.o, &p, &c.err), -EINVAL);
	c.o.model = "m";
	c.o.record_file = "/nonexistent-dir/rec.jsonl";
	CHECK_INT(provider_new(&c.o, &p, &c.err), -ENOENT);
	CHECK_CONTAINS(c.err.s, "/nonexistent-dir/rec.jsonl");
	call_release(&c);
}

/* Last: the interrupt flag cannot be cleared once set. */
TEST(interrupt_while_waiting)
{
	struct fake f;
	struct call c;
	CHECK_INT(run_script(&c, &f, "{\"replies\": [{\"status\": 503, \"headers\": "
			     "{\"retry-after\": \"30\"}}], \"repeat_last\": true}", "openai", 1), 0);
	interrupt_install();
	c.seen.raise_at = 1;
	CHECK_INT(call_run(&c), -ECANCELED);
	CHECK_INT(c.seen.n, 1);
	CHECK_INT(c.seen.a[0].will_retry, 1);
	CHECK(c.elapsed_ms < 30000);
	CHECK_INT(fake_requests(&f), 1);
	call_release(&c);
	fake_stop(&f);
}

int main(void)
{
	RUN(openai_stream_reply);
	RUN(openai_whole_reply);
	RUN(anthropic_stream_reply);
	RUN(anthropic_whole_reply);
	RUN(openai_request_on_the_wire);
	RUN(anthropic_request_on_the_wire);
	RUN(openai_no_key_no_authorization);
	RUN(anthropic_no_key_no_x_api_key);
	RUN(openai_no_usage_is_estimated);
	RUN(openai_429_retry_after);
	RUN(anthropic_429_retry_after);
	RUN(retry_after_http_date_in_the_past);
	RUN(openai_500_then_ok);
	RUN(anthropic_500_then_ok);
	RUN(anthropic_529_then_ok);
	RUN(openai_408_then_ok);
	RUN(openai_reset_then_ok);
	RUN(anthropic_reset_then_ok);
	RUN(openai_truncated_stream_then_ok);
	RUN(anthropic_truncated_stream_then_ok);
	RUN(openai_truncated_body_then_ok);
	RUN(openai_error_event_then_ok);
	RUN(anthropic_error_event_then_ok);
	RUN(openai_invalid_json_stream_then_ok);
	RUN(openai_invalid_json_body_then_ok);
	RUN(anthropic_invalid_json_stream_then_ok);
	RUN(anthropic_invalid_json_body_then_ok);
	RUN(partial_stream_is_charged);
	RUN(openai_read_timeout_then_ok);
	RUN(anthropic_read_timeout_then_ok);
	RUN(openai_401_not_retried);
	RUN(anthropic_401_not_retried);
	RUN(openai_400_not_retried);
	RUN(anthropic_404_not_retried);
	RUN(openai_insufficient_quota_not_retried);
	RUN(anthropic_billing_error_not_retried);
	RUN(retries_exhausted);
	RUN(script_exhausted_is_500_and_retried);
	RUN(on_attempt_stops);
	RUN(on_attempt_stop_keeps_final_error);
	RUN(deadline_mid_stall);
	RUN(retry_after_past_deadline_stops);
	RUN(connect_failed);
	RUN(replay_two_turns_then_enodata);
	RUN(replay_malformed_line);
	RUN(record_then_replay);
	RUN(bad_options);
	RUN(interrupt_while_waiting);
	return unit_done();
}
