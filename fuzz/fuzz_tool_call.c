/* A model's tool call: its arguments text as the tools read it, the
 * policy's rule matching on it, and (when the input is a JSON array) the
 * same input as a conversation history and tool list sent back through
 * each wire's request body. */
#include "fuzz.h"
#include "actor/provider_impl.h"
#include "config/policy.h"
#include "engine/tools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct buf why = BUF_INIT;
	struct policy *p = policy_new();
	struct provider_opts o = PROVIDER_OPTS_INIT;
	struct provider_request rq = {.prompt = "p"};
	json_t *args = NULL, *j = json_loads(s, 0, NULL);

	strlist_push(&p->tools_deny, "run:*rm *");
	strlist_push(&p->tools_allow, "read_*");
	if (tools_parse_args(s, &args, &why) == 0)
		policy_check_tool(p, "run", tools_main_arg(args), &why);
	if (json_is_array(j)) {
		o.model = "m";
		rq.history = j;
		rq.tools = j;
		json_decref(provider_openai_wire.body(&o, &rq));
		json_decref(provider_anthropic_wire.body(&o, &rq));
	}
	json_decref(j);
	json_decref(args);
	policy_free(p);
	buf_release(&why);
	free(s);
	return 0;
}
