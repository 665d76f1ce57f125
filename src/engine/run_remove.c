/*
 * run_remove.c: `loopgate rm` (run_remove.h).
 */
#include "engine/run_remove.h"
#include "engine/fanout_impl.h"
#include "engine/resume_impl.h"
#include "base/fileio.h"
#include "dispatch/executor.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "tree/git.h"
#include "tree/git_remote.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define RM_MAX_RUNS 512 /* a coordinator and its workers' runs */

struct part {
	char *id, *dir;
	int lock; /* the run lock held, or -1 (a run never locked) */
};

struct parts {
	struct part v[RM_MAX_RUNS];
	size_t n;
};

static void add_part(struct parts *p, const char *repo, const char *id)
{
	if (p->n == RM_MAX_RUNS)
		return;
	p->v[p->n].id = xstrdup(id);
	p->v[p->n].dir = rundir_path(repo, id);
	p->v[p->n].lock = -1;
	p->n++;
}

/* The coordinator, then every run named <id>-w...: its workers'. */
static void find_parts(struct parts *p, const char *repo, const char *id)
{
	char *runs = rundir_runs(repo), *pre = xasprintf("%s-w", id);
	DIR *d = opendir(runs);
	struct dirent *e;

	add_part(p, repo, id);
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, pre, strlen(pre)))
			add_part(p, repo, e->d_name);
	if (d)
		closedir(d);
	free(runs);
	free(pre);
}

static int lock_part(struct part *p, struct buf *err)
{
	char *path = rundir_file(p->dir, "lock"), held[32] = "";
	ssize_t got;
	int ret = 0;

	p->lock = open(path, O_RDWR | O_CLOEXEC);
	if (p->lock >= 0 && flock(p->lock, LOCK_EX | LOCK_NB) < 0) {
		got = pread(p->lock, held, sizeof(held) - 1, 0);
		held[got > 0 ? got : 0] = 0;
		held[strcspn(held, "\n")] = 0;
		ret = err_set(err, -EBUSY,
			      "run %s is still running (loopgate pid %s holds %s): "
			      "stop it first (Ctrl-C, or kill %s), then remove it",
			      p->id, *held ? held : "?", path, *held ? held : "PID");
	}
	free(path);
	return ret;
}

static void release_parts(struct parts *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].lock >= 0)
			close(p->v[i].lock);
		free(p->v[i].id);
		free(p->v[i].dir);
	}
	p->n = 0;
}

/* The run's config (run_start) and its workers' job handles. */
static int read_jobs(const char *dir, struct config *c, struct strlist *handles,
		     struct buf *err)
{
	char *path = rundir_file(dir, RUNDIR_EVENTS);
	struct logv v = {NULL, 0};
	int ret = logv_load(&v, path, err), have = 0;

	free(path);
	if (ret == -ENOENT) { /* never got as far as its log: no jobs */
		buf_reset(err);
		ret = 0;
	}
	for (size_t i = 0; ret == 0 && i < v.n; i++) {
		const char *h = jstr(body(v.rec[i]), "handle");
		if (is(v.rec[i], EV_RUN_START) && !have++)
			ret = config_from_json(
				c, json_object_get(body(v.rec[i]), "config"), err);
		else if (is(v.rec[i], EV_WORKER_START) && h && *h)
			strlist_push(handles, h);
	}
	logv_release(&v);
	return ret;
}

/* The refs the workers pushed to the remote: deleted in one push. */
static void remote_refs(const char *repo, const char *remote, const char *id,
			struct buf *said)
{
	char *a = xasprintf("refs/loopgate/%s/*", id),
	     *b = xasprintf("refs/heads/loopgate/%s/*", id);
	const char *ls[] = {"ls-remote", "--refs", remote, a, b, NULL};
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct strlist push = {NULL, 0};
	char *line, *save = NULL;

	strlist_push(&push, "push");
	strlist_push(&push, "--quiet");
	strlist_push(&push, remote);
	if (git_transfer_out(repo, ls, &out, &err) == 0)
		for (line = strtok_r(out.s, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			if (strchr(line, '\t')) {
				char *del = xasprintf(":%s", strchr(line, '\t') + 1);
				strlist_push(&push, del);
				free(del);
			}
	if (err.len)
		buf_addf(said, "could not list the run's refs on %s (left there): %s\n",
			 remote, err.s);
	else if (push.n > 3) {
		const char **argv = xcalloc(push.n + 1, sizeof(*argv));
		for (size_t i = 0; i < push.n; i++)
			argv[i] = push.v[i];
		if (git_transfer(repo, argv, &err) == 0)
			buf_addf(said, "deleted %zu ref(s) the workers pushed to %s\n",
				 push.n - 3, remote);
		else
			buf_addf(said, "could not delete the run's refs on %s: %s\n",
				 remote, err.s);
		free(argv);
	}
	strlist_clear(&push);
	buf_release(&out);
	buf_release(&err);
	free(a);
	free(b);
}

/* Step 2 and 3 of run_remove.h: the jobs and the remote's refs. */
static int remove_jobs(const char *repo, const char *id, const char *dir, int force,
		       struct buf *said, struct buf *err)
{
	struct config c;
	struct strlist handles = {NULL, 0};
	struct executor *ex = NULL;
	char *remote = NULL, *why = NULL;
	int ret;

	config_init(&c);
	if ((ret = read_jobs(dir, &c, &handles, err)) < 0 && !force) {
		why = xstrdup(err->s);
		ret = err_set(
			err, ret,
			"run %s: %s; its jobs cannot be found in it, so nothing was "
			"removed (--force removes the run anyway)",
			id, why);
		goto out;
	}
	if (ret == 0 && handles.n)
		ret = fanout_remote_connect(&c, repo, &ex, &remote, err);
	for (size_t i = 0; ret == 0 && ex && i < handles.n; i++) {
		if ((ret = executor_cancel(ex, handles.v[i], err)) == 0)
			buf_addf(said, "deleted %s job %s\n", c.executor, handles.v[i]);
	}
	if (ret < 0 && force) {
		buf_addf(said, "its jobs are left where they run (%s): %s\n",
			 c.executor ? c.executor : "?", err->s);
		buf_reset(err);
		ret = 0;
	} else if (ret < 0) {
		why = xstrdup(err->s);
		ret = err_set(
			err, -EIO,
			"run %s: its workers' jobs cannot be deleted: %s; nothing was "
			"removed (again once the scheduler answers, or --force to "
			"remove the run and leave its jobs)",
			id, why);
	}
	if (ret == 0 && remote)
		remote_refs(repo, remote, id, said);
out:
	if (ex) {
		executor_close(ex);
		free(ex);
	}
	free(remote);
	free(why);
	strlist_clear(&handles);
	config_release(&c);
	return ret;
}

/* Every ref under refs/loopgate/<id>/ (worker logs fetched back). */
static void local_refs(const char *repo, const char *id)
{
	char *pre = xasprintf("refs/loopgate/%s/", id), *line, *save = NULL;
	struct buf out = BUF_INIT;

	if (git_run(repo, &out, NULL, "for-each-ref", "--format=%(refname)", pre, NULL) ==
	    0)
		for (line = strtok_r(out.s, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			git_run(repo, NULL, NULL, "update-ref", "-d", line, NULL);
	buf_release(&out);
	free(pre);
}

/* Step 4: one run's worktree, branch, refs, directory and rows. */
static int remove_part(struct store *st, const char *repo, const struct part *p,
		       int keep_branch, struct buf *said, struct buf *err)
{
	char *tree = rundir_tree(p->dir), *branch = rundir_branch(p->id);
	char *ref = xasprintf("refs/heads/%s", branch);
	struct buf sha = BUF_INIT, why = BUF_INIT;
	int ret;

	if (access(tree, F_OK) == 0 && git_worktree_remove(repo, tree, &why) < 0)
		buf_addf(said, "worktree %s: %s (its files go with the run)\n", tree,
			 why.s);
	if (!keep_branch && git_rev(repo, ref, &sha, NULL) == 0 &&
	    git_run(repo, NULL, NULL, "update-ref", "-d", ref, NULL) == 0)
		buf_addf(said, "deleted branch %s (was %.12s)\n", branch, sha.s);
	local_refs(repo, p->id);
	fileio_remove_tree(p->dir);
	ret = store_delete_run(st, p->id, err);
	if (ret == 0)
		buf_addf(said, "removed run %s\n", p->id);
	buf_release(&sha);
	buf_release(&why);
	free(ref);
	free(branch);
	free(tree);
	return ret;
}

int run_remove(struct store *st, const char *repo, const char *id,
	       const struct run_remove_opts *o, struct buf *said, struct buf *err)
{
	struct parts *p = xcalloc(1, sizeof(*p));
	int ret = 0;

	find_parts(p, repo, id);
	for (size_t i = 0; ret == 0 && i < p->n; i++)
		ret = lock_part(&p->v[i], err);
	if (ret == 0)
		ret = remove_jobs(repo, id, p->v[0].dir, o->force, said, err);
	/* the workers first: the coordinator's record names them */
	for (size_t i = p->n; ret == 0 && i-- > 0;)
		ret = remove_part(st, repo, &p->v[i], i == 0 && o->keep_branch, said,
				  err);
	release_parts(p);
	free(p);
	return ret;
}
