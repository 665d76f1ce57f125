/* loopgate.yaml (settings, gates, models, policy) through the whole load:
 * parse, then defaults and checks. */
#include "fuzz.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct buf err = BUF_INIT;
	config_init(&c);
	if (config_load_string(&c, "loopgate.yaml", (const char *)data, size, &err) == 0)
		config_finalize(&c, &err);
	config_release(&c);
	buf_release(&err);
	return 0;
}
