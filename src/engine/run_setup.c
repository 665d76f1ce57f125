/*
 * run_setup.c: everything before the baseline — the repository, the dirty
 * check, the run id and directory, the event log, the actor, the worktree.
 * See loop.h.
 */
#include "engine/loop.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "base/clock.h"
#include "config/config.h"
#include "config/config_impl.h"
#include "base/fileio.h"
#include "tree/git.h"
#include "judge/gate.h"
#include "base/hash.h"
#include "config/policy.h"
#include "actor/provider.h"
#include "store/store.h"
#include "record/redact.h"
#include "engine/agent_turn.h"
#include "engine/route.h"
#include "exec/sandbox.h"
#include "exec/warden.h"
#include "engine/ledger.h"
#include "engine/fanout.h"
#include "engine/actor.h"
#include "engine/skillset.h"
#include "engine/mcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EXIT_USAGE = 2, EXIT_CANNOT = 3 };

static void make_id(struct run *r)
{
	char rnd[7] = "000000"; /* kept if the kernel has no randomness */
	time_t now = time(NULL);
	struct tm tm;
	hash_random_hex(3, rnd);
	gmtime_r(&now, &tm);
	snprintf(r->id, sizeof(r->id), "%04d%02d%02d-%02d%02d%02d-%s", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rnd);
}

/* The run's id, directory, tree, branch (names only: nothing is made). */
static void run_names(struct run *r)
{
	if (r->link.id)
		snprintf(r->id, sizeof(r->id), "%s", r->link.id);
	else
		make_id(r);
	r->run_dir = rundir_path(r->repo, r->id);
	r->w->tree = rundir_tree(r->run_dir);
	r->w->branch = rundir_branch(r->id);
	r->w->artifacts = xasprintf("%s/gate-artifacts.exclude", r->run_dir);
}

/* --allow-dirty: the user's uncommitted tracked changes become the run's
 * first commit, so the baseline judges what the user actually has. */
static int carry_dirty(struct run *r, struct buf *err)
{
	struct buf diff = BUF_INIT, changed = BUF_INIT, sha = BUF_INIT;
	char *patch = xasprintf("%s/carried.patch", r->run_dir);
	const char *apply[] = {"apply", "--index", "--binary", patch, NULL};
	int ret = git_run(r->repo, &diff, err, "diff", "HEAD", "--binary", NULL);
	if (ret < 0 || (ret = fileio_write_atomic(patch, diff.s, diff.len, err)) < 0)
		goto out;
	if ((ret = git_runv(r->w->tree, apply, NULL, NULL, err)) < 0)
		goto out;
	ret = git_commit_all(r->w->tree,
			     "loopgate: uncommitted changes carried from "
			     "the user's tree",
			     NULL, &r->w->index, &changed, &sha, err);
	if (ret < 0)
		goto out;
	/* sha: the head a resumed run rolls back to before the first commit */
	events_append(&r->ev, EV_CARRIED_CHANGES,
		      json_pack("{s:s,s:I,s:s?}", "patch", "carried.patch", "bytes",
				(json_int_t)diff.len, "sha", sha.len ? sha.s : NULL));
out:
	free(patch);
	buf_release(&diff);
	buf_release(&changed);
	buf_release(&sha);
	return ret;
}

/* A name that says its value is a credential. */
static int secret_name(const char *name)
{
	static const char *const marks[] = {"KEY", "TOKEN", "SECRET", "PASSWORD"};
	size_t i;

	for (i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(name, marks[i]))
			return 1;
	return 0;
}

/*
 * The secrets this process holds, for redact.h: every API key variable the
 * configuration knows (set or not, used or not: a command actor may be
 * handed one through agent_env and print it), and agent_env variables
 * whose names say they are credentials.  Never into the log or reports.
 */
static void register_secrets(const struct config *c)
{
	size_t i;

	redact_add(c->api_key_env ? getenv(c->api_key_env) : NULL);
	redact_add_url(c->base_url); /* user:password@, ?api_key= */
	for (i = 0; i < CONFIG_NBUILTIN; i++)
		redact_add(getenv(config_builtin[i].api_key_env));
	for (i = 0; i < c->nmodels; i++) {
		if (c->models[i].api_key_env)
			redact_add(getenv(c->models[i].api_key_env));
		redact_add_url(c->models[i].base_url);
	}
	for (i = 0; i < c->agent_env.n; i++)
		if (secret_name(c->agent_env.v[i]))
			redact_add(getenv(c->agent_env.v[i]));
}

static int setup_model(struct run *r, struct buf *err)
{
	const struct config *c = r->cfg;

	int ret = route_provider(c, c->model, 1, &r->w->preset, &r->w->prov, err);

	if (ret < 0) /* no libcurl: the machine's fault, not the config's */
		return ret == -ELIBACC ? EXIT_CANNOT : EXIT_USAGE;
	r->budget.price_in = r->w->preset.price_in;
	r->budget.price_out = r->w->preset.price_out;
	r->w->max_output_tokens = c->max_output_tokens > 0 ? c->max_output_tokens
				  : r->w->preset.max_output_tokens > 0
					  ? r->w->preset.max_output_tokens
					  : CONFIG_DEFAULT_MAX_OUTPUT_TOKENS;
	return 0;
}

/*
 * The key that signs the log's checkpoints, created on first use.  Without
 * it the run does not start: an unsigned log is what checkpoints exist to
 * prevent, and nothing has been written yet (see docs/design/audit.md).
 */
static int run_load_audit_key(struct run *r, struct buf *err)
{
	struct buf why = BUF_INIT;
	char *path = NULL;
	int ret = checkpoint_key_path(r->cfg->audit_key, r->repo, &path, &why);

	if (ret == 0)
		ret = checkpoint_key_load(&r->audit_key, path, 1, &why);
	if (ret < 0)
		err_set(err, ret,
			"%s; the run needs its audit signing key to start "
			"(set the path with audit_key: in loopgate.yaml or $%s)",
			why.s, CHECKPOINT_KEY_ENV);
	free(path);
	buf_release(&why);
	return ret;
}

int run_setup_actor(struct run *r, struct buf *err)
{
	if (fanout_wanted(r->cfg)) {
		/* the coordinator acts through its workers only (fanout.h) */
		r->w->actor = "workers";
		return 0;
	}
	if (r->cfg->agent) {
		r->w->actor = "agent";
		return agent_run_setup(r, err);
	}
	if (r->cfg->agent_cmd) {
		r->w->actor = "command";
		return 0;
	}
	r->w->actor = "model";
	return setup_model(r, err);
}

/*
 * The Agent Skills a model with tools can load (skillset.h): indexed now,
 * on the record; a broken SKILL.md or index costs a warning, never the run.
 */
void run_setup_skills(struct run *r)
{
	struct skills_report rep = SKILLS_REPORT_INIT;
	struct buf err = BUF_INIT;

	if (!r->w->prov || !actor_tools_on(r, r->w))
		return;
	if (!r->w->mcp) /* MCP servers: their tools join the built-in ones */
		r->w->mcp = mcp_start(r, r->w);
	if (r->w->skills)
		return;
	/* no skill directory and no index: nothing to open or make */
	if (skillset_wanted(r->repo, r->cfg) &&
	    skillset_open(r->repo, r->cfg, &r->w->skills, &rep, &err) < 0)
		buf_addf(&rep.problems, "%s\n", err.s);
	events_append(&r->ev, EV_SKILLS,
		      json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "scanned",
				(json_int_t)rep.scanned, "added", (json_int_t)rep.added,
				"updated", (json_int_t)rep.updated, "removed",
				(json_int_t)rep.removed, "unchanged",
				(json_int_t)rep.unchanged, "problems",
				events_strn(rep.problems.s, rep.problems.len)));
	skills_report_release(&rep);
	buf_release(&err);
}

/*
 * The sandbox made while git checks the run's tree out (run_setup): the
 * sandbox of the tree as it is then (its .git, no files yet), its jail
 * started and, when it came up, probed.  Kept when the tree after the
 * checkout gives it nothing new (sandbox_tree_same: no .env file, no
 * read_deny or write path in the files); else let go, and the sandbox is
 * made again, as without it.
 */
struct early_sandbox {
	struct sandbox *sb; /* NULL: none made */
	int probed;	    /* the probe ran: ret, err are its answer */
	int ret;
	struct buf err;
	int made_dir; /* early_jail made the run directory */
	int locked;   /* and took the run lock in it */
	int premade;  /* and the tree (git_worktree_premake) */
};

/*
 * The jail's bwrap, started before the run is on record (while git
 * answers the dirty check and the key and the actor load), for the tree
 * made ahead: the run directory, the tree and an empty <tree>/.git that
 * the worktree's record is written into in place (git_worktree_premake),
 * so that the sandbox binds them as it binds the tree checked out.  Its
 * cgroup, "R" and the probe come after the record (early_sandbox); what
 * it made is removed if the setup stops before (early_undo).  Not for a
 * repository whose worktrees git must make itself.
 */
static void early_jail(struct run *r, struct early_sandbox *e)
{
	struct stat st;
	struct buf why = BUF_INIT;

	if (!r->cfg->sandbox)
		return;
	e->made_dir = stat(r->run_dir, &st) < 0 && fileio_mkdirs(r->run_dir, NULL) == 0;
	/* the lock first: the jail's warden holds it too (warden_keep_fd), so
	 * a resume waits for the jail of a loopgate killed (run_lock) */
	e->locked = e->made_dir && run_lock(r, &why) == 0;
	buf_release(&why);
	if (!e->locked || git_worktree_premake(r->repo, r->w->tree) != 0)
		return;
	e->premade = 1;
	e->sb = xcalloc(1, sizeof(*e->sb));
	sandbox_init(e->sb, r->cfg, r->w->tree, r->repo);
	sandbox_start_begin(e->sb);
}

static void early_sandbox(struct run *r, struct early_sandbox *e)
{
	if (!r->cfg->sandbox)
		return;
	if (!e->sb) {
		e->sb = xcalloc(1, sizeof(*e->sb));
		sandbox_init(e->sb, r->cfg, r->w->tree, r->repo);
	}
	if (sandbox_start(e->sb)) { /* per-run and up: its probe too */
		e->probed = 1;
		e->ret = sandbox_probe(e->sb, &e->err);
	}
}

static void early_sandbox_release(struct early_sandbox *e)
{
	if (e->sb) {
		sandbox_release(e->sb);
		free(e->sb);
	}
	e->sb = NULL;
	buf_release(&e->err);
}

/* What early_jail made, when the setup stops before the worktree's record
 * took the tree over: the jail stopped and the tree removed; and before
 * the run was named to the user (all), the lock and the run directory too
 * (with .loopgate/runs and .loopgate when that leaves them empty). */
static void early_undo(struct run *r, struct early_sandbox *e, int all)
{
	early_sandbox_release(e);
	if (e->premade)
		git_worktree_premade_undo(r->w->tree);
	e->premade = 0;
	if (!all)
		return;
	if (e->locked) {
		char *lock = xasprintf("%s/lock", r->run_dir);
		unlink(lock);
		free(lock);
		run_unlock(r);
	}
	e->locked = 0;
	if (e->made_dir) {
		char *p = xstrdup(r->run_dir), *slash;
		for (int i = 0; i < 3 && rmdir(p) == 0 && (slash = strrchr(p, '/')); i++)
			*slash = 0;
		free(p);
	}
	e->made_dir = 0;
}

/* The sandbox for the tree as it is now: the early one when the tree
 * gives it nothing new (its probe's answer in *probed, *ret and err),
 * else a new one. */
static struct sandbox *sandbox_for_tree(struct run *r, struct early_sandbox *e,
					int *probed, int *ret, struct buf *err)
{
	struct sandbox *sb;

	*probed = 0;
	if (!e || !e->sb || !sandbox_tree_same(e->sb, r->cfg)) {
		sb = xcalloc(1, sizeof(*sb));
		sandbox_init(sb, r->cfg, r->w->tree, r->repo);
		return sb;
	}
	sb = e->sb;
	e->sb = NULL;
	if ((*probed = e->probed)) {
		*ret = e->ret;
		if (e->ret < 0)
			buf_adds(err, e->err.s);
	}
	return sb;
}

/*
 * The sandbox every gate and the command actor run in (sandbox.h), its
 * `sandbox` event, and a `policy` event for each gate (config_finalize
 * refused denied ones).  EXIT_CANNOT when the sandbox cannot be made.
 */
static int setup_sandbox(struct run *r, struct early_sandbox *e, struct buf *err)
{
	const struct policy *p = r->cfg->policy;
	struct buf why = BUF_INIT;
	json_t *ev;
	int ret = 0, probed;

	r->w->sandbox = sandbox_for_tree(r, e, &probed, &ret, err);
	r->w->sandbox->ev = &r->ev; /* the network proxy's decisions */
	if (!probed)
		ret = sandbox_probe(r->w->sandbox, err);
	ev = sandbox_json(r->w->sandbox);
	if (ret < 0)
		json_object_set_new(ev, "error", events_str(err->s));
	events_append(&r->ev, EV_SANDBOX, ev);
	if (ret < 0)
		return EXIT_CANNOT;
	for (size_t i = 0; p && i < r->cfg->gates.n; i++) {
		int ok = policy_check_command(p, r->cfg->gates.v[i], &why);
		events_append(&r->ev, EV_POLICY,
			      policy_decision_json("gate", "gate", (int)i + 1,
						   r->cfg->gates.v[i], ok, why.s, p));
	}
	buf_release(&why);
	/* the agent's own sandbox, and its pre-flight before the baseline */
	return r->w->agent ? agent_run_sandbox(r, err) : 0;
}

int run_setup_sandbox(struct run *r, struct buf *err)
{
	return setup_sandbox(r, NULL, err);
}

/* A worker's share of the run's budget: the coordinator's ledger, or
 * none for a worker on a node that shares no filesystem with it (executor
 * kueue): its own ceilings are the slice the coordinator reserved. */
int run_link_ledger(struct run *r, struct buf *err)
{
	if (!r->link.ledger)
		return 0;
	r->budget.ledger = ledger_open(r->link.ledger, (size_t)r->link.slot, err);
	return r->budget.ledger ? 0 : -EIO;
}

json_t *run_link_json(const struct run *r)
{
	if (!r->link.parent)
		return json_null();
	return json_pack("{s:s,s:s,s:o,s:I}", "parent", r->link.parent, "worker",
			 r->link.worker ? r->link.worker : "", "ledger",
			 events_str(r->link.ledger), "slot", (json_int_t)r->link.slot);
}

void run_link_from_json(struct run *r, const json_t *o)
{
	const json_t *v;
	if (!json_is_object(o))
		return;
	if ((v = json_object_get(o, "parent")) && json_is_string(v))
		r->link.parent = xstrdup(json_string_value(v));
	if ((v = json_object_get(o, "worker")) && json_is_string(v))
		r->link.worker = xstrdup(json_string_value(v));
	if ((v = json_object_get(o, "ledger")) && json_is_string(v))
		r->link.ledger = xstrdup(json_string_value(v));
	r->link.slot = (long)json_integer_value(json_object_get(o, "slot"));
}

/* The signed event log, and the run store indexing it live. */
static int open_log(struct run *r, struct buf *err)
{
	char *evp = rundir_file(r->run_dir, RUNDIR_EVENTS);
	int ret;

	events_set_signer(&r->ev, &r->audit_key, CHECKPOINT_EVERY);
	ret = events_open(&r->ev, evp, r->id, err);
	free(evp);
	if (ret == 0)
		r->store = store_live_open(r->repo, &r->ev, r->id, r->warn, r->warn_ctx);
	return ret;
}

/*
 * The repository, its base, the dirty check, the key and the actor:
 * before anything is kept (a bad model or transcript, replay:/nonexistent,
 * must not leave a run directory naming a branch that never existed).  The
 * dirty check runs while the key and the actor are loaded, and while the
 * jail's bwrap starts for a tree made ahead (early_jail, taken back by
 * run_setup when this fails); its answer comes first, as if it had been
 * asked first.  0, or the exit code.
 */
static int setup_repo(struct run *r, struct early_sandbox *e, int *dirty, struct buf *err)
{
	struct buf b = BUF_INIT, later = BUF_INIT; /* the key's or the actor's error */
	struct git_pending *status;
	int ret, kret;

	if ((ret = git_toplevel(r->cfg->dir, &b, err)) < 0) {
		buf_release(&b);
		return EXIT_USAGE;
	}
	r->repo = buf_detach(&b, NULL);
	if ((ret = git_rev(r->repo, r->link.base ? r->link.base : "HEAD", &b, err)) < 0) {
		err_set(err, ret,
			"the repository %s has no commit yet: commit "
			"something first (loopgate runs from HEAD)",
			r->repo);
		buf_release(&b);
		return EXIT_USAGE;
	}
	r->base_sha = buf_detach(&b, NULL);
	status = git_dirty_begin(r->repo);
	register_secrets(r->cfg);
	if ((kret = run_load_audit_key(r, &later)) == 0)
		ret = run_setup_actor(r, &later);
	run_names(r);
	if (kret == 0 && ret == 0) /* while git answers */
		early_jail(r, e);
	*dirty = git_dirty_end(status, err);
	if (*dirty < 0) {
		ret = EXIT_CANNOT;
	} else if (*dirty && !r->cfg->allow_dirty) {
		err_set(err, -EINVAL,
			"%s has uncommitted changes to tracked files; "
			"loopgate starts from HEAD and never touches your tree: commit "
			"or stash them, or pass --allow-dirty to carry them into the run",
			r->repo);
		ret = EXIT_USAGE;
	} else if (kret < 0 || ret != 0) {
		buf_add(err, later.s, later.len);
		ret = kret < 0 ? EXIT_CANNOT : ret;
	}
	buf_release(&later);
	return ret;
}

int run_setup(struct run *r, struct buf *err)
{
	json_t *cfgj = NULL;
	struct git_worktree_pending *wt;
	struct early_sandbox early = {NULL, 0, 0, BUF_INIT, 0, 0, 0};
	int ret, dirty, named = 0;

	if (r->cfg->sandbox)
		sandbox_scan_begin(); /* meanwhile: git, the key, the worktree */
	if ((ret = setup_repo(r, &early, &dirty, err)) != 0)
		goto undo;
	named = 1;
	ret = EXIT_CANNOT;
	if (fileio_mkdirs(r->run_dir, err) < 0 ||
	    git_exclude_loopgate_dir(r->repo, err) < 0 ||
	    (r->lock_fd < 0 && run_lock(r, err) < 0))
		goto undo;
	if (open_log(r, err) < 0)
		goto undo;
	if (config_to_json(r->cfg, (void **)&cfgj) < 0 || !cfgj)
		cfgj = json_object();
	events_append(&r->ev, EV_RUN_START,
		      json_pack("{s:s,s:o,s:s,s:s,s:o,s:s,s:s,s:o,s:o,s:o}", "run_id",
				r->id, "repo", events_str(r->repo), "base", r->base_sha,
				"branch", r->w->branch, "tree", events_str(r->w->tree),
				"actor", r->w->actor, "version", LOOPGATE_VERSION,
				"config", cfgj, "goal", events_str(r->goal), "fanout",
				run_link_json(r)));
	if (r->link.parent && run_link_ledger(r, err) < 0)
		goto undo;
	if (events_barrier(&r->ev) < 0) /* the run is on record before its tree */
		goto undo;
	/* the jail starts while git checks the files out */
	if (git_worktree_add_begin(r->repo, r->w->tree, r->w->branch, r->base_sha,
				   early.premade, &wt, err) < 0) {
		early.premade = 0; /* removed with what the add made */
		goto undo;
	}
	early_sandbox(r, &early);
	ret = git_worktree_add_end(wt, err) < 0 ? EXIT_CANNOT : 0;
	/* the checkout's index equals HEAD: the first staging trusts `add -v`
	 * (no `diff --cached`) unless something rewrote the index since */
	if (ret == 0)
		git_index_stamp_take(r->w->tree, &r->w->index);
	if (ret == 0)
		protect_init(&r->w->protect, r->cfg, r->w->tree);
	if (ret == 0 && dirty && carry_dirty(r, err) < 0)
		ret = EXIT_CANNOT;
	if (ret == 0)
		ret = setup_sandbox(r, &early, err);
	if (ret == 0)
		run_setup_skills(r);
	early_sandbox_release(&early);
	return ret;
undo:
	/* made ahead, not yet the worktree's: removed (a usage error leaves
	 * no run directory; a later one leaves the directory as before) */
	early_undo(r, &early, !named);
	if (!named) { /* as if the names were never made */
		free(r->run_dir);
		r->run_dir = NULL;
	}
	return ret;
}

/*
 * A loopgate killed a moment ago leaves its wardens (exec/warden.h) killing
 * and reaping the processes it started; they hold the run lock until the
 * last of them is dead, which takes milliseconds.  The lock is waited for
 * (bounded) when the pid it names is no longer alive.
 */
#define LOCK_WAIT_MS 10000

static int holder_dead(const char *held)
{
	char *end;
	long pid = strtol(held, &end, 10);
	return pid > 0 && !*end && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static int wait_lock(int fd)
{
	for (long long until = clock_ms() + LOCK_WAIT_MS; clock_ms() < until;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		poll(NULL, 0, 10); /* the holders are being killed: a short wait */
	}
	return -EWOULDBLOCK;
}

int run_lock(struct run *r, struct buf *err)
{
	char *path = xasprintf("%s/lock", r->run_dir);
	char pid[32], held[32] = "";
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644), ret = 0, n;
	ssize_t got;

	if (fd < 0) {
		ret = err_set(err, -errno, "cannot open the run lock %s: %s", path,
			      strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = -errno;
		got = pread(fd, held, sizeof(held) - 1, 0);
		held[got > 0 ? got : 0] = 0;
		held[strcspn(held, "\n")] = 0;
		if (ret == -EWOULDBLOCK && holder_dead(held) && wait_lock(fd) == 0)
			goto locked;
		if (ret == -EWOULDBLOCK && holder_dead(held))
			ret = err_set(err, -EBUSY,
				      "run %s: loopgate (pid %s) is dead, but processes "
				      "it started still hold %s after %d s: see "
				      "`fuser -v %s`",
				      r->id, held, path, LOCK_WAIT_MS / 1000, path);
		else if (ret == -EWOULDBLOCK)
			ret = err_set(err, -EBUSY,
				      "run %s is being driven by another "
				      "loopgate process (pid %s holds %s): wait for it "
				      "to end, or stop it first",
				      r->id, *held ? held : "unknown", path);
		else
			err_set(err, ret, "cannot lock %s: %s", path, strerror(-ret));
		close(fd);
		goto out;
	}
locked:
	ret = 0; /* a lock waited for (wait_lock) is as good as one taken at once */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		ret = err_set(err, -errno, "cannot write the run lock %s: %s", path,
			      strerror(errno));
		close(fd);
		goto out;
	}
	r->lock_fd = fd;
	warden_keep_fd(fd); /* a re-exec'd warden holds the lock too */
out:
	free(path);
	return ret;
}

void run_unlock(struct run *r)
{
	if (r->lock_fd < 0)
		return;
	warden_drop_fd(r->lock_fd);
	close(r->lock_fd); /* drops the run lock */
	r->lock_fd = -1;
}
