/*
 * turn.c: the checks after an actor's turn.  See turn.h.
 */
#include "engine/turn.h"
#include "record/evkind.h"
#include "engine/loop.h"
#include "tree/git.h"
#include "exec/sandbox.h"
#include "judge/judge.h"

#include <stdlib.h>
#include <string.h>

enum { EXIT_HALTED = 1 };

/*
 * Fresh judgment (fresh.h): every path the turn touched, changed, created,
 * deleted or had reverted gets an mtime later than any state of it a cache
 * may have recorded, and its Python bytecode goes, before a gate sees it.
 */
int turn_freshen(struct run *r, struct iteration *it, const struct buf *paths,
		 int committing, struct buf *err)
{
	struct fresh_report rep = FRESH_REPORT_INIT;
	json_t *gone;
	const char *p;
	int ret = fresh_apply(&r->w->fresh, r->w->tree, paths, &r->w->judge.files, &rep,
			      err);

	if (ret == 0 && rep.stamped && !committing)
		/* no commit refreshes the index's stat data: do it, or the
		 * next turn would see these paths as touched again */
		ret = git_run(r->w->tree, NULL, err, "update-index", "-q", "--refresh",
			      NULL);
	if (ret == 0 && (rep.stamped || rep.bytecode.len)) {
		gone = json_array();
		for (p = rep.bytecode.s; p < rep.bytecode.s + rep.bytecode.len;
		     p += strlen(p) + 1)
			json_array_append_new(gone, events_str(p));
		events_append(&r->ev, EV_FRESH,
			      json_pack("{s:i,s:i,s:I,s:I,s:o}", "iteration", it->n,
					"stamped", rep.stamped, "mtime_ns",
					(json_int_t)rep.stamp_ns, "waited_ms",
					(json_int_t)rep.waited_ms, "bytecode_removed",
					gone));
	}
	fresh_report_release(&rep);
	return ret;
}

/*
 * An actor that keeps changing protected files is not stuck on the code:
 * it is working against the goal's definition, or the goal needs a file
 * protected by default.  Either way a person must decide, so the run ends
 * as integrity_violation naming the file and the flag that would lift the
 * protection, instead of burning iterations into `stalled`: after
 * stall_after such iterations in a row, or sooner when the loop is stuck
 * (stuck: the stall detector's verdict) and the latest turn did it again.
 * -1 to go on.
 */
int turn_protected(struct run *r, const struct iteration *it, int stuck)
{
	const char *rule = "";
	char *first, *hint;
	int code;

	if (!it->reverted_paths || (!stuck && r->w->protect_streak < r->cfg->stall_after))
		return -1;
	first = xstrndup(it->reverted_paths, strcspn(it->reverted_paths, ","));
	switch (protect_reason(&r->w->protect, first, &rule)) {
	case PROTECT_USER:
		hint = xasprintf("it matches your --protect '%s'; drop that glob if "
				 "the goal needs it changed",
				 rule);
		break;
	case PROTECT_GATE:
		hint = xasprintf("a gate runs it as a script; if the goal needs it "
				 "changed, pass --unprotect '%s'",
				 first);
		break;
	default:
		hint = xasprintf("it matches the default test/CI glob '%s'; if the "
				 "goal needs it changed, pass --unprotect '%s' (or "
				 "--no-protect)",
				 rule, first);
	}
	code = loop_halt(r, "integrity_violation", EXIT_HALTED,
			 "the actor changed protected file(s) %s in %d iteration(s) in "
			 "a row; each change was reverted before the gates ran: %s",
			 it->reverted_paths, r->w->protect_streak, hint);
	free(first);
	free(hint);
	return code;
}

/*
 * A failed agent command (the console shows it: loop.c).  K failed turns in a
 * row that changed nothing end the run as actor_failed, with the advice
 * that matches the cause (not `stalled`: the loop never got to try); so
 * does a stall (stuck) whose latest turn was such a failure.  -1 to go on.
 */
int turn_actor_outcome(struct run *r, struct iteration *it, int stuck)
{
	if (stuck)
		goto halt;
	if (!it->actor_failed) {
		r->w->actor_fail_streak = 0;
		return -1;
	}
	r->w->actor_fail_streak = it->noop ? r->w->actor_fail_streak + 1 : 0;
	if (r->w->actor_fail_streak < r->cfg->max_actor_failures)
		return -1;
halt:
	return loop_halt(r, "actor_failed", EXIT_HALTED,
			 "the agent command failed %d turn(s) in a row without changing "
			 "anything (%s): %s",
			 r->w->actor_fail_streak, it->actor_desc, it->actor_advice);
}

/* The staged change against the protected paths (turn.h). */
int turn_guard_protected(struct run *r, struct iteration *it, struct buf *changed,
			 struct buf *err)
{
	struct buf bad = BUF_INIT, keep = BUF_INIT, diff = BUF_INIT;
	const char *p;
	json_t *paths = json_array();
	int ret = 0;

	for (p = changed->s; p < changed->s + changed->len; p += strlen(p) + 1)
		buf_add(protect_match(&r->w->protect, p) ? &bad : &keep, p,
			strlen(p) + 1);
	if (!bad.len)
		goto out;
	buf_init(&diff, 65536);
	git_run(r->w->tree, &diff, NULL, "diff", "--cached", "--no-ext-diff",
		"--no-textconv", "--stat", "--patch", "HEAD", NULL);
	ret = git_revert_paths(r->w->tree, &bad, err);
	if (ret < 0)
		goto out;
	buf_addf(&r->w->edit_feedback,
		 "loopgate reverted your changes to protected "
		 "files: the tests, the gate scripts and CI configuration define "
		 "the goal and are not yours to change. Fix the code under test "
		 "instead. Reverted:\n");
	{
		struct buf list = BUF_INIT;
		for (p = bad.s; p < bad.s + bad.len; p += strlen(p) + 1) {
			buf_addf(&r->w->edit_feedback, "- %s\n", p);
			buf_addf(&list, "%s%s", list.len ? ", " : "", p);
			json_array_append_new(paths, events_str(p));
			it->reverted++;
		}
		it->reverted_paths = buf_detach(&list, NULL);
	}
	r->w->integrity_events++;
	events_append(&r->ev, EV_INTEGRITY,
		      json_pack("{s:i,s:s,s:o,s:o,s:b}", "iteration", it->n, "kind",
				"protected_change", "paths", paths, "diff",
				events_strn(diff.s, diff.len), "diff_truncated",
				diff.truncated));
	paths = NULL;
	buf_reset(changed);
	buf_add(changed, keep.s, keep.len);
out:
	json_decref(paths);
	buf_release(&bad);
	buf_release(&keep);
	buf_release(&diff);
	return ret;
}

/*
 * 1 when nothing but loopgate wrote the tree since the scan after the
 * latest gate round began: a model's turn that ran nothing (fresh.quiet),
 * no command started since that scan (every untracked file was there for
 * it: in the excludes), each spawn's processes dead with it (the sandbox's
 * PID namespace: no daemon writes on), no git control file put back, the
 * index as the checkout or the last commit left it (equal to HEAD).
 */
static int only_loopgate_wrote(const struct run *r, long integrity_before)
{
	return r->w->fresh.quiet && r->w->integrity_events == integrity_before &&
	       r->w->sandbox && r->w->sandbox->bwrap_on &&
	       judge_nothing_ran_since_scan(&r->w->judge) &&
	       git_index_stamp_same(r->w->tree, &r->w->index);
}

/*
 * 1 when `git add -A` would stage nothing, known without asking it:
 * only_loopgate_wrote, no edit block, and no tracked file differing from
 * the index (touched: git_diff_files's list, racily clean entries hashed,
 * and what changed during the turn; empty).
 */
int turn_nothing_to_stage(const struct run *r, const struct iteration *it,
			  const struct buf *touched, long integrity_before)
{
	return !it->edit_blocks && !touched->len &&
	       only_loopgate_wrote(r, integrity_before);
}

/*
 * 1 when `git commit -a` stages exactly what `git add -A` would, known
 * without asking git: only_loopgate_wrote, so the only new files can be
 * the ones the edit blocks wrote, and each of those is tracked already;
 * and none of them, nor of touched (every tracked path whose stat
 * changed), is protected, which the guard would have to see staged
 * (turn_guard_protected).  One git process instead of two.
 */
int turn_tracked_only(const struct run *r, const struct buf *touched,
		      long integrity_before)
{
	const struct buf *files = &r->w->judge.files, *wrote = &r->w->edit_paths;
	const char *p;

	if (!touched->len || !only_loopgate_wrote(r, integrity_before))
		return 0;
	for (p = wrote->s; p < wrote->s + wrote->len; p += strlen(p) + 1)
		if (!buf_list_has(files->s, files->len, p) ||
		    protect_match(&r->w->protect, p))
			return 0;
	for (p = touched->s; p < touched->s + touched->len; p += strlen(p) + 1)
		if (protect_match(&r->w->protect, p))
			return 0;
	return 1;
}

/* The turn's commit when turn_tracked_only: `git commit -a`, or, when git found
 * nothing to commit (the touched files hold what they held), the usual
 * way, which then stages nothing (freshen's stamps need the index's stat
 * data refreshed, as turn_freshen does when it knows nothing is
 * committed). */
int turn_commit_tracked(struct run *r, const char *msg, struct buf *changed,
			struct buf *sha, struct buf *err)
{
	int ret = git_commit_tracked(r->w->tree, msg, &r->w->index, changed, sha, err);

	if (ret != 1)
		return ret;
	ret = git_stage_all(r->w->tree, r->w->artifacts, &r->w->index, changed, err);
	if (ret == 0 && changed->len)
		return git_commit_staged(r->w->tree, msg, &r->w->index, sha, err);
	if (ret == 0)
		ret = git_run(r->w->tree, NULL, err, "update-index", "-q", "--refresh",
			      NULL);
	return ret;
}
