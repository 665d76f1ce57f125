/*
 * toolturn.c: a model turn with function calling: the model reads,
 * searches, edits and runs through tools (tools.h) until it replies
 * without calling one.  See actor.h (actor_tool_turns) and
 * docs/design/tools.md.
 */
#include "engine/actor.h"
#include "engine/budget.h"
#include "engine/tools.h"
#include "engine/mcp.h"
#include "engine/worker.h"
#include "actor/provider.h"
#include "base/fileio.h"
#include "record/events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int actor_tools_on(const struct run *r, const struct worker *w)
{
	const char *mode = r->cfg->tools ? r->cfg->tools : "auto";
	if (!w->prov || !strcmp(mode, "off") || w->tools_refused)
		return 0;
	/* a transcript (replay, --record) holds reply text only */
	if (!strcmp(mode, "auto") &&
	    (r->cfg->record || (r->cfg->model && !strncmp(r->cfg->model, "replay:", 7))))
		return 0;
	return 1;
}

/* A server that says no to tools: HTTP 400/422 naming them. */
static int tools_refused(int ret, const struct buf *err)
{
	return ret == -EINVAL && err->s &&
	       (strstr(err->s, "tool") || strstr(err->s, "function"));
}

/* The budget before each call after the first (the first was checked with
 * its model_request). */
static int precheck(struct run *r, struct worker *w, struct actor_turn *t, size_t bytes,
		    struct buf *err)
{
	struct buf why = BUF_INIT;
	int ret = 0;

	if (budget_spent(&r->budget, &why) ||
	    budget_precheck(&r->budget, bytes, w->max_output_tokens, &why) < 0) {
		t->budget_stop = 1;
		ret = err_set(err, -ENOSPC, "%s", why.s);
	}
	buf_release(&why);
	if (ret == 0 && (ret = events_barrier(&r->ev)) < 0)
		err_set(err, ret, "%s", r->ev.err.s);
	return ret;
}

/* The assistant's turn and each call's result, into the history. */
static void answer_calls(struct run *r, struct worker *w, struct actor_turn *t, int turn,
			 const struct provider_reply *reply, json_t *hist)
{
	long cap = r->cfg->max_tool_turns > 0 ? r->cfg->max_tool_turns : 20;
	char capped[200];
	size_t i;
	json_t *call;

	snprintf(capped, sizeof(capped),
		 "refused: this iteration's %ld tool turns are used up; end your turn "
		 "now, replying without calling a tool",
		 cap);
	json_array_append_new(hist,
			      json_pack("{s:s,s:o,s:O}", "role", "assistant", "text",
					events_strn(reply->text.s, reply->text.len),
					"tool_calls", reply->tool_calls));
	json_array_foreach(reply->tool_calls, i, call)
	{
		struct tool_result res = TOOL_RESULT_INIT;
		if (turn > cap)
			tools_refuse(r, t->iteration, turn, call, capped, &res);
		else
			tools_call(r, w, t->iteration, turn, call, &res);
		t->tool_calls++;
		json_array_append_new(hist,
				      json_pack("{s:s,s:O,s:O,s:o,s:b}", "role", "tool",
						"id", json_object_get(call, "id"), "name",
						json_object_get(call, "name"), "content",
						events_strn(res.text.s, res.text.len),
						"is_error", res.is_error));
		tool_result_release(&res);
	}
}

/* What the model is offered: the built-in tools and the MCP servers'. */
static json_t *tool_defs(const struct worker *w)
{
	json_t *defs = tools_definitions();
	json_t *more = w->mcp ? mcp_definitions(w->mcp) : NULL;
	if (more)
		json_array_extend(defs, more);
	json_decref(more);
	return defs;
}

size_t actor_tools_bytes(const struct worker *w)
{
	json_t *defs = tool_defs(w);
	char *s = json_dumps(defs, JSON_COMPACT);
	size_t n = s ? strlen(s) : 0;
	free(s);
	json_decref(defs);
	return n;
}

int actor_tool_turns(struct run *r, struct worker *w, struct actor_turn *t,
		     struct provider_request *req, struct provider_reply *reply,
		     size_t *prompt_bytes, struct buf *err)
{
	json_t *defs = tool_defs(w), *hist = json_array();
	long cap = r->cfg->max_tool_turns > 0 ? r->cfg->max_tool_turns : 20;
	char *path, *text;
	int ret = 0;

	req->tools = defs;
	req->history = hist;
	for (int turn = 1; ret == 0; turn++) {
		*prompt_bytes = provider_request_bytes(req);
		if (turn > 1 && (ret = precheck(r, w, t, *prompt_bytes, err)) < 0)
			break;
		provider_reply_release(reply);
		ret = provider_complete(w->prov, req, reply, err);
		if (turn == 1 && tools_refused(ret, err) && r->cfg->tools &&
		    !strcmp(r->cfg->tools, "on"))
			break; /* asked for: the refusal is the news */
		if (turn == 1 && tools_refused(ret, err)) {
			/* auto: this server has no function calling */
			w->tools_refused = 1;
			req->tools = req->history = NULL;
			buf_reset(err);
			ret = provider_complete(w->prov, req, reply, err);
			break;
		}
		if (ret < 0 || !json_array_size(reply->tool_calls) || turn > cap + 1)
			break;
		answer_calls(r, w, t, turn, reply, hist);
	}
	/* the conversation, for a human reading the iteration */
	path = xasprintf("%s/tools.json", t->dir);
	text = json_dumps(hist, JSON_INDENT(1));
	if (text && json_array_size(hist))
		fileio_write_atomic(path, text, strlen(text), NULL);
	free(text);
	free(path);
	req->tools = req->history = NULL;
	json_decref(defs);
	json_decref(hist);
	return ret;
}
