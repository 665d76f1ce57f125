/*
 * provider: the attempt loop around one model turn.
 *
 * Each attempt is one HTTP POST (streamed through the SSE parser, or one
 * JSON body) whose result is sorted into an outcome: ok, retryable (with
 * a wait), or final (with the errno and the sentence the user will read).
 * The wire kinds (provider_openai.c, provider_anthropic.c) only build
 * requests and read replies into a struct provider_turn; replay
 * (provider_replay.c) skips the network altogether.
 */
#include "actor/provider.h"
#include "record/redact.h"
#include "base/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "actor/http.h"
#include "actor/provider_impl.h"
#include "base/hash.h"
#include "actor/sse.h"

#define MAX_BODY    PROVIDER_MAX_BODY
#define MAX_EVENT   (8u << 20) /* one SSE event */
#define MAX_MESSAGE 240	       /* server error text kept in messages */

struct provider {
	struct provider_opts o; /* strings point at the copies below */
	char *kind, *model, *base_url, *api_key, *replay_file, *record_file;
	char *shown_url, *shown_endpoint; /* for messages: credentials redacted */
	const struct provider_wire *wire;
	struct provider_replay *replay;
	char *url; /* base_url + wire path */
	int record_fd;
	provider_attempt_fn cb;
	void *cb_ctx;
};

/* One attempt as the loop sees it: the public report plus the verdict. */
struct attempt {
	struct provider_attempt a;
	struct buf detail;
	struct buf msg; /* the final sentence, when code is set */
	int ok;
	int retry;    /* worth another attempt */
	int code;     /* final errno (negative) when not retried */
	long hint_ms; /* the server's retry-after, or -1 */
	const char *request_id;
	long long start_ms;
};

/* ---- messages ----------------------------------------------------------- */

/* Replaces every copy of the key: servers sometimes echo what they got. */
static void scrub(struct buf *b, const char *key)
{
	size_t klen = key ? strlen(key) : 0;
	char *hit;

	if (klen < 4)
		return;
	while ((hit = memmem(b->s, b->len, key, klen))) {
		struct buf t = BUF_INIT;
		size_t off = (size_t)(hit - b->s);
		buf_add(&t, b->s, off);
		buf_adds(&t, "[redacted]");
		buf_add(&t, hit + klen, b->len - off - klen);
		buf_sets(b, t.s);
		buf_release(&t);
	}
}

/*
 * Appends server text on one line, printable, at most MAX_MESSAGE bytes.
 * Redact first, then cut: a key echoed across the cut would otherwise
 * survive in part, where no later scrub can recognise it.
 */
static void add_line(struct buf *b, const char *s, size_t n, const char *key)
{
	struct buf c = BUF_INIT;
	size_t i;

	buf_add(&c, s, n);
	scrub(&c, key);
	redact_buf(&c);
	for (i = 0; i < c.len && i < MAX_MESSAGE; i++) {
		unsigned char ch = (unsigned char)c.s[i];
		buf_addch(b, ch < 0x20 || ch == 0x7f ? ' ' : (char)ch);
	}
	if (i < c.len)
		buf_adds(b, "...");
	buf_release(&c);
}

/* "HTTP 429 (message) [request id X]" from an error reply. */
static void http_detail(struct attempt *at, long status, struct provider_turn *t,
			const struct http_response *rs, const char *key)
{
	buf_addf(&at->detail, "HTTP %ld", status);
	if (t->error_msg.len) {
		buf_adds(&at->detail, " (");
		add_line(&at->detail, t->error_msg.s, t->error_msg.len, key);
		buf_addch(&at->detail, ')');
	} else if (rs->body.len) {
		buf_adds(&at->detail, " (");
		add_line(&at->detail, rs->body.s, rs->body.len, key);
		buf_addch(&at->detail, ')');
	}
	if (rs->request_id)
		buf_addf(&at->detail, " [request id %s]", rs->request_id);
}

static int is_quota(const struct provider_turn *t, const char *body)
{
	const char *ty = t->error_type ? t->error_type : "";
	const char *code = t->error_code ? t->error_code : "";

	return !strcmp(ty, "insufficient_quota") || !strcmp(code, "insufficient_quota") ||
	       !strcmp(ty, "billing_error") ||
	       (body && strstr(body, "insufficient_quota") != NULL);
}

static void set_final(struct attempt *at, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_final(struct attempt *at, int code, const char *fmt, ...)
{
	va_list ap;
	at->code = code;
	at->retry = 0;
	buf_reset(&at->msg);
	va_start(ap, fmt);
	buf_vaddf(&at->msg, fmt, ap);
	va_end(ap);
}

static void quota_final(struct provider *p, struct attempt *at)
{
	set_final(at, -EACCES,
		  "the model server at %s refused for quota or billing "
		  "(%s): check the account's plan and billing; retrying will not help",
		  p->shown_url, at->detail.s);
}

/* ---- classification ----------------------------------------------------- */

static long retry_after_ms(const struct http_response *rs)
{
	char *end;
	double v;
	time_t when;

	if (rs->retry_after_ms) {
		v = strtod(rs->retry_after_ms, &end);
		if (end != rs->retry_after_ms && !*end && v >= 0)
			return (long)v;
	}
	if (!rs->retry_after)
		return -1;
	v = strtod(rs->retry_after, &end);
	if (end != rs->retry_after && !*end && v >= 0)
		return v > 86400 ? 86400000L : (long)(v * 1000);
	when = http_date(rs->retry_after);
	if (when == (time_t)-1)
		return -1;
	return when <= time(NULL) ? 0 : (long)(when - time(NULL)) * 1000;
}

static void parse_error_body(struct provider_turn *t, const struct http_response *rs)
{
	json_error_t je;
	json_t *root = json_loadb(rs->body.s, rs->body.len, JSON_ALLOW_NUL, &je);
	json_t *e = json_object_get(root, "error");
	if (e)
		provider_turn_error(t, e);
	json_decref(root);
}

static void classify_http_error(struct provider *p, long status, struct provider_turn *t,
				const struct http_response *rs, struct attempt *at)
{
	at->a.outcome = "http_error";
	parse_error_body(t, rs);
	http_detail(at, status, t, rs, p->api_key);
	at->hint_ms = retry_after_ms(rs);
	if (is_quota(t, rs->body.s))
		return quota_final(p, at);
	if (status == 408 || status == 409 || status == 429 || status >= 500) {
		at->retry = 1;
		return;
	}
	if (status == 401 || status == 403)
		return set_final(at, -EACCES,
				 "the model server at %s answered %s: check "
				 "the API key in %s and that it may use model %s",
				 p->shown_url, at->detail.s, p->wire->key_hint, p->model);
	if (status == 404)
		return set_final(at, -EINVAL,
				 "the model server at %s answered %s: check "
				 "the base URL and the model name %s",
				 p->shown_url, at->detail.s, p->model);
	set_final(at, -EINVAL,
		  "the model server at %s rejected the request with %s: "
		  "check the model name %s and the request settings (max_tokens, "
		  "temperature); retrying will not help",
		  p->shown_url, at->detail.s, p->model);
}

/* The reply arrived whole (2xx); is it a complete, well-formed turn? */
static void classify_reply(struct provider *p, struct provider_turn *t,
			   struct attempt *at)
{
	if (t->error) {
		at->a.outcome = "stream_error";
		buf_adds(&at->detail, "the reply carried an error");
		if (t->error_type)
			buf_addf(&at->detail, " of type %s", t->error_type);
		if (t->error_msg.len) {
			buf_adds(&at->detail, ": ");
			add_line(&at->detail, t->error_msg.s, t->error_msg.len,
				 p->api_key);
		}
		if (is_quota(t, t->error_msg.s))
			return quota_final(p, at);
		at->retry = 1;
	} else if (t->bad) {
		at->a.outcome = "bad_body";
		buf_addf(&at->detail, "the server sent %s", t->bad_detail.s);
		at->retry = 1;
	} else if (!t->done) {
		at->a.outcome = "truncated";
		buf_adds(&at->detail, "the reply stream ended before its final event");
		at->retry = 1;
	} else {
		at->a.outcome = "ok";
		at->ok = 1;
	}
}

static void classify_transport(struct provider *p, int ret, const char *kind,
			       struct provider_turn *t, const struct buf *herr,
			       struct attempt *at)
{
	buf_sets(&at->detail, herr->s);
	at->retry = 1;
	if (!strcmp(kind, "callback") || !strcmp(kind, "too_big")) {
		/* The stream parser stopped the transfer: say why. */
		buf_reset(&at->detail);
		if (!t->error && !t->bad)
			provider_turn_bad(t, ret == -E2BIG
						     ? "a reply larger than allowed"
						     : "a reply that could not be read");
		classify_reply(p, t, at);
		return;
	}
	at->a.outcome = !strcmp(kind, "truncated")	  ? "truncated"
			: !strcmp(kind, "timeout")	  ? "timeout"
			: !strcmp(kind, "connect_failed") ? "connect_failed"
							  : "reset";
	if (!strcmp(kind, "interrupted")) {
		at->a.outcome = "interrupted";
		set_final(at, -ECANCELED,
			  "interrupted while waiting for the model server at %s",
			  p->shown_url);
	} else if (!strcmp(kind, "deadline")) {
		at->a.outcome = "timeout";
		set_final(at, -ETIME,
			  "the deadline passed while waiting for the model "
			  "server at %s: allow more time (--deadline) or ask for less "
			  "per turn",
			  p->shown_url);
	} else if (!strcmp(kind, "bad_url")) {
		at->a.outcome = "connect_failed";
		set_final(at, -EINVAL,
			  "%s: give the base URL as http://HOST[:PORT]/PATH "
			  "or https://...",
			  herr->s);
	} else if (!strcmp(kind, "tls")) {
		at->a.outcome = "connect_failed";
		set_final(at, -EIO,
			  "%s: check the server's certificate and the system's "
			  "CA certificates",
			  herr->s);
	}
}

/* ---- one attempt -------------------------------------------------------- */

/* Routes a 2xx body: SSE into the parser, JSON (a server that ignored
 * "stream") into a buffer for the whole-reply parser. */
struct stream_ctx {
	const struct provider_wire *wire;
	struct provider_turn *t;
	struct http_response *rs;
	struct sse sse;
	struct buf json;
	int mode; /* 0 nothing yet, 1 SSE, 2 JSON */
};

static int on_sse_event(void *ctx, const char *name, const char *data, size_t len)
{
	struct stream_ctx *c = ctx;
	return c->wire->event(c->t, name, data, len);
}

static int on_data(void *ctx, const char *p, size_t n)
{
	struct stream_ctx *c = ctx;
	const char *ct = c->rs->content_type;

	if (!c->mode)
		c->mode = ct && !strncasecmp(ct, "application/json", 16) ? 2 : 1;
	if (c->mode == 2)
		return buf_add(&c->json, p, n) < 0 ? -E2BIG : 0;
	return sse_feed(&c->sse, p, n);
}

static void parse_whole(const struct provider_wire *w, struct provider_turn *t,
			const struct buf *body)
{
	json_error_t je;
	json_t *root = json_loadb(body->s, body->len, JSON_ALLOW_NUL, &je);

	if (!json_is_object(root))
		provider_turn_bad_json(t, "a body", root, &je);
	else
		w->whole(t, root);
	json_decref(root);
}

/* Sends the request and sorts the result into at. */
static void run_attempt(struct provider *p, const struct provider_request *rq,
			const char *body, const char *const *hdrs,
			struct provider_turn *t, struct attempt *at)
{
	struct http_request hr = HTTP_REQUEST_INIT;
	struct http_response rs;
	struct stream_ctx sc;
	struct buf herr = BUF_INIT;
	int ret;

	http_response_init(&rs, MAX_BODY);
	memset(&sc, 0, sizeof(sc));
	sc.wire = p->wire;
	sc.t = t;
	sc.rs = &rs;
	sse_init(&sc.sse, MAX_EVENT, on_sse_event, &sc);
	buf_init(&sc.json, MAX_BODY);
	hr.url = p->url;
	hr.shown_url = p->shown_endpoint;
	hr.headers = hdrs;
	hr.body = body;
	hr.body_len = strlen(body);
	hr.connect_timeout_ms = p->o.connect_timeout_ms;
	hr.read_timeout_ms = p->o.read_timeout_ms;
	hr.deadline_ms = rq->deadline_ms;
	if (p->o.stream) {
		hr.on_data = on_data;
		hr.ctx = &sc;
	}
	ret = http_post(&hr, &rs, &herr);
	at->a.http_status = (int)rs.status;
	if (ret < 0) {
		classify_transport(p, ret, rs.failure ? rs.failure : "error", t, &herr,
				   at);
	} else if (rs.status < 200 || rs.status >= 300) {
		classify_http_error(p, rs.status, t, &rs, at);
	} else {
		if (!p->o.stream)
			parse_whole(p->wire, t, &rs.body);
		else if (sc.mode == 2)
			parse_whole(p->wire, t, &sc.json);
		else
			sse_finish(&sc.sse);
		classify_reply(p, t, at);
	}
	scrub(&at->detail, p->api_key);
	scrub(&at->msg, p->api_key);
	sse_release(&sc.sse);
	buf_release(&sc.json);
	buf_release(&herr);
	http_response_release(&rs);
}

static long estimate_tokens(size_t bytes)
{
	return (long)((bytes + 3) / 4);
}

/* Usage to charge: what the server reported, else an estimate from bytes.
 * A failed attempt is charged only when the server had started answering:
 * it has then done (and billed) the prompt and part of a reply. */
static void charge(const struct provider_request *rq, const struct provider_turn *t,
		   struct attempt *at)
{
	size_t prompt = provider_request_bytes(rq);

	if (!at->ok && !t->events && !t->text.len)
		return;
	at->a.tokens_in = t->have_in ? t->tokens_in : estimate_tokens(prompt);
	at->a.tokens_out = t->have_out ? t->tokens_out : estimate_tokens(t->text.len);
	at->a.usage_estimated = !t->have_in || !t->have_out;
}

/* ---- waiting ------------------------------------------------------------ */

/* Decides whether attempt n is followed by another, and after how long. */
static void plan_retry(struct provider *p, const struct provider_request *rq,
		       struct attempt *at, int n)
{
	long wait;

	if (at->code || !at->retry)
		return;
	if (n > p->o.max_retries) {
		set_final(at, -EIO,
			  "the model server at %s failed %d attempt%s, the last "
			  "with %s: check that it is up and reachable, or allow more "
			  "retries",
			  p->shown_url, n, n == 1 ? "" : "s", at->detail.s);
		return;
	}
	wait = at->hint_ms >= 0 ? at->hint_ms : provider_backoff_ms(&p->o, n);
	/* a server's retry-after of a day is not obeyed past retry_max */
	if (at->hint_ms >= 0 && p->o.retry_max_ms >= 0 && wait > p->o.retry_max_ms)
		wait = p->o.retry_max_ms;
	if (rq->deadline_ms && clock_ms() + wait >= rq->deadline_ms) {
		set_final(at, -ETIME,
			  "the deadline would pass during the %ld ms wait "
			  "before retrying the model server at %s (after %s): allow more "
			  "time (--deadline) or try again later",
			  wait, p->shown_url, at->detail.s);
		return;
	}
	at->a.will_retry = 1;
	at->a.wait_ms = wait;
}

/* ---- recording ---------------------------------------------------------- */

/* Appends one JSONL line in a single write(), so concurrent writers (fan-out
 * workers sharing a file) never interleave within a line. */
static int record_turn(struct provider *p, const struct provider_request *rq,
		       const struct provider_turn *t, const struct attempt *at,
		       struct buf *err)
{
	char hs[65], hp[65];
	json_t *o;
	char *line;
	size_t len;
	ssize_t w;

	hash_sha256_hex(rq->system ? rq->system : "", rq->system ? strlen(rq->system) : 0,
			hs);
	hash_sha256_hex(rq->prompt ? rq->prompt : "", rq->prompt ? strlen(rq->prompt) : 0,
			hp);
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s%, s:I, s:I, s:s?}", "v", 1, "kind",
		      p->kind, "model", p->model ? p->model : "", "system_sha256", hs,
		      "prompt_sha256", hp, "content", t->text.s, t->text.len, "tokens_in",
		      (json_int_t)at->a.tokens_in, "tokens_out",
		      (json_int_t)at->a.tokens_out, "finish_reason", t->finish_reason);
	line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!line)
		return err_set(err, -ENOMEM,
			       "could not encode the turn for the record "
			       "file %s (is the reply valid UTF-8?)",
			       p->record_file);
	len = strlen(line);
	line = xrealloc(line, len + 2);
	line[len] = '\n';
	line[len + 1] = '\0';
	w = write(p->record_fd, line, len + 1);
	free(line);
	if (w < 0)
		return err_set(err, -errno, "could not append to the record file %s: %s",
			       p->record_file, strerror(errno));
	if ((size_t)w != len + 1)
		return err_set(err, -EIO,
			       "could not append to the record file %s: "
			       "short write (disk full?)",
			       p->record_file);
	return 0;
}

/* ---- the loop ----------------------------------------------------------- */

static void attempt_init(struct attempt *at, int n)
{
	memset(at, 0, sizeof(*at));
	buf_init(&at->detail, 0);
	buf_init(&at->msg, 0);
	at->a.n = n;
	at->a.outcome = "reset";
	at->hint_ms = -1;
	at->start_ms = clock_ms();
}

static int report(struct provider *p, struct attempt *at)
{
	at->a.detail = at->detail.s;
	at->a.elapsed_ms = (double)(clock_ms() - at->start_ms);
	return p->cb ? p->cb(p->cb_ctx, &at->a) : 0;
}

/* A good turn: charge, record, report, and hand the text over. */
static int finish_turn(struct provider *p, const struct provider_request *rq,
		       struct provider_turn *t, struct attempt *at,
		       struct provider_reply *reply, struct buf *err)
{
	int ret = 0;

	charge(rq, t, at);
	if (p->record_fd >= 0)
		ret = record_turn(p, rq, t, at, err);
	report(p, at); /* nothing left to stop: the return is moot */
	reply->attempts = at->a.n;
	if (ret < 0)
		return ret;
	buf_release(&reply->text);
	reply->text = t->text;
	buf_init(&t->text, 0);
	free(reply->finish_reason);
	free(reply->model);
	reply->finish_reason = t->finish_reason;
	reply->model = t->model;
	t->finish_reason = t->model = NULL;
	json_decref(reply->tool_calls);
	reply->tool_calls = t->tool_calls;
	t->tool_calls = NULL;
	reply->tokens_in = at->a.tokens_in;
	reply->tokens_out = at->a.tokens_out;
	reply->usage_estimated = at->a.usage_estimated;
	return 0;
}

/* Runs attempt n; 1: try again, 0: done (reply filled), < 0: failed. */
static int step(struct provider *p, const struct provider_request *rq, const char *body,
		const char *const *hdrs, int n, struct provider_reply *reply,
		struct buf *err)
{
	struct provider_turn t;
	struct attempt at;
	int ret;

	provider_turn_init(&t);
	attempt_init(&at, n);
	run_attempt(p, rq, body, hdrs, &t, &at);
	if (at.ok) {
		ret = finish_turn(p, rq, &t, &at, reply, err);
		goto out;
	}
	charge(rq, &t, &at);
	plan_retry(p, rq, &at, n);
	reply->attempts = n;
	/* A stop request matters only when there was a next attempt to stop;
	 * otherwise the real error (401, deadline, ...) is the better news. */
	if (report(p, &at) && at.a.will_retry)
		ret = err_set(err, -EINTR,
			      "stopped retrying the model server at %s after "
			      "attempt %d (%s), as the caller asked",
			      p->shown_url, n, at.detail.s);
	else if (!at.a.will_retry)
		ret = err_set(err, at.code ? at.code : -EIO, "%s", at.msg.s);
	else if (provider_sleep(at.a.wait_ms) < 0)
		ret = err_set(err, -ECANCELED,
			      "interrupted while waiting to retry the "
			      "model server at %s",
			      p->shown_url);
	else
		ret = 1;
out:
	provider_turn_release(&t);
	buf_release(&at.detail);
	buf_release(&at.msg);
	return ret;
}

static int replay_turn(struct provider *p, const struct provider_request *rq,
		       struct provider_reply *reply, struct buf *err)
{
	struct provider_turn t;
	struct attempt at;
	int ret;

	provider_turn_init(&t);
	attempt_init(&at, 1);
	ret = provider_replay_next(p->replay, &t, err);
	if (ret == 0) {
		at.ok = 1;
		at.a.outcome = "ok";
		ret = finish_turn(p, rq, &t, &at, reply, err);
	}
	provider_turn_release(&t);
	buf_release(&at.detail);
	buf_release(&at.msg);
	return ret;
}

/* Request headers: the kind's own plus content-type; free with free_headers. */
static void make_headers(struct provider *p, char *h[PROVIDER_MAX_HEADERS + 1])
{
	int i;
	p->wire->headers(&p->o, h);
	for (i = 0; h[i]; i++)
		;
	h[i++] = xstrdup("content-type: application/json");
	h[i] = NULL;
}

static void free_headers(char **h)
{
	for (; *h; h++)
		free(*h);
}

int provider_complete(struct provider *p, const struct provider_request *rq,
		      struct provider_reply *reply, struct buf *err)
{
	char *h[PROVIDER_MAX_HEADERS + 1];
	json_t *o;
	char *body;
	int n, ret = 1;

	if (!rq || !rq->prompt)
		return err_set(err, -EINVAL, "a model request needs a prompt");
	if (p->replay)
		return replay_turn(p, rq, reply, err);
	/* The body builders pack strings with jansson, which refuses invalid
	 * UTF-8 by dropping the value: check first rather than send a request
	 * without its prompt. */
	if (!utf8_valid(rq->prompt) || !utf8_valid(rq->system))
		return err_set(err, -EINVAL,
			       "the prompt is not valid UTF-8, so it "
			       "cannot be sent as JSON (a loopgate bug: prompts are "
			       "cleaned before sending)");
	o = p->wire->body(&p->o, rq);
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!body)
		return err_set(err, -EINVAL,
			       "could not encode the request to %s as JSON: "
			       "the prompt must be valid UTF-8",
			       p->shown_url);
	make_headers(p, h);
	for (n = 1; ret > 0; n++) {
		if (interrupt_pending())
			ret = err_set(err, -ECANCELED,
				      "interrupted before calling the "
				      "model server at %s",
				      p->shown_url);
		else if (rq->deadline_ms && clock_ms() >= rq->deadline_ms)
			ret = err_set(err, -ETIME,
				      "the deadline passed before calling the "
				      "model server at %s: allow more time (--deadline)",
				      p->shown_url);
		else
			ret = step(p, rq, body, (const char *const *)h, n, reply, err);
	}
	free_headers(h);
	free(body);
	return ret;
}

/* ---- lifecycle ---------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int open_record(struct provider *p, struct buf *err)
{
	p->record_fd = open(p->record_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			    0644);
	if (p->record_fd < 0)
		return err_set(err, -errno, "could not open the record file %s: %s",
			       p->record_file, strerror(errno));
	return 0;
}

/* Picks the wire and the endpoint URL ("/" at the end of base_url is
 * dropped so both ".../v1" and ".../v1/" work). */
static int setup_wire(struct provider *p, struct buf *err)
{
	size_t n;

	if (!strcmp(p->kind, "openai"))
		p->wire = &provider_openai_wire;
	else if (!strcmp(p->kind, "anthropic"))
		p->wire = &provider_anthropic_wire;
	else
		return err_set(err, -EINVAL,
			       "unknown model provider \"%s\": use openai, "
			       "anthropic or replay",
			       p->kind);
	if (!p->base_url || !p->base_url[0]) {
		free(p->base_url);
		p->base_url = xstrdup(p->wire->default_base_url);
	}
	n = strlen(p->base_url);
	while (n > 1 && p->base_url[n - 1] == '/')
		p->base_url[--n] = '\0';
	p->url = xasprintf("%s%s", p->base_url, p->wire->path);
	p->shown_endpoint = redact_url(p->url);
	return http_global_init(err);
}

int provider_new(const struct provider_opts *o, struct provider **out, struct buf *err)
{
	struct provider *p;
	int ret;

	if ((ret = provider_check_opts(o, err)) < 0)
		return ret;
	p = xcalloc(1, sizeof(*p));
	p->o = *o;
	p->record_fd = -1;
	p->o.kind = p->kind = xstrdup(o->kind);
	p->o.model = p->model = dup_or_null(o->model);
	p->base_url = dup_or_null(o->base_url);
	p->o.api_key = p->api_key = dup_or_null(o->api_key);
	p->o.replay_file = p->replay_file = dup_or_null(o->replay_file);
	p->o.record_file = p->record_file = dup_or_null(o->record_file);
	if (!strcmp(p->kind, "replay"))
		ret = provider_replay_open(p->replay_file, &p->replay, err);
	else
		ret = setup_wire(p, err);
	p->o.base_url = p->base_url;
	/* user:password@ or ?api_key=: never in a message, log or report */
	redact_add_url(p->base_url);
	p->shown_url = p->base_url ? redact_url(p->base_url) : xstrdup("(none)");
	if (ret == 0 && p->record_file)
		ret = open_record(p, err);
	if (ret < 0) {
		provider_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void provider_set_attempt_cb(struct provider *p, provider_attempt_fn fn, void *ctx)
{
	p->cb = fn;
	p->cb_ctx = ctx;
}

void provider_skip_replies(struct provider *p, size_t n)
{
	if (p && p->replay)
		provider_replay_skip(p->replay, n);
}

void provider_free(struct provider *p)
{
	if (!p)
		return;
	if (p->record_fd >= 0)
		close(p->record_fd);
	provider_replay_free(p->replay);
	if (p->api_key) /* do not leave the key lying in freed memory */
		memset(p->api_key, 0, strlen(p->api_key));
	free(p->kind);
	free(p->model);
	free(p->base_url);
	free(p->shown_url);
	free(p->shown_endpoint);
	free(p->api_key);
	free(p->replay_file);
	free(p->record_file);
	free(p->url);
	free(p);
}
