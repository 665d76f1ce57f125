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

static int add_min(const char *secret, size_t min)
{
	size_t i;

	if (!secret || strlen(secret) < min || nsecrets == REDACT_MAX)
		return 0;
	for (i = 0; i < nsecrets; i++)
		if (!strcmp(secrets[i], secret))
			return 0;
	secrets[nsecrets++] = xstrdup(secret);
	return 1;
}

int redact_add(const char *secret)
{
	return add_min(secret, REDACT_MIN_LEN);
}

/* The parts of url: [auth, auth_end) the user info before '@' (empty when
 * none), [q, q_end) the query with its '?' (empty when none). */
static void url_parts(const char *url, const char **auth, const char **auth_end,
		      const char **q, const char **q_end)
{
	const char *scheme = strstr(url, "://"), *end, *at;

	*auth = *auth_end = *q = *q_end = url + strlen(url);
	if (!scheme)
		return;
	*auth = scheme + 3;
	end = *auth + strcspn(*auth, "/?#");
	at = memchr(*auth, '@', (size_t)(end - *auth));
	/* the last '@' before the path: a password may hold one */
	while (at && memchr(at + 1, '@', (size_t)(end - at - 1)))
		at = memchr(at + 1, '@', (size_t)(end - at - 1));
	*auth_end = at ? at : *auth;
	if (!at)
		*auth = *auth_end;
	*q = strchr(url, '?');
	if (*q && (!strchr(url, '#') || *q < strchr(url, '#')))
		*q_end = *q + strcspn(*q, "#");
	else
		*q = *q_end = url + strlen(url);
}

void redact_add_url(const char *url)
{
	const char *a, *ae, *q, *qe;
	char *s;

	if (!url)
		return;
	url_parts(url, &a, &ae, &q, &qe);
	/* "u:p" or "token" alone may be short: the whole user info, then the
	 * password alone when it is key-sized */
	if (ae > a) {
		s = xstrndup(a, (size_t)(ae - a));
		add_min(s, 1);
		if (strchr(s, ':'))
			redact_add(strchr(s, ':') + 1);
		free(s);
	}
	if (qe > q + 1) {
		s = xstrndup(q + 1, (size_t)(qe - q - 1));
		add_min(s, 1);
		/* each value on its own too: it may be quoted apart from the URL */
		for (char *sv = NULL, *v = strtok_r(s, "&", &sv); v;
		     v = strtok_r(NULL, "&", &sv))
			if (strchr(v, '='))
				redact_add(strchr(v, '=') + 1);
		free(s);
	}
}

char *redact_url(const char *url)
{
	const char *a, *ae, *q, *qe;
	struct buf b = BUF_INIT;

	if (!url)
		return NULL;
	url_parts(url, &a, &ae, &q, &qe);
	if (ae > a) {
		buf_add(&b, url, (size_t)(a - url));
		buf_adds(&b, "REDACTED");
		buf_add(&b, ae, (size_t)(q - ae));
	} else {
		buf_add(&b, url, (size_t)(q - url));
	}
	if (qe > q)
		buf_adds(&b, "?REDACTED");
	buf_adds(&b, qe);
	return buf_detach(&b, NULL);
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
