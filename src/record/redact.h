/*
 * redact: the secret values this process holds, and their removal from
 * text that loopgate writes (the event log, reports, its own messages).
 *
 *   redact_add(getenv("OPENAI_API_KEY"));     once, where the key is read
 *   redact_buf(&msg);                         every secret -> "[REDACTED]"
 *   redact_json(body);                        in place, strings and keys
 *
 * Values shorter than REDACT_MIN_LEN are not registered: "1" or "yes" would
 * blank innocent text, and API keys are long.  The list is process-wide
 * (loopgate runs one run per process) and holds copies of the values.
 * redact_reset() forgets them all (unit tests).
 */
#ifndef LOOPGATE_REDACT_H
#define LOOPGATE_REDACT_H

#include <jansson.h>
#include "base/buf.h"

#define REDACT_MIN_LEN 8
#define REDACT_MARK    "[REDACTED]"

/* 1 registered, 0 ignored (NULL, short, already known or list full). */
int redact_add(const char *secret);
void redact_reset(void);
/*
 * URLs carry secrets too: http://user:password@host/v1?api_key=...
 * redact_add_url registers the credentials ("user:password@") and the
 * query ("?..." up to any "#"), whatever their length, so every later
 * copy of the URL in a log, report or message is redacted; redact_url
 * returns the URL as it may be shown, scheme://REDACTED@host/path?REDACTED
 * (malloc'd; NULL for NULL).
 */
void redact_add_url(const char *url);
char *redact_url(const char *url);
/* 1 when s[0..len) holds a secret. */
int redact_hit(const char *s, size_t len);
/* Replaces every secret in b; the number of replacements. */
int redact_buf(struct buf *b);
/* A malloc'd copy of s with every secret replaced (NULL for NULL). */
char *redact_str(const char *s);
/* Replaces secrets inside every string of j (values and object keys), in
 * place; the number of replacements. */
int redact_json(json_t *j);

#endif
