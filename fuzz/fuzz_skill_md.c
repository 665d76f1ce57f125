/* A SKILL.md: its YAML front matter (name, description) and where the
 * body starts, as the skills index reads it (store/skills.h). */
#include "fuzz.h"
#include "store/skills.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = NULL, *desc = NULL;
	size_t body = 0;
	struct buf why = BUF_INIT;

	if (skills_parse((const char *)data, size, &name, &desc, &body, &why) == 0 &&
	    body > size)
		abort(); /* the body must start inside the text */
	free(name);
	free(desc);
	buf_release(&why);
	return 0;
}
