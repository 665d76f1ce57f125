/* A recorded transcript (--replay): every turn read until the end. */
#include "fuzz.h"
#include "actor/provider_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct provider_replay *r = NULL;
	struct buf err = BUF_INIT;

	fuzz_file(data, size, path);
	if (provider_replay_open(path, &r, &err) == 0) {
		for (int i = 0; i < 64; i++) {
			struct provider_turn t;
			int ret;
			provider_turn_init(&t);
			ret = provider_replay_next(r, &t, &err);
			provider_turn_release(&t);
			if (ret < 0)
				break;
		}
		provider_replay_free(r);
	}
	unlink(path);
	buf_release(&err);
	return 0;
}
