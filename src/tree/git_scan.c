/*
 * git_scan.c: the scan of the tree after the gates: what they created goes
 * to the excludes file, the tracked paths to the prompt.  See git.h.
 */
#include "tree/git.h"
#include "tree/git_impl.h"
#include "base/fault.h"
#include "base/fileio.h"
#include "exec/proc.h"

#include <errno.h>
#include <stdio.h>
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

/*
 * The entries of `ls-files -z` output (with -t: "T path", '?' for an
 * untracked one; without: untracked paths alone): untracked ones appended
 * to excludes as patterns, tracked ones to tracked (optional).
 */
static int take_list(const struct buf *out, int tagged, const char *excludes,
		     struct buf *tracked, struct buf *err)
{
	struct buf lines = BUF_INIT;
	const char *p, *end = out->s + out->len;
	size_t skip = tagged ? 2 : 0;
	int ret = 0;

	for (p = out->s; p + skip < end && *p; p += strlen(p) + 1) {
		if (!tagged || p[0] == '?') {
			if (!strchr(p + skip, '\n'))
				add_pattern(&lines, p + skip);
		} else if (tracked) {
			buf_add(tracked, p + skip, strlen(p + skip) + 1);
		}
	}
	if (lines.len)
		ret = fileio_append(excludes, lines.s, lines.len, err);
	buf_release(&lines);
	return ret;
}

int git_scan_tree(const char *tree, const char *excludes, struct buf *tracked,
		  struct buf *err)
{
	struct buf out = BUF_INIT;
	char *opt = xasprintf("core.excludesFile=%s", excludes);
	int ret = git_run(tree, &out, err, "-c", opt, "ls-files", "-z", "-t", "--cached",
			  "--others", "--exclude-standard", NULL);
	free(opt);
	if (tracked)
		buf_reset(tracked);
	if (ret == 0)
		ret = take_list(&out, 1, excludes, tracked, err);
	buf_release(&out);
	return ret;
}

static void scan_clear(struct git_scan *s)
{
	if (s->out)
		unlink(s->out);
	if (s->errout)
		unlink(s->errout);
	free(s->out);
	free(s->errout);
	free(s->excludes);
	*s = (struct git_scan)GIT_SCAN_INIT;
}

int git_scan_start(const char *tree, const char *excludes, struct buf *tracked,
		   struct git_scan *s, struct buf *err)
{
	char *opt;
	int ret;

	if (s->pid > 0 && (ret = git_scan_finish(s, err)) < 0)
		return ret;
	buf_reset(tracked);
	/* fault points that count git calls one by one: as before, then */
	if ((fault_active() && fault_named("kill:git")) || !git_config_stat_plain(tree) ||
	    git_index_paths(tree, tracked) < 0)
		return git_scan_tree(tree, excludes, tracked, err);
	s->excludes = xstrdup(excludes);
	s->out = xasprintf("%s.scan", excludes);
	s->errout = xasprintf("%s.scan-err", excludes);
	unlink(s->out);
	unlink(s->errout);
	opt = xasprintf("core.excludesFile=%s", excludes);
	const char *args[] = {
		"-c", opt, "ls-files", "-z", "--others", "--exclude-standard", NULL};
	ret = git_start(tree, args, s->out, s->errout, &s->pid, err);
	free(opt);
	if (ret < 0) {
		scan_clear(s);
		buf_reset(tracked);
	}
	return ret;
}

int git_scan_finish(struct git_scan *s, struct buf *err)
{
	struct buf out = BUF_INIT, msg = BUF_INIT;
	int st = 0, ret = 0;
	pid_t w;

	if (s->pid <= 0)
		return 0;
	do
		w = waitpid(s->pid, &st, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		ret = err_set(err, -errno, "git ls-files: cannot wait for it: %s",
			      strerror(errno));
	proc_forget(s->pid);
	s->pid = 0;
	if (ret == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		buf_read_file(&msg, s->errout);
		buf_rtrim(&msg);
		if (WIFEXITED(st))
			ret = err_set(err, -EIO, "git ls-files failed (exit %d): %s",
				      WEXITSTATUS(st), msg.len ? msg.s : "(no message)");
		else
			ret = err_set(err, -EIO,
				      "git ls-files failed (killed by signal %d)",
				      WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	}
	if (ret == 0 && (ret = buf_read_file(&out, s->out)) < 0)
		err_set(err, ret, "cannot read %s: %s", s->out, strerror(-ret));
	if (ret == 0)
		ret = take_list(&out, 0, s->excludes, NULL, err);
	buf_release(&out);
	buf_release(&msg);
	scan_clear(s);
	return ret;
}
