/*
 * loop.c: the act-apply-observe loop.  See loop.h and docs/design/loop.md.
 */
#include "engine/loop.h"
#include "engine/fanout.h"
#include "engine/ledger.h"
#include "exec/warden.h"
#include "engine/reverify.h"
#include "engine/route.h"
#include "engine/verify.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "exec/sandbox.h"
#include "engine/agent_turn.h"
#include "engine/actor.h"
#include "engine/turn.h"
#include "base/clock.h"
#include "config/config.h"
#include "base/fileio.h"
#include "judge/gate.h"
#include "judge/judge.h"
#include "judge/feedback.h"
#include "judge/fingerprint.h"
#include "base/hash.h"
#include "tree/git.h"
#include "tree/git_guard.h"
#include "actor/provider.h"
#include "engine/summary.h"
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_DONE = 0, EXIT_HALTED = 1, EXIT_USAGE = 2, EXIT_CANNOT = 3 };

/* ---- ending ---- */

int loop_halt(struct run *r, const char *status, int code, const char *fmt, ...)
{
	va_list ap;
	r->status = status;
	buf_reset(&r->reason);
	va_start(ap, fmt);
	buf_vaddf(&r->reason, fmt, ap);
	va_end(ap);
	return code;
}

/* "Could not run": err, plus what to do when the disk is full. */
static int cannot(struct run *r, int ret, const char *why)
{
	/* a step that failed because SIGINT/SIGTERM stopped its child (or
	 * its read) is an interruption: exit 1 with a handoff, not exit 3 */
	if (interrupt_pending())
		return loop_halt(r, "interrupted", EXIT_HALTED,
				 "interrupted (signal %d): %s", interrupt_pending(), why);
	if (ret == -ENOSPC || ret == -EDQUOT)
		return loop_halt(r, "error", EXIT_CANNOT,
				 "%s; the disk is full: free "
				 "space on it and run loopgate again (what this run did "
				 "so far is in %s)",
				 why, r->run_dir);
	return loop_halt(r, "error", EXIT_CANNOT, "%s", why);
}

/* A gate that did not simply exit: interrupted or deadline end the run. */
static int gate_interrupted(struct run *r)
{
	if (r->w->judge.last.status == PROC_INTERRUPTED)
		return loop_halt(r, "interrupted", EXIT_HALTED,
				 "interrupted (signal %d) "
				 "while gate %d ran; its partial output is in %s",
				 interrupt_pending(), r->w->judge.last.index + 1,
				 r->w->judge.last.output_file);
	if (r->w->judge.last.status == PROC_DEADLINE)
		return loop_halt(r, "budget_exhausted", EXIT_HALTED,
				 "the --deadline passed "
				 "while gate %d ran; its partial output is in %s",
				 r->w->judge.last.index + 1,
				 r->w->judge.last.output_file);
	return -1;
}

/* Maps an actor failure to the run's end. */
static int actor_failed(struct run *r, const struct actor_turn *t, int ret,
			const struct buf *err)
{
	if (t->budget_stop)
		return loop_halt(r, "budget_exhausted", EXIT_HALTED, "%s",
				 err->len ? err->s
					  : "the budget cannot carry another call");
	switch (ret) {
	case -ECANCELED:
		return loop_halt(r, "interrupted", EXIT_HALTED,
				 "interrupted (signal %d) "
				 "during the actor's turn",
				 interrupt_pending());
	case -ETIME:
		/* the provider says which: passed, or would pass during a wait */
		return loop_halt(
			r, "budget_exhausted", EXIT_HALTED, "%s",
			err->len ? err->s
				 : "the --deadline passed during the actor's turn");
	default:
		return cannot(r, ret, err->s);
	}
}

static void record_iteration(struct run *r, struct iteration *it,
			     const struct buf *changed, const struct buf *sha)
{
	const char *p;
	json_t *files = json_array();
	for (p = changed->s; p < changed->s + changed->len; p += strlen(p) + 1) {
		it->changed = xrealloc(it->changed, (it->nchanged + 1) * sizeof(char *));
		it->changed[it->nchanged++] = xstrdup(p);
		json_array_append_new(files, events_str(p));
	}
	it->noop = it->nchanged == 0;
	if (sha->len)
		it->commit = xstrdup(sha->s);
	events_append(&r->ev, EV_COMMIT,
		      json_pack("{s:i,s:s?,s:o,s:b,s:s}", "iteration", it->n, "sha",
				it->commit, "files", files, "noop", it->noop,
				"edit_feedback_file", "edit-feedback.md"));
}

/* The feedback the next prompt gets, saved before the commit record that
 * names it: a resumed run reads it back (resume.c).  Its fsync runs while
 * the turn is committed (the log's barrier, git commit): feedback_end
 * waits for it before the commit record is written. */
static int feedback_begin(struct run *r, const char *absdir, struct fileio_atomic *a,
			  struct buf *err)
{
	char *path = xasprintf("%s/edit-feedback.md", absdir);
	int ret = fileio_atomic_open(a, path, err);

	free(path);
	if (ret == 0 && (ret = fileio_atomic_write(a, r->w->edit_feedback.s,
						   r->w->edit_feedback.len, err)) == 0)
		fileio_atomic_sync_begin(a); /* else the close fsyncs */
	return ret;
}

/* The feedback saved (fsync joined, renamed), or dropped when the commit
 * failed (ret). */
static int feedback_end(struct fileio_atomic *a, int ret, struct buf *err)
{
	if (ret < 0 && !a->ret)
		a->ret = ret;
	ret = fileio_atomic_close(a, ret < 0 ? NULL : err);
	return ret;
}

static void budget_event(struct run *r)
{
	const struct budget *b = &r->budget;
	events_append(&r->ev, EV_BUDGET,
		      json_pack("{s:I,s:I,s:I,s:I,s:f,s:I,s:I,s:f,s:I,s:b}", "iterations",
				(json_int_t)b->iterations, "max_iterations",
				(json_int_t)b->max_iterations, "tokens_in",
				(json_int_t)b->tokens_in, "tokens_out",
				(json_int_t)b->tokens_out, "cost_usd", b->cost,
				"max_tokens", (json_int_t)b->max_tokens, "calls",
				(json_int_t)b->calls, "max_cost", b->max_cost, "ms_left",
				(json_int_t)(b->deadline_at ? budget_ms_left(b) : -1),
				"overrun", b->overrun));
}

/*
 * The actor must not touch git's control files (config, hooks, attributes,
 * the worktree link): loopgate's own git commands would read them.  What
 * changed is put back as it was at run start and recorded (git_guard.h).
 */
static int guard_git(struct run *r, struct iteration *it, struct buf *err)
{
	struct buf ch = BUF_INIT;
	json_t *paths = json_array();
	const char *p;
	int n = git_guard_check(r->w->git_guard, &ch, err);

	if (n > 0) {
		buf_addf(&r->w->edit_feedback,
			 "loopgate put back git control files "
			 "you changed (git configuration, hooks and attributes are "
			 "not yours to change):\n");
		for (p = ch.s; p < ch.s + ch.len; p += strlen(p) + 1) {
			const char *what = p + strlen(p) + 1;
			const char *found = what + strlen(what) + 1;
			buf_addf(&r->w->edit_feedback, "- %s: %s\n", p, what);
			json_array_append_new(paths,
					      json_pack("{s:o,s:s,s:o}", "path",
							events_str(p), "change", what,
							"found", events_str(found)));
			p = found;
		}
		r->w->integrity_events++;
		events_append(&r->ev, EV_INTEGRITY,
			      json_pack("{s:i,s:s,s:O}", "iteration", it->n, "kind",
					"git_control_change", "paths", paths));
	}
	json_decref(paths);
	buf_release(&ch);
	return n < 0 ? n : 0;
}

/*
 * Every gate exited 0.  That is convergence only when the pass holds up:
 * with --confirm the gates run again on the same tree, and a gate that
 * flips is flaky, not passed.
 */
static int judge_failed(struct run *r, struct iteration *it);

/* The clean checkout failed what the worker's tree passed: a failing round,
 * its gate the clean checkout's, the reason kept for the next prompt. */
static int reverify_rejected(struct run *r, struct iteration *it, const struct buf *why)
{
	free(r->w->reverify_note);
	r->w->reverify_note = xstrdup(why->s);
	return judge_failed(r, it);
}

/*
 * The verifiers' vote on a commit every gate passed (verify.h): 1 when it
 * stands, else 0 with *code the round's: a rejection is a failing round
 * whose dissent the next prompt gets.  A vote can only take a pass away.
 */
static int judge_vote(struct run *r, struct iteration *it, int *code, struct buf *err)
{
	struct verify_out v = VERIFY_OUT_INIT;
	int ret = verify_run_candidate(r, r->w, it->n, it->commit ? it->commit : "HEAD",
				       &v, err);

	if (ret == 0)
		vote_tally_set(&r->w->vote, &v);
	if (ret == 0 && !v.accepted) {
		free(r->w->vote_note);
		r->w->vote_note = xstrdup(v.feedback.s);
		*code = judge_failed(r, it);
		/* no gate failed: the round failed by the vote */
		it->gate_index = -1;
		free(it->gate_desc);
		it->gate_desc = xstrdup("rejected by the verifiers' vote");
	} else if (ret == -ENOSPC) {
		*code = loop_halt(r, "budget_exhausted", EXIT_HALTED,
				  "every gate passed, but the verifiers' vote cannot be "
				  "paid for: %s",
				  err->s);
	} else if (ret == -ECANCELED || ret == -ETIME) {
		*code = loop_halt(r, ret == -ETIME ? "budget_exhausted" : "interrupted",
				  EXIT_HALTED, "%s", err->s);
	} else if (ret < 0) {
		*code = cannot(r, ret, err->s);
	}
	verify_out_release(&v);
	return ret == 0 && v.accepted;
}

static int judge_pass(struct run *r, struct iteration *it, const char *dir,
		      struct buf *err)
{
	struct buf why = BUF_INIT;
	int ret = 0, code = -1;

	if (judge_floor(&r->w->judge, it->n, &why)) {
		code = loop_halt(r, "integrity_violation", EXIT_HALTED, "%s", why.s);
		buf_release(&why);
		return code;
	}
	if (r->cfg->confirm > 0)
		ret = judge_confirm(&r->w->judge, dir, it->n, &why, err);
	/* the claim, checked in a clean checkout of the commit (reverify.h) */
	if (ret == 0 && (ret = reverify_candidate(r, r->w, it->n, &why, err)) > 0) {
		code = reverify_rejected(r, it, &why);
		buf_release(&why);
		return code;
	}
	if (ret < 0)
		code = cannot(r, ret, err->s);
	else if (ret > 0)
		code = loop_halt(r, "integrity_violation", EXIT_HALTED, "%s", why.s);
	else if (r->cfg->nverifiers && !judge_vote(r, it, &code, err))
		; /* rejected by the vote, or it could not be held */
	else {
		code = loop_halt(r, "converged", EXIT_DONE,
				 "all %zu gates exit 0 after "
				 "iteration %d%s",
				 r->cfg->gates.n, it->n,
				 r->cfg->confirm > 0 ? " (confirmed)" : "");
	}
	buf_release(&why);
	return code;
}

/* The stall detector fired: roles.escalation may take the next turn
 * (route.h), up to escalations: times; else the loop halts. */
static int escalate(struct run *r, int iteration)
{
	return route_escalate(r, r->w, iteration);
}

/*
 * The stall key: the failure's fingerprint (failing test ids and locations,
 * volatile parts normalised) plus the normalised text of the lines that name
 * a failure or a location.  The messages count on purpose: an actor whose
 * assertion now fails with a different value is exploring, not stuck, and a
 * stall detector that kills exploring loops is one users learn to turn off.
 */
static void stall_key(const struct run *r, char hex[65])
{
	const struct gate_outcome *g = &r->w->judge.last;
	struct buf k = BUF_INIT;
	const char *p = g->output.s, *end = g->output.s + g->output.len;
	char fp[65] = "";

	/* On a digest failure the key still holds the failure lines below. */
	if (fingerprint_gate(g->index, g->describe, g->output.s, g->output.len, fp) >= 0)
		buf_add(&k, fp, 64);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		if (feedback_line_is_key(p, n)) {
			buf_addch(&k, '\n');
			fingerprint_normalise(p, n, &k);
		}
		p += n + 1;
	}
	hash_sha256_hex(k.s, k.len, hex);
	buf_release(&k);
}

/*
 * Stall detection.  Each failing round gets a fingerprint (failing test ids
 * and locations, volatile parts normalised); the baseline's seeds the count.
 * The same fingerprint stall_after times in a row, or that many iterations
 * in a row that changed nothing, is a stuck loop: halt before the budget is
 * burnt, unless escalation takes over.  Returns -1 to go on.
 */
static int check_stall(struct run *r, const struct iteration *it)
{
	char fp[65];
	int n = it ? it->n : 0;

	stall_key(r, fp);
	if (!strcmp(fp, r->w->stall_fp)) {
		r->w->stall_same++;
	} else {
		memcpy(r->w->stall_fp, fp, sizeof(fp));
		r->w->stall_same = 1;
	}
	r->w->stall_noop = it && it->noop ? r->w->stall_noop + 1 : 0;
	events_append(&r->ev, EV_FINGERPRINT,
		      json_pack("{s:i,s:i,s:s,s:i,s:i}", "iteration", n, "gate",
				r->w->judge.last.index + 1, "fingerprint", fp,
				"same_in_a_row", r->w->stall_same, "noop_in_a_row",
				r->w->stall_noop));
	if (!it || (r->w->stall_same < r->cfg->stall_after &&
		    r->w->stall_noop < r->cfg->stall_after))
		return -1;
	if (escalate(r, n))
		return -1;
	if (r->w->stall_noop >= r->cfg->stall_after)
		return loop_halt(r, "stalled", EXIT_HALTED,
				 "the actor changed nothing "
				 "%d iterations in a row",
				 r->w->stall_noop);
	return loop_halt(r, "stalled", EXIT_HALTED,
			 "the same failure (gate %d, "
			 "fingerprint %.12s) came back %d times in a row: the loop is "
			 "stuck",
			 r->w->judge.last.index + 1, fp, r->w->stall_same);
}

/*
 * The actor's turn of iteration it, or the part of it a resumed run still
 * has to do: from the start, or from a saved reply (no second call).
 */
static int act(struct run *r, struct iteration *it, struct actor_turn *t,
	       const struct loop_resume *from, struct buf *err)
{
	struct route_turn rt;
	int ret;
	/* spend recorded before a crash stays this iteration's */
	t->tokens_in = it->tokens_in;
	t->tokens_out = it->tokens_out;
	t->cost = it->cost;
	if (!from)
		events_append(&r->ev, EV_ITERATION_START,
			      json_pack("{s:i}", "iteration", it->n));
	/* the turn changes the tree: the scan after the gates (judge.h) ends
	 * first, but for a model's call, which nothing but its reply or its
	 * tools change the tree in (actor.c waits at its first attempt; a tool
	 * server or an agent might act any time) */
	if ((!r->w->prov || r->w->mcp || r->w->agent ||
	     (from && from->from == LOOP_FROM_REPLY)) &&
	    (ret = judge_scan_wait(&r->w->judge, err)) < 0)
		return ret;
	route_turn_begin(r, r->w, &rt); /* the escalation model's turn? */
	fresh_turn_begin(&r->w->fresh);
	buf_reset(&r->w->edit_paths);
	if (from && from->from == LOOP_FROM_REPLY)
		ret = actor_model_apply(r, r->w, t, &from->reply, err);
	else
		ret = r->w->prov    ? actor_model_turn(r, r->w, t, err)
		      : r->w->agent ? actor_agent_turn(r, t, err)
				    : actor_command_turn(r, r->w, t, err);
	route_turn_end(r, r->w, &rt);
	/* a model's edit blocks and nothing else: no process saw the turn's
	 * intermediate states (judge-fresh.md) */
	if (r->w->prov && !r->w->agent && !r->w->mcp && !t->tool_calls)
		fresh_turn_quiet(&r->w->fresh);
	it->tokens_in = t->tokens_in;
	it->tokens_out = t->tokens_out;
	it->cost = t->cost;
	it->edit_blocks = t->edit_blocks;
	it->edits_applied = t->edits_applied;
	it->edits_refused = t->edits_refused;
	/* moved: the iteration keeps how the actor's turn ended */
	it->actor_failed = t->failed;
	it->actor_desc = t->describe;
	it->actor_tail = t->tail;
	it->net_denied = t->net_denied;
	it->actor_advice = t->advice;
	t->describe = t->tail = t->net_denied = t->advice = NULL;
	return ret;
}

/* Stages and commits what the actor left, guarding protected paths. */
static int commit_turn(struct run *r, struct iteration *it, const char *absdir,
		       struct buf *err)
{
	struct buf changed = BUF_INIT, sha = BUF_INIT, touched = BUF_INIT;
	struct fileio_atomic fb;
	char *msg = xasprintf("loopgate: iteration %d\n\nrun %s", it->n, r->id);
	/* the excludes are complete before git stages (none runs by now) */
	long integrity = r->w->integrity_events;
	int ret = judge_scan_wait(&r->w->judge, err), one = 0;

	if (ret == 0)
		ret = guard_git(r, it, err);

	if (ret == 0)
		ret = fresh_touched(&r->w->fresh, r->w->tree, &r->w->judge.files,
				    &r->w->edit_paths, &touched, err);
	if (ret == 0 && !turn_nothing_to_stage(r, it, &touched, integrity) &&
	    !(one = turn_tracked_only(r, &touched, integrity)))
		ret = git_stage_all(r->w->tree, r->w->artifacts, &r->w->index, &changed,
				    err);
	/* reverted paths too: a cache may have seen the actor's version */
	fresh_merge(&touched, &changed);
	if (ret == 0 && !one)
		ret = turn_guard_protected(r, it, &changed, err);
	/* the feedback is final once the protected paths are put back */
	if (ret == 0 && (ret = feedback_begin(r, absdir, &fb, err)) == 0) {
		ret = turn_freshen(r, it, &touched, one || changed.len != 0, err);
		if (ret == 0 && (one || changed.len) &&
		    (ret = events_barrier(&r->ev)) == 0)
			ret = one ? turn_commit_tracked(r, msg, &changed, &sha, err)
				  : git_commit_staged(r->w->tree, msg, &r->w->index, &sha,
						      err);
		ret = feedback_end(&fb, ret, err);
	}
	if (ret == 0)
		record_iteration(r, it, &changed, &sha);
	free(msg);
	buf_release(&changed);
	buf_release(&sha);
	buf_release(&touched);
	return ret;
}

/* The iteration's gate round and what it means; -1 to go on. */
static int judge_round(struct run *r, struct iteration *it, const char *dir,
		       struct buf *err)
{
	int ret;
	/* the scan after the gates runs on while the next turn starts; none
	 * when nothing ran since the last (turn_nothing_to_stage's reasons) */
	r->w->judge.scan_later = 1;
	r->w->judge.scan_unless_unchanged = r->w->sandbox && r->w->sandbox->bwrap_on &&
					    !r->w->mcp && !r->w->agent;
	ret = judge_gates(&r->w->judge, dir, it->n, JUDGE_CASCADE, err);
	r->w->judge.scan_later = r->w->judge.scan_unless_unchanged = 0;
	if (ret < 0)
		return cannot(r, ret, err->s);
	it->judged = 1;
	free(r->w->reverify_note);
	r->w->reverify_note = NULL;
	free(r->w->vote_note);
	r->w->vote_note = NULL;
	if (r->w->judge.last.passed) /* more gates, verifiers: scan first */
		return (ret = judge_scan_wait(&r->w->judge, err)) < 0
			       ? cannot(r, ret, err->s)
			       : judge_pass(r, it, dir, err);
	return judge_failed(r, it);
}

/* A round whose deciding gate failed (judge.last): stall, protection and
 * the actor's failures decide how the run goes on. */
static int judge_failed(struct run *r, struct iteration *it)
{
	int ret;
	it->gate_index = r->w->judge.last.index;
	it->gate_exit = r->w->judge.last.exit_code;
	it->gate_desc = xstrdup(r->w->judge.last.describe);
	if ((ret = gate_interrupted(r)) >= 0 || (ret = turn_protected(r, it, 0)) >= 0)
		return ret;
	ret = check_stall(r, it);
	/* stuck while changing protected files: that is the cause to report */
	if (ret >= 0 && !strcmp(r->status, "stalled") && r->w->protect_streak > 0)
		ret = turn_protected(r, it, 1);
	else if (ret >= 0 && !strcmp(r->status, "stalled") && r->w->actor_fail_streak > 0)
		ret = turn_actor_outcome(r, it, 1);
	return ret;
}

/* The iteration's last records, made durable by the next barrier (next
 * request, turn or the run's end): docs/design/durability.md. */
static void iteration_end(struct run *r, struct iteration *it, int code)
{
	events_append(
		&r->ev, EV_ITERATION_END,
		json_pack("{s:i,s:b,s:o,s:o,s:f,s:I,s:I,s:f,s:i,s:o,s:o}", "iteration",
			  it->n, "noop", it->noop, "gate_failed",
			  /* null: no gate round judged it (cut short) */
			  it->judged ? json_integer(it->gate_index + 1) : json_null(),
			  /* the failing gate's describe text, null when none failed */
			  "gate_describe", events_str(it->gate_desc), "duration_ms",
			  it->elapsed_ms, "tokens_in", (json_int_t)it->tokens_in,
			  "tokens_out", (json_int_t)it->tokens_out, "cost_usd", it->cost,
			  /* how the run goes on: -1 next iteration, else its exit code */
			  "outcome", code, "status",
			  code >= 0 ? json_string(r->status) : json_null(), "reason",
			  code >= 0 ? events_str(r->reason.s) : json_null()));
	budget_event(r);
}

int loop_iterate(struct run *r, struct loop_resume *from, struct buf *err)
{
	struct iteration *it;
	struct actor_turn t;
	char dir[32], *absdir;
	long long t0 = clock_ms();
	int ret, code = -1;

	r->w->its = xrealloc(r->w->its, (r->w->nits + 1) * sizeof(*r->w->its));
	it = &r->w->its[r->w->nits];
	memset(it, 0, sizeof(*it));
	if (from) {
		*it = from->it; /* moved: resume.c filled it */
		memset(&from->it, 0, sizeof(from->it));
		t0 -= (long long)it->elapsed_ms;
	}
	it->n = (int)r->budget.iterations + 1;
	it->gate_index = -1;
	worker_bind_judge(r->w, r);
	rundir_iter_name(dir, sizeof(dir), it->n);
	absdir = xasprintf("%s/%s", r->run_dir, dir);
	if ((ret = fileio_mkdirs(absdir, err)) < 0) {
		free(absdir);
		return cannot(r, ret, err->s);
	}
	memset(&t, 0, sizeof(t));
	t.iteration = it->n;
	t.dir = absdir;
	if (!from || from->from != LOOP_FROM_GATES) {
		ret = act(r, it, &t, from, err);
		/* the call may have spent: the iteration counts either way */
		r->budget.iterations++;
		r->w->nits++;
		if (ret < 0) {
			code = actor_failed(r, &t, ret, err);
			goto out;
		}
		ret = commit_turn(r, it, absdir, err);
		r->w->protect_streak = it->reverted ? r->w->protect_streak + 1 : 0;
		if (ret < 0) {
			code = ret == -ECANCELED ? actor_failed(r, &t, ret, err)
						 : cannot(r, ret, err->s);
			goto out;
		}
		if (!r->cfg->gates.n) {
			code = loop_once_outcome(r, it);
			goto out;
		}
		if ((code = turn_actor_outcome(r, it, 0)) >= 0)
			goto out;
	} else {
		r->budget.iterations++;
		r->w->nits++;
	}
	/* a resumed round always asks: its cache is empty anyway */
	if ((!it->noop || from) && (ret = judge_tree_id(&r->w->judge, err)) < 0) {
		code = cannot(r, ret, err->s);
		goto out;
	}
	code = judge_round(r, it, dir, err);
out:
	actor_turn_release(&t);
	it->elapsed_ms = (double)(clock_ms() - t0);
	iteration_end(r, it, code);
	free(absdir);
	return code;
}

int loop_baseline(struct run *r, struct buf *err)
{
	char prog[128], mod[128];
	int ret, missing, module;
	worker_bind_judge(r->w, r);
	ret = judge_tree_id(&r->w->judge, err);
	/* the scan after the gates runs on while the first turn starts, as an
	 * iteration's does (judge_round; a resume scans before its rollback);
	 * a coordinator of workers takes it at once */
	r->w->judge.scan_later = !fanout_wanted(r->cfg);
	if (ret == 0)
		ret = judge_gates(&r->w->judge, "baseline", 0, JUDGE_ALL, err);
	r->w->judge.scan_later = 0;
	if (ret < 0)
		return cannot(r, ret, err->s);
	/* a gate whose program is not installed: no change can fix it */
	missing = !r->w->judge.last.passed &&
		  gate_program_missing(&r->w->judge.last, prog, sizeof(prog));
	/* `python -m X` without X: maybe a tool not installed, maybe the goal */
	module = !missing && !r->w->judge.last.passed &&
		 gate_module_missing(&r->w->judge.last, mod, sizeof(mod));
	events_append(&r->ev, EV_BASELINE,
		      json_pack("{s:b,s:i,s:o,s:o,s:o}", "passed",
				r->w->judge.last.passed, "gate",
				r->w->judge.last.index + 1, "describe",
				events_str(r->w->judge.last.describe), "missing",
				events_str(missing ? prog : NULL), "missing_module",
				events_str(module ? mod : NULL)));
	if (missing)
		return loop_halt(r, "error", EXIT_CANNOT,
				 "gate %d `%s` cannot run: `%s` is not installed where "
				 "the gates look (not found on PATH, exit 127), and no "
				 "change to the tree can fix that; install it or fix the "
				 "gate command, then run again",
				 r->w->judge.last.index + 1,
				 r->cfg->gates.v[r->w->judge.last.index], prog);
	/* split work: the tasks have gates of their own to satisfy */
	if (r->w->judge.last.passed && !r->cfg->ntask_specs)
		return loop_halt(r, "already_satisfied", EXIT_DONE,
				 "all %zu gates exit 0 "
				 "on the untouched tree: no model call was made",
				 r->cfg->gates.n);
	check_stall(r, NULL);
	return gate_interrupted(r);
}

int loop_finish(struct run *r, int code, struct buf *err)
{
	json_t *sum;
	char *path, *text;

	/* a scan still running: nothing needs it now (resume scans again) */
	if (r->w)
		judge_scan_wait(&r->w->judge, NULL);
	for (size_t i = 0; i < r->nworkers; i++) /* no spawn after this */
		sandbox_quiesce(r->workers[i].sandbox);
	sum = run_summary(r, code);
	if (json_is_true(json_object_get(sum, "review_requested")))
		events_append(&r->ev, EV_REVIEW_REQUESTED,
			      json_pack("{s:f,s:s}", "sample", r->cfg->review_sample,
					"why", "a converged run in the review_sample"));
	events_append(&r->ev, EV_RUN_END, json_incref(sum));
	events_seal(&r->ev); /* the final signed checkpoint */
	if (r->ev.failed) {
		buf_addf(err, "%s%s", err->len ? "; " : "", r->ev.err.s);
		code = EXIT_CANNOT;
		r->status = "error";
	}
	text = json_dumps(sum, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	path = rundir_file(r->run_dir, RUNDIR_SUMMARY);
	/* in place now, made durable while the report is made (run_release
	 * joins its fsync): the sealed log holds the same summary */
	fileio_atomic_close(&r->summary, NULL);
	if (text)
		fileio_write_atomic_begin(&r->summary, path, text, strlen(text), NULL);
	free(text);
	free(path);
	json_decref(sum);
	return code;
}

int loop_run(struct run *r, struct buf *err)
{
	int code;
	const struct config *c = r->cfg;

	/* run_init made them: one worker, r->w its first (run.h) */
	assert(c && r->nworkers >= 1 && r->w == &r->workers[0]);
	r->goal = c->goal;
	r->budget.max_iterations = c->max_iterations;
	r->budget.max_tokens = c->max_tokens > 0 ? c->max_tokens : 0;
	r->budget.max_cost = c->max_cost;
	if (c->deadline_ms > 0)
		r->budget.deadline_at = r->start_ms + c->deadline_ms;
	code = run_setup(r, err);
	if (code && interrupt_pending())
		code = loop_halt(r, "interrupted", EXIT_HALTED,
				 "interrupted (signal %d) during setup%s%s",
				 interrupt_pending(), err->len ? ": " : "", err->s);
	if (code)
		return r->run_dir && r->ev.fd >= 0 ? loop_finish(r, code, err) : code;
	r->w->git_guard = git_guard_snapshot(r->w->tree, err);
	if (!r->w->git_guard)
		return loop_continue(r, cannot(r, -EIO, err->s), err);
	code = loop_baseline(r, err);
	/* several workers: this run coordinates them and acts no more */
	if (code < 0 && fanout_wanted(c))
		code = fanout_run(r, err);
	return loop_continue(r, code, err);
}

int loop_continue(struct run *r, int code, struct buf *err)
{
	struct buf why = BUF_INIT;

	while (code < 0) {
		if (r->ev.failed) {
			code = cannot(r, r->ev.failed, r->ev.err.s);
			break;
		}
		if (interrupt_pending()) {
			code = loop_halt(r, "interrupted", EXIT_HALTED,
					 "interrupted (signal %d) "
					 "between steps",
					 interrupt_pending());
			break;
		}
		if (budget_spent(&r->budget, &why)) {
			code = loop_halt(r, "budget_exhausted", EXIT_HALTED, "%s", why.s);
			break;
		}
		code = loop_iterate(r, NULL, err);
	}
	buf_release(&why);
	if (code != EXIT_DONE && code != EXIT_USAGE)
		buf_sets(err, r->reason.s);
	return loop_finish(r, code, err);
}
