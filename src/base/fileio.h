/*
 * fileio: the few file operations whose failure modes matter.
 *
 * fileio_write_atomic writes to a temporary file in the same directory,
 * fsyncs it and renames it over path, so a reader sees the old content or
 * the new one, never a torn file.  An fsync failure is returned, never
 * retried (the page cache may already have dropped the data).
 *
 * The same, written piece by piece (a page too large to build in memory):
 *
 *   struct fileio_atomic a;
 *   if (fileio_atomic_open(&a, path, err) < 0) ...
 *   fileio_atomic_write(&a, p, n, err);   ...as often as needed; after the
 *                                         first failure it does nothing
 *   ret = fileio_atomic_close(&a, err);   fsync + rename, or the first
 *                                         error (path then untouched)
 *
 * The fsync can run while the caller goes on with other work (a git
 * process, the event log's own sync: two syncs in flight at once can share
 * one journal commit):
 *
 *   fileio_atomic_sync_begin(&a);         after the last write: the fsync
 *                                         starts in a thread of its own
 *   ... other work: nothing may depend on the file being durable yet ...
 *   ret = fileio_atomic_close(&a, err);   waits for it, then as above
 *
 * Setting a.ret to an error before closing drops the file (the temporary
 * is removed, path untouched).
 *
 * A file whose readers may see it before it is durable (a model's
 * prompt.md: resume never reads it back) can be put in place at once and
 * made durable later:
 *
 *   ret = fileio_write_atomic_begin(&a, path, data, len, err);
 *                                         written, its fsync started in a
 *                                         thread, renamed over path: path
 *                                         holds the whole new content now
 *                                         (a SIGKILL loses nothing; a power
 *                                         loss may, until the close)
 *   ... other work ...
 *   ret = fileio_atomic_close(&a, err);   joins the fsync: its failure is
 *                                         returned (path keeps the content)
 *
 * On failure it returns -errno with path untouched and nothing to close
 * (a close is harmless).  Zero-initialized (`= {0}`), a closes to 0.
 */
#ifndef LOOPGATE_FILEIO_H
#define LOOPGATE_FILEIO_H

#include <stddef.h>
#include "base/buf.h"

int fileio_write_atomic(const char *path, const void *data, size_t len, struct buf *err);
#include <pthread.h>
struct fileio_atomic {
	char *path, *tmp;
	int fd;
	int ret; /* the first error, or 0 */
	/* fileio_atomic_sync_begin's thread and its fsync's errno */
	pthread_t syncer;
	int syncing, sync_errno;
	int published; /* renamed over path already (fileio_write_atomic_begin) */
};
int fileio_atomic_open(struct fileio_atomic *a, const char *path, struct buf *err);
int fileio_atomic_write(struct fileio_atomic *a, const void *data, size_t len,
			struct buf *err);
int fileio_atomic_close(struct fileio_atomic *a, struct buf *err);
/* 0: the fsync runs in a thread now; -errno: it could not be started (the
 * close then fsyncs as usual) or the file already failed. */
int fileio_atomic_sync_begin(struct fileio_atomic *a);
int fileio_write_atomic_begin(struct fileio_atomic *a, const char *path, const void *data,
			      size_t len, struct buf *err);
/* mkdir -p with mode 0755; 0 when it exists already. */
int fileio_mkdirs(const char *path, struct buf *err);
/* Appends bytes to path (created 0644 if missing) in one write. */
int fileio_append(const char *path, const void *data, size_t len, struct buf *err);
/* Reads a small file into out with trailing whitespace trimmed (one line,
 * e.g. a .git link or a ref); -1 when missing, unreadable or empty. */
int fileio_read_line(const char *path, struct buf *out);
/* Appends line (plus '\n') to path unless an identical line is present. */
int fileio_ensure_line(const char *path, const char *line, struct buf *err);
/* A memfd named name (close-on-exec) holding len bytes of data, its
 * offset at 0: a request or a file handed to another process.  The fd, or
 * -errno (EINTR retried). */
int fileio_memfd(const char *name, const void *data, size_t len);
/* Removes path: a file, or a directory with everything under it (symlinks
 * removed, never followed).  0 when it is gone (or never was), -errno for
 * the first entry that could not be removed. */
int fileio_remove_tree(const char *path);

#endif
