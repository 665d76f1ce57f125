/*
 * provider: one model turn (system + user message -> reply text + usage)
 * through a chat API, with retries, streaming and recording.
 *
 *   struct provider_opts o = PROVIDER_OPTS_INIT;
 *   o.kind = "openai"; o.model = "gpt-4o-mini"; o.base_url = "...";
 *   o.api_key = getenv(...);            value; never logged by this module
 *   struct provider *p;
 *   if (provider_new(&o, &p, &err) < 0) ...
 *   struct provider_reply r = PROVIDER_REPLY_INIT;
 *   int ret = provider_complete(p, &req, &r, &err);
 *   ... r.text, r.tokens_in, r.tokens_out ...
 *   provider_reply_release(&r);
 *   provider_free(p);
 *
 * Kinds: "openai" (Chat Completions: POST {base_url}/chat/completions),
 * "anthropic" (Messages: POST {base_url}/messages, anthropic-version
 * 2023-06-01), "replay" (replay_file: a transcript recorded by record_file).
 *
 * Retries: timeouts, connection resets, an early end of stream, an error event
 * in the stream, an unparsable body, HTTP 408, 409, 429, 5xx and 529 are
 * retried up to max_retries times with capped exponential backoff and full
 * jitter, honouring retry-after (seconds or HTTP date; capped by the
 * deadline).  400, 401, 403, 404, 422 and quota/spend-limit errors
 * (insufficient_quota, billing_error, ...) are not retried.  A partial turn
 * is discarded whole.  Each attempt is reported through on_attempt before
 * any wait, so the caller can record and charge it, and can stop further
 * attempts by returning non-zero.
 */
#ifndef LOOPGATE_PROVIDER_H
#define LOOPGATE_PROVIDER_H

#include <jansson.h>
#include "base/buf.h"

struct provider_opts {
	const char *kind;
	const char *model;
	const char *base_url;
	const char *api_key;
	const char *replay_file;
	const char *record_file; /* append each completed turn (JSONL) */
	long connect_timeout_ms;
	long read_timeout_ms; /* longest silence while waiting for bytes */
	int max_retries;
	long retry_base_ms;
	long retry_max_ms;
	int stream;	    /* 1: SSE streaming (default), 0: one JSON body */
	double temperature; /* < 0: not sent */
};
#define PROVIDER_OPTS_INIT                                                               \
	{                                                                                \
		.connect_timeout_ms = 10000, .read_timeout_ms = 120000,                  \
		.max_retries = 4, .retry_base_ms = 500, .retry_max_ms = 30000,           \
		.stream = 1, .temperature = -1                                           \
	}

/*
 * Function calling, in one neutral shape that each wire turns into its own
 * (OpenAI tools/tool_calls/role "tool"; Anthropic tools/tool_use/
 * tool_result):
 *   tools    [{"name", "description", "parameters": JSON schema}]
 *   history  the turns after the prompt, in order:
 *            {"role": "assistant", "text": "...", "tool_calls": [CALL...]}
 *            {"role": "tool", "id": "...", "name": "...", "content": "...",
 *             "is_error": bool}
 *   CALL     {"id": "...", "name": "...", "arguments": "JSON text"}
 * A reply that calls tools has reply->tool_calls (CALLs, arguments as the
 * model sent them: perhaps not valid JSON; the caller says so in the
 * result).
 */
struct provider_request {
	const char *system;
	const char *prompt;
	long max_output_tokens;
	long long deadline_ms; /* absolute, monotonic clock (clock_ms()); 0: none */
	const json_t *tools;   /* NULL: no function calling */
	const json_t *history; /* NULL: the prompt is the whole conversation */
};

/* One attempt, as reported to on_attempt. */
struct provider_attempt {
	int n;		     /* 1-based */
	int http_status;     /* 0 when no HTTP response */
	const char *outcome; /* "ok", "http_error", "timeout", "reset", "truncated",
					   "stream_error", "bad_body", "connect_failed",
					   "interrupted" */
	const char *detail;  /* one line, human readable (no secrets) */
	long tokens_in;	     /* usage charged for this attempt (reported, or */
	long tokens_out;     /*  estimated for a partial stream; 0 if none) */
	int usage_estimated; /* 1 when tokens were estimated, not reported */
	int will_retry;
	long wait_ms; /* backoff before the next attempt */
	double elapsed_ms;
};

struct provider_reply {
	struct buf text;
	long tokens_in; /* of the successful attempt */
	long tokens_out;
	char *finish_reason; /* "stop", "length", "end_turn", "max_tokens", ... */
	char *model;	     /* as reported by the server, if any */
	int attempts;
	int usage_estimated; /* 1: the server sent no usage; tokens are
					   estimated from bytes (about 4 per token) */
	json_t *tool_calls;  /* the tools the reply calls, or NULL */
};
#define PROVIDER_REPLY_INIT                                                              \
	{                                                                                \
		.text = BUF_INIT                                                         \
	}
void provider_reply_release(struct provider_reply *r);
/* The bytes a request sends as its prompt: system, prompt, history and
 * tool definitions (the size budget estimates are made from). */
size_t provider_request_bytes(const struct provider_request *rq);

/* Returns non-zero to stop retrying. */
typedef int (*provider_attempt_fn)(void *ctx, const struct provider_attempt *a);

struct provider;

int provider_new(const struct provider_opts *o, struct provider **out, struct buf *err);
void provider_set_attempt_cb(struct provider *p, provider_attempt_fn fn, void *ctx);
/*
 * 0: reply filled.  Errors (err set to one sentence saying what happened and
 * what to do):  -ECANCELED interrupted (SIGINT/SIGTERM), -ETIME deadline passed,
 * -EACCES auth/permission/quota (not retried), -EINVAL request rejected
 * (400/404/422), -EIO gave up after retries, -ENODATA replay transcript
 * exhausted, -EINTR on_attempt asked to stop.
 */
int provider_complete(struct provider *p, const struct provider_request *req,
		      struct provider_reply *reply, struct buf *err);
void provider_free(struct provider *p);
/*
 * A resumed run: the first n replies were already received (and applied)
 * before the crash.  A replay provider moves past n turns of its
 * transcript, so the run goes on with the reply it would have got next;
 * the network providers have nothing to skip.
 */
void provider_skip_replies(struct provider *p, size_t n);

#endif
