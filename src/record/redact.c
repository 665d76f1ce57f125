/*
 * redact.c: a process-wide list of secrets and their replacement.  See
 * redact.h.
 */
#include "record/redact.h"

#include <stdlib.h>
#include <string.h>

#define REDACT_MAX 16

static char *secrets[REDACT_MAX];
static size_t nsecrets;

int redact_add(const char *secret)
{
	size_t i;

	if (!secret || strlen(secret) < REDACT_MIN_LEN || nsecrets == REDACT_MAX)
		return 0;
	for (i = 0; i < nsecrets; i++)
		if (!strcmp(secrets[i], secret))
			return 0;
	secrets[nsecrets++] = xstrdup(secret);
	return 1;
}

void redact_reset(void)
{
	while (nsecrets) {
		char *s = secrets[--nsecrets];
		memset(s, 0, strlen(s)); /* leave no key in freed memory */
		free(s);
	}
}

int redact_hit(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < nsecrets; i++)
		if (memmem(s, len, secrets[i], strlen(secrets[i])))
			return 1;
	return 0;
}

/* Replaces secret i in b; the number of hits.  Builds the result in one
 * pass so a value that contains the mark cannot loop. */
static int replace_one(struct buf *b, const char *sec)
{
	size_t sl = strlen(sec), off = 0;
	struct buf t = BUF_INIT;
	int hits = 0;
	char *hit;

	while ((hit = memmem(b->s + off, b->len - off, sec, sl))) {
		buf_add(&t, b->s + off, (size_t)(hit - (b->s + off)));
		buf_adds(&t, REDACT_MARK);
		off = (size_t)(hit - b->s) + sl;
		hits++;
	}
	if (hits) {
		buf_add(&t, b->s + off, b->len - off);
		buf_reset(b);
		buf_add(b, t.s, t.len);
	}
	buf_release(&t);
	return hits;
}

int redact_buf(struct buf *b)
{
	size_t i;
	int hits = 0;

	if (!b->s)
		return 0;
	for (i = 0; i < nsecrets; i++)
		hits += replace_one(b, secrets[i]);
	return hits;
}

char *redact_str(const char *s)
{
	struct buf b = BUF_INIT;

	if (!s)
		return NULL;
	buf_adds(&b, s);
	redact_buf(&b);
	return buf_detach(&b, NULL);
}

static int redact_string(json_t *j)
{
	struct buf b = BUF_INIT;
	int hits;

	if (!redact_hit(json_string_value(j), json_string_length(j)))
		return 0;
	buf_add(&b, json_string_value(j), json_string_length(j));
	hits = redact_buf(&b);
	json_string_setn(j, b.s, b.len);
	buf_release(&b);
	return hits;
}

static int redact_object(json_t *j)
{
	const char *k;
	json_t *v;
	void *it;
	int hits = 0;

	json_object_foreach(j, k, v) hits += redact_json(v);
	/* Keys: collect the secret-bearing ones first, then move them. */
	for (it = json_object_iter(j); it;) {
		k = json_object_iter_key(it);
		v = json_object_iter_value(it);
		it = json_object_iter_next(j, it);
		if (redact_hit(k, strlen(k))) {
			char *nk = redact_str(k);
			json_object_set(j, nk, v);
			json_object_del(j, k);
			free(nk);
			hits++;
			it = json_object_iter(j); /* the table changed: start over */
		}
	}
	return hits;
}

int redact_json(json_t *j)
{
	size_t i;
	int hits = 0;

	if (!nsecrets || !j)
		return 0;
	switch (json_typeof(j)) {
	case JSON_STRING:
		return redact_string(j);
	case JSON_ARRAY:
		for (i = 0; i < json_array_size(j); i++)
			hits += redact_json(json_array_get(j, i));
		return hits;
	case JSON_OBJECT:
		return redact_object(j);
	default:
		return 0;
	}
}
