/*
 * provider_turn.c: what the attempt loop (provider.c) and the wire files
 * share: the turn helpers the parsers mark a reply with, and the retry
 * waits (provider_impl.h).
 */
#include "actor/provider_impl.h"
#include "base/clock.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---- turn helpers (used by the wire files) ---------------------------- */

void provider_turn_init(struct provider_turn *t)
{
	memset(t, 0, sizeof(*t));
	buf_init(&t->text, PROVIDER_MAX_BODY);
	buf_init(&t->bad_detail, 0);
	buf_init(&t->error_msg, 0);
}

void provider_turn_release(struct provider_turn *t)
{
	buf_release(&t->text);
	buf_release(&t->bad_detail);
	buf_release(&t->error_msg);
	free(t->finish_reason);
	free(t->model);
	free(t->error_type);
	free(t->error_code);
	json_decref(t->tool_calls);
	memset(t, 0, sizeof(*t));
}

/* At most this many tool calls in one reply are kept. */
#define MAX_TOOL_CALLS 64

void provider_turn_tool(struct provider_turn *t, size_t index, const char *id,
			const char *name, const char *args, size_t args_len)
{
	json_t *c;
	const char *old;

	if (index >= MAX_TOOL_CALLS)
		return;
	if (!t->tool_calls)
		t->tool_calls = json_array();
	while (json_array_size(t->tool_calls) <= index)
		json_array_append_new(t->tool_calls,
				      json_pack("{s:s,s:s,s:s}", "id", "", "name", "",
						"arguments", ""));
	c = json_array_get(t->tool_calls, index);
	if (id && *id)
		json_object_set_new(c, "id", json_string(id));
	if (name && *name)
		json_object_set_new(c, "name", json_string(name));
	if (args && args_len) {
		struct buf b = BUF_INIT;
		old = json_string_value(json_object_get(c, "arguments"));
		buf_adds(&b, old ? old : "");
		buf_add(&b, args, args_len);
		json_object_set_new(c, "arguments", json_stringn(b.s, b.len));
		buf_release(&b);
	}
}

size_t provider_request_bytes(const struct provider_request *rq)
{
	size_t n = (rq->system ? strlen(rq->system) : 0) +
		   (rq->prompt ? strlen(rq->prompt) : 0);
	char *s;
	if (rq->history && (s = json_dumps(rq->history, JSON_COMPACT))) {
		n += strlen(s);
		free(s);
	}
	if (rq->tools && (s = json_dumps(rq->tools, JSON_COMPACT))) {
		n += strlen(s);
		free(s);
	}
	return n;
}

void provider_turn_bad(struct provider_turn *t, const char *what)
{
	if (!t->bad)
		buf_sets(&t->bad_detail, what);
	t->bad = 1;
}

void provider_turn_bad_json(struct provider_turn *t, const char *what, const json_t *root,
			    const json_error_t *je)
{
	char msg[160];

	if (root)
		snprintf(msg, sizeof(msg), "%s that is JSON but not an object", what);
	else if (strstr(je->text, "too big"))
		snprintf(msg, sizeof(msg),
			 "%s with a number too large for 64 bits (line %d, column %d)",
			 what, je->line, je->column);
	else
		snprintf(msg, sizeof(msg),
			 "%s that is not a JSON object (invalid at line %d, "
			 "column %d)",
			 what, je->line, je->column);
	provider_turn_bad(t, msg);
}

void provider_turn_set(char **slot, json_t *str)
{
	if (!json_is_string(str))
		return;
	free(*slot);
	*slot = xstrndup(json_string_value(str), json_string_length(str));
}

void provider_turn_error(struct provider_turn *t, json_t *error)
{
	json_t *msg = json_object_get(error, "message");

	t->error = 1;
	provider_turn_set(&t->error_type, json_object_get(error, "type"));
	provider_turn_set(&t->error_code, json_object_get(error, "code"));
	if (json_is_string(msg))
		buf_sets(&t->error_msg, json_string_value(msg));
	else if (json_is_string(error))
		buf_sets(&t->error_msg, json_string_value(error));
}

int provider_json_long(json_t *v, long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return 0;
	*out = (long)json_integer_value(v);
	return 1;
}

void provider_reply_release(struct provider_reply *r)
{
	buf_release(&r->text);
	free(r->finish_reason);
	free(r->model);
	r->finish_reason = r->model = NULL;
	r->tokens_in = r->tokens_out = 0;
	r->attempts = r->usage_estimated = 0;
	json_decref(r->tool_calls);
	r->tool_calls = NULL;
}

/* ---- options ----------------------------------------------------------- */

int provider_check_opts(const struct provider_opts *o, struct buf *err)
{
	if (!o->kind || !o->kind[0])
		return err_set(err, -EINVAL,
			       "no model provider given: use openai, "
			       "anthropic or replay");
	if (strcmp(o->kind, "replay") && (!o->model || !o->model[0]))
		return err_set(err, -EINVAL,
			       "no model name given for the %s provider: "
			       "set it with --model %s/NAME",
			       o->kind, o->kind);
	if (o->max_retries < 0 || o->retry_base_ms < 0 || o->retry_max_ms < 0 ||
	    o->connect_timeout_ms < 0 || o->read_timeout_ms < 0)
		return err_set(err, -EINVAL,
			       "retry counts, waits and timeouts for the "
			       "model provider must not be negative");
	return 0;
}

/* ---- waiting ------------------------------------------------------------ */

/* Full jitter: uniform in [0, min(max, base * 2^(n-1))] after attempt n. */
long provider_backoff_ms(const struct provider_opts *o, int n)
{
	unsigned long long r = 0, cap = (unsigned long long)(o->retry_base_ms > 0
								     ? o->retry_base_ms
								     : 0);
	int i;

	for (i = 1; i < n && cap < (unsigned long long)o->retry_max_ms; i++)
		cap *= 2;
	if (o->retry_max_ms >= 0 && cap > (unsigned long long)o->retry_max_ms)
		cap = (unsigned long long)o->retry_max_ms;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned long long)clock_ms() * 6364136223846793005ULL;
	return (long)(r % (cap + 1));
}

/* Sleeps ms in short slices so that Ctrl-C acts at once. */
int provider_sleep(long ms)
{
	long long end = clock_ms() + ms, left;

	for (;;) {
		if (interrupt_pending())
			return -ECANCELED;
		left = end - clock_ms();
		if (left <= 0)
			return 0;
		poll(NULL, 0, left > 100 ? 100 : (int)left);
		tick();
	}
}
