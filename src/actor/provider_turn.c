/*
 * provider_turn.c: what the attempt loop (provider.c) and the wire files
 * share: the turn helpers the parsers mark a reply with, and the retry
 * waits (provider_impl.h).
 */
#include "actor/provider_impl.h"
#include "base/clock.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---- turn helpers (used by the wire files) ---------------------------- */

void provider_turn_init(struct provider_turn *t)
{
	memset(t, 0, sizeof(*t));
	buf_init(&t->text, PROVIDER_MAX_BODY);
	buf_init(&t->bad_detail, 0);
	buf_init(&t->error_msg, 0);
}

void provider_turn_release(struct provider_turn *t)
{
	buf_release(&t->text);
	buf_release(&t->bad_detail);
	buf_release(&t->error_msg);
	free(t->finish_reason);
	free(t->model);
	free(t->error_type);
	free(t->error_code);
	memset(t, 0, sizeof(*t));
}

void provider_turn_bad(struct provider_turn *t, const char *what)
{
	if (!t->bad)
		buf_sets(&t->bad_detail, what);
	t->bad = 1;
}

void provider_turn_bad_json(struct provider_turn *t, const char *what, const json_t *root,
			    const json_error_t *je)
{
	char msg[160];

	if (root)
		snprintf(msg, sizeof(msg), "%s that is JSON but not an object", what);
	else if (strstr(je->text, "too big"))
		snprintf(msg, sizeof(msg),
			 "%s with a number too large for 64 bits (line %d, column %d)",
			 what, je->line, je->column);
	else
		snprintf(msg, sizeof(msg),
			 "%s that is not a JSON object (invalid at line %d, "
			 "column %d)",
			 what, je->line, je->column);
	provider_turn_bad(t, msg);
}

void provider_turn_set(char **slot, json_t *str)
{
	if (!json_is_string(str))
		return;
	free(*slot);
	*slot = xstrndup(json_string_value(str), json_string_length(str));
}

void provider_turn_error(struct provider_turn *t, json_t *error)
{
	json_t *msg = json_object_get(error, "message");

	t->error = 1;
	provider_turn_set(&t->error_type, json_object_get(error, "type"));
	provider_turn_set(&t->error_code, json_object_get(error, "code"));
	if (json_is_string(msg))
		buf_sets(&t->error_msg, json_string_value(msg));
	else if (json_is_string(error))
		buf_sets(&t->error_msg, json_string_value(error));
}

int provider_json_long(json_t *v, long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return 0;
	*out = (long)json_integer_value(v);
	return 1;
}

void provider_reply_release(struct provider_reply *r)
{
	buf_release(&r->text);
	free(r->finish_reason);
	free(r->model);
	r->finish_reason = r->model = NULL;
	r->tokens_in = r->tokens_out = 0;
	r->attempts = r->usage_estimated = 0;
}

/* ---- waiting ------------------------------------------------------------ */

/* Full jitter: uniform in [0, min(max, base * 2^(n-1))] after attempt n. */
long provider_backoff_ms(const struct provider_opts *o, int n)
{
	unsigned long long r = 0, cap = (unsigned long long)(o->retry_base_ms > 0
								     ? o->retry_base_ms
								     : 0);
	int i;

	for (i = 1; i < n && cap < (unsigned long long)o->retry_max_ms; i++)
		cap *= 2;
	if (o->retry_max_ms >= 0 && cap > (unsigned long long)o->retry_max_ms)
		cap = (unsigned long long)o->retry_max_ms;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned long long)clock_ms() * 6364136223846793005ULL;
	return (long)(r % (cap + 1));
}

/* Sleeps ms in short slices so that Ctrl-C acts at once. */
int provider_sleep(long ms)
{
	long long end = clock_ms() + ms, left;

	for (;;) {
		if (interrupt_pending())
			return -ECANCELED;
		left = end - clock_ms();
		if (left <= 0)
			return 0;
		poll(NULL, 0, left > 100 ? 100 : (int)left);
		tick();
	}
}
