/* Edit blocks in a model's reply (parsing only: applying writes files). */
#include "fuzz.h"
#include "actor/edits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct edit_list l = EDIT_LIST_INIT;
	struct buf problems = BUF_INIT, fb = BUF_INIT;
	edits_parse((const char *)data, size, &l, &problems);
	edits_feedback(&l, &fb);
	edit_list_release(&l);
	buf_release(&problems);
	buf_release(&fb);
	return 0;
}
