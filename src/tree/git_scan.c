/*
 * git_scan.c: what the gates left in the tree, right after a gate round:
 * the untracked files they created become exact patterns in the run's
 * excludes file (they are not the actor's change), and the tracked paths
 * are the next prompt's file list.  See git_scan_tree and git_scan_start
 * in git.h.
 */
#include "tree/git.h"
#include "tree/git_impl.h"
#include "base/fileio.h"
#include "exec/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Escapes a path into a gitignore pattern matching exactly that path. */
static void add_pattern(struct buf *b, const char *path)
{
	const char *p;
	buf_addch(b, '/');
	for (p = path; *p; p++) {
		if (strchr("*?[]\\!# ", *p))
			buf_addch(b, '\\');
		buf_addch(b, *p);
	}
	buf_addch(b, '\n');
}

int git_scan_tree(const char *tree, const char *excludes, struct buf *tracked,
		  struct buf *err)
{
	struct buf out = BUF_INIT, lines = BUF_INIT;
	char *opt = xasprintf("core.excludesFile=%s", excludes);
	const char *p;
	int ret = git_run(tree, &out, err, "-c", opt, "ls-files", "-z", "-t", "--cached",
			  "--others", "--exclude-standard", NULL);
	free(opt);
	if (tracked)
		buf_reset(tracked);
	/* Each entry is "T path\0": H (and other letters) tracked, ? untracked. */
	for (p = out.s; ret == 0 && p + 2 < out.s + out.len; p += strlen(p) + 1) {
		if (p[0] == '?') {
			if (!strchr(p + 2, '\n'))
				add_pattern(&lines, p + 2);
		} else if (tracked) {
			buf_add(tracked, p + 2, strlen(p + 2) + 1);
		}
	}
	if (ret == 0 && lines.len)
		ret = fileio_append(excludes, lines.s, lines.len, err);
	buf_release(&out);
	buf_release(&lines);
	return ret;
}

int git_scan_start(const char *tree, const char *excludes, const char *out_path,
		   struct git_scan *s, struct buf *tracked, struct buf *err)
{
	char *opt = xasprintf("core.excludesFile=%s", excludes);
	const char *const args[] = {
		"-c", opt, "ls-files", "-z", "--others", "--exclude-standard", NULL};
	int fd, ret = -1;

	s->pid = 0;
	buf_reset(tracked);
	/* the index is as the gates left it: the sandbox has .git read-only */
	if (git_index_paths(tree, tracked) == 0 &&
	    (fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0) {
		close(fd);
		ret = git_start(tree, args, out_path, &s->pid, NULL);
	}
	free(opt);
	if (ret == 0)
		return 0;
	s->pid = 0;
	return git_scan_tree(tree, excludes, tracked, err);
}

int git_scan_finish(struct git_scan *s, const char *tree, const char *excludes,
		    const char *out_path, struct buf *err)
{
	struct buf out = BUF_INIT, lines = BUF_INIT;
	pid_t pid = s->pid;
	int st = -1, ret;
	const char *p;

	if (pid <= 0)
		return 0;
	s->pid = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	proc_forget(pid);
	/* anything but a clean exit: ask again, the tree is still as the
	 * gates left it (nothing touched it before this call) */
	if (!WIFEXITED(st) || WEXITSTATUS(st) || buf_read_file(&out, out_path) < 0) {
		buf_release(&out);
		return git_scan_tree(tree, excludes, NULL, err);
	}
	for (p = out.s; p < out.s + out.len; p += strlen(p) + 1)
		if (*p && !strchr(p, '\n'))
			add_pattern(&lines, p);
	ret = lines.len ? fileio_append(excludes, lines.s, lines.len, err) : 0;
	buf_release(&out);
	buf_release(&lines);
	return ret;
}
