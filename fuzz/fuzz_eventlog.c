/* An events.jsonl as resume reduces it (resume_state.h) and as `audit verify` checks it. */
#include "fuzz.h"
#include "engine/resume_state.h"
#include "record/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct resume_state s;
	struct audit_result res;
	struct buf err = BUF_INIT;

	fuzz_file(data, size, path);
	resume_state_init(&s);
	if (resume_load(&s, path, &err) == 0) {
		resume_state_alive_ms(&s);
		resume_state_in_flight(&s, s.started);
		resume_state_decider(&s, s.ended);
	}
	resume_state_release(&s);
	buf_reset(&err);
	memset(&res, 0, sizeof(res));
	audit_verify(path, &res, &err);
	unlink(path);
	buf_release(&err);
	return 0;
}
