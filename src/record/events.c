/*
 * events.c: the append-only, hash-chained JSONL writer.  See events.h;
 * the chain is defined in audit.h.
 */
#include "record/events.h"
#include "record/evkind.h"
#include "base/hash.h"
#include "record/audit.h"
#include "base/clock.h"
#include "base/utf8.h"
#include "base/fault.h"
#include "record/checkpoint.h"
#include "record/redact.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The body recorded in place of one the caller failed to build. */
#define BAD_BODY                                                                         \
	"event body could not be encoded (a loopgate bug: please "                       \
	"report it with this run's events.jsonl)"

json_t *events_strn(const char *s, size_t len)
{
	struct buf clean = BUF_INIT;
	json_t *j;

	if (!s)
		return json_null();
	utf8_clean(s, len, &clean);
	j = json_stringn(clean.s, clean.len);
	buf_release(&clean);
	if (!j) {
		/* clean text is valid UTF-8 without NUL: only memory can fail */
		fputs("loopgate: out of memory\n", stderr);
		abort();
	}
	return j;
}

json_t *events_str(const char *s)
{
	return events_strn(s, s ? strlen(s) : 0);
}

static int fail(struct events *ev, int code, const char *what)
{
	if (!ev->failed) {
		ev->failed = code;
		buf_reset(&ev->err);
		buf_addf(&ev->err, "writing the event log failed (%s: %s)", what,
			 strerror(-code));
	}
	return ev->failed;
}

/* Writes all of p; 0 or -errno, with *done bytes written either way.  The
 * first write() normally takes the whole line; a short one happens only on
 * a full disk or a file size limit, and the next write() says which. */
static int write_all(int fd, const char *p, size_t len, size_t *done)
{
	ssize_t n;

	*done = 0;
	while (*done < len) {
		n = write(fd, p + *done, len - *done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		*done += (size_t)n;
	}
	return 0;
}

static int checkpoint_due(struct events *ev);
static int checkpoint_is_due(const struct events *ev);

/* Builds, chains and writes one record with the given seq. */
static int append_record(struct events *ev, long seq, const char *kind, json_t *body)
{
	char ts[40], h[65];
	json_t *rec;
	char *line;
	size_t len;
	size_t done;
	off_t end;
	int ret;

	clock_iso8601(ts, sizeof(ts));
	redact_json(body); /* before hashing: the chain covers the clean text */
	rec = json_object();
	json_object_set_new(rec, "seq", json_integer(seq));
	json_object_set_new(rec, "ts", json_string(ts));
	json_object_set_new(rec, "kind", json_string(kind));
	json_object_set_new(rec, "body",
			    body ? body : json_pack("{s:s}", "error", BAD_BODY));
	json_object_set_new(rec, "prev", json_string(ev->head));
	line = audit_record_line(rec, h);
	if (!line) {
		json_decref(rec);
		return fail(ev, -EINVAL, "unserialisable record");
	}
	json_object_set_new(rec, "h", json_string(h)); /* the observers' copy */
	len = strlen(line);
	line[len++] = '\n'; /* the dump leaves room: replaces the NUL */
	/* Where this record starts, to cut a torn one off again. */
	end = lseek(ev->fd, 0, SEEK_END);
	if (fault_active()) {
		char point[96];
		snprintf(point, sizeof(point), "torn.%s", kind);
		if (fault_kill_due(point)) { /* a crash mid-write */
			write_all(ev->fd, line, len / 2, &done);
			fault_die();
		}
	}
	ret = write_all(ev->fd, line, len, &done);
	free(line);
	if (ret == 0)
		goto written;
	json_decref(rec);
	/* A full disk takes what fits, then fails: cut the partial record
	 * off so that every line of the log stays a whole record. */
	if (done && (end < 0 || ftruncate(ev->fd, end) < 0))
		return fail(ev, ret, "write; the torn record could not be cut off");
	return fail(ev, ret, "write");
written:
	ev->seq = seq;
	memcpy(ev->head, h, sizeof(h));
	ev->unsynced++;
	ev->sealed = 0;
	/* without sync_each checkpoints still come on time; with barrier
	 * the records they sign are synced first */
	if (!ev->group && (ret = ev->sync_each || (ev->barrier && checkpoint_is_due(ev))
					 ? events_sync(ev)
					 : checkpoint_due(ev)) < 0) {
		json_decref(rec);
		return ret;
	}
	for (int i = 0; i < ev->nobs; i++)
		if (ev->obs[i].record)
			ev->obs[i].record(ev->obs[i].ctx, rec);
	json_decref(rec);
	if (fault_active()) {
		char point[96];
		snprintf(point, sizeof(point), "event.%s", kind);
		fault_kill(point);
	}
	return 0;
}

int events_observe(struct events *ev, const struct events_observer *o)
{
	if (ev->nobs >= EVENTS_OBSERVERS_MAX)
		return -ENOSPC;
	ev->obs[ev->nobs++] = *o;
	return 0;
}

void events_unobserve(struct events *ev, const void *ctx)
{
	int k = 0;
	for (int i = 0; i < ev->nobs; i++)
		if (ev->obs[i].ctx != ctx)
			ev->obs[k++] = ev->obs[i];
	ev->nobs = k;
}

/* ---- checkpoints --------------------------------------------------------- */

void events_set_signer(struct events *ev, const struct checkpoint_key *key, long every)
{
	ev->key = key;
	ev->cp_every = every > 0 ? every : CHECKPOINT_EVERY;
}

/* Opens checkpoints.jsonl beside the log at path. */
static int open_checkpoints(struct events *ev, const char *path, int flags,
			    struct buf *err)
{
	char *cpath = checkpoint_file_beside(path);
	int ret = 0;

	ev->cp_fd = open(cpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | flags, 0644);
	if (ev->cp_fd < 0)
		ret = err_set(err, -errno, "cannot create the checkpoint file %s: %s",
			      cpath, strerror(errno));
	free(cpath);
	return ret;
}

/* Signs the head (already on disk) and appends it to checkpoints.jsonl. */
static int write_checkpoint(struct events *ev, int final)
{
	struct checkpoint cp;
	struct buf err = BUF_INIT;
	char *line;
	size_t len, done;
	int ret;

	ret = checkpoint_sign(ev->key, ev->run_id, ev->nonce, ev->seq, ev->head, final,
			      &cp, &err);
	buf_release(&err);
	if (ret < 0)
		return fail(ev, ret, "signing a checkpoint");
	line = checkpoint_line(&cp);
	len = strlen(line);
	line[len++] = '\n';
	ret = fault_fail("checkpoint") ? -EIO : write_all(ev->cp_fd, line, len, &done);
	free(line);
	if (ret == 0 && (ev->sync_each || ev->barrier) && fdatasync(ev->cp_fd) < 0)
		ret = -errno;
	if (ret < 0)
		return fail(ev, ret, "writing checkpoints.jsonl");
	ev->cp_seq = ev->seq;
	ev->sealed = final;
	for (int i = 0; i < ev->nobs; i++)
		if (ev->obs[i].checkpoint)
			ev->obs[i].checkpoint(ev->obs[i].ctx, &cp);
	return 0;
}

/* A checkpoint when one is due (the header, or cp_every records on). */
static int checkpoint_is_due(const struct events *ev)
{
	return ev->key && ev->cp_fd >= 0 &&
	       (ev->cp_seq < 0 || ev->seq - ev->cp_seq >= ev->cp_every);
}

static int checkpoint_due(struct events *ev)
{
	return checkpoint_is_due(ev) ? write_checkpoint(ev, 0) : 0;
}

int events_barrier(struct events *ev)
{
	if (ev->failed || ev->fd < 0)
		return ev->failed;
	return ev->unsynced ? events_sync(ev) : 0;
}

int events_sync(struct events *ev)
{
	int ret;

	if (ev->failed || ev->fd < 0)
		return ev->failed;
	if (ev->unsynced) {
		if (fault_fail("fdatasync"))
			return fail(ev, -EIO, "fdatasync");
		if (fdatasync(ev->fd) < 0)
			return fail(ev, -errno, "fdatasync");
		ev->unsynced = 0;
	}
	ret = checkpoint_due(ev);
	for (int i = 0; ret == 0 && i < ev->nobs; i++)
		if (ev->obs[i].synced)
			ev->obs[i].synced(ev->obs[i].ctx);
	return ret;
}

void events_group_begin(struct events *ev)
{
	ev->group++;
}

int events_group_end(struct events *ev)
{
	if (ev->group > 0 && --ev->group > 0)
		return ev->failed;
	return events_sync(ev);
}

int events_seal(struct events *ev)
{
	int ret = events_sync(ev);

	if (ret < 0 || !ev->key || ev->cp_fd < 0 || ev->sealed)
		return ret;
	return write_checkpoint(ev, 1);
}

/* ---- records ------------------------------------------------------------ */

int events_append(struct events *ev, const char *kind, json_t *body)
{
	/* every record has a kind (evkind.h): a NULL one is a caller's bug */
	assert(kind && *kind);
	if (ev->capture) {
		if (!body)
			body = json_pack("{s:s}", "error", BAD_BODY);
		redact_json(body);
		json_array_append_new(ev->capture,
				      json_pack("{s:s,s:o}", "kind", kind, "body", body));
		return 0;
	}
	if (ev->failed || ev->fd < 0) {
		json_decref(body);
		return ev->failed ? ev->failed : -EBADF;
	}
	return append_record(ev, ev->seq + 1, kind, body);
}

void events_capture(struct events *ev, json_t *into)
{
	ev->capture = into;
	ev->fd = -1;
	ev->cp_fd = -1;
	ev->nobs = 0;
	ev->unsynced = 0;
}

int events_open(struct events *ev, const char *path, const char *run_id, struct buf *err)
{
	char nonce[65];
	int ret;

	if ((ret = hash_random_hex(32, nonce)) < 0)
		return err_set(err, ret,
			       "cannot read random bytes for the event "
			       "log's nonce: %s",
			       strerror(-ret));
	ev->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	if (ev->fd < 0)
		return err_set(err, -errno, "cannot create the event log %s: %s", path,
			       strerror(errno));
	ev->failed = 0;
	memcpy(ev->head, AUDIT_ZERO_HASH, sizeof(ev->head));
	snprintf(ev->run_id, sizeof(ev->run_id), "%s", run_id);
	memcpy(ev->nonce, nonce, sizeof(ev->nonce));
	if (ev->key && (ret = open_checkpoints(ev, path, O_EXCL, err)) < 0) {
		close(ev->fd);
		ev->fd = -1;
		return ret;
	}
	ret = append_record(ev, 0, "header",
			    json_pack("{s:s,s:s,s:o}", "format", AUDIT_FORMAT, "nonce",
				      nonce, "run_id", events_str(run_id)));
	if (ret < 0) {
		err_set(err, ret, "%s: %s", path, ev->err.s);
		close(ev->fd);
		ev->fd = -1;
	}
	return ret;
}

int events_reopen(struct events *ev, const char *path, struct buf *err)
{
	struct audit_result res;
	int ret;

	if ((ret = audit_verify(path, &res, err)) < 0)
		return ret;
	if (res.status == AUDIT_TAMPERED || res.records == 0)
		return err_set(err, -EBADMSG,
			       "the event log %s fails verification "
			       "at line %ld: %s",
			       path, res.bad_line,
			       res.reason ? res.reason : "no whole header");
	ev->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (ev->fd < 0)
		return err_set(err, -errno, "cannot open the event log %s: %s", path,
			       strerror(errno));
	ev->failed = 0;
	ev->seq = res.last_seq;
	memcpy(ev->head, res.head, sizeof(ev->head));
	memcpy(ev->run_id, res.run_id, sizeof(ev->run_id));
	memcpy(ev->nonce, res.nonce, sizeof(ev->nonce));
	ev->cp_seq = -1; /* sign the reopened head at the next sync */
	if (ev->key && (ret = open_checkpoints(ev, path, 0, err)) < 0) {
		close(ev->fd);
		ev->fd = -1;
		return ret;
	}
	if (res.status != AUDIT_TORN)
		return 0;
	if (ftruncate(ev->fd, (off_t)res.intact_bytes) < 0 || fsync(ev->fd) < 0) {
		ret = err_set(err, -errno,
			      "cannot cut the torn tail off the event "
			      "log %s: %s",
			      path, strerror(errno));
		close(ev->fd);
		ev->fd = -1;
		return ret;
	}
	ret = append_record(ev, ev->seq + 1, EV_RECOVERED_TAIL,
			    json_pack("{s:I,s:I}", "dropped_bytes",
				      (json_int_t)res.torn_bytes, "line",
				      (json_int_t)res.bad_line));
	if (ret == 0)
		ret = events_sync(ev);
	if (ret < 0)
		err_set(err, ret, "%s: %s", path, ev->err.s);
	return ret;
}

void events_close(struct events *ev)
{
	if (ev->fd >= 0) {
		events_seal(ev);
		close(ev->fd);
	}
	if (ev->cp_fd >= 0)
		close(ev->cp_fd);
	ev->fd = -1;
	ev->cp_fd = -1;
	buf_release(&ev->err);
}
