/*
 * test_saferead.c: every kind of trap an actor can leave in its tree, read
 * through saferead_tree with openat2 and with the O_NOFOLLOW walk; and the
 * bounded read of a file the user names.
 */
#include "unit.h"
#include "base/saferead.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char root[] = "/tmp/saferead.XXXXXX";
static char tree[4096], outside[4096];

static void put(const char *rel, const char *text)
{
	char p[4200];
	int fd;
	snprintf(p, sizeof(p), "%s/%s", tree, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror("write");
		close(fd);
	}
}

static void link_in(const char *target, const char *rel)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", tree, rel);
	if (symlink(target, p) < 0)
		perror("symlink");
}

static void setup(void)
{
	char p[4200];
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int s;

	if (!mkdtemp(root))
		abort();
	snprintf(tree, sizeof(tree), "%s/tree", root);
	snprintf(outside, sizeof(outside), "%s/secret", root);
	mkdir(tree, 0755);
	snprintf(p, sizeof(p), "%s/sub", tree);
	mkdir(p, 0755);
	put("ok.txt", "hello\n");
	put("sub/deep.txt", "deep\n");
	put(".env", "DOTENV\n");
	put("big.txt", "0123456789abcdef");
	s = open(outside, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (s >= 0) {
		if (write(s, "SECRET\n", 7) < 0)
			perror("write");
		close(s);
	}
	link_in(outside, "abs-out");
	link_in("../secret", "rel-out");
	link_in("sub/deep.txt", "in-link");
	link_in("sub", "dir-link");
	link_in(".env", "env-link");
	link_in("/dev/zero", "zero");
	link_in("/proc/self/root/etc/hostname", "magic");
	snprintf(p, sizeof(p), "%s/fifo", tree);
	mkfifo(p, 0644);
	snprintf(p, sizeof(p), "%s/sock", tree);
	if (strlen(p) >= sizeof(a.sun_path))
		abort();
	memcpy(a.sun_path, p, strlen(p) + 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		perror("bind");
}

/* want: 0 read (text is the content), else the -errno; walk: what the
 * O_NOFOLLOW walk gives where it differs (it follows no symlink). */
static const struct {
	const char *rel;
	int want;
	const char *text;
	const char *why;
	int walk;
} cases[] = {
	{"ok.txt", 0, "hello\n", NULL, 0},
	{"sub/deep.txt", 0, "deep\n", NULL, 0},
	{"./sub//deep.txt", 0, "deep\n", NULL, 0},
	{"in-link", 0, "deep\n", NULL, -EPERM},
	{"dir-link/deep.txt", 0, "deep\n", NULL, -EPERM},
	{"abs-out", -EPERM, NULL, "leads out of the tree", -EPERM},
	{"rel-out", -EPERM, NULL, "leads out of the tree", -EPERM},
	{"zero", -EPERM, NULL, "leads out of the tree", -EPERM},
	{"magic", -EPERM, NULL, "leads out of the tree", -EPERM},
	{"../secret", -EPERM, NULL, "not a relative path inside the tree", 0},
	{"sub/../../secret", -EPERM, NULL, "not a relative path inside the tree", 0},
	{"/etc/hostname", -EPERM, NULL, "not a relative path inside the tree", 0},
	{"", -EPERM, NULL, "not a relative path inside the tree", 0},
	{"env-link", -EPERM, NULL, "a .env file", -EPERM},
	{".env", -EPERM, NULL, "a .env file", 0},
	{"fifo", -EPERM, NULL, "a FIFO, not a regular file", 0},
	{"sock", -EPERM, NULL, "a socket", 0},
	{"sub", -EPERM, NULL, "a directory", 0},
	{"missing", -ENOENT, NULL, "cannot open missing", 0},
	{"big.txt", -EFBIG, NULL, "larger than the limit of 8 bytes", 0},
};

static void run_cases(int walk)
{
	saferead_force_walk(walk);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT, err = BUF_INIT;
		int want = walk && cases[i].walk ? cases[i].walk : cases[i].want;
		int ret = saferead_tree(tree, cases[i].rel, 8, 0, &b, NULL, &err);
		if (ret != want)
			fprintf(stderr, "case %s (walk %d): %d, %s\n", cases[i].rel, walk, ret,
				err.s);
		CHECK_INT(ret, want);
		if (!want)
			CHECK_STR(b.s, cases[i].text);
		else if (cases[i].why && !(walk && cases[i].walk))
			CHECK_CONTAINS(err.s, cases[i].why);
		else if (walk && cases[i].walk == -EPERM)
			CHECK_CONTAINS(err.s, "a symbolic link");
		CHECK(!strstr(b.s, "SECRET") && !strstr(b.s, "DOTENV"));
		buf_release(&b);
		buf_release(&err);
	}
	saferead_force_walk(0);
}

TEST(tree_openat2)
{
	run_cases(0);
}

TEST(tree_walk)
{
	run_cases(1);
}

TEST(truncate_keeps_the_head)
{
	struct buf b = BUF_INIT;
	struct stat st;
	CHECK_INT(saferead_tree(tree, "big.txt", 4, SAFEREAD_TRUNCATE, &b, &st, NULL), 0);
	CHECK_STR(b.s, "0123");
	CHECK(b.truncated);
	CHECK_INT(st.st_size, 16);
	buf_release(&b);
}

TEST(user_files)
{
	struct buf b = BUF_INIT, err = BUF_INIT;
	char p[4200];
	int fd;

	CHECK_INT(saferead_user("/dev/zero", "goal file", 1024, 0, &b, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "goal file '/dev/zero' is a device, not a file");
	snprintf(p, sizeof(p), "%s/big.txt", tree);
	CHECK_INT(saferead_user(p, "config", 8, 0, &b, &err), -EFBIG);
	CHECK_CONTAINS(err.s, "larger than the limit of 8 bytes");
	CHECK_INT(saferead_user(tree, "config", 8, 0, &b, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "a directory");
	/* a FIFO nobody writes: empty at once (no writer) */
	buf_reset(&b);
	snprintf(p, sizeof(p), "%s/fifo", tree);
	CHECK_INT(saferead_user(p, "goal file", 8, 0, &b, &err), 0);
	CHECK_INT(b.len, 0);
	/* a writer that never writes: given up after the wait */
	fd = open(p, O_RDWR);
	CHECK_INT(saferead_user(p, "goal file", 8, 200, &b, &err), -ETIMEDOUT);
	CHECK_CONTAINS(err.s, "no data for 200 ms");
	close(fd);
	buf_release(&b);
	buf_release(&err);
}

TEST(rel_ok)
{
	CHECK(saferead_rel_ok("a/b"));
	CHECK(saferead_rel_ok("a..b/c"));
	CHECK(saferead_rel_ok("./a"));
	CHECK(!saferead_rel_ok("a/../b"));
	CHECK(!saferead_rel_ok(".."));
	CHECK(!saferead_rel_ok("/a"));
	CHECK(!saferead_rel_ok(""));
}

int main(void)
{
	char cmd[4200];
	setup();
	RUN(tree_openat2);
	RUN(tree_walk);
	RUN(truncate_keeps_the_head);
	RUN(user_files);
	RUN(rel_ok);
	snprintf(cmd, sizeof(cmd), "%s", root);
	/* best-effort cleanup of the scratch directory */
	if (fork() == 0) {
		execlp("rm", "rm", "-rf", cmd, (char *)NULL);
		_exit(127);
	}
	return unit_done();
}
