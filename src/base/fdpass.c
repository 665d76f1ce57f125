/* fdpass: see fdpass.h. */
#include "base/fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

union fdpass_cbuf {
	struct cmsghdr align;
	char b[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
};

int fdpass_send(int sock, const void *data, size_t len, const int *fds, int n)
{
	union fdpass_cbuf c;
	struct iovec iov = {(void *)data, len};
	struct msghdr m;
	ssize_t w;

	if (n < 0 || n > FDPASS_MAX || !len)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	memset(&c, 0, sizeof(c));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (n) {
		struct cmsghdr *cm;
		m.msg_control = c.b;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)n);
	}
	do
		w = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return (size_t)w == len ? 0 : -EIO;
}

ssize_t fdpass_recv(int sock, void *data, size_t len, int *fds, int max, int *nfd,
		    int flags)
{
	union fdpass_cbuf c;
	struct iovec iov = {data, len};
	struct msghdr m;
	struct cmsghdr *cm;
	ssize_t r;
	int n = 0, over = 0;

	*nfd = 0;
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = c.b;
	m.msg_controllen = sizeof(c.b);
	do
		r = recvmsg(sock, &m, flags | MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		size_t k;
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (n < max)
				fds[n++] = fd;
			else {
				close(fd);
				over = 1;
			}
		}
	}
	if (over || (m.msg_flags & MSG_CTRUNC)) {
		while (n > 0)
			close(fds[--n]);
		return -EBADMSG;
	}
	*nfd = n;
	return r;
}
