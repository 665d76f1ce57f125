/* An events.jsonl as resume reads it and as `audit verify` checks it. */
#include "fuzz.h"
#include "engine/resume_impl.h"
#include "record/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct logv v = {NULL, 0};
	struct audit_result res;
	struct buf err = BUF_INIT;

	fuzz_file(data, size, path);
	if (logv_load(&v, path, &err) == 0) {
		find_last(&v, "iteration_end", -1);
		find_last(&v, "commit", 1);
		alive_ms(&v);
	}
	logv_release(&v);
	buf_reset(&err);
	memset(&res, 0, sizeof(res));
	audit_verify(path, &res, &err);
	unlink(path);
	buf_release(&err);
	return 0;
}
