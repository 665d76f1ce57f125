/*
 * Unit tests for base/fdpass (descriptors over a unix socket) and
 * fileio_memfd (a buffer handed to another process as a file).
 */
#include "unit.h"
#include "base/fdpass.h"
#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(message_and_descriptors_arrive)
{
	int sv[2], p[2], got[4], n = -1;
	char msg[8] = "hello", in[8] = {0}, c = 0;

	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_INT(pipe(p), 0);
	CHECK_INT(fdpass_send(sv[0], msg, 6, p, 2), 0);
	CHECK_INT(fdpass_recv(sv[1], in, sizeof(in), got, 4, &n, 0), 6);
	CHECK_STR(in, "hello");
	CHECK_INT(n, 2);
	/* the received pair is the same pipe, close-on-exec */
	CHECK_INT(write(got[1], "x", 1), 1);
	CHECK_INT(read(p[0], &c, 1), 1);
	CHECK_INT(c, 'x');
	CHECK(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
	for (int i = 0; i < 2; i++) {
		close(got[i]);
		close(p[i]);
	}
	/* end of file: 0, no descriptors */
	close(sv[0]);
	CHECK_INT(fdpass_recv(sv[1], in, sizeof(in), got, 4, &n, 0), 0);
	CHECK_INT(n, 0);
	close(sv[1]);
}

TEST(too_many_descriptors_are_all_closed)
{
	int sv[2], p[2], got[1] = {-1}, n = -1, before;
	char b = 'c';

	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_INT(pipe(p), 0);
	CHECK_INT(fdpass_send(sv[0], &b, 1, p, 2), 0);
	before = dup(0); /* the lowest free number now */
	close(before);
	CHECK_INT(fdpass_recv(sv[1], &b, 1, got, 1, &n, 0), -EBADMSG);
	CHECK_INT(n, 0);
	/* neither received copy stayed open: the lowest free number is the same */
	CHECK_INT(dup(0), before);
	close(before);
	/* nothing waiting, without blocking */
	CHECK_INT(fdpass_recv(sv[1], &b, 1, got, 1, &n, MSG_DONTWAIT), -EAGAIN);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

TEST(send_refuses_what_it_cannot_carry)
{
	int sv[2], fds[FDPASS_MAX + 1] = {0};
	char b = 'c';

	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_INT(fdpass_send(sv[0], &b, 1, fds, FDPASS_MAX + 1), -EINVAL);
	CHECK_INT(fdpass_send(sv[0], &b, 0, NULL, 0), -EINVAL);
	close(sv[1]);
	CHECK_INT(fdpass_send(sv[0], &b, 1, NULL, 0), -EPIPE); /* no SIGPIPE */
	close(sv[0]);
}

TEST(memfd_holds_the_bytes_from_offset_zero)
{
	char buf[16] = {0};
	int fd = fileio_memfd("loopgate-test", "abc\0def", 7);
	struct stat st;

	CHECK(fd >= 0);
	CHECK_INT(fstat(fd, &st), 0);
	CHECK_INT(st.st_size, 7);
	CHECK_INT(read(fd, buf, sizeof(buf)), 7);
	CHECK(!memcmp(buf, "abc\0def", 7));
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = fileio_memfd("loopgate-empty", "", 0);
	CHECK(fd >= 0);
	CHECK_INT(read(fd, buf, sizeof(buf)), 0);
	close(fd);
}

int main(void)
{
	RUN(message_and_descriptors_arrive);
	RUN(too_many_descriptors_are_all_closed);
	RUN(send_refuses_what_it_cannot_carry);
	RUN(memfd_holds_the_bytes_from_offset_zero);
	return unit_done();
}
