/*
 * Unit tests for base/fileio's atomic writes whose fsync runs in a thread
 * (fileio_atomic_sync_begin): the file appears at the close, whole, and a
 * dropped one leaves the old file and no temporary behind; and those put
 * in place at once (fileio_write_atomic_begin): whole at the return, their
 * fsync's failure still returned by the close.
 */
#include "unit.h"
#include "base/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/loopgate-test-fileio.XXXXXX";

/* Entries of dir besides . and .. */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

TEST(synced_in_a_thread_appears_whole_at_the_close)
{
	struct fileio_atomic a;
	struct buf err = BUF_INIT, got = BUF_INIT;
	char *path = xasprintf("%s/feedback.md", dir);

	CHECK_INT(fileio_atomic_open(&a, path, &err), 0);
	CHECK_INT(fileio_atomic_write(&a, "applied: a.c\n", 13, &err), 0);
	CHECK_INT(fileio_atomic_sync_begin(&a), 0);
	CHECK_INT(fileio_atomic_sync_begin(&a), 0); /* once is enough */
	/* meanwhile only the temporary exists */
	CHECK(access(path, F_OK) < 0);
	CHECK_INT(entries(), 1);
	CHECK_INT(fileio_atomic_close(&a, &err), 0);
	CHECK_INT(buf_read_file(&got, path), 0);
	CHECK_STR(got.s, "applied: a.c\n");
	CHECK_INT(entries(), 1);
	unlink(path);
	free(path);
	buf_release(&got);
	buf_release(&err);
}

TEST(dropped_while_syncing_leaves_the_old_file)
{
	struct fileio_atomic a;
	struct buf err = BUF_INIT, got = BUF_INIT;
	char *path = xasprintf("%s/feedback.md", dir);

	CHECK_INT(fileio_write_atomic(path, "old\n", 4, &err), 0);
	CHECK_INT(fileio_atomic_open(&a, path, &err), 0);
	CHECK_INT(fileio_atomic_write(&a, "new\n", 4, &err), 0);
	CHECK_INT(fileio_atomic_sync_begin(&a), 0);
	a.ret = -EIO; /* the commit it goes with failed */
	CHECK_INT(fileio_atomic_close(&a, &err), -EIO);
	CHECK_INT(buf_read_file(&got, path), 0);
	CHECK_STR(got.s, "old\n");
	CHECK_INT(entries(), 1); /* no temporary left */
	unlink(path);
	free(path);
	buf_release(&got);
	buf_release(&err);
}

TEST(put_in_place_at_once_whole_before_the_close)
{
	struct fileio_atomic a;
	struct buf err = BUF_INIT, got = BUF_INIT;
	char *path = xasprintf("%s/prompt.md", dir);

	CHECK_INT(fileio_write_atomic(path, "old\n", 4, &err), 0);
	CHECK_INT(fileio_write_atomic_begin(&a, path, "new prompt\n", 11, &err), 0);
	/* the fsync may still run: path has the new content, no temporary */
	CHECK_INT(buf_read_file(&got, path), 0);
	CHECK_STR(got.s, "new prompt\n");
	CHECK_INT(entries(), 1);
	CHECK_INT(fileio_atomic_close(&a, &err), 0);
	CHECK_INT(fileio_atomic_close(&a, &err), 0); /* once is enough */
	buf_reset(&got);
	CHECK_INT(buf_read_file(&got, path), 0);
	CHECK_STR(got.s, "new prompt\n");
	CHECK_INT(entries(), 1);
	unlink(path);
	free(path);
	buf_release(&got);
	buf_release(&err);
}

/* The fsync fails (the temporary's name is taken by a FIFO, which fsync
 * refuses with EINVAL): the close says so, naming path. */
TEST(put_in_place_at_once_its_fsync_failure_returned_by_the_close)
{
	struct fileio_atomic a;
	struct buf err = BUF_INIT;
	char *path = xasprintf("%s/prompt.md", dir);
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int rd;

	CHECK_INT(mkfifo(tmp, 0600), 0);
	rd = open(tmp, O_RDONLY | O_NONBLOCK); /* so the writer's open returns */
	CHECK(rd >= 0);
	CHECK_INT(fileio_write_atomic_begin(&a, path, "p\n", 2, &err), 0);
	CHECK_INT(fileio_atomic_close(&a, &err), -EINVAL);
	CHECK(strstr(err.s, "fsync of ") && strstr(err.s, "prompt.md failed"));
	CHECK(!strstr(err.s, ".tmp."));
	close(rd);
	unlink(path);
	free(tmp);
	free(path);
	buf_release(&err);
}

TEST(put_in_place_at_once_fails_with_nothing_to_close)
{
	struct fileio_atomic a;
	struct buf err = BUF_INIT;
	char *path = xasprintf("%s/no/such/prompt.md", dir);

	CHECK_INT(fileio_write_atomic_begin(&a, path, "p\n", 2, &err), -ENOENT);
	CHECK(strstr(err.s, "cannot create"));
	CHECK_INT(fileio_atomic_close(&a, &err), 0);
	CHECK_INT(entries(), 0);
	free(path);
	buf_release(&err);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(synced_in_a_thread_appears_whole_at_the_close);
	RUN(dropped_while_syncing_leaves_the_old_file);
	RUN(put_in_place_at_once_whole_before_the_close);
	RUN(put_in_place_at_once_its_fsync_failure_returned_by_the_close);
	RUN(put_in_place_at_once_fails_with_nothing_to_close);
	rmdir(dir);
	return unit_done();
}
