/*
 * fdpass: one message with descriptors attached (SCM_RIGHTS) over a unix
 * socket, the way loopgate hands a spawn its stdio, a proxy its client, a
 * jail its request.
 *
 *   int fds[3] = {in, out, err};
 *   if (fdpass_send(sock, &hdr, sizeof(hdr), fds, 3) < 0) ...   whole or -errno
 *
 *   int got[FDPASS_MAX], n;
 *   ssize_t len = fdpass_recv(sock, &hdr, sizeof(hdr), got, FDPASS_MAX, &n, 0);
 *   len > 0: the message's bytes, with n descriptors (close-on-exec), the
 *            caller's to close; 0: end of file; < 0: -errno (nothing kept).
 *
 * Both retry on EINTR; sending never raises SIGPIPE.
 */
#ifndef LOOPGATE_FDPASS_H
#define LOOPGATE_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* The most descriptors one message carries. */
#define FDPASS_MAX 64

/* Sends len bytes (at least 1) with the n descriptors (0..FDPASS_MAX) in one
 * sendmsg.  0 when the whole message went, else -errno (-EIO: a part). */
int fdpass_send(int sock, const void *data, size_t len, const int *fds, int n);

/*
 * Receives one message: up to len bytes into data and its descriptors into
 * fds (*nfd of them).  flags go to recvmsg (MSG_DONTWAIT; MSG_CMSG_CLOEXEC is
 * always added).  A message that brought more than max descriptors, or
 * whose control part was cut short, has all of them closed and gives
 * -EBADMSG.
 */
ssize_t fdpass_recv(int sock, void *data, size_t len, int *fds, int max, int *nfd,
		    int flags);

#endif
