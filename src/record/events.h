/*
 * events: the run's audit log, events.jsonl, one JSON object per line.
 *
 *   struct events ev = EVENTS_INIT;
 *   events_open(&ev, ".loopgate/runs/ID/events.jsonl", run_id, &err);
 *   json_t *body = json_pack("{s:i}", "exit_code", 1);
 *   events_append(&ev, EV_GATE_END, body);     takes ownership of body;
 *                                              written and fdatasync'ed
 *   events_group_begin(&ev);                   several records, one sync:
 *   events_append(&ev, EV_ITERATION_END, b1);
 *   events_append(&ev, EV_BUDGET, b2);
 *   events_group_end(&ev);                     fdatasync (0 or -errno)
 *   events_seal(&ev);                          final signed checkpoint
 *   events_close(&ev);                         (seals if not sealed)
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
 * every line whole).  Every record is fdatasync'ed before events_append
 * returns (sync_each, on by default), or at the end of its group; a failed
 * fdatasync fails the log the same way and is never retried (the kernel
 * may have dropped the pages: a second call could succeed on lost data).
 * The fault point "fail:fdatasync" (fault.h) injects that failure.
 *
 * Secrets registered with redact.h are replaced by "[REDACTED]" in every
 * string of the body before the record is hashed.
 *
 * Signed checkpoints (checkpoint.h): with events_set_signer() called before
 * events_open/_reopen, the writer appends a signed (seq, h) of the head to
 * checkpoints.jsonl beside the log after the header, once at least `every`
 * records followed the last checkpoint (at the next sync), and a "final"
 * one at events_seal.  A checkpoint is written only after its record is on
 * disk; failing to write it fails the log.
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
#include "base/buf.h"

struct checkpoint_key;
struct checkpoint;

/*
 * An observer of the log: the run store indexes it, the CLI's terminal
 * view prints progress from it (the engine itself never prints), a live
 * view could follow it.  record is called after each record is written
 * (and synced, with sync_each) with the whole record, borrowed for the
 * call (an observer may keep a reference: the record is not changed
 * afterwards); checkpoint after each checkpoint is written (checkpoint.h);
 * synced after each events_sync, once what was written is durable (an
 * observer that batches its own work flushes it there).  Any may be NULL.
 * Observers are called in the order they were added.
 */
struct events_observer {
	void (*record)(void *ctx, const json_t *rec);
	void (*checkpoint)(void *ctx, const struct checkpoint *cp);
	void (*synced)(void *ctx);
	void *ctx;
};
#define EVENTS_OBSERVERS_MAX 4

struct events {
	int fd;
	long seq;
	int failed;	/* sticky: -errno of the first failure */
	int sync_each;	/* fdatasync after every record (default 1) */
	int barrier;	/* with sync_each 0: records are made durable at
			   events_barrier (before an action others can see)
			   and before each checkpoint */
	struct buf err; /* what went wrong, once failed */
	char head[65];	/* h of the last record written */
	int group;	/* events_group_begin depth */
	int unsynced;	/* records written since the last fdatasync */
	/* checkpoints: */
	const struct checkpoint_key *key; /* NULL: none are written */
	long cp_every;
	int cp_fd;
	long cp_seq; /* seq of the last checkpoint, -1 none */
	int sealed;  /* the final checkpoint covers the head */
	char run_id[65], nonce[65];
	/* Who is told of each record and checkpoint (events_observe). */
	struct events_observer obs[EVENTS_OBSERVERS_MAX];
	int nobs;
	json_t *capture; /* events_capture: records go here, not to the log */
};
#define EVENTS_INIT                                                                      \
	{                                                                                \
		.fd = -1, .sync_each = 1, .err = BUF_INIT, .cp_fd = -1, .cp_seq = -1     \
	}

/* Adds an observer (copied; its ctx is borrowed until it is removed or
 * the log is closed).  May be called before events_open.  0, or -ENOSPC
 * past EVENTS_OBSERVERS_MAX. */
int events_observe(struct events *ev, const struct events_observer *o);
/* Removes every observer whose ctx is ctx. */
void events_unobserve(struct events *ev, const void *ctx);

/* Signs checkpoints with key (borrowed; must outlive the log), one at
 * least every `every` records (<= 0: CHECKPOINT_EVERY).  Call before
 * events_open or events_reopen. */
void events_set_signer(struct events *ev, const struct checkpoint_key *key, long every);

/* Creates the log at path (-EEXIST when it exists) and writes the header. */
int events_open(struct events *ev, const char *path, const char *run_id, struct buf *err);
/*
 * Opens an existing log to append to it: verifies the whole chain first
 * (-EBADMSG when a record fails: err names it), truncates a torn last line
 * and appends {"kind":"recovered_tail","body":{"dropped_bytes":N,"line":L}}.
 */
int events_reopen(struct events *ev, const char *path, struct buf *err);
/* Returns 0 or the sticky -errno; body is consumed (NULL: see above). */
/* kind: one of record/evkind.h's EV_* names. */
int events_append(struct events *ev, const char *kind, json_t *body);
/*
 * A new JSON string holding s with invalid UTF-8 and NULs replaced by
 * U+FFFD (the exact bytes stay in the run directory's files); JSON null
 * when s is NULL.  Never NULL.
 */
json_t *events_str(const char *s);
json_t *events_strn(const char *s, size_t len);
/*
 * Before an action whose effect is visible outside this process (a model
 * request, an actor or gate spawn, a commit, a file written in the tree):
 * every record written since the last sync is made durable in one
 * fdatasync (a group commit), so that a resume after a power loss finds
 * everything that led to the action.  0 or the sticky -errno.  With
 * sync_each each record was synced already: nothing to do.
 */
int events_barrier(struct events *ev);
/* fdatasync now (a group commit by hand); 0 or the sticky -errno. */
int events_sync(struct events *ev);
/* Appends until the matching _end are written but not synced; groups
 * nest and the outermost end syncs once (0 or the sticky -errno). */
void events_group_begin(struct events *ev);
int events_group_end(struct events *ev);
/* Syncs and writes the final checkpoint over the head (with a signer);
 * 0 or the sticky -errno.  Appending later is allowed: the next seal
 * covers the new head. */
int events_seal(struct events *ev);
/*
 * In a forked process that must not write its parent's log (a fan-out's
 * check of a claim, fanout_check.c): from now on each append adds
 * {"kind": K, "body": B} (B redacted) to the array into (borrowed) and
 * writes nothing, calls no observer, syncs nothing and hits no fault
 * point; the log's descriptors are forgotten (not closed: the parent's).
 * The parent appends the records to its log itself, in one block.
 */
void events_capture(struct events *ev, json_t *into);
/* Seals (unless failed), closes both files, releases err. */
void events_close(struct events *ev);

#endif
