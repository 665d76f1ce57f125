/*
 * provider_openai: the OpenAI Chat Completions wire format, as spoken by
 * OpenAI and by the local servers that copy it (vLLM, Ollama, llama.cpp
 * server, LM Studio).
 *
 * The output cap is sent as "max_tokens".  OpenAI's newer models prefer
 * "max_completion_tokens" (and reasoning models reject "max_tokens"), but
 * the local servers accept only or also "max_tokens", and serving them is
 * the point of this kind; a run against such an OpenAI model sees a clear
 * HTTP 400 naming the parameter.
 *
 * Streaming asks for stream_options.include_usage so the last chunk (with
 * empty choices) carries the usage; "data: [DONE]" ends the stream.
 */
#include <errno.h>
#include <string.h>

#include "actor/provider_impl.h"

/* The neutral history (provider.h) as Chat Completions messages. */
static void openai_history(json_t *msgs, const json_t *history)
{
	size_t i, k;
	const json_t *m, *c;

	json_array_foreach(history, i, m)
	{
		const char *role = json_string_value(json_object_get(m, "role"));
		if (role && !strcmp(role, "tool")) {
			json_array_append_new(
				msgs,
				json_pack("{s:s,s:O,s:O}", "role", "tool", "tool_call_id",
					  json_object_get(m, "id"), "content",
					  json_object_get(m, "content")));
			continue;
		}
		json_t *a = json_pack("{s:s}", "role", "assistant"),
		       *calls = json_array();
		const json_t *text = json_object_get(m, "text");
		json_object_set(a, "content",
				json_is_string(text) && json_string_length(text)
					? (json_t *)text
					: json_null());
		json_array_foreach(json_object_get(m, "tool_calls"), k, c)
			json_array_append_new(
				calls,
				json_pack("{s:O,s:s,s:{s:O,s:O}}", "id",
					  json_object_get(c, "id"), "type", "function",
					  "function", "name", json_object_get(c, "name"),
					  "arguments", json_object_get(c, "arguments")));
		if (json_array_size(calls))
			json_object_set(a, "tool_calls", calls);
		json_decref(calls);
		json_array_append_new(msgs, a);
	}
}

static json_t *openai_tools(const json_t *tools)
{
	json_t *out = json_array();
	size_t i;
	const json_t *t;
	json_array_foreach(tools, i, t) json_array_append_new(
		out, json_pack("{s:s,s:O}", "type", "function", "function", t));
	return out;
}

static json_t *openai_body(const struct provider_opts *o,
			   const struct provider_request *rq)
{
	json_t *root = json_object(), *msgs = json_array();

	if (rq->system && rq->system[0])
		json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system",
						      "content", rq->system));
	json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content",
					      rq->prompt ? rq->prompt : ""));
	if (rq->history)
		openai_history(msgs, rq->history);
	if (rq->tools && json_array_size(rq->tools))
		json_object_set_new(root, "tools", openai_tools(rq->tools));
	json_object_set_new(root, "model", json_string(o->model));
	json_object_set_new(root, "messages", msgs);
	if (rq->max_output_tokens > 0)
		json_object_set_new(root, "max_tokens",
				    json_integer(rq->max_output_tokens));
	if (o->temperature >= 0)
		json_object_set_new(root, "temperature", json_real(o->temperature));
	json_object_set_new(root, "stream", json_boolean(o->stream));
	if (o->stream)
		json_object_set_new(root, "stream_options",
				    json_pack("{s:b}", "include_usage", 1));
	return root;
}

static void openai_headers(const struct provider_opts *o, char *h[PROVIDER_MAX_HEADERS])
{
	int i = 0;
	/* Local servers need no key, and some reject an empty Bearer. */
	if (o->api_key && o->api_key[0])
		h[i++] = xasprintf("authorization: Bearer %s", o->api_key);
	h[i] = NULL;
}

static void read_usage(struct provider_turn *t, json_t *usage)
{
	if (!json_is_object(usage))
		return;
	if (provider_json_long(json_object_get(usage, "prompt_tokens"), &t->tokens_in))
		t->have_in = 1;
	if (provider_json_long(json_object_get(usage, "completion_tokens"),
			       &t->tokens_out))
		t->have_out = 1;
}

/* tool_calls of a message (whole) or of a delta (streamed fragments). */
static void read_tool_calls(struct provider_turn *t, json_t *calls, int streamed)
{
	size_t i;
	json_t *c;

	json_array_foreach(calls, i, c)
	{
		json_t *f = json_object_get(c, "function");
		json_t *args = json_object_get(f, "arguments");
		long idx = (long)i;
		if (streamed && !provider_json_long(json_object_get(c, "index"), &idx))
			idx = (long)i;
		provider_turn_tool(t, (size_t)idx,
				   json_string_value(json_object_get(c, "id")),
				   json_string_value(json_object_get(f, "name")),
				   json_string_value(args), json_string_length(args));
	}
}

/* Reads one chat.completion.chunk. */
static void read_chunk(struct provider_turn *t, json_t *c)
{
	json_t *choice = json_array_get(json_object_get(c, "choices"), 0);
	json_t *content, *fr;

	if (!t->model)
		provider_turn_set(&t->model, json_object_get(c, "model"));
	read_usage(t, json_object_get(c, "usage"));
	if (!choice)
		return; /* the usage chunk has no choices */
	content = json_object_get(json_object_get(choice, "delta"), "content");
	if (json_is_string(content))
		buf_add(&t->text, json_string_value(content),
			json_string_length(content));
	read_tool_calls(
		t, json_object_get(json_object_get(choice, "delta"), "tool_calls"), 1);
	fr = json_object_get(choice, "finish_reason");
	if (json_is_string(fr))
		provider_turn_set(&t->finish_reason, fr);
}

static int openai_event(struct provider_turn *t, const char *name, const char *data,
			size_t len)
{
	json_t *c, *e;
	json_error_t je;

	(void)name; /* Chat Completions sends unnamed events */
	t->events++;
	if (len == 6 && !memcmp(data, "[DONE]", 6)) {
		t->done = 1;
		return 0;
	}
	c = json_loadb(data, len, JSON_ALLOW_NUL, &je);
	if (!json_is_object(c)) {
		provider_turn_bad_json(t, "a stream event", c, &je);
		json_decref(c);
		return -EBADMSG;
	}
	e = json_object_get(c, "error");
	if (e && !json_is_null(e)) {
		provider_turn_error(t, e);
		json_decref(c);
		return -EPROTO;
	}
	read_chunk(t, c);
	json_decref(c);
	return 0;
}

static void openai_whole(struct provider_turn *t, json_t *root)
{
	json_t *e = json_object_get(root, "error");
	json_t *choice, *msg, *content;

	if (e && !json_is_null(e)) {
		provider_turn_error(t, e);
		return;
	}
	choice = json_array_get(json_object_get(root, "choices"), 0);
	msg = json_object_get(choice, "message");
	if (!json_is_object(msg)) {
		provider_turn_bad(t, "a reply without choices[0].message");
		return;
	}
	content = json_object_get(msg, "content");
	/* null content is a real answer (say, only a refusal or tool calls):
	 * the caller sees an empty text and the finish reason. */
	if (json_is_string(content))
		buf_add(&t->text, json_string_value(content),
			json_string_length(content));
	else if (content && !json_is_null(content)) {
		provider_turn_bad(t, "a reply whose message content is not text");
		return;
	}
	read_tool_calls(t, json_object_get(msg, "tool_calls"), 0);
	provider_turn_set(&t->finish_reason, json_object_get(choice, "finish_reason"));
	provider_turn_set(&t->model, json_object_get(root, "model"));
	read_usage(t, json_object_get(root, "usage"));
	t->done = 1;
}

const struct provider_wire provider_openai_wire = {
	.kind = "openai",
	.default_base_url = "https://api.openai.com/v1",
	.path = "/chat/completions",
	.key_hint = "$OPENAI_API_KEY",
	.body = openai_body,
	.headers = openai_headers,
	.event = openai_event,
	.whole = openai_whole,
};
