/*
 * sandbox: the confinement of every process run on the actor's behalf
 * (gates, the command actor, `loopgate gate check`), built once per run and
 * applied by proc_run (proc.h: o.sandbox).  See docs/design/sandbox.md.
 *
 *   struct sandbox sb;
 *   sandbox_init(&sb, cfg, tree, repo);       paths, masks, limits, cgroup kind
 *   if (sandbox_probe(&sb, &err) < 0)         bwrap missing or unusable:
 *       ... exit 3, err names --no-sandbox ...
 *   events_append(ev, EV_SANDBOX, sandbox_json(&sb));
 *   o.sandbox = &sb;                          each proc_run on the actor's behalf
 *   sandbox_release(&sb);
 *
 * With cfg->sandbox == 0 (--no-sandbox) sb.bwrap_on is 0: proc_run still
 * applies the limits (rlimits, cgroup) and kills the whole process tree,
 * but runs the command directly.
 */
#ifndef LOOPGATE_SANDBOX_H
#define LOOPGATE_SANDBOX_H

#include "base/buf.h"
#include "config/config.h"
#include "config/policy.h"

struct events;
struct onejail;
struct standby;
struct cgroup_detecting;

enum cgroup_kind { CGROUP_NONE, CGROUP_V1, CGROUP_V2 };

struct sandbox {
	int bwrap_on;		   /* 0: --no-sandbox */
	char *bwrap;		   /* as configured ("bwrap": looked up in PATH) */
	char *version;		   /* "bubblewrap 0.8.0", after the probe */
	char *tree;		   /* writable; the working directory */
	char *run_dir;		   /* the tree's parent, read-only (prompt files) */
	struct strlist ro;	   /* bound read-only again on top of rw ones */
	struct strlist rw;	   /* writable besides the tree (policy.write) */
	struct strlist rw_missing; /* policy.write paths that do not exist */
	struct strlist mask_dirs;  /* read_deny: a tmpfs over each */
	struct strlist mask_files; /* read_deny: /dev/null over each */
	size_t env_seen;	   /* entries the repository's .env walk took */
	int network;		   /* POLICY_NET_OFF, _ON or _HOSTS */
	struct strlist hosts;	   /* POLICY_NET_HOSTS: the allow-list */
	char *self_exe;		   /* loopgate, for `__netrelay` (netproxy.h) */
	/* Where the proxy's decisions go as `policy` events (subject
	 * "network"); NULL: not recorded.  Set by the caller after init. */
	struct events *ev;
	int seccomp; /* 1: the filter is installed */
	/* The actor's scratch state (agent presets, docs/design/
	 * agent-presets.md): home is a directory made on the private /tmp,
	 * and each file is copied in from a memfd made per spawn, so nothing
	 * written there outlives the spawn and nothing is written back. */
	char *home;
	struct sandbox_file *files;
	size_t nfiles;
	struct policy_limits lim;
	/* sandbox_mode: per-run (docs/design/onejail.md): one bwrap for all
	 * the spawns of this sandbox, started by the first; NULL: per spawn */
	struct onejail *jail;
	/* --no-sandbox with a cgroup: the next spawn, made ahead and already
	 * in its own cgroup (standby.h); NULL: each spawn joins its own */
	struct standby *standby;
	/* the cgroup kind, detected in a thread (cgroup.h): sandbox_cgroup */
	struct cgroup_detecting *cgroup;
};

struct sandbox_file {
	char *path; /* absolute, inside the sandbox */
	char *data;
	size_t len;
};

/* Fills sb from the finalized config; tree and repo are absolute (repo
 * NULL: no repository .git to protect).  Cannot fail: paths that do not
 * exist are left out. */
void sandbox_init(struct sandbox *sb, const struct config *c, const char *tree,
		  const char *repo);
void sandbox_release(struct sandbox *sb);
/* Starts, in a thread, the walk for unix sockets that sandbox_init masks
 * (once per process; sandbox_init waits for it, or walks itself when it
 * was not begun): a run begins it before making its worktree. */
void sandbox_scan_begin(void);
/* Waits for that walk's thread, when one runs: a process about to fork a
 * child that may make a sandbox calls it first (the child has no copy of
 * the thread to wait for; fanout_check.c).  The result stays for both. */
void sandbox_scan_settle(void);
/*
 * What the actor's sandbox adds to the run's: a host rule on the network
 * allow-list (network off becomes the list; on stays on), a path bound
 * read-only even where /tmp or a mask would hide it (missing: skipped),
 * the scratch home and the files copied into it (data copied).
 */
void sandbox_allow_host(struct sandbox *sb, const char *rule);
void sandbox_add_ro(struct sandbox *sb, const char *path);
void sandbox_set_home(struct sandbox *sb, const char *home);
void sandbox_add_file(struct sandbox *sb, const char *path, const void *data, size_t len);
/* One memfd per sb->files (made per spawn: bwrap reads each to its end),
 * into fds (sb->nfiles slots); -errno with none left open on failure.
 * sandbox_files_close closes the n that are open. */
int sandbox_files_open(const struct sandbox *sb, int *fds, struct buf *err);
void sandbox_files_close(int *fds, size_t n);
/*
 * Starts the per-run jail now, when the mode is per-run (it is otherwise
 * started by the first spawn): 1 when it is up, 0 otherwise (per-spawn,
 * the sandbox off, a jail that did not start: the probe says why).
 */
int sandbox_start(const struct sandbox *sb);
/* Its first half only: bwrap started (onejail_boot_begin); sandbox_start,
 * or the first spawn, finishes it. */
void sandbox_start_begin(const struct sandbox *sb);
/*
 * 1 when what sb's tree holds now gives sb nothing new: the same writable
 * paths, no mask it lacks (a .env file, a read_deny match).  A sandbox
 * made for a tree before its files were checked out serves the tree after
 * (run_setup); 0: make it again.
 */
int sandbox_tree_same(const struct sandbox *sb, const struct config *c);
/* The run's spawns are over: the jail starts going down now, while the
 * run writes its end (sandbox_release waits for it).  A spawn after
 * this starts a new jail. */
void sandbox_quiesce(struct sandbox *sb);
/* Runs `true` through the sandbox: 0, or -errno with err saying why and
 * naming --no-sandbox.  Fills sb->version.  A no-op when !bwrap_on. */
int sandbox_probe(struct sandbox *sb, struct buf *err);
/*
 * The argv that runs argv inside the sandbox (bwrap ... -- argv...), with
 * the seccomp program readable on seccomp_fd (-1: none) and sb->files[i]
 * on file_fds[i] (NULL when there are none).  With a host list
 * and net_fd >= 0 (netproxy_start's relay_fd), argv runs under
 * `loopgate __netrelay net_fd NO_PROXY --`.  Strings are
 * owned by out (strlist_clear it); out->v is NULL-terminated by a final
 * NULL slot not counted in out->n.
 */
void sandbox_argv(const struct sandbox *sb, const char *const *argv, int seccomp_fd,
		  int net_fd, const int *file_fds, struct strlist *out);
/*
 * The argv of the per-run jail (onejail.h): the same binds and masks, the
 * capabilities the spawner needs to make each spawn's namespaces and no
 * filter (it installs it in each command), and `loopgate __spawner
 * jail_fd seccomp_fd` as the command, under the network relay with a host
 * list.  Owned by out, as for sandbox_argv.
 */
void sandbox_argv_jail(const struct sandbox *sb, int seccomp_fd, int net_fd, int jail_fd,
		       struct strlist *out);
/* json_t * for the `sandbox` event. */
void *sandbox_json(const struct sandbox *sb);
const char *sandbox_cgroup_name(enum cgroup_kind k);
/* The kind of cgroup the sandbox's spawns get, and why none when none
 * (note may be NULL): waits for the detection sandbox_init began. */
enum cgroup_kind sandbox_cgroup(const struct sandbox *sb, const char **note);

#endif
