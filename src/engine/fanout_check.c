/*
 * fanout_check.c: the coordinator's check of a converged worker's claim
 * (engine/reverify.c in a clean checkout of the worker's branch head), in
 * this process or in a forked one, so that the claims of workers that end
 * together are checked at once.  See fanout_impl.h and
 * docs/design/fanout.md, "Selection after central re-verification".
 *
 * A forked check writes nothing to the run's log: its records are captured
 * (events_capture) and written with its verdict to workers/wK.check.json;
 * the coordinator, the log's only writer, appends them and the candidate
 * record in one block when the check's process has ended.
 */
#include "engine/fanout.h"
#include "engine/fanout_impl.h"
#include "engine/reverify.h"
#include "engine/run.h"
#include "exec/sandbox.h"
#include "base/fileio.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "tree/git.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Lines added plus removed, and files touched, by commit against base. */
static void diff_size(const struct run *r, struct fw *w)
{
	struct buf out = BUF_INIT;
	const char *p;

	w->diff_lines = w->diff_files = 0;
	if (git_run(r->repo, &out, NULL, "diff", "--numstat", "--no-renames", r->base_sha,
		    w->commit, "--", NULL) < 0) {
		buf_release(&out);
		return;
	}
	for (p = out.s; p && *p;) {
		char *end;
		long add = strtol(p, &end, 10), del;
		del = *end == '\t' ? strtol(end + 1, &end, 10) : 0;
		w->diff_lines += add + del; /* a binary file ("-") counts 0 */
		w->diff_files++;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	buf_release(&out);
}

/* The check itself: w->commit and its diff size set; returns as
 * reverify_claim. */
static int run_check(struct run *r, struct fw *w, struct buf *why, struct buf *err)
{
	struct buf commit = BUF_INIT;
	char *tree = rundir_tree(w->run_dir);
	char dir[48];
	int ret;

	snprintf(dir, sizeof(dir), "workers/%s-reverify", w->id);
	if ((ret = git_rev(r->repo, w->branch, &commit, err)) == 0) {
		struct claim c = {.commit = commit.s,
				  .worker = w->id,
				  .tree = tree,
				  .dir = dir,
				  .iteration = (int)w->iterations,
				  .cfg = w->cfg};
		free(w->commit);
		w->commit = buf_detach(&commit, NULL);
		diff_size(r, w);
		ret = reverify_claim(r, &c, why, err);
	}
	free(tree);
	buf_release(&commit);
	return ret;
}

/* The verdict recorded: the candidate record, and with select first the
 * winner when it is the first verified one. */
static void take_verdict(struct run *r, struct fanout *f, struct fw *w, int ret,
			 struct buf *why, const char *err)
{
	if (ret < 0)
		buf_addf(why, "it could not be checked: %s", err);
	w->verified = ret == 0;
	free(w->verdict);
	w->verdict = ret ? buf_detach(why, NULL) : NULL;
	events_append(&r->ev, EV_CANDIDATE,
		      json_pack("{s:s,s:o,s:b,s:o,s:I,s:I,s:o}", "worker", w->id,
				"commit", events_str(w->commit), "verified", w->verified,
				"reason", events_str(w->verdict), "diff_lines",
				(json_int_t)w->diff_lines, "diff_files",
				(json_int_t)w->diff_files, "vote",
				vote_tally_json(&w->vote)));
	if (w->verified && f->winner < 0 && !strcmp(f->select, "first"))
		f->winner = (int)(w - f->w);
}

void fanout_check(struct run *r, struct fanout *f, struct fw *w)
{
	struct buf why = BUF_INIT, err = BUF_INIT;
	int ret;

	w->check_wanted = 0;
	w->verified = 0;
	ret = run_check(r, w, &why, &err);
	take_verdict(r, f, w, ret, &why, err.s);
	buf_release(&why);
	buf_release(&err);
}

static char *result_path(const struct run *r, const struct fw *w)
{
	return xasprintf("%s/workers/%s.check.json", r->run_dir, w->id);
}

/* The forked check: captures its records, writes them with its verdict to
 * path, and ends without running anything of the parent's at exit. */
static _Noreturn void check_child(struct run *r, struct fw *w, const char *path,
				  pid_t parent)
{
	struct buf why = BUF_INIT, err = BUF_INIT;
	json_t *recs = json_array(), *o;
	char *text;
	int ret;

	/* its gates' wardens follow it; it follows the coordinator */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	events_capture(&r->ev, recs);
	ret = run_check(r, w, &why, &err);
	o = json_pack("{s:o,s:i,s:o,s:o,s:o,s:I,s:I}", "records", recs, "ret", ret, "why",
		      events_str(why.s), "err", events_str(err.s), "commit",
		      events_str(w->commit), "diff_lines", (json_int_t)w->diff_lines,
		      "diff_files", (json_int_t)w->diff_files);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	ret = text ? fileio_write_atomic(path, text, strlen(text), NULL) : -ENOMEM;
	_exit(ret < 0 ? 2 : 0);
}

/* w's check started in a forked process: 0, or -errno (not started). */
static int check_start(struct run *r, struct fw *w)
{
	char *path = result_path(r, w);
	pid_t parent = getpid(), pid;

	unlink(path);
	sandbox_scan_settle(); /* the check makes a sandbox: the walk done */
	pid = fork();
	if (pid == 0)
		check_child(r, w, path, parent);
	free(path);
	if (pid < 0)
		return -errno;
	w->check_wanted = 0;
	w->verified = 0;
	w->check_pid = pid;
	w->check_pidfd = fanout_pidfd(pid);
	return 0;
}

size_t fanout_checks_running(const struct fanout *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++)
		n += f->w[i].check_pid > 0;
	return n;
}

void fanout_checks_fill(struct run *r, struct fanout *f)
{
	size_t running = fanout_checks_running(f);

	for (size_t i = 0; i < f->n; i++) {
		struct fw *w = &f->w[i];
		if (!w->check_wanted)
			continue;
		/* a cluster's coordinator checks here and now; a forked check
		 * waits for room (max_parallel) */
		if (f->ex || !f->checks_async) {
			fanout_check(r, f, w);
		} else if (running < (size_t)f->max_parallel) {
			if (check_start(r, w) < 0)
				fanout_check(r, f, w);
			else
				running++;
		}
	}
}

void fanout_check_end(struct run *r, struct fanout *f, struct fw *w, int wstatus)
{
	char *path = result_path(r, w);
	json_t *res = json_load_file(path, 0, NULL), *rec;
	struct buf why = BUF_INIT, err = BUF_INIT;
	const char *s;
	size_t i;
	int ret = -EIO;

	w->check_pid = 0;
	if (w->check_pidfd >= 0)
		close(w->check_pidfd);
	w->check_pidfd = -1;
	events_group_begin(&r->ev);
	if (json_is_object(res) && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		json_array_foreach(json_object_get(res, "records"), i, rec)
		{
			const char *kind = json_string_value(
				json_object_get(rec, "kind"));
			if (kind && *kind)
				events_append(&r->ev, kind,
					      json_incref(json_object_get(rec, "body")));
		}
		ret = (int)json_integer_value(json_object_get(res, "ret"));
		if ((s = json_string_value(json_object_get(res, "why"))))
			buf_adds(&why, s);
		if ((s = json_string_value(json_object_get(res, "err"))))
			buf_adds(&err, s);
		free(w->commit);
		s = json_string_value(json_object_get(res, "commit"));
		w->commit = s ? xstrdup(s) : NULL;
		w->diff_lines = (long)json_integer_value(
			json_object_get(res, "diff_lines"));
		w->diff_files = (long)json_integer_value(
			json_object_get(res, "diff_files"));
	} else {
		buf_addf(&err, "its check's process ended (status %d) without a verdict",
			 WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
					    : 128 + WTERMSIG(wstatus));
	}
	take_verdict(r, f, w, ret, &why, err.s);
	events_group_end(&r->ev);
	json_decref(res);
	unlink(path);
	free(path);
	buf_release(&why);
	buf_release(&err);
}
