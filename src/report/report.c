/*
 * report.c: summary JSON and handoff.md.  See report.h.
 */
#include "report/report.h"
#include "base/utf8.h"
#include "base/clock.h"
#include "judge/feedback.h"
#include "base/fileio.h"
#include "tree/git.h"
#include "engine/prompt.h"
#include "store/store.h"
#include "record/redact.h"

#include <stdio.h>
#include <string.h>

#define DIFF_MAX	   (256u << 10)
#define HANDOFF_OUTPUT_MAX 32768

json_t *report_summary(const struct run *r, int exit_code)
{
	json_t *o = json_object();
	json_object_set_new(o, "run_id", json_string(r->id));
	json_object_set_new(o, "status", json_string(r->status));
	/* the reason may quote a path or a command: never let it vanish */
	json_object_set_new(o, "reason", events_strn(r->reason.s, r->reason.len));
	json_object_set_new(o, "exit_code", json_integer(exit_code));
	json_object_set_new(o, "iterations", json_integer(r->budget.iterations));
	json_object_set_new(o, "tokens_in", json_integer(r->budget.tokens_in));
	json_object_set_new(o, "tokens_out", json_integer(r->budget.tokens_out));
	json_object_set_new(o, "cost_usd", json_real(r->budget.cost));
	json_object_set_new(o, "calls", json_integer(r->budget.calls));
	json_object_set_new(o, "elapsed_s",
			    json_real((clock_ms() - r->start_ms) / 1000.0));
	json_object_set_new(o, "branch", events_str(r->branch));
	json_object_set_new(o, "run_dir", events_str(r->run_dir));
	json_object_set_new(o, "base",
			    r->base_sha ? json_string(r->base_sha) : json_null());
	/* review_sample: this converged run is picked for human review */
	if (exit_code == 0 && r->status && !strcmp(r->status, "converged") &&
	    store_review_pick(r->id, r->cfg->review_sample))
		json_object_set_new(o, "review_requested", json_true());
	/* loopgate resume: how many times the run was continued after a crash */
	json_object_set_new(o, "resumed", json_integer(r->resumes));
	/* loopgate once: one turn, no gate; its change is in diff.patch */
	if (!r->cfg->gates.n) {
		json_object_set_new(o, "mode", json_string("once"));
		json_object_set_new(o, "diff_file", json_string("diff.patch"));
	}
	/* "--no-sandbox" is on the record wherever the run is read */
	json_object_set_new(o, "sandbox", json_boolean(r->cfg->sandbox != 0));
	return o;
}

static void add_table(const struct run *r, struct buf *b)
{
	size_t i;
	buf_adds(b, "\n## Iterations\n\n| # | files changed | actor | edits "
		    "applied/refused | gate result | tokens in/out | cost | time |\n"
		    "|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < r->nits; i++) {
		const struct iteration *it = &r->its[i];
		size_t j;
		buf_addf(b, "| %d | ", it->n);
		if (it->noop)
			buf_adds(b, "(none)");
		for (j = 0; j < it->nchanged && j < 6; j++)
			buf_addf(b, "%s`%s`", j ? ", " : "", it->changed[j]);
		if (it->nchanged > 6)
			buf_addf(b, " +%zu", it->nchanged - 6);
		buf_addf(b, " | %s | %d/%d | ", it->actor_desc ? it->actor_desc : "-",
			 it->edits_applied, it->edits_refused);
		/* a round cut short (the actor failed, Ctrl-C) judged nothing */
		if (it->gate_index >= 0)
			buf_addf(b, "gate %d: %s", it->gate_index + 1,
				 it->gate_desc ? it->gate_desc : "not run");
		else if (it->judged)
			buf_adds(b, "all passed");
		else
			buf_adds(b, "gates not run");
		buf_addf(b, " | %ld/%ld | $%.4f | %.1fs |\n", it->tokens_in,
			 it->tokens_out, it->cost, it->elapsed_ms / 1000.0);
	}
	if (!r->nits)
		buf_adds(b, "| - | no iteration completed | | | | | | |\n");
}

/* The latest failed agent turn: its status, refusals and last lines. */
static void add_actor(const struct run *r, struct buf *b)
{
	const struct iteration *it = NULL;
	for (size_t i = r->nits; i > 0 && !it; i--)
		if (r->its[i - 1].actor_failed || r->its[i - 1].net_denied)
			it = &r->its[i - 1];
	if (!it)
		return;
	buf_addf(b, "\n## Actor\n\nIteration %d: the agent command %s%s.\n", it->n,
		 it->actor_failed ? "failed: " : "ended with ", it->actor_desc);
	if (it->net_denied)
		buf_addf(b, "\nThe sandbox refused it network access to %s.\n",
			 it->net_denied);
	if (it->actor_advice)
		buf_addf(b, "\nWhat to do: %s.\n", it->actor_advice);
	if (it->actor_tail) {
		buf_addf(b, "\nIts last lines (all of it: `%s/iter-%03d/actor.out`):\n\n",
			 r->run_dir, it->n);
		prompt_fence(b, "text", it->actor_tail, strlen(it->actor_tail));
	}
}

/* Attempts on protected files, so a reviewer sees how the actor tried. */
static void add_integrity(const struct run *r, struct buf *b)
{
	size_t i;
	if (!r->integrity_events)
		return;
	buf_addf(b,
		 "\n## Integrity\n\nThe actor changed protected files %ld "
		 "time(s); each change was reverted before the gates ran (the "
		 "attempted diffs are in events.jsonl, kind `integrity`).\n\n",
		 r->integrity_events);
	for (i = 0; i < r->nits; i++)
		if (r->its[i].reverted_paths)
			buf_addf(b, "- iteration %d: %s\n", r->its[i].n,
				 r->its[i].reverted_paths);
}

/* Tests each gate ran, at baseline and now: the evidence of the floor. */
static void add_tests(const struct run *r, struct buf *b)
{
	struct buf d = BUF_INIT;
	if (!r->base_counts)
		return;
	buf_adds(b,
		 "\n## Tests\n\n| gate | at baseline | latest round |\n|---|---|---|\n");
	for (size_t i = 0; i < r->cfg->gates.n; i++) {
		buf_addf(b, "| %zu `%s` | ", i + 1, r->cfg->gates.v[i]);
		buf_reset(&d);
		testcount_describe(&r->base_counts[i], &d);
		buf_addf(b, "%s | ", d.s);
		buf_reset(&d);
		testcount_describe(&r->round_counts[i], &d);
		buf_addf(b, "%s |\n", d.s);
	}
	buf_adds(b,
		 "\nA gate without a recognised test runner at baseline has no "
		 "executed-test floor: a pass there is taken at its exit code alone.\n");
	buf_release(&d);
}

static void add_last_gate(const struct run *r, struct buf *b)
{
	const struct gate_outcome *g = &r->last;
	struct buf body = BUF_INIT;
	if (!g->ran)
		return;
	buf_addf(b,
		 "\n## Last gate result\n\nGate %d, `%s`: %s (%.1f s). Full output: "
		 "`%s/%s` (%zu bytes).\n\n",
		 g->index + 1, r->cfg->gates.v[g->index], g->describe,
		 g->elapsed_ms / 1000.0, r->run_dir, g->output_file, g->output_total);
	feedback_condense(g->output.s, g->output.len, HANDOFF_OUTPUT_MAX, &body);
	prompt_fence(b, "text", body.s, body.len);
	buf_release(&body);
}

static void add_diff(const struct run *r, struct buf *b)
{
	struct buf diff = BUF_INIT, clean = BUF_INIT;
	buf_init(&diff, DIFF_MAX);
	if (git_run(r->tree, &diff, NULL, "diff", "--no-ext-diff", "--no-textconv",
		    "--stat", "--patch", r->base_sha, "HEAD", NULL) < 0 &&
	    !diff.truncated)
		buf_sets(&diff, "(the diff could not be computed)\n");
	buf_addf(b, "\n## Cumulative diff (%s..%s)\n\n", r->base_sha, r->branch);
	if (!diff.len)
		buf_adds(b, "No change was committed on the run branch.\n");
	else {
		utf8_clean(diff.s, diff.len, &clean);
		prompt_fence(b, "diff", clean.s, clean.len);
		if (diff.truncated)
			buf_addf(b, "(diff cut at %u KiB: `git diff %s %s` shows all)\n",
				 DIFF_MAX >> 10, r->base_sha, r->branch);
	}
	buf_release(&diff);
	buf_release(&clean);
}

static void add_continue(const struct run *r, struct buf *b)
{
	char base[13];
	snprintf(base, sizeof(base), "%.12s", r->base_sha);
	buf_addf(b,
		 "\n## How to continue\n\n"
		 "- Look at the work: `git log --stat %s..%s`, `git diff %s %s`.\n"
		 "- Continue by hand in the run's tree, which is on that branch: "
		 "`cd %s`; or check the branch out in your own tree after "
		 "`git worktree remove --force %s`.\n"
		 "- Keep only what helps: `git merge %s` or `git cherry-pick` single "
		 "iterations (one commit each).\n"
		 "- Give the loop more room: run the same command again with a larger "
		 "budget (`--max-iterations`, `--max-tokens`, `--max-cost`, "
		 "`--deadline`); to start from this run's result, merge the branch "
		 "first.\n"
		 "- Every prompt, reply and gate output is in `%s` (events.jsonl is the "
		 "full record).\n",
		 base, r->branch, base, r->branch, r->tree, r->tree, r->branch,
		 r->run_dir);
}

int report_handoff(const struct run *r, struct buf *err)
{
	struct buf b = BUF_INIT;
	char *path = xasprintf("%s/handoff.md", r->run_dir);
	int ret;

	buf_addf(&b, "# loopgate handoff: run %s\n\n", r->id);
	buf_addf(&b, "**Status:** %s — %s\n\n", r->status, r->reason.s);
	buf_addf(&b,
		 "**Branch:** `%s` (from `%s`)  \n**Iterations:** %ld  \n"
		 "**Tokens:** %ld in, %ld out (%ld calls)  \n**Cost:** $%.4f  \n"
		 "**Elapsed:** %.1f s\n",
		 r->branch, r->base_sha, r->budget.iterations, r->budget.tokens_in,
		 r->budget.tokens_out, r->budget.calls, r->budget.cost,
		 (clock_ms() - r->start_ms) / 1000.0);
	if (r->resumes)
		buf_addf(&b,
			 "**Resumed:** %d time(s) after the loopgate process died "
			 "(`loopgate resume`); the figures above count the whole run\n",
			 r->resumes);
	buf_adds(
		&b,
		r->cfg->sandbox != 0
			? "**Sandbox:** on (bubblewrap, seccomp; see the sandbox event)\n"
			: "**Sandbox:** OFF (--no-sandbox): the gates and the actor ran "
			  "with loopgate's own access\n");
	buf_adds(&b, "\n## Goal\n\n");
	buf_adds(&b, r->goal ? r->goal : "");
	buf_adds(&b, "\n\n## Gates\n\n");
	for (size_t i = 0; i < r->cfg->gates.n; i++)
		buf_addf(&b, "%zu. `%s`\n", i + 1, r->cfg->gates.v[i]);
	add_table(r, &b);
	add_actor(r, &b);
	add_integrity(r, &b);
	add_tests(r, &b);
	add_last_gate(r, &b);
	add_diff(r, &b);
	add_continue(r, &b);
	redact_buf(&b);
	ret = fileio_write_atomic(path, b.s, b.len, err);
	free(path);
	buf_release(&b);
	return ret;
}
