/* The network proxy's request line and host matcher: the input is split at
 * its first newline into a request line and an allow-list rule. */
#include "fuzz.h"
#include "base/hostrule.h"
#include "base/strlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl = memchr(s, '\n', size), *why, *rule;
	size_t line = nl ? (size_t)(nl - s) : size;
	char host[256], norm[256],
		*r = fuzz_str(nl ? data + line + 1 : data, nl ? size - line - 1 : 0);
	struct strlist hosts = {NULL, 0};
	size_t off, len;
	int port, connect;

	hostrule_check(r, &why);
	strlist_push(&hosts, r);
	strlist_push(&hosts, "*.example.com:443");
	if (hostrule_parse_request(s, line, host, sizeof(host), &port, &connect, &off,
				   &len, &why) == 0) {
		if (off + len > line)
			abort(); /* the path must lie within the line */
		hostrule_match(&hosts, host, port, &rule);
	}
	hostrule_norm(s, line, norm, sizeof(norm));
	hostrule_lists_loopback(&hosts);
	strlist_clear(&hosts);
	free(r);
	return 0;
}
