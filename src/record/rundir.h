/*
 * rundir: the one home of the paths and names of a run's directory.
 *
 * A run lives under the repository's .loopgate/:
 *
 *   <repo>/.loopgate/runs/<id>/          rundir_path(repo, id)
 *       tree/                            rundir_tree(run_dir): its worktree
 *       events.jsonl                     RUNDIR_EVENTS, the hash-chained log
 *       summary.json handoff.md report.html
 *       iter-001/ ...                    rundir_iter(run_dir, n, name)
 *   on the branch loopgate/<id>          rundir_branch(id)
 *   <repo>/.loopgate/check/<id>/         rundir_check(repo, id): gate check
 *
 * Every function returns a string the caller free()s (or fills a caller's
 * buffer); none touches the file system.  Code that needs one of these
 * paths builds it here instead of spelling "runs/%s" again.
 */
#ifndef LOOPGATE_RUNDIR_H
#define LOOPGATE_RUNDIR_H

#include <stddef.h>

#define RUNDIR_EVENTS  "events.jsonl"
#define RUNDIR_SUMMARY "summary.json"
#define RUNDIR_HANDOFF "handoff.md"
#define RUNDIR_REPORT  "report.html"

/* <repo>/.loopgate/runs: where every run's directory is. */
char *rundir_runs(const char *repo);
/* <repo>/.loopgate/runs/<id>. */
char *rundir_path(const char *repo, const char *id);
/* The inverse of rundir_path: the <repo> of an absolute
 * "<repo>/.loopgate/runs/<id>" (a trailing slash allowed), by its
 * spelling alone; NULL for any other path.  Free it. */
char *rundir_repo_of(const char *run_dir);
/* <run_dir>/tree: the run's worktree. */
char *rundir_tree(const char *run_dir);
/* loopgate/<id>: the run's branch. */
char *rundir_branch(const char *id);
/* <run_dir>/<name>, for RUNDIR_EVENTS and the other files of a run. */
char *rundir_file(const char *run_dir, const char *name);
/* <repo>/.loopgate/runs/<id>/<name>: a file of the run id. */
char *rundir_run_file(const char *repo, const char *id, const char *name);
/* "iter-NNN" (n > 0) or "baseline" (n == 0) into dir[size]: an
 * iteration's folder, relative to the run's directory. */
void rundir_iter_name(char *dir, size_t size, long n);
/* <run_dir>/iter-NNN, or <run_dir>/iter-NNN/<name> when name is not NULL. */
char *rundir_iter(const char *run_dir, long n, const char *name);
/* <repo>/.loopgate/check/<id>: a `gate check`'s scratch directory. */
char *rundir_check(const char *repo, const char *id);
/* <repo>/.loopgate/<name>: loopgate's own files beside the runs (the store). */
char *rundir_state(const char *repo, const char *name);

#endif
