/*
 * resume_impl.h: the event log as records, for resume.c (and its helper
 * resume_log.c).  Not a public interface.
 *
 *   struct logv v = { NULL, 0 };
 *   logv_load(&v, "events.jsonl", &err);      whole lines only
 *   long i = find_last(&v, EV_COMMIT, 3);     index, or -1
 *   const char *sha = jstr(body(v.rec[i]), "sha");
 *   logv_release(&v);
 */
#ifndef LOOPGATE_RESUME_IMPL_H
#define LOOPGATE_RESUME_IMPL_H

#include <jansson.h>
#include <string.h>
#include "engine/run.h"

/* The log's records, in order, header included. */
struct logv {
	json_t **rec;
	size_t n;
};

void logv_release(struct logv *v);
/* Whole lines only: a torn last line (no newline) is events_reopen's. */
int logv_load(struct logv *v, const char *path, struct buf *err);

static inline const char *kind(const json_t *rec)
{
	const char *k = json_string_value(json_object_get(rec, "kind"));
	return k ? k : "";
}

static inline json_t *body(const json_t *rec)
{
	return json_object_get(rec, "body");
}

static inline long jlong(const json_t *o, const char *key, long def)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (long)json_integer_value(v) : def;
}

static inline double jreal(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : 0;
}

static inline const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static inline int is(const json_t *rec, const char *k)
{
	return !strcmp(kind(rec), k);
}

static inline long iter_of(const json_t *rec)
{
	return jlong(body(rec), "iteration", -1);
}

/* Index of the last record of kind k (of iteration it; -2: any), or -1. */
long find_last(const struct logv *v, const char *k, long it);
/* Every model_attempt and resume charge into r->budget, in log order. */
void replay_budget(struct run *r, const struct logv *v);
/* Wall time the run was alive, from the records' timestamps. */
long long alive_ms(const struct logv *v);

#endif
