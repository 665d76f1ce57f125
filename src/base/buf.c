#include "base/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdint.h>

char buf_empty[1];

static void oom(size_t n)
{
	fprintf(stderr, "loopgate: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom(n * m);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

void buf_init(struct buf *b, size_t max)
{
	b->s = buf_empty;
	b->len = b->alloc = 0;
	b->max = max;
	b->truncated = 0;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->s);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	buf_setlen(b, 0);
	b->truncated = 0;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *s = b->alloc ? b->s : xstrdup("");
	if (len)
		*len = b->len;
	buf_init(b, b->max);
	return s;
}

/* Makes room for n more bytes plus the NUL. */
static void grow(struct buf *b, size_t n)
{
	size_t want = b->len + n + 1, nalloc;
	if (want < b->len)
		oom(SIZE_MAX);
	if (want <= b->alloc)
		return;
	nalloc = b->alloc ? b->alloc : 64;
	while (nalloc < want)
		nalloc = nalloc * 3 / 2 + 16;
	if (b->alloc) {
		b->s = xrealloc(b->s, nalloc);
	} else {
		b->s = xmalloc(nalloc);
		b->s[0] = '\0';
	}
	b->alloc = nalloc;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	int ret = 0;
	if (b->max && b->len + n > b->max) {
		n = b->max > b->len ? b->max - b->len : 0;
		b->truncated = 1;
		ret = -E2BIG;
	}
	if (!n)
		return ret;
	grow(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return ret;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	char small[256];
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	{
		char *big = xmalloc((size_t)n + 1);
		int ret;
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		ret = buf_add(b, big, (size_t)n);
		free(big);
		return ret;
	}
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int ret;
	va_start(ap, fmt);
	ret = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return ret;
}

int buf_sets(struct buf *b, const char *s)
{
	buf_reset(b);
	return buf_adds(b, s);
}

void buf_setlen(struct buf *b, size_t len)
{
	if (!b->alloc)
		return;
	if (len > b->len)
		len = b->len;
	b->len = len;
	b->s[len] = '\0';
}

void buf_rtrim(struct buf *b)
{
	size_t n = b->len;
	while (n && (b->s[n - 1] == ' ' || b->s[n - 1] == '\n' || b->s[n - 1] == '\t' ||
		     b->s[n - 1] == '\r'))
		n--;
	buf_setlen(b, n);
}

int buf_list_has(const char *p, size_t len, const char *s)
{
	for (const char *q = p; q < p + len; q += strlen(q) + 1)
		if (!strcmp(q, s))
			return 1;
	return 0;
}

int err_set(struct buf *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (err) {
		buf_reset(err);
		va_start(ap, fmt);
		buf_vaddf(err, fmt, ap);
		va_end(ap);
	}
	return code;
}

int buf_read_fd(struct buf *b, int fd)
{
	char tmp[65536];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		/* stop at the cap: /dev/zero or an endless pipe has no EOF */
		if (buf_add(b, tmp, (size_t)n) < 0)
			return -E2BIG;
	}
	return 0;
}

int buf_read_file(struct buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;
	if (fd < 0)
		return -errno;
	ret = buf_read_fd(b, fd);
	close(fd);
	return ret;
}
