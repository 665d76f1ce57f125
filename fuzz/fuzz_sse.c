/* A streamed model reply: SSE framing fed in chunks whose sizes the input's
 * first byte picks, each event handed to both wires' event readers. */
#include "fuzz.h"
#include "actor/provider_impl.h"
#include "actor/sse.h"

struct turns {
	struct provider_turn oa, an;
};

static int on_event(void *ctx, const char *event, const char *d, size_t len)
{
	struct turns *t = ctx;
	provider_openai_wire.event(&t->oa, event, d, len);
	provider_anthropic_wire.event(&t->an, event, d, len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct turns t;
	struct sse s;
	size_t chunk, off = 1;
	if (!size)
		return 0;
	chunk = (size_t)data[0] % 17 + 1;
	provider_turn_init(&t.oa);
	provider_turn_init(&t.an);
	sse_init(&s, 1 << 16, on_event, &t);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (sse_feed(&s, (const char *)data + off, n))
			break;
		off += n;
	}
	sse_finish(&s);
	sse_release(&s);
	provider_turn_release(&t.oa);
	provider_turn_release(&t.an);
	return 0;
}
