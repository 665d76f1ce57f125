/*
 * events.c: the append-only JSONL writer.  See events.h.
 */
#include "events.h"
#include "clock.h"
#include "feedback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The body recorded in place of one the caller failed to build. */
#define BAD_BODY "event body could not be encoded (a loopgate bug: please " \
	"report it with this run's events.jsonl)"

json_t *events_strn(const char *s, size_t len)
{
	struct buf clean = BUF_INIT;
	json_t *j;

	if (!s)
		return json_null();
	feedback_utf8_clean(s, len, &clean);
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

int events_open(struct events *ev, const char *path, struct buf *err)
{
	ev->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (ev->fd < 0)
		return err_set(err, -errno, "cannot open the event log %s: %s",
			       path, strerror(errno));
	ev->seq = 0;
	ev->failed = 0;
	return 0;
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

int events_append(struct events *ev, const char *kind, json_t *body)
{
	char ts[40];
	json_t *rec;
	char *line;
	size_t len;
	size_t done;
	off_t end;
	int ret;

	if (ev->failed || ev->fd < 0) {
		json_decref(body);
		return ev->failed ? ev->failed : -EBADF;
	}
	clock_iso8601(ts, sizeof(ts));
	rec = json_object();
	json_object_set_new(rec, "seq", json_integer(++ev->seq));
	json_object_set_new(rec, "ts", json_string(ts));
	json_object_set_new(rec, "kind", json_string(kind));
	json_object_set_new(rec, "body", body ? body
			    : json_pack("{s:s}", "error", BAD_BODY));
	line = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
			  JSON_REAL_PRECISION(10));
	json_decref(rec);
	if (!line)
		return fail(ev, -EINVAL, "unserialisable record");
	len = strlen(line);
	line[len++] = '\n';	/* json_dumps leaves room: replaces the NUL */
	/* Where this record starts, to cut a torn one off again. */
	end = lseek(ev->fd, 0, SEEK_END);
	ret = write_all(ev->fd, line, len, &done);
	free(line);
	if (ret == 0)
		goto written;
	/* A full disk takes what fits, then fails: cut the partial record
	 * off so that every line of the log stays a whole record. */
	if (done && (end < 0 || ftruncate(ev->fd, end) < 0))
		return fail(ev, ret, "write; the torn record could not be cut off");
	return fail(ev, ret, "write");
written:
	if (ev->sync_each)
		return events_sync(ev);
	return 0;
}

int events_sync(struct events *ev)
{
	if (ev->failed || ev->fd < 0)
		return ev->failed;
	if (fdatasync(ev->fd) < 0)
		return fail(ev, -errno, "fdatasync");
	return 0;
}

void events_close(struct events *ev)
{
	if (ev->fd >= 0) {
		events_sync(ev);
		close(ev->fd);
	}
	ev->fd = -1;
	buf_release(&ev->err);
}
