/*
 * audit: the hash chain of events.jsonl, and its verification.
 *
 * Every record of the event log carries "prev" (the "h" of the record
 * before it; 64 zeros for the header, seq 0) and "h", its own hash:
 *
 *   h = SHA-256("loopgate-event-v1" NUL  prev  NUL  canonical)
 *
 * where prev is the 64 lowercase hex characters and canonical is the
 * record without "h" (but with "prev") dumped by jansson with
 * AUDIT_JSON_FLAGS: sorted keys, no whitespace, ASCII only.  The line on
 * disk is the same dump with "h" added.  See docs/design/audit.md.
 *
 *   struct audit_result res;
 *   struct buf err = BUF_INIT;
 *   ret = audit_verify("events.jsonl", &res, &err);
 *       ret < 0: the file could not be read (err says why)
 *       ret 0:   res.status is AUDIT_INTACT, AUDIT_TAMPERED or AUDIT_TORN;
 *                res.reason, res.bad_line and res.bad_seq name the first
 *                bad record.
 *
 * The module reads, never writes: repairing a torn tail is events_reopen's.
 * Verification streams the file a line at a time (lines are capped at
 * AUDIT_MAX_LINE), so memory stays bounded whatever the log's size.
 *
 * What the chain cannot show: a log cut after a whole record, optionally
 * followed by records forged with a fresh chain, verifies.  Signed
 * checkpoints (checkpoint.h) close that gap.
 */
#ifndef LOOPGATE_AUDIT_H
#define LOOPGATE_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include "base/buf.h"

#define AUDIT_JSON_FLAGS                                                                 \
	(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10))
#define AUDIT_DOMAIN	"loopgate-event-v1"
#define AUDIT_FORMAT	"loopgate-events-1"
#define AUDIT_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_MAX_LINE	(16u << 20)

enum audit_status {
	AUDIT_INTACT = 0, /* every record whole and chained */
	AUDIT_TAMPERED,	  /* a record fails a check: see reason */
	AUDIT_TORN,	  /* intact but for a last line without newline */
};

struct audit_result {
	enum audit_status status;
	long records;		/* intact records, header included */
	long last_seq;		/* seq of the last intact record (-1: none) */
	char head[65];		/* h of the last intact record ("" if none) */
	char run_id[65];	/* from the header ("" if none) */
	char nonce[65];		/* from the header ("" if none) */
	long bad_line;		/* 1-based line of the first bad record, or 0 */
	long bad_seq;		/* its seq when it has one, else -1 */
	const char *reason;	/* static text; NULL when intact */
	long long intact_bytes; /* length of the intact prefix of the file */
	long long torn_bytes;	/* bytes of the torn last line */
};

/*
 * The hash of one record: rec must not hold "h" and must hold "prev".
 * 0, or -EINVAL when rec cannot be serialised.
 */
int audit_record_hash(json_t *rec, char h[65]);
/*
 * The hash of rec (as audit_record_hash) and its line on disk (the same
 * dump with "h" added, malloc'd, no newline), from one dump of the record
 * when the fields after its body are plain (they always are in a log
 * events.c writes), else from a second dump.  NULL on failure.
 */
char *audit_record_line(json_t *rec, char h[65]);

/* Verifies the log at path; see above. */
int audit_verify(const char *path, struct audit_result *res, struct buf *err);

/*
 * The same, also collecting the "h" of chosen records for the checkpoint
 * checks: picks sorted by seq; each pick's h is set when its seq is among
 * the intact records, else left "".
 */
struct audit_pick {
	long seq;
	char h[65];
};
int audit_verify_picks(const char *path, struct audit_pick *picks, size_t npicks,
		       struct audit_result *res, struct buf *err);

#endif
