/*
 * resume_impl.h: the event log as records and their fields, for resume*.c
 * and the engine's other readers of a log (auditkey.c, run_remove.c).  Not
 * a public interface.
 *
 *   struct logv v = { NULL, 0 };
 *   logv_load(&v, "events.jsonl", &err);      whole lines only
 *   for (size_t i = 0; i < v.n; i++)
 *           if (is(v.rec[i], EV_RUN_START)) ... jstr(body(v.rec[i]), "base")
 *   logv_release(&v);
 *
 * Resume itself never walks the records: it reduces them (resume_state.h)
 * and replays the reduced charges with resume_replay_budget.
 */
#ifndef LOOPGATE_RESUME_IMPL_H
#define LOOPGATE_RESUME_IMPL_H

#include <jansson.h>
#include <string.h>
#include "base/buf.h"

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

struct run;
struct resume_state;
/* The charges of s replayed into r->budget (and r->spend), in log order,
 * and the escalations used so far into r->w. */
void resume_replay_budget(struct run *r, const struct resume_state *s);

#endif
