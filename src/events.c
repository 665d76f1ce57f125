/*
 * events.c: the append-only JSONL writer.  See events.h.
 */
#include "events.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int events_append(struct events *ev, const char *kind, json_t *body)
{
	char ts[40];
	json_t *rec;
	char *line;
	size_t len;
	ssize_t n;

	if (ev->failed || ev->fd < 0) {
		json_decref(body);
		return ev->failed ? ev->failed : -EBADF;
	}
	clock_iso8601(ts, sizeof(ts));
	rec = json_object();
	json_object_set_new(rec, "seq", json_integer(++ev->seq));
	json_object_set_new(rec, "ts", json_string(ts));
	json_object_set_new(rec, "kind", json_string(kind));
	json_object_set_new(rec, "body", body ? body : json_object());
	line = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(rec);
	if (!line)
		return fail(ev, -EINVAL, "unserialisable record");
	len = strlen(line);
	line[len++] = '\n';	/* json_dumps leaves room: replaces the NUL */
	do
		n = write(ev->fd, line, len);
	while (n < 0 && errno == EINTR);
	free(line);
	if (n < 0)
		return fail(ev, -errno, "write");
	if ((size_t)n != len)
		return fail(ev, -EIO, "short write");
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
