/*
 * fileio.c: atomic writes and directories.  See fileio.h.
 */
#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int fileio_atomic_open(struct fileio_atomic *a, const char *path, struct buf *err)
{
	a->path = xstrdup(path);
	a->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	a->ret = 0;
	a->syncing = a->sync_errno = a->published = 0;
	a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (a->fd < 0) {
		a->ret = err_set(err, -errno, "cannot create %s: %s", a->tmp,
				 strerror(errno));
		free(a->tmp);
		free(a->path);
		a->tmp = a->path = NULL;
	}
	return a->ret;
}

int fileio_atomic_write(struct fileio_atomic *a, const void *data, size_t len,
			struct buf *err)
{
	const char *p = data;

	while (!a->ret && len) {
		ssize_t n = write(a->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			a->ret = err_set(err, n < 0 ? -errno : -EIO,
					 "cannot write %s: %s", a->tmp,
					 strerror(n < 0 ? errno : EIO));
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	return a->ret;
}

static void *sync_thread(void *arg)
{
	struct fileio_atomic *a = arg;

	a->sync_errno = fsync(a->fd) < 0 ? errno : 0;
	return NULL;
}

int fileio_atomic_sync_begin(struct fileio_atomic *a)
{
	sigset_t all, was;
	int e;

	if (!a->tmp || a->ret)
		return a->ret ? a->ret : -EBADF;
	if (a->syncing)
		return 0;
	/* the thread blocks every signal: a SIGINT goes to the caller, whose
	 * poll() it must interrupt (clock.h) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &was);
	e = pthread_create(&a->syncer, NULL, sync_thread, a);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	if (e != 0)
		return -e;
	a->syncing = 1;
	return 0;
}

int fileio_atomic_close(struct fileio_atomic *a, struct buf *err)
{
	int ret = a->ret;

	if (!a->tmp)
		return ret;
	if (a->syncing) { /* its fsync, whatever the outcome: fd is used */
		pthread_join(a->syncer, NULL);
		a->syncing = 0;
		if (!ret && a->sync_errno)
			ret = err_set(err, -a->sync_errno, "fsync of %s failed: %s",
				      a->published ? a->path : a->tmp,
				      strerror(a->sync_errno));
	} else if (!ret && fsync(a->fd) < 0) {
		ret = err_set(err, -errno, "fsync of %s failed: %s", a->tmp,
			      strerror(errno));
	}
	if (close(a->fd) < 0 && !ret)
		ret = err_set(err, -errno, "cannot close %s: %s", a->tmp,
			      strerror(errno));
	if (!ret && !a->published && rename(a->tmp, a->path) < 0)
		ret = err_set(err, -errno, "cannot rename %s to %s: %s", a->tmp, a->path,
			      strerror(errno));
	if (ret && !a->published)
		unlink(a->tmp);
	free(a->tmp);
	free(a->path);
	a->tmp = a->path = NULL;
	a->fd = -1;
	return ret;
}

int fileio_write_atomic(const char *path, const void *data, size_t len, struct buf *err)
{
	struct fileio_atomic a;
	int ret = fileio_atomic_open(&a, path, err);

	if (ret == 0) {
		fileio_atomic_write(&a, data, len, err);
		ret = fileio_atomic_close(&a, err);
	}
	return ret;
}

int fileio_write_atomic_begin(struct fileio_atomic *a, const char *path, const void *data,
			      size_t len, struct buf *err)
{
	int ret = fileio_atomic_open(a, path, err);

	if (ret < 0) {
		a->ret = 0; /* a close after it returns 0 */
		return ret;
	}
	fileio_atomic_write(a, data, len, err);
	/* no thread: the fsync is done here, as fileio_write_atomic does */
	if (!a->ret && fileio_atomic_sync_begin(a) < 0 && fsync(a->fd) < 0)
		a->ret = err_set(err, -errno, "fsync of %s failed: %s", a->tmp,
				 strerror(errno));
	/* the data is whole in the page cache: readers may have it now */
	if (!a->ret && rename(a->tmp, a->path) < 0)
		a->ret = err_set(err, -errno, "cannot rename %s to %s: %s", a->tmp,
				 a->path, strerror(errno));
	if ((ret = a->ret) < 0) {
		fileio_atomic_close(a, NULL); /* joins, removes the temporary */
		a->ret = 0;
		return ret;
	}
	a->published = 1;
	return 0;
}

int fileio_mkdirs(const char *path, struct buf *err)
{
	char *p = xstrdup(path), *s;
	int ret = 0;
	for (s = p + 1;; s++) {
		if (*s == '/' || !*s) {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST) {
				ret = err_set(err, -errno,
					      "cannot create directory %s: %s", p,
					      strerror(errno));
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return ret;
}

int fileio_ensure_line(const char *path, const char *line, struct buf *err)
{
	struct buf b = BUF_INIT;
	size_t ll = strlen(line);
	const char *p;
	int ret = buf_read_file(&b, path);

	if (ret < 0 && ret != -ENOENT) {
		buf_release(&b);
		return err_set(err, ret, "cannot read %s: %s", path, strerror(-ret));
	}
	for (p = b.s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, line, ll) && (p[ll] == '\n' || !p[ll])) {
			buf_release(&b);
			return 0;
		}
	if (b.len && b.s[b.len - 1] != '\n')
		buf_addch(&b, '\n');
	buf_addf(&b, "%s\n", line);
	ret = fileio_write_atomic(path, b.s, b.len, err);
	buf_release(&b);
	return ret;
}

int fileio_append(const char *path, const void *data, size_t len, struct buf *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644), ret = 0;
	ssize_t n;
	if (fd < 0)
		return err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	n = write(fd, data, len);
	if (n < 0 || (size_t)n != len)
		ret = err_set(err, n < 0 ? -errno : -EIO, "cannot append to %s: %s", path,
			      strerror(n < 0 ? errno : EIO));
	if (close(fd) < 0 && !ret)
		ret = err_set(err, -errno, "cannot close %s: %s", path, strerror(errno));
	return ret;
}

int fileio_read_line(const char *path, struct buf *out)
{
	buf_reset(out);
	if (buf_read_file(out, path) < 0 || !out->len)
		return -1;
	buf_rtrim(out);
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int fileio_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode))
		return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int fileio_memfd(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC), code = 0;
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < len && !code) {
		ssize_t n = write(fd, (const char *)data + done, len - done);
		if (n > 0)
			done += (size_t)n;
		else if (n == 0 || errno != EINTR)
			code = n < 0 ? errno : EIO;
	}
	if (!code && lseek(fd, 0, SEEK_SET) != 0)
		code = errno ? errno : EIO;
	if (code) {
		close(fd);
		return -code;
	}
	return fd;
}
