/*
 * provider_anthropic: the Anthropic Messages wire format (version
 * 2023-06-01).
 *
 * Streamed replies are named events: message_start (input usage),
 * content_block_start/_delta/_stop (text_delta pieces), message_delta
 * (stop_reason, cumulative output usage), message_stop (the end), ping, and
 * error.  Unknown events are ignored, as Anthropic asks clients to do.  The
 * "type" inside each data object is authoritative; the SSE event name is
 * only a fallback.  max_tokens is required by this API: 4096 when the
 * request gives none.
 */
#include <errno.h>
#include <string.h>

#include "actor/provider_impl.h"

#define ANTHROPIC_DEFAULT_MAX_TOKENS 4096

/* A call's arguments as tool_use input: the object it names, else {}
 * (the model sent text that is not a JSON object; its result said so). */
static json_t *input_of(const json_t *call)
{
	const char *a = json_string_value(json_object_get(call, "arguments"));
	json_t *in = a ? json_loads(a, 0, NULL) : NULL;
	if (!json_is_object(in)) {
		json_decref(in);
		in = json_object();
	}
	return in;
}

/* The neutral history (provider.h) as Messages turns: tool results that
 * follow each other go in one user message. */
static void anthropic_history(json_t *msgs, const json_t *history)
{
	json_t *results = NULL;
	size_t i, k;
	const json_t *m, *c;

	json_array_foreach(history, i, m)
	{
		const char *role = json_string_value(json_object_get(m, "role"));
		if (role && !strcmp(role, "tool")) {
			if (!results) {
				results = json_array();
				json_array_append_new(msgs, json_pack("{s:s,s:o}", "role",
								      "user", "content",
								      results));
			}
			json_array_append_new(
				results,
				json_pack("{s:s,s:O,s:O,s:b}", "type", "tool_result",
					  "tool_use_id", json_object_get(m, "id"),
					  "content", json_object_get(m, "content"),
					  "is_error",
					  json_is_true(json_object_get(m, "is_error"))));
			continue;
		}
		results = NULL;
		json_t *content = json_array();
		const json_t *text = json_object_get(m, "text");
		if (json_is_string(text) && json_string_length(text))
			json_array_append_new(content, json_pack("{s:s,s:O}", "type",
								 "text", "text", text));
		json_array_foreach(json_object_get(m, "tool_calls"), k, c)
			json_array_append_new(content,
					      json_pack("{s:s,s:O,s:O,s:o}", "type",
							"tool_use", "id",
							json_object_get(c, "id"), "name",
							json_object_get(c, "name"),
							"input", input_of(c)));
		json_array_append_new(msgs, json_pack("{s:s,s:o}", "role", "assistant",
						      "content", content));
	}
}

static json_t *anthropic_tools(const json_t *tools)
{
	json_t *out = json_array();
	size_t i;
	const json_t *t;
	json_array_foreach(tools, i, t) json_array_append_new(
		out, json_pack("{s:O,s:O,s:O}", "name", json_object_get(t, "name"),
			       "description", json_object_get(t, "description"),
			       "input_schema", json_object_get(t, "parameters")));
	return out;
}

static json_t *anthropic_body(const struct provider_opts *o,
			      const struct provider_request *rq)
{
	json_t *root = json_object(), *msgs = json_array();
	long max = rq->max_output_tokens > 0 ? rq->max_output_tokens
					     : ANTHROPIC_DEFAULT_MAX_TOKENS;

	json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content",
					      rq->prompt ? rq->prompt : ""));
	if (rq->history)
		anthropic_history(msgs, rq->history);
	if (rq->tools && json_array_size(rq->tools))
		json_object_set_new(root, "tools", anthropic_tools(rq->tools));
	json_object_set_new(root, "model", json_string(o->model));
	json_object_set_new(root, "max_tokens", json_integer(max));
	if (rq->system && rq->system[0])
		json_object_set_new(root, "system", json_string(rq->system));
	json_object_set_new(root, "messages", msgs);
	if (o->temperature >= 0)
		json_object_set_new(root, "temperature", json_real(o->temperature));
	json_object_set_new(root, "stream", json_boolean(o->stream));
	return root;
}

static void anthropic_headers(const struct provider_opts *o,
			      char *h[PROVIDER_MAX_HEADERS])
{
	int i = 0;
	if (o->api_key && o->api_key[0])
		h[i++] = xasprintf("x-api-key: %s", o->api_key);
	h[i++] = xstrdup("anthropic-version: 2023-06-01");
	h[i] = NULL;
}

static void read_usage(struct provider_turn *t, json_t *usage)
{
	if (!json_is_object(usage))
		return;
	if (provider_json_long(json_object_get(usage, "input_tokens"), &t->tokens_in))
		t->have_in = 1;
	if (provider_json_long(json_object_get(usage, "output_tokens"), &t->tokens_out))
		t->have_out = 1;
}

static void on_message_start(struct provider_turn *t, json_t *msg)
{
	json_t *usage = json_object_get(msg, "usage");
	provider_turn_set(&t->model, json_object_get(msg, "model"));
	/* output_tokens here is a placeholder (1) until message_delta. */
	if (provider_json_long(json_object_get(usage, "input_tokens"), &t->tokens_in))
		t->have_in = 1;
}

/* A tool_use block starts: a new tool call, known by its block index. */
static void on_block_start(struct provider_turn *t, json_t *d)
{
	json_t *b = json_object_get(d, "content_block");
	const char *bt = json_string_value(json_object_get(b, "type"));
	long idx;
	size_t n = json_array_size(t->tool_calls);

	if (!bt || strcmp(bt, "tool_use") ||
	    !provider_json_long(json_object_get(d, "index"), &idx) ||
	    idx >= (long)sizeof(t->tool_of_block) || n >= 250)
		return;
	t->tool_of_block[idx] = (unsigned char)(n + 1);
	provider_turn_tool(t, n, json_string_value(json_object_get(b, "id")),
			   json_string_value(json_object_get(b, "name")), NULL, 0);
}

static void on_delta(struct provider_turn *t, json_t *d)
{
	json_t *delta = json_object_get(d, "delta");
	json_t *text = json_object_get(delta, "text");
	json_t *part = json_object_get(delta, "partial_json");
	const char *type = json_string_value(json_object_get(delta, "type"));
	long idx;

	/* thinking_delta and the like carry no reply text */
	if (type && !strcmp(type, "text_delta") && json_is_string(text))
		buf_add(&t->text, json_string_value(text), json_string_length(text));
	if (type && !strcmp(type, "input_json_delta") && json_is_string(part) &&
	    provider_json_long(json_object_get(d, "index"), &idx) &&
	    idx < (long)sizeof(t->tool_of_block) && t->tool_of_block[idx])
		provider_turn_tool(t, t->tool_of_block[idx] - 1u, NULL, NULL,
				   json_string_value(part), json_string_length(part));
}

static int anthropic_event(struct provider_turn *t, const char *name, const char *data,
			   size_t len)
{
	json_error_t je;
	json_t *d = json_loadb(data, len, JSON_ALLOW_NUL, &je);
	const char *type;
	int ret = 0;

	t->events++;
	if (!json_is_object(d)) {
		provider_turn_bad_json(t, "a stream event", d, &je);
		json_decref(d);
		return -EBADMSG;
	}
	type = json_string_value(json_object_get(d, "type"));
	if (!type)
		type = name;
	if (!strcmp(type, "message_start")) {
		on_message_start(t, json_object_get(d, "message"));
	} else if (!strcmp(type, "content_block_start")) {
		on_block_start(t, d);
	} else if (!strcmp(type, "content_block_delta")) {
		on_delta(t, d);
	} else if (!strcmp(type, "message_delta")) {
		provider_turn_set(
			&t->finish_reason,
			json_object_get(json_object_get(d, "delta"), "stop_reason"));
		read_usage(t, json_object_get(d, "usage"));
	} else if (!strcmp(type, "message_stop")) {
		t->done = 1;
	} else if (!strcmp(type, "error")) {
		provider_turn_error(t, json_object_get(d, "error"));
		ret = -EPROTO;
	}
	json_decref(d);
	return ret;
}

static void anthropic_whole(struct provider_turn *t, json_t *root)
{
	const char *type = json_string_value(json_object_get(root, "type"));
	json_t *content = json_object_get(root, "content"), *block;
	size_t i;

	if (type && !strcmp(type, "error")) {
		provider_turn_error(t, json_object_get(root, "error"));
		return;
	}
	if (!json_is_array(content)) {
		provider_turn_bad(t, "a reply without a content array");
		return;
	}
	json_array_foreach(content, i, block)
	{
		const char *bt = json_string_value(json_object_get(block, "type"));
		json_t *text = json_object_get(block, "text");
		if (bt && !strcmp(bt, "text") && json_is_string(text))
			buf_add(&t->text, json_string_value(text),
				json_string_length(text));
		if (bt && !strcmp(bt, "tool_use")) {
			char *args = json_dumps(json_object_get(block, "input"),
						JSON_COMPACT | JSON_ENCODE_ANY);
			provider_turn_tool(
				t, json_array_size(t->tool_calls),
				json_string_value(json_object_get(block, "id")),
				json_string_value(json_object_get(block, "name")),
				args ? args : "{}", args ? strlen(args) : 2);
			free(args);
		}
	}
	provider_turn_set(&t->finish_reason, json_object_get(root, "stop_reason"));
	provider_turn_set(&t->model, json_object_get(root, "model"));
	read_usage(t, json_object_get(root, "usage"));
	t->done = 1;
}

const struct provider_wire provider_anthropic_wire = {
	.kind = "anthropic",
	.default_base_url = "https://api.anthropic.com/v1",
	.path = "/messages",
	.key_hint = "$ANTHROPIC_API_KEY",
	.body = anthropic_body,
	.headers = anthropic_headers,
	.event = anthropic_event,
	.whole = anthropic_whole,
};
