/*
 * tools: the built-in tools the model actor may call within one iteration
 * (docs/design/tools.md): read_file, list_files, search, edit, write_file,
 * run and run_gates.  Every call is governed: its arguments must be a JSON
 * object of the tool's schema; the policy's tools: rules (config/policy.h)
 * allow or deny it by name and main argument; a path must stay inside the
 * worker's tree and a protected path is refused at the call; run and
 * run_gates execute in the worker's sandbox under the commands: policy;
 * and each call is one audited record, tool_call {iteration, turn, call,
 * tool, arguments, ok, denied, result}, with the result redacted and cut.
 *
 *   json_t *defs = tools_definitions();      the neutral list (provider.h)
 *   struct tool_result res = TOOL_RESULT_INIT;
 *   tools_call(r, w, iteration, turn, call, &res);   call: {id, name, arguments}
 *   ... res.text (what the model is told), res.is_error ...
 *   tool_result_release(&res);
 *
 * The convergence of the iteration is never decided here: run_gates only
 * lets the model check its work; loopgate's own gate round at the end of
 * the iteration judges the tree.
 */
#ifndef LOOPGATE_TOOLS_H
#define LOOPGATE_TOOLS_H

#include <jansson.h>
#include "base/buf.h"

struct run;
struct worker;

struct tool_result {
	struct buf text; /* the tool's answer to the model */
	int is_error;	 /* refused, failed, or bad arguments */
	int denied;	 /* refused by a policy rule or a protected path */
};
#define TOOL_RESULT_INIT                                                                 \
	{                                                                                \
		.text = BUF_INIT                                                         \
	}
void tool_result_release(struct tool_result *res);

/* The tools' definitions, a new reference: [{name, description, parameters}]. */
json_t *tools_definitions(void);
/*
 * A call's arguments text as the JSON object the tools take: 0 with *args
 * (a new reference; empty text is {}), or -EINVAL with why saying what is
 * wrong and where, for the model.
 */
int tools_parse_args(const char *text, json_t **args, struct buf *why);
/* The argument a policy rule's GLOB is matched against: path, command,
 * pattern or glob, whichever the call has first ("" when none). */
const char *tools_main_arg(const json_t *args);
/* Runs one call and records it; never fails (a failure is the result). */
void tools_call(struct run *r, struct worker *w, int iteration, int turn,
		const json_t *call, struct tool_result *res);
/* One line of a refused call (the tool-turn cap, a budget stop), recorded
 * as its tool_call with the reason as its result. */
void tools_refuse(struct run *r, int iteration, int turn, const json_t *call,
		  const char *why, struct tool_result *res);

#endif
