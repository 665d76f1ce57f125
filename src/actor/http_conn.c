/*
 * http_conn: sockets, TLS and the idle pool of the own HTTP client (see
 * http_conn.h).
 */
#include "actor/http_conn.h"
#include "actor/http_impl.h"
#include "actor/ssl_api.h"
#include "base/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_conn {
	int fd;
	SSL *ssl; /* NULL: plain TCP */
	int reused;
	long long idle_since_ms;
	char key[300];
	char why[256];
};

/* libcurl's default when the caller sets no connect timeout */
#define CONNECT_DEFAULT_MS 300000
/* an idle connection older than this is not reused (libcurl's MAXAGE_CONN) */
#define IDLE_MAX_MS 118000
#define POOL_MAX    8

/* Waits until fd is ready for events, in slices, until until_ms (0: no
 * end of its own).  0 ready, -ETIMEDOUT at until_ms, -ECANCELED when check
 * said stop. */
static int wait_fd(int fd, short events, long long until_ms, http_conn_check_fn check,
		   void *ctx)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n, slice;

	for (;;) {
		if (check && check(ctx))
			return -ECANCELED;
		slice = HTTP_POLL_SLICE_MS;
		if (until_ms) {
			long long left = until_ms - clock_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			if (left < slice)
				slice = (int)left;
		}
		n = poll(&pfd, 1, slice);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		tick();
	}
}

/* ---- opening ------------------------------------------------------------ */

static int tcp_connect(const struct addrinfo *ai, long long until_ms,
		       http_conn_check_fn check, void *ctx, int *fd_out)
{
	int fd, ret, one = 1, soerr = 0;
	socklen_t len = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			ret = -errno;
			close(fd);
			return ret;
		}
		if ((ret = wait_fd(fd, POLLOUT, until_ms, check, ctx)) < 0) {
			close(fd);
			return ret;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr) {
			close(fd);
			return -soerr;
		}
	}
	*fd_out = fd;
	return 0;
}

/* The OpenSSL error queue's first entry, or what. */
static void ssl_why(char *out, size_t size, const char *what)
{
	unsigned long e = SL.ERR_get_error();
	char s[200];

	if (!e) {
		snprintf(out, size, "%s", what);
		return;
	}
	ssl_api_error_string(e, s, sizeof(s)); /* names, loaded when needed */
	snprintf(out, size, "%s (%s)", what, s);
	SL.ERR_clear_error();
}

static int tls_start(struct http_conn *c, const struct http_target *t, long long until_ms,
		     http_conn_check_fn check, void *ctx, struct buf *err)
{
	SSL_CTX *sctx = ssl_api_ctx(err);
	unsigned char ip[16];
	int r, e, ret, is_ip;
	long v;

	if (!sctx)
		return -ELIBACC;
	if (!(c->ssl = SL.SSL_new(sctx)) || SL.SSL_set_fd(c->ssl, c->fd) != 1)
		return err_set(err, -ECONNREFUSED, "could not start TLS");
	is_ip = inet_pton(AF_INET, t->host, ip) == 1 ||
		inet_pton(AF_INET6, t->host, ip) == 1;
	/* the name (or address) the certificate must carry: never skipped */
	if (is_ip ? SL.X509_VERIFY_PARAM_set1_ip_asc(SL.SSL_get0_param(c->ssl),
						     t->host) != 1
		  : SL.SSL_set1_host(c->ssl, t->host) != 1)
		return err_set(err, -EPROTO, "could not set the host name to check (%s)",
			       t->host);
	if (!is_ip)
		SL.SSL_ctrl(c->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME,
			    TLSEXT_NAMETYPE_host_name, (void *)t->host);
	SL.ERR_clear_error();
	while ((r = SL.SSL_connect(c->ssl)) != 1) {
		e = SL.SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			ret = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
				      until_ms, check, ctx);
			if (ret == -ETIMEDOUT)
				return err_set(err, ret,
					       "the TLS handshake took too long");
			if (ret < 0)
				return ret;
			continue;
		}
		v = SL.SSL_get_verify_result(c->ssl);
		if (v != X509_V_OK) {
			SL.ERR_clear_error();
			return err_set(err, -EPROTO,
				       "the server's certificate did not verify: %s",
				       SL.X509_verify_cert_error_string(v));
		}
		ssl_why(c->why, sizeof(c->why), "the TLS handshake failed");
		return err_set(err, -ECONNREFUSED, "%s", c->why);
	}
	return 0;
}

int http_conn_open(const struct http_target *t, long connect_ms, http_conn_check_fn check,
		   void *ctx, struct http_conn **out, struct buf *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL, *ai;
	long long until = clock_ms() + (connect_ms > 0 ? connect_ms : CONNECT_DEFAULT_MS);
	struct http_conn *c;
	int ret, fd = -1, last = -ECONNREFUSED;

	*out = NULL;
	ret = getaddrinfo(t->host, t->port, &hints, &res);
	if (ret)
		return err_set(err, -ECONNREFUSED, "could not resolve host %s: %s",
			       t->host,
			       ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret));
	for (ai = res; ai; ai = ai->ai_next) {
		last = tcp_connect(ai, until, check, ctx, &fd);
		if (last == 0 || last == -ECANCELED || last == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (last == -ECANCELED)
		return last;
	if (last == -ETIMEDOUT)
		return err_set(err, last, "no connection within %ld ms",
			       connect_ms > 0 ? connect_ms : (long)CONNECT_DEFAULT_MS);
	if (last < 0)
		return err_set(err, -ECONNREFUSED, "could not connect to %s port %s: %s",
			       t->host, t->port, strerror(-last));
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	snprintf(c->key, sizeof(c->key), "%s", t->key);
	if (t->tls && (ret = tls_start(c, t, until, check, ctx, err)) < 0) {
		http_conn_close(c);
		return ret;
	}
	*out = c;
	return 0;
}

/* ---- reading and writing ------------------------------------------------ */

const char *http_conn_why(const struct http_conn *c)
{
	return c->why[0] ? c->why : "connection failed";
}

int http_conn_reused(const struct http_conn *c)
{
	return c->reused;
}

/* After SSL_read/SSL_write returned r <= 0: the event to wait for (> 0),
 * 0 for the end of the stream, or a negative errno. */
static int tls_result(struct http_conn *c, int r)
{
	int e = SL.SSL_get_error(c->ssl, r);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return POLLIN;
	case SSL_ERROR_WANT_WRITE:
		return POLLOUT;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0) /* an EOF the library did not expect */
			return 0;
		snprintf(c->why, sizeof(c->why), "%s", strerror(errno));
		return errno == EPIPE ? -ECONNRESET : -errno;
	default:
		ssl_why(c->why, sizeof(c->why), "TLS error");
		return -ECONNRESET;
	}
}

static int sock_error(struct http_conn *c, int e)
{
	snprintf(c->why, sizeof(c->why), "%s", strerror(e));
	return e == EPIPE ? -ECONNRESET : -e;
}

ssize_t http_conn_read(struct http_conn *c, void *p, size_t size,
		       http_conn_check_fn check, void *ctx)
{
	ssize_t n;
	int r, ev;

	for (;;) {
		if (c->ssl) {
			SL.ERR_clear_error();
			errno = 0;
			r = SL.SSL_read(c->ssl, p,
					size > INT32_MAX ? INT32_MAX : (int)size);
			if (r > 0)
				return r;
			if ((ev = tls_result(c, r)) <= 0)
				return ev;
		} else {
			n = recv(c->fd, p, size, 0);
			if (n >= 0)
				return n;
			if (errno != EAGAIN && errno != EINTR)
				return sock_error(c, errno);
			ev = POLLIN;
		}
		if ((r = wait_fd(c->fd, (short)ev, 0, check, ctx)) < 0)
			return r;
	}
}

ssize_t http_conn_write(struct http_conn *c, const void *p, size_t n, int more,
			http_conn_check_fn check, void *ctx)
{
	ssize_t w;
	int r, ev;

	for (;;) {
		if (c->ssl) {
			SL.ERR_clear_error();
			errno = 0;
			r = SL.SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
			if (r > 0)
				return r;
			if ((ev = tls_result(c, r)) == 0) {
				snprintf(c->why, sizeof(c->why),
					 "the server closed the connection");
				return -ECONNRESET;
			}
			if (ev < 0)
				return ev;
		} else {
			w = send(c->fd, p, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
			if (w >= 0)
				return w;
			if (errno != EAGAIN && errno != EINTR)
				return sock_error(c, errno);
			ev = POLLOUT;
		}
		if ((r = wait_fd(c->fd, (short)ev, 0, check, ctx)) < 0)
			return r;
	}
}

void http_conn_close(struct http_conn *c)
{
	if (!c)
		return;
	if (c->ssl)
		SL.SSL_free(c->ssl); /* no close_notify: the socket closes now */
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* ---- the idle pool ------------------------------------------------------ */

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct http_conn *pool[POOL_MAX];

/* 1 when an idle connection can carry another request: the server has
 * neither closed it nor sent anything unasked. */
static int still_open(struct http_conn *c)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	char b;
	int r;

	if (clock_ms() - c->idle_since_ms > IDLE_MAX_MS)
		return 0;
	if (poll(&pfd, 1, 0) == 0)
		return 1;
	if (!c->ssl)
		return 0; /* an EOF, a reset, or bytes nobody asked for */
	/* TLS 1.3 sends session tickets after the handshake: records that
	 * carry no data leave SSL_read wanting more */
	SL.ERR_clear_error();
	errno = 0;
	r = SL.SSL_read(c->ssl, &b, 1);
	return r <= 0 && SL.SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ;
}

struct http_conn *http_pool_take(const struct http_target *t)
{
	struct http_conn *c = NULL, *dead[POOL_MAX];
	size_t ndead = 0;

	pthread_mutex_lock(&pool_lock);
	for (size_t i = 0; i < POOL_MAX && !c; i++) {
		if (!pool[i] || strcmp(pool[i]->key, t->key))
			continue;
		if (still_open(pool[i]))
			c = pool[i];
		else
			dead[ndead++] = pool[i];
		pool[i] = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	for (size_t i = 0; i < ndead; i++)
		http_conn_close(dead[i]);
	if (c) {
		c->reused = 1;
		c->why[0] = '\0';
	}
	return c;
}

void http_pool_put(struct http_conn *c)
{
	struct http_conn *old = NULL;
	size_t slot = 0;

	c->idle_since_ms = clock_ms();
	pthread_mutex_lock(&pool_lock);
	for (size_t i = 0; i < POOL_MAX; i++) {
		if (!pool[i]) {
			slot = i;
			old = NULL;
			break;
		}
		if (!old || pool[i]->idle_since_ms < old->idle_since_ms) {
			old = pool[i];
			slot = i;
		}
	}
	pool[slot] = c;
	pthread_mutex_unlock(&pool_lock);
	http_conn_close(old);
}
