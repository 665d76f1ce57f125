/*
 * resume.c: `loopgate resume` — the run's state rebuilt from its event log,
 * then the loop entered where the crash left it.  See resume.h and
 * docs/design/resume.md.
 */
#include "engine/resume.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "base/ckd.h"
#include "engine/auditkey.h"
#include "record/checkpoint.h"
#include "store/store.h"
#include "engine/resume_impl.h"
#include "engine/resume_state.h"
#include "engine/actor.h"
#include "base/clock.h"
#include "config/config.h"
#include "base/fileio.h"
#include "tree/git.h"
#include "tree/git_guard.h"
#include "tree/git_repair.h"
#include "judge/judge.h"
#include "engine/loop.h"
#include "engine/fanout.h"
#include "actor/provider.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_USAGE = 2, EXIT_CANNOT = 3 };

#define GATE_OUTPUT_MAX (1u << 20) /* as gate.c keeps in memory */

/* ---- finding the run --------------------------------------------------- */

static int find_run(struct run *r, const char *spec, struct buf *err)
{
	char *runs = rundir_runs(r->repo);
	DIR *d = opendir(runs);
	struct dirent *e;
	int found = 0, ret = 0;

	if (!d) {
		ret = err_set(err, -ENOENT, "no run matches '%s': %s has no runs", spec,
			      r->repo);
		goto out;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, spec, strlen(spec)) ||
		    strlen(e->d_name) >= sizeof(r->id))
			continue;
		if (!strcmp(e->d_name, spec)) { /* an exact id wins */
			found = 1;
			snprintf(r->id, sizeof(r->id), "%.63s", e->d_name);
			break;
		}
		if (found++ == 0)
			snprintf(r->id, sizeof(r->id), "%.63s", e->d_name);
	}
	closedir(d);
	if (!found || !*spec)
		ret = err_set(err, -ENOENT, "no run matches '%s' under %s", spec, runs);
	else if (found > 1)
		ret = err_set(err, -EINVAL,
			      "'%s' matches %d runs under %s: give more "
			      "of the run id",
			      spec, found, runs);
out:
	free(runs);
	return ret;
}

/* ---- gate outcomes ----------------------------------------------------- */

static enum proc_status status_named(const char *s)
{
	static const enum proc_status all[] = {PROC_EXITED, PROC_SIGNALED, PROC_TIMED_OUT,
					       PROC_DEADLINE, PROC_INTERRUPTED};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (s && !strcmp(s, proc_status_name(all[i])))
			return all[i];
	return PROC_EXITED;
}

static void counts_from(const json_t *c, struct testcount *tc)
{
	static const char *runners[] = {
		"pytest", "unittest", "go",  "go-json", "cargo", "ctest",  "jest",
		"vitest", "mocha",    "tap", "junit",	"plain", "several"};
	const char *name = jstr(c, "runner");
	memset(tc, 0, sizeof(*tc));
	if (!json_is_object(c))
		return;
	tc->known = json_is_true(json_object_get(c, "known"));
	for (size_t i = 0; name && i < sizeof(runners) / sizeof(runners[0]); i++)
		if (!strcmp(name, runners[i]))
			tc->runner = runners[i];
	tc->executed = jlong(c, "executed", 0);
	tc->passed = jlong(c, "passed", 0);
	tc->failed = jlong(c, "failed", 0);
	tc->skipped = jlong(c, "skipped", 0);
}

/* r->w->judge.last from a deciding gate_end and the output file it names. */
static void load_outcome(struct run *r, const json_t *b)
{
	struct gate_outcome *g = &r->w->judge.last;
	char *path;

	if (!b)
		return;
	gate_outcome_release(g);
	g->ran = 1;
	g->passed = json_is_true(json_object_get(b, "passed"));
	g->index = (int)jlong(b, "gate", 1) - 1;
	g->gates_run = g->index + 1;
	g->status = status_named(jstr(b, "status"));
	g->exit_code = (int)jlong(b, "exit_code", 0);
	g->term_signal = (int)jlong(b, "signal", 0);
	g->describe = xstrdup(jstr(b, "describe") ?: "");
	g->output_file = xstrdup(jstr(b, "output_file") ?: "");
	g->output_total = (size_t)jlong(b, "output_bytes", 0);
	g->elapsed_ms = jreal(b, "duration_ms");
	counts_from(json_object_get(b, "counts"), &g->counts);
	path = xasprintf("%s/%s", r->run_dir, g->output_file);
	buf_init(&g->output, GATE_OUTPUT_MAX);
	if (buf_read_file(&g->output, path) < 0)
		g->output.truncated = 1; /* kept what fitted */
	free(path);
}

/* The executed-test floor: the baseline's counts per gate. */
static void load_base_counts(struct run *r, const struct resume_state *s)
{
	size_t n = r->cfg->gates.n;
	r->w->judge.base_counts = xcalloc(n, sizeof(*r->w->judge.base_counts));
	r->w->judge.round_counts = xcalloc(n, sizeof(*r->w->judge.round_counts));
	for (size_t g = 0; g < n && g < s->nbase_gate; g++)
		if (s->base_gate[g])
			counts_from(json_object_get(s->base_gate[g], "counts"),
				    &r->w->judge.base_counts[g]);
}

/* ---- iterations -------------------------------------------------------- */

static void load_feedback(struct run *r, long it)
{
	char *path = rundir_iter(r->run_dir, it, "edit-feedback.md");
	buf_reset(&r->w->edit_feedback);
	if (it > 0 && buf_read_file(&r->w->edit_feedback, path) < 0)
		buf_reset(&r->w->edit_feedback);
	free(path);
}

/* What iteration n did up to its commit, from its records; returns how many
 * integrity records it has (counted into r->w->integrity_events). */
static int fill_iteration(struct run *r, const struct resume_iter *ri, long n,
			  struct iteration *it)
{
	struct buf rev = BUF_INIT;
	const json_t *b;
	json_t *x, *y;
	size_t k, j;

	memset(it, 0, sizeof(*it));
	it->n = (int)n;
	it->gate_index = -1;
	if (ri && (b = ri->commit)) {
		json_array_foreach(json_object_get(b, "files"), k, x)
		{
			it->changed = xrealloc(it->changed,
					       (it->nchanged + 1) * sizeof(char *));
			it->changed[it->nchanged++] = xstrdup(json_string_value(x) ?: "");
		}
		it->noop = json_is_true(json_object_get(b, "noop"));
		if (jstr(b, "sha"))
			it->commit = xstrdup(jstr(b, "sha"));
	}
	if (ri && (b = ri->edits)) {
		it->edit_blocks = (int)jlong(b, "blocks", 0);
		it->edits_applied = (int)jlong(b, "applied", 0);
		it->edits_refused = (int)jlong(b, "refused", 0);
	}
	json_array_foreach(ri ? ri->integrity : NULL, j, y)
	{
		json_array_foreach(json_object_get(y, "paths"), k, x)
		{
			buf_addf(&rev, "%s%s", rev.len ? ", " : "",
				 json_string_value(x) ?: "");
			it->reverted++;
		}
	}
	if (rev.len)
		it->reverted_paths = buf_detach(&rev, NULL);
	buf_release(&rev);
	k = ri ? json_array_size(ri->integrity) : 0;
	r->w->integrity_events += (long)k;
	return (int)k;
}

/* The per-iteration table of the iterations that ended. */
static void load_iterations(struct run *r, const struct resume_state *s)
{
	for (long n = 1; n <= s->ended; n++) {
		const struct resume_iter *ri = resume_state_iter(s, n);
		const json_t *b = ri->end, *d = resume_state_decider(s, n);
		struct iteration *it;
		r->w->its = xrealloc(r->w->its, (r->w->nits + 1) * sizeof(*r->w->its));
		it = &r->w->its[r->w->nits++];
		fill_iteration(r, ri, n, it);
		it->noop = json_is_true(json_object_get(b, "noop"));
		it->gate_index = (int)jlong(b, "gate_failed", 0) - 1;
		it->judged = json_is_integer(json_object_get(b, "gate_failed"));
		it->tokens_in = jlong(b, "tokens_in", 0);
		it->tokens_out = jlong(b, "tokens_out", 0);
		it->cost = jreal(b, "cost_usd");
		it->elapsed_ms = jreal(b, "duration_ms");
		if (it->gate_index >= 0 && d) {
			it->gate_exit = (int)jlong(d, "exit_code", 0);
			it->gate_desc = xstrdup(jstr(d, "describe") ?: "");
		}
	}
	r->budget.iterations = s->ended;
}

/* Stall counters as the last finished round left them. */
static void load_stall(struct run *r, const struct resume_state *s)
{
	if (!s->stall)
		return;
	snprintf(r->w->stall_fp, sizeof(r->w->stall_fp), "%s",
		 jstr(s->stall, "fingerprint") ?: "");
	r->w->stall_same = (int)jlong(s->stall, "same_in_a_row", 0);
	r->w->stall_noop = (int)jlong(s->stall, "noop_in_a_row", 0);
}

/* ---- the tree ---------------------------------------------------------- */

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/*
 * Back to head: reset --hard (which also moves the branch back over a
 * commit that was made but never recorded), then remove what is untracked,
 * except what .gitignore or gate-artifacts.exclude name (the gates' own
 * files, which an uninterrupted run would have too).
 */
static int rollback(struct run *r, const char *head, struct buf *err)
{
	char *opt = xasprintf("core.excludesFile=%s", r->w->artifacts);
	int ret = git_run(r->w->tree, NULL, err, "reset", "-q", "--hard", head, NULL);
	if (ret == 0)
		ret = git_run(r->w->tree, NULL, err, "-c", opt, "clean", "-q", "-fd",
			      NULL);
	free(opt);
	return ret;
}

/* The last commit the log records: the run branch's head by the log. */
static const char *recorded_head(const struct run *r, const struct resume_state *s)
{
	return s->head ? s->head : r->base_sha;
}

/* ---- the phase in progress --------------------------------------------- */

static const char *const phase_names[] = {"actor", "reply", "gates"};

/*
 * A model call killed in flight left no model_attempt, so nothing charged
 * it: charge the request's input estimate (what was sent), once — a call
 * an earlier resume already charged sits before that resume's record.
 */
static json_t *charge_in_flight(struct run *r, const struct resume_state *s, long n,
				struct iteration *it)
{
	const json_t *b = resume_state_in_flight(s, n);
	double before = r->budget.cost;
	long tin;

	if (!b)
		return json_null();
	tin = jlong(b, "estimate_tokens_in", 0);
	budget_charge(&r->budget, tin, 0, 0);
	it->tokens_in = ckd_add(it->tokens_in, tin);
	it->cost += r->budget.cost - before;
	return json_pack("{s:i,s:I,s:I,s:f,s:s}", "iteration", (int)n, "tokens_in",
			 (json_int_t)tin, "tokens_out", (json_int_t)0, "cost_usd",
			 r->budget.cost - before, "why",
			 "the model call was in flight when loopgate died: no attempt "
			 "record charged it, so its input is charged at the request's "
			 "estimate_tokens_in; the call is made again");
}

/* Which part of iteration n is still to do, into from. */
static int plan_iteration(struct run *r, const struct resume_state *s, long n,
			  struct loop_resume *from, json_t **charged, struct buf *err)
{
	const struct resume_iter *ri = resume_state_iter(s, n);
	int nint = fill_iteration(r, ri, n, &from->it);
	/* its spend so far: its attempts and earlier resume charges */
	from->it.tokens_in = ri->tokens_in;
	from->it.tokens_out = ri->tokens_out;
	from->it.cost = ri->cost;
	*charged = json_null();
	if (ri->commit) {
		from->from = LOOP_FROM_GATES;
		return 0;
	}
	/* the commit did not happen: what fill_iteration counted is redone */
	r->w->integrity_events -= nint;
	iteration_release(&from->it);
	{
		struct iteration keep = {0};
		keep.tokens_in = from->it.tokens_in;
		keep.tokens_out = from->it.tokens_out;
		keep.cost = from->it.cost;
		from->it = keep;
	}
	/* the reply was saved (actor.c removes it before each request): even
	 * without its model_response record it answers the last request */
	char *path = rundir_iter(r->run_dir, n, "response.md");
	if (r->w->prov && (ri->responded || exists(path))) {
		int ret = buf_read_file(&from->reply, path);
		if (ret < 0)
			err_set(err, ret, "cannot read the saved reply %s: %s", path,
				strerror(-ret));
		free(path);
		from->from = LOOP_FROM_REPLY;
		return ret;
	}
	free(path);
	from->from = LOOP_FROM_ACTOR;
	if (r->w->prov) {
		json_decref(*charged);
		*charged = charge_in_flight(r, s, n, &from->it);
	}
	return 0;
}

/* ---- resume_run -------------------------------------------------------- */

/* Status names a log may hold, as the static strings r->status wants. */
static const char *status_static(const char *s)
{
	static const char *names[] = {
		"converged", "already_satisfied",   "budget_exhausted",
		"stalled",   "integrity_violation", "interrupted",
		"error"};
	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return names[i];
	return "error";
}

/* Repository, run, lock, an unended log with a run_start: else exit 2. */
static int open_run(struct run *r, const char *dir, const char *spec,
		    struct resume_state *s, struct buf *err)
{
	struct buf b = BUF_INIT;
	char *evp;
	int ret;

	if ((ret = git_toplevel(dir, &b, err)) < 0)
		return EXIT_USAGE;
	r->repo = buf_detach(&b, NULL);
	if (find_run(r, spec, err) < 0)
		return EXIT_USAGE;
	r->run_dir = rundir_path(r->repo, r->id);
	if (run_lock(r, err) < 0)
		return EXIT_USAGE;
	evp = rundir_file(r->run_dir, RUNDIR_EVENTS);
	ret = resume_load(s, evp, err);
	if (ret == -ENOENT) {
		/* killed between making the directory and opening the log */
		buf_reset(err);
		ret = err_set(err, -ENOENT,
			      "run %s died before its event log began: nothing "
			      "to resume; start a new run (%s can be removed)",
			      r->id, r->run_dir);
	} else if (ret == 0 && s->run_end) {
		ret = err_set(err, -EALREADY,
			      "run %s already ended (status %s): "
			      "nothing to resume",
			      r->id, jstr(s->run_end, "status") ?: "unknown");
	} else if (ret == 0 && !s->run_start) {
		ret = err_set(err, -ENOENT,
			      "run %s died before it recorded its "
			      "start: nothing to resume; start a new run",
			      r->id);
	} else if (ret == 0) {
		/* The key that signed the log signs its continuation. */
		if ((ret = auditkey_load(r->repo, NULL, &r->audit_key, err)) == 0) {
			events_set_signer(&r->ev, &r->audit_key, CHECKPOINT_EVERY);
			ret = events_reopen(&r->ev, evp, err);
		}
		if (ret < 0) {
			free(evp);
			return EXIT_CANNOT;
		}
		r->store = store_live_open(r->repo, &r->ev, r->id, r->warn, r->warn_ctx);
	}
	free(evp);
	return ret < 0 ? EXIT_USAGE : 0;
}

/*
 * config_to_json blanks secrets; a value that lost one cannot be used again
 * (a URL whose ?query held a key, a gate with a pasted token).  NULL, or
 * the first such value's name.
 */
static const char *redacted(const struct config *c)
{
	if (c->base_url && strstr(c->base_url, "REDACTED"))
		return "base_url";
	if (c->agent_cmd && strstr(c->agent_cmd, "[REDACTED]"))
		return "agent_cmd";
	for (size_t i = 0; i < c->gates.n; i++)
		if (strstr(c->gates.v[i], "[REDACTED]"))
			return "gates";
	for (size_t i = 0; i < c->nmodels; i++)
		if (c->models[i].base_url && strstr(c->models[i].base_url, "REDACTED"))
			return "models.*.base_url";
	return NULL;
}

/* Config, paths and actor from run_start; 0 or exit 2. */
static int load_start(struct run *r, struct config *cfg, const struct resume_state *s,
		      struct buf *err)
{
	const json_t *b = s->run_start;

	if (config_from_json(cfg, json_object_get(b, "config"), err) < 0 ||
	    config_finalize(cfg, err) < 0)
		return EXIT_USAGE;
	if (redacted(cfg)) {
		err_set(err, -EINVAL,
			"run %s cannot be resumed: its logged "
			"configuration had a secret redacted from %s, so the run "
			"cannot be rebuilt as it was; start a new run",
			r->id, redacted(cfg));
		return EXIT_USAGE;
	}
	r->goal = cfg->goal;
	r->base_sha = xstrdup(jstr(b, "base") ?: "HEAD");
	run_link_from_json(r, json_object_get(b, "fanout"));
	if (r->link.parent && run_link_ledger(r, err) < 0)
		return EXIT_CANNOT;
	r->w->branch = rundir_branch(r->id);
	r->w->tree = rundir_tree(r->run_dir);
	r->w->artifacts = xasprintf("%s/gate-artifacts.exclude", r->run_dir);
	r->budget.max_iterations = cfg->max_iterations;
	r->budget.max_tokens = cfg->max_tokens > 0 ? cfg->max_tokens : 0;
	r->budget.max_cost = cfg->max_cost;
	int ret = run_setup_actor(r, err); /* 2, or 3 without libcurl */

	if (ret != 0)
		return ret;
	r->start_ms = clock_ms() - resume_state_alive_ms(s);
	if (cfg->deadline_ms > 0)
		r->budget.deadline_at = r->start_ms + cfg->deadline_ms;
	return 0;
}

/* The `resume` record: what was found, what is done next, what was charged. */
static void resume_event(struct run *r, const char *phase, long n, const char *head,
			 const char *branch_was, const char *repaired, json_t *charged)
{
	events_append(&r->ev, EV_RESUME,
		      json_pack("{s:i,s:s,s:i,s:s,s:s?,s:s?,s:o,s:I,s:I,s:f,s:I}",
				"resumes", r->resumes, "phase", phase, "iteration",
				(int)n, "head", head, "branch_was", branch_was,
				"repaired", repaired, "charged", charged, "tokens_in",
				(json_int_t)r->budget.tokens_in, "tokens_out",
				(json_int_t)r->budget.tokens_out, "cost_usd",
				r->budget.cost, "pid", (json_int_t)getpid()));
	events_sync(&r->ev);
}

/*
 * What a resumed run needs before its log is replayed: the same tree,
 * sandbox and policy as before the crash.  0, or an exit code with err set.
 */
static int resume_prepare(struct run *r, struct config *cfg, const struct resume_state *s,
			  struct buf *repaired, struct buf *err)
{
	if (cfg->allow_dirty > 0 && !s->baseline && !s->carried) {
		err_set(err, -EINVAL,
			"run %s died while carrying --allow-dirty "
			"changes: your tree may have changed since; start a new run",
			r->id);
		return EXIT_USAGE;
	}
	/* the worktree made, or repaired where a killed git left it */
	if (git_repair_worktree(r->repo, r->w->tree, r->w->branch, recorded_head(r, s),
				repaired, err) < 0)
		return EXIT_CANNOT;
	/* The same sandbox and policy as before the crash (from the log). */
	if (run_setup_sandbox(r, err))
		return EXIT_CANNOT;
	run_setup_skills(r);
	/* The git control files as they are now: the guard watches the rest
	 * of the run (what changed while loopgate was dead is not known). */
	if (!(r->w->git_guard = git_guard_snapshot(r->w->tree, err)))
		return EXIT_CANNOT;
	protect_init(&r->w->protect, cfg, r->w->tree);
	return 0;
}

/* Enters the loop where the crash left it; returns the run's exit code. */
static int resume_enter(struct run *r, const struct resume_state *s, const char *phase,
			struct loop_resume *from, struct buf *err)
{
	const json_t *end = s->ended ? resume_state_iter(s, s->ended)->end : NULL;
	long started = s->started;
	int code;

	if (!started && end && jlong(end, "outcome", -1) >= 0) {
		/* the loop had ended; only its record of the end is missing */
		const json_t *b = end;
		r->status = status_static(jstr(b, "status"));
		buf_sets(&r->reason, jstr(b, "reason") ?: "");
		code = (int)jlong(b, "outcome", 1);
		if (code != 0 && code != EXIT_USAGE)
			buf_sets(err, r->reason.s);
		return loop_finish(r, code, err);
	}
	if (!started && !strcmp(phase, "baseline")) {
		code = loop_baseline(r, err);
		if (code < 0 && fanout_wanted(r->cfg))
			code = fanout_run(r, err);
		return loop_continue(r, code, err);
	}
	/* a coordinator past its baseline: its workers */
	if (fanout_wanted(r->cfg))
		return loop_continue(r, fanout_resume(r, s, err), err);
	if (started)
		return loop_continue(r, loop_iterate(r, from, err), err);
	return loop_continue(r, -1, err);
}

/* The run's state from the reduced log; the phase to resume, or NULL. */
static const char *resume_load_state(struct run *r, const struct resume_state *s,
				     struct loop_resume *from, json_t **charged,
				     struct buf *err)
{
	long started = s->started;

	resume_replay_budget(r, s);
	/* a transcript goes on after the replies the log says were received */
	provider_skip_replies(r->w->prov, (size_t)s->responses);
	r->resumes = (int)s->resumes + 1;
	load_base_counts(r, s);
	load_iterations(r, s);
	load_stall(r, s);
	load_outcome(r, resume_state_decider(s, s->ended));
	load_feedback(r, s->ended);
	if (started && plan_iteration(r, s, started, from, charged, err) < 0)
		return NULL;
	if (started && from->from == LOOP_FROM_GATES)
		load_feedback(r, started);
	if (started)
		return phase_names[from->from];
	if (s->ended || (resume_state_iter(s, 0) && resume_state_iter(s, 0)->fingerprint))
		return "next";
	return "baseline";
}

/*
 * The scan after a gate round runs on during the next model call and is
 * waited for at its first attempt (judge.h, actor.c): a run killed before
 * that left the gates' new files out of gate-artifacts.exclude, and the
 * rollback would clean them.  When nothing but the gates changed the tree
 * since (between iterations, or a model's turn with no attempt on record
 * and neither tool server nor agent), the scan is made before the rollback.
 */
static int scan_first(const struct run *r, const struct resume_state *s,
		      const char *phase, const struct loop_resume *from)
{
	const struct resume_iter *ri;

	if (!strcmp(phase, "next"))
		return 1;
	if (!s->started || from->from != LOOP_FROM_ACTOR || !r->w->prov || r->w->agent ||
	    r->w->mcp)
		return 0;
	ri = resume_state_iter(s, s->started);
	return ri && !ri->attempt;
}

int resume_run(struct run *r, struct config *cfg, const char *dir, const char *spec,
	       struct buf *err)
{
	struct resume_state s;
	struct loop_resume from;
	struct buf cur = BUF_INIT, repaired = BUF_INIT;
	json_t *charged = json_null();
	const char *phase, *head;
	int code, ret;

	resume_state_init(&s);
	memset(&from, 0, sizeof(from));
	buf_init(&from.reply, 0);
	if ((code = open_run(r, dir, spec, &s, err)) ||
	    (code = load_start(r, cfg, &s, err)))
		goto out;
	if ((code = resume_prepare(r, cfg, &s, &repaired, err)))
		goto out;
	code = EXIT_CANNOT;
	if (!(phase = resume_load_state(r, &s, &from, &charged, err)))
		goto out;
	head = recorded_head(r, &s);
	git_rev(r->w->tree, "HEAD", &cur, NULL);
	worker_bind_judge(r->w, r);
	if ((scan_first(r, &s, phase, &from) &&
	     (ret = git_scan_tree(r->w->tree, r->w->artifacts, NULL, err)) < 0) ||
	    (ret = rollback(r, head, err)) < 0 ||
	    (ret = judge_tree_id(&r->w->judge, err)) < 0 ||
	    (ret = git_scan_tree(r->w->tree, r->w->artifacts, &r->w->judge.files, err)) <
		    0)
		goto out;
	resume_event(r, phase, s.started ? s.started : s.ended, head,
		     cur.len && strcmp(cur.s, head) ? cur.s : NULL,
		     repaired.len ? repaired.s : NULL, charged);
	charged = NULL;
	code = resume_enter(r, &s, phase, &from, err);
	goto done;
out:
	/* Nothing was continued: the run stays as it was, resumable again.
	 * The failed attempt is on the record (not a run_end: the run has not
	 * ended) once the log is open again. */
	r->status = "error";
	if (r->ev.fd >= 0 && code == EXIT_CANNOT)
		events_append(&r->ev, EV_RESUME_FAILED,
			      json_pack("{s:i,s:s}", "exit_code", code, "error",
					err->len ? err->s : "unknown"));
	events_close(&r->ev); /* no summary of a run that did not go on */
done:
	json_decref(charged);
	iteration_release(&from.it);
	buf_release(&from.reply);
	buf_release(&cur);
	buf_release(&repaired);
	resume_state_release(&s);
	return code;
}
