/*
 * events: the run's audit log, events.jsonl, one JSON object per line.
 *
 *   struct events ev = EVENTS_INIT;
 *   events_open(&ev, ".loopgate/runs/ID/events.jsonl", run_id, &err);
 *   json_t *body = json_pack("{s:i}", "exit_code", 1);
 *   events_append(&ev, "gate_end", body);      takes ownership of body
 *   events_sync(&ev);                          group commit: fdatasync
 *   events_close(&ev);
 *
 * Each record is {"body":{...},"h":H,"kind":K,"prev":P,"seq":N,"ts":"ISO-8601"}
 * serialised by jansson with sorted keys and no whitespace, so the bytes
 * are canonical.  "prev" is the previous record's "h", "h" the SHA-256 of
 * the record without it (the definition is in audit.h): a hash chain.
 * events_open creates the file (it must not exist) and writes the chain's
 * header, seq 0, kind "header", body {"format","nonce","run_id"}; the
 * caller's records count from seq 1.  events_reopen continues an existing
 * log after verifying it, cutting off a torn last line (a crash mid-write)
 * and recording that with a "recovered_tail" record.
 * Each line goes out in one write() on an O_APPEND descriptor; a failed or
 * short write makes the log "failed" (sticky): later appends are refused and
 * the caller must stop the run (exit 3).  The bytes of a short write are cut
 * off again, so the log never ends in a torn record (a full disk leaves
 * every line whole).  Callers must redact secrets before appending.
 *
 * Crash points for the resume tests (fault.h): "kill:event.KIND" SIGKILLs
 * loopgate right after a KIND record is written, "kill:torn.KIND" after
 * writing only the first half of one (a crash mid-write).
 *
 * Text that did not come from loopgate itself (goal, gate commands, paths,
 * gate and model output, error messages quoting them) may hold invalid
 * UTF-8, which jansson refuses: json_pack("{s:s}", ...) then returns NULL.
 * Wrap such text with events_str()/events_strn() and pack it with "o":
 *
 *   json_pack("{s:i,s:o}", "gate", 1, "command", events_str(cmd));
 *
 * A NULL body is a bug in the caller (a failed json_pack): the record is
 * still written, with body {"error": "..."}, so the gap is visible.
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
	char head[65];		/* h of the last record written */
	/* Called after each record is written (and synced, with sync_each):
	 * the run store indexes the log through it.  rec is the whole record;
	 * borrowed for the call. */
	void (*observe)(void *ctx, const json_t *rec);
	void *observe_ctx;
};
#define EVENTS_INIT { -1, 0, 0, 0, BUF_INIT, "", NULL, NULL }

/* Creates the log at path (-EEXIST when it exists) and writes the header. */
int events_open(struct events *ev, const char *path, const char *run_id,
		struct buf *err);
/*
 * Opens an existing log to append to it: verifies the whole chain first
 * (-EBADMSG when a record fails: err names it), truncates a torn last line
 * and appends {"kind":"recovered_tail","body":{"dropped_bytes":N,"line":L}}.
 */
int events_reopen(struct events *ev, const char *path, struct buf *err);
/* Returns 0 or the sticky -errno; body is consumed (NULL: see above). */
int events_append(struct events *ev, const char *kind, json_t *body);
/*
 * A new JSON string holding s with invalid UTF-8 and NULs replaced by
 * U+FFFD (the exact bytes stay in the run directory's files); JSON null
 * when s is NULL.  Never NULL.
 */
json_t *events_str(const char *s);
json_t *events_strn(const char *s, size_t len);
int events_sync(struct events *ev);
void events_close(struct events *ev);

#endif
