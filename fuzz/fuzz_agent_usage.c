/* An agent CLI's output as each preset's usage reader sees it. */
#include "fuzz.h"
#include "actor/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int (*const readers[])(const char *, size_t, struct agent_usage *) = {
		agent_usage_claude, agent_usage_codex,	  agent_usage_gemini,
		agent_usage_qwen,   agent_usage_opencode, agent_usage_aider,
	};
	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		struct agent_usage u = {0, 0, -1};
		if (readers[i]((const char *)data, size, &u) == 0 &&
		    (u.tokens_in < 0 || u.tokens_out < 0 ||
		     !(u.cost == -1 || u.cost >= 0)))
			abort(); /* the budget would be lowered or poisoned */
	}
	return 0;
}
