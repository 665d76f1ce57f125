/*
 * events: the run's audit log, events.jsonl, one JSON object per line.
 *
 *   struct events ev = EVENTS_INIT;
 *   events_open(&ev, ".loopgate/runs/ID/events.jsonl", &err);
 *   json_t *body = json_pack("{s:i}", "exit_code", 1);
 *   events_append(&ev, "gate_end", body);      takes ownership of body
 *   events_sync(&ev);                          group commit: fdatasync
 *   events_close(&ev);
 *
 * Each record is {"seq":N,"ts":"ISO-8601","kind":K,"body":{...}} serialised
 * by jansson with sorted keys and no whitespace, so the bytes are canonical:
 * the hash chain (issue 4) will add "prev" and "h" over exactly these bytes.
 * Each line goes out in one write() on an O_APPEND descriptor; a failed or
 * short write makes the log "failed" (sticky): later appends are refused and
 * the caller must stop the run (exit 3) — the log is never half-written
 * silently.  Callers must redact secrets before appending.
 */
#ifndef LOOPGATE_EVENTS_H
#define LOOPGATE_EVENTS_H

#include <jansson.h>
#include "buf.h"

struct events {
	int fd;
	long seq;
	int failed;		/* sticky: -errno of the first failure */
	int sync_each;		/* fdatasync after every record */
	struct buf err;		/* what went wrong, once failed */
};
#define EVENTS_INIT { -1, 0, 0, 0, BUF_INIT }

int events_open(struct events *ev, const char *path, struct buf *err);
/* Returns 0 or the sticky -errno; body is consumed (may be NULL). */
int events_append(struct events *ev, const char *kind, json_t *body);
int events_sync(struct events *ev);
void events_close(struct events *ev);

#endif
