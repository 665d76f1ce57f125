/*
 * buf: the one growable, capped byte buffer used everywhere.
 *
 * Modelled on git's strbuf with curl's size cap.  A buffer always holds a
 * NUL after its last byte, so b->s can be passed to C string functions when
 * the content is text.  Embedded NULs are allowed (binary gate output).
 *
 *   struct buf b = BUF_INIT;          unlimited (bounded by memory)
 *   buf_init(&b, 1 << 20);            at most 1 MiB of content
 *   buf_add(&b, p, n);                -E2BIG when the cap would be passed:
 *                                     the bytes that fit are kept, the rest
 *                                     dropped, and b->truncated is set.
 *   buf_release(&b);                  frees, back to BUF_INIT state
 *
 * Allocation failure aborts with a message: we are a CLI.
 */
#ifndef LOOPGATE_BUF_H
#define LOOPGATE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *s;       /* content, NUL-terminated; never NULL */
	size_t len;    /* bytes of content */
	size_t alloc;  /* bytes allocated (0: s points at a static "") */
	size_t max;    /* cap on len; 0 means no cap */
	int truncated; /* set once an add was cut at the cap */
};

extern char buf_empty[];
#define BUF_INIT                                                                         \
	{                                                                                \
		.s = buf_empty                                                           \
	}

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
/* Empties the buffer, keeping its allocation and cap. */
void buf_reset(struct buf *b);
/* Takes the content as a malloc'd string; the buffer is reset to empty. */
char *buf_detach(struct buf *b, size_t *len);

int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Replaces the content (keeps the cap). */
int buf_sets(struct buf *b, const char *s);
void buf_setlen(struct buf *b, size_t len);
/* Removes trailing whitespace. */
void buf_rtrim(struct buf *b);
/* 1 when s is one of the NUL-separated strings in p[0..len) (a list of
 * paths kept in a buf: b->s, b->len). */
int buf_list_has(const char *p, size_t len, const char *s);

/*
 * Error reporting helper for the "struct buf *err" convention: modules that
 * fail write one human sentence into err (when err is non-NULL) and return a
 * negative errno.  err_set replaces whatever was there.
 */
int err_set(struct buf *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Whole-file helpers.  They respect b->max: reading stops at the cap
 * (-E2BIG, b->truncated set).  A path inside the actor's tree or a file the
 * user names goes through base/saferead.h instead (no symlink out, no FIFO,
 * no device). */
int buf_read_file(struct buf *b, const char *path);
int buf_read_fd(struct buf *b, int fd);

/* malloc wrappers that abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
