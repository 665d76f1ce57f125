/* The config's JSON round trip that resume reads back from run_start:
 * from_json, and when it loads, to_json again. */
#include "fuzz.h"
#include <jansson.h>
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	struct config c;
	struct buf err = BUF_INIT;
	void *out = NULL;
	if (!j)
		return 0;
	config_init(&c);
	if (config_from_json(&c, j, &err) == 0 && config_to_json(&c, &out) == 0)
		json_decref((json_t *)out);
	config_release(&c);
	json_decref(j);
	buf_release(&err);
	return 0;
}
