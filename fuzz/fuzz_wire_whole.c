/* A whole (non-streamed) JSON reply, read by each wire. */
#include "fuzz.h"
#include "actor/provider_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	struct provider_turn t;
	if (!j)
		return 0;
	provider_turn_init(&t);
	provider_openai_wire.whole(&t, j);
	provider_turn_release(&t);
	provider_turn_init(&t);
	provider_anthropic_wire.whole(&t, j);
	provider_turn_release(&t);
	json_decref(j);
	return 0;
}
