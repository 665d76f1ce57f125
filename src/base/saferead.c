/*
 * saferead.c: reads that the actor's tree cannot turn against loopgate.
 * See saferead.h.
 */
#include "base/saferead.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/clock.h"

#define OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
/* A FIFO or pipe that gives no byte for this long is given up on. */
#define USER_WAIT_MS 10000

int saferead_rel_ok(const char *rel)
{
	const char *p = rel;

	if (!rel || !*rel || *rel == '/')
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += n;
		while (*p == '/')
			p++;
	}
	return 1;
}

/* The fallback without openat2: one component at a time, never following
 * a symlink (stricter than openat2, which follows those that stay inside). */
static int walk_open(int dfd, const char *rel)
{
	char *copy = xstrdup(rel), *save = NULL, *comp, *next;
	int cur = dup(dfd), fd = -1;

	if (cur < 0) {
		free(copy);
		return -errno;
	}
	comp = strtok_r(copy, "/", &save);
	while (comp) {
		next = strtok_r(NULL, "/", &save);
		if (next)
			fd = openat(cur, comp,
				    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		else
			fd = openat(cur, comp, OPEN_FLAGS | O_NOFOLLOW);
		close(cur);
		if (fd < 0) {
			/* ELOOP (last) or ENOTDIR (a directory's place): a symlink */
			fd = errno == ELOOP || (errno == ENOTDIR && next) ? -EMLINK
									  : -errno;
			break;
		}
		cur = fd;
		comp = next;
	}
	free(copy);
	return fd;
}

static int no_openat2;

void saferead_force_walk(int on)
{
	no_openat2 = on;
}

static int open_beneath(int dfd, const char *rel)
{
	struct open_how how;
	long fd;

	if (!no_openat2) {
		memset(&how, 0, sizeof(how));
		how.flags = OPEN_FLAGS;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		fd = syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		/* EXDEV: the walk left the tree; ELOOP: a magic link */
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		no_openat2 = 1; /* an old kernel, or a seccomp filter */
	}
	return walk_open(dfd, rel);
}

static int is_env_name(const char *name)
{
	return !strcmp(name, ".env") || !strncmp(name, ".env.", 5);
}

/* The name the open file really has: a symlink inside the tree must not
 * lead to a file the sandbox hides from the actor. */
static int masked_target(int fd)
{
	char link[64], real[4096];
	ssize_t n;
	const char *base;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n <= 0)
		return 0;
	real[n] = '\0';
	base = strrchr(real, '/');
	return is_env_name(base ? base + 1 : real);
}

static const char *kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * Reads at most max bytes of fd into out.  A file that has more: the first
 * max bytes and out->truncated (truncate), else -EFBIG.  Never reads past
 * max + 1 bytes whatever the file claims (a growing file, /proc).
 */
static int read_capped(int fd, size_t max, int truncate, int wait_ms, struct buf *out)
{
	char tmp[65536];
	size_t got = 0;
	long long last = clock_ms();

	for (;;) {
		size_t want = max - got < sizeof(tmp) ? max - got + 1 : sizeof(tmp);
		ssize_t n = read(fd, tmp, want);
		if (n < 0 && errno == EINTR && !interrupt_pending())
			continue;
		if (n < 0 && errno == EAGAIN && wait_ms > 0) {
			struct pollfd p = {fd, POLLIN, 0};
			int left = (int)(last + wait_ms - clock_ms());
			if (interrupt_pending())
				return -EINTR;
			if (left <= 0)
				return -ETIMEDOUT;
			if (poll(&p, 1, left < 100 ? left : 100) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		last = clock_ms();
		if (got + (size_t)n > max) {
			buf_add(out, tmp, max - got);
			out->truncated = 1;
			return truncate ? 0 : -EFBIG;
		}
		if (buf_add(out, tmp, (size_t)n) < 0)
			return truncate ? 0 : -EFBIG;
		got += (size_t)n;
	}
}

int saferead_tree(const char *root, const char *rel, size_t max, unsigned flags,
		  struct buf *out, struct stat *st, struct buf *err)
{
	struct stat sb;
	int dfd, fd, ret;

	if (!saferead_rel_ok(rel))
		return err_set(err, -EPERM,
			       "%s: refused: not a relative path inside the tree",
			       rel ? rel : "(null)");
	dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_set(err, -errno, "cannot open the tree %s: %s", root,
			       strerror(errno));
	fd = open_beneath(dfd, rel);
	close(dfd);
	if (fd == -EXDEV || fd == -ELOOP)
		return err_set(err, -EPERM, "%s: refused: it leads out of the tree", rel);
	if (fd == -EMLINK)
		return err_set(
			err, -EPERM,
			"%s: refused: a symbolic link (followed only where the kernel "
			"has openat2)",
			rel);
	if (fd == -ENXIO)
		return err_set(err, -EPERM, "%s: refused: a socket, not a regular file",
			       rel);
	if (fd < 0)
		return err_set(err, fd, "cannot open %s: %s", rel, strerror(-fd));
	if (fstat(fd, &sb) < 0) {
		ret = err_set(err, -errno, "cannot stat %s: %s", rel, strerror(errno));
	} else if (!S_ISREG(sb.st_mode)) {
		ret = err_set(err, -EPERM, "%s: refused: %s, not a regular file", rel,
			      kind_of(sb.st_mode));
	} else if (masked_target(fd)) {
		ret = err_set(err, -EPERM,
			      "%s: refused: a .env file (hidden from the actor)", rel);
	} else {
		ret = read_capped(fd, max, flags & SAFEREAD_TRUNCATE, 0, out);
		if (ret == -EFBIG)
			err_set(err, ret, "%s: larger than the limit of %zu bytes", rel,
				max);
		else if (ret < 0)
			err_set(err, ret, "cannot read %s: %s", rel, strerror(-ret));
		if (st)
			*st = sb;
	}
	close(fd);
	return ret;
}

int saferead_user(const char *path, const char *what, size_t max, int timeout_ms,
		  struct buf *out, struct buf *err)
{
	struct stat sb;
	int fd = open(path, OPEN_FLAGS), ret;

	if (fd < 0)
		return err_set(err, errno == ENXIO ? -EINVAL : -errno,
			       "cannot read %s '%s': %s", what, path,
			       errno == ENXIO ? "a socket, not a file" : strerror(errno));
	if (fstat(fd, &sb) < 0) {
		ret = err_set(err, -errno, "cannot stat %s '%s': %s", what, path,
			      strerror(errno));
	} else if (!S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode)) {
		ret = err_set(err, -EINVAL, "%s '%s' is %s, not a file", what, path,
			      kind_of(sb.st_mode));
	} else {
		ret = read_capped(fd, max, 0, timeout_ms > 0 ? timeout_ms : USER_WAIT_MS,
				  out);
		if (ret == -EFBIG)
			err_set(err, ret, "%s '%s' is larger than the limit of %zu bytes",
				what, path, max);
		else if (ret == -ETIMEDOUT)
			err_set(err, ret,
				"%s '%s': no data for %d ms (a FIFO nobody writes?)",
				what, path, timeout_ms > 0 ? timeout_ms : USER_WAIT_MS);
		else if (ret == -EINTR)
			err_set(err, ret, "reading %s '%s': interrupted", what, path);
		else if (ret < 0)
			err_set(err, ret, "cannot read %s '%s': %s", what, path,
				strerror(-ret));
	}
	close(fd);
	return ret;
}
