/*
 * spawn_mounts.c: the fresh mounts of a spawn in the per-run jail: /tmp
 * and /dev/shm (with the jail's mounts under them bound back), /proc, the
 * agent's seed files.  See spawn_mounts.h.
 */
#include "exec/spawn_mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Mounts under /tmp or /dev/shm bound back on the fresh tmpfs. */
#define MAX_SUBMOUNTS 64

static int mkdir_p(const char *path, mode_t mode)
{
	char p[4096];
	size_t n = strlen(path);

	if (n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, path, n + 1);
	for (size_t i = 1; i <= n; i++)
		if (p[i] == '/' || !p[i]) {
			char c = p[i];
			p[i] = 0;
			if (mkdir(p, mode) < 0 && errno != EEXIST)
				return -errno;
			p[i] = c;
		}
	return 0;
}

static int mkdir_parent(const char *path)
{
	char p[4096];
	char *s;

	if (strlen(path) >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, path, strlen(path) + 1);
	s = strrchr(p, '/');
	if (!s || s == p)
		return 0;
	*s = 0;
	return mkdir_p(p, 0755);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] && r[3]) {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
				      (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

static int under(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	return !strncmp(dir, path, n) && path[n] == '/';
}

/* The mount points strictly under dir, outermost only, into pts. */
static int submounts(const char *dir, char pts[][4096], int max)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *mp = line;
		int covered = 0;
		for (int i = 0; i < 4 && mp; i++)
			mp = strchr(mp, ' ') ? strchr(mp, ' ') + 1 : NULL;
		if (!mp)
			continue;
		mp[strcspn(mp, " ")] = 0;
		unescape(mp);
		if (!under(dir, mp) || strlen(mp) >= 4096)
			continue;
		for (int i = 0; i < n && !covered; i++)
			covered = !strcmp(pts[i], mp) || under(pts[i], mp);
		if (covered)
			continue;
		/* one listed earlier under this one: this one replaces it */
		for (int i = 0; i < n; i++)
			if (under(mp, pts[i]))
				memcpy(pts[i], pts[--n], 4096), i--;
		if (n == max) {
			fclose(f);
			return -E2BIG;
		}
		memcpy(pts[n++], mp, strlen(mp) + 1);
	}
	fclose(f);
	return n;
}

/*
 * A fresh tmpfs on dir, with what the jail had mounted under it (a run
 * directory and tree under /tmp, with their own read-only parts) bound
 * back recursively from descriptors opened before it was covered.
 */
int spawn_fresh_tmpfs(const char *dir)
{
	static char pts[MAX_SUBMOUNTS][4096];
	int fds[MAX_SUBMOUNTS], n = submounts(dir, pts, MAX_SUBMOUNTS), ret = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		if ((fds[i] = open(pts[i], O_PATH | O_CLOEXEC)) < 0)
			return -errno;
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		return -errno;
	for (int i = 0; i < n && !ret; i++) {
		char src[64];
		struct stat st;
		if (fstat(fds[i], &st) < 0 || (ret = mkdir_parent(pts[i])) < 0)
			return ret < 0 ? ret : -errno;
		if (S_ISDIR(st.st_mode)) {
			if (mkdir(pts[i], 0755) < 0 && errno != EEXIST)
				return -errno;
		} else {
			int t = open(pts[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
			if (t < 0)
				return -errno;
			close(t);
		}
		snprintf(src, sizeof(src), "/proc/self/fd/%d", fds[i]);
		if (mount(src, pts[i], NULL, MS_BIND | MS_REC, NULL) < 0)
			ret = -errno;
		close(fds[i]);
	}
	return ret;
}

/* The agent's scratch home (home, "" none) and its n seed files (paths,
 * their contents in the descriptors fds), on the fresh /tmp. */
int spawn_seed(const char *home, char *const *paths, const int *fds, uint32_t n)
{
	int ret = 0;

	if (*home && (ret = mkdir_p(home, 0700)) < 0)
		return ret;
	for (uint32_t i = 0; i < n; i++) {
		int in = fds[i], out;
		char b[65536];
		ssize_t got;
		off_t at = 0;
		if ((ret = mkdir_parent(paths[i])) < 0)
			return ret;
		out = open(paths[i],
			   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (out < 0)
			return -errno;
		while ((got = pread(in, b, sizeof(b), at)) > 0) {
			if (write(out, b, (size_t)got) != got) {
				close(out);
				return -EIO;
			}
			at += got;
		}
		close(out);
		if (got < 0)
			return -errno;
	}
	return 0;
}

static const char *const proc_ro[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq",
				      "/proc/bus", NULL};

int spawn_fresh_proc(void)
{
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	for (int i = 0; proc_ro[i]; i++) {
		if (access(proc_ro[i], F_OK) < 0)
			continue;
		if (mount(proc_ro[i], proc_ro[i], NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    mount(NULL, proc_ro[i], NULL,
			  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV |
				  MS_NOEXEC,
			  NULL) < 0)
			return -errno;
	}
	return 0;
}
