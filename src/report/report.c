/*
 * report.c: summary JSON and handoff.md.  See report.h.
 */
#include "report/report.h"
#include "record/rundir.h"
#include "base/utf8.h"
#include "base/clock.h"
#include "judge/feedback.h"
#include "base/fileio.h"
#include "tree/git.h"
#include "engine/prompt.h"
#include "engine/route.h"
#include "engine/fanout.h"
#include "record/redact.h"

#include <stdio.h>
#include <string.h>

#define DIFF_MAX	   (256u << 10)
#define HANDOFF_OUTPUT_MAX 32768

static void add_table(const struct run *r, struct buf *b)
{
	size_t i;
	buf_adds(b, "\n## Iterations\n\n| # | files changed | actor | edits "
		    "applied/refused | gate result | tokens in/out | cost | time |\n"
		    "|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < r->w->nits; i++) {
		const struct iteration *it = &r->w->its[i];
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
	if (!r->w->nits)
		buf_adds(b, "| - | no iteration completed | | | | | | |\n");
}

/* The latest failed agent turn: its status, refusals and last lines. */
static void add_actor(const struct run *r, struct buf *b)
{
	const struct iteration *it = NULL;
	for (size_t i = r->w->nits; i > 0 && !it; i--)
		if (r->w->its[i - 1].actor_failed || r->w->its[i - 1].net_denied)
			it = &r->w->its[i - 1];
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
		char *out = rundir_iter(r->run_dir, it->n, "actor.out");
		buf_addf(b, "\nIts last lines (all of it: `%s`):\n\n", out);
		free(out);
		prompt_fence(b, "text", it->actor_tail, strlen(it->actor_tail));
	}
}

/* Attempts on protected files, so a reviewer sees how the actor tried. */
static void add_integrity(const struct run *r, struct buf *b)
{
	size_t i;
	if (!r->w->integrity_events)
		return;
	buf_addf(b,
		 "\n## Integrity\n\nThe actor changed protected files %ld "
		 "time(s); each change was reverted before the gates ran (the "
		 "attempted diffs are in events.jsonl, kind `integrity`).\n\n",
		 r->w->integrity_events);
	for (i = 0; i < r->w->nits; i++)
		if (r->w->its[i].reverted_paths)
			buf_addf(b, "- iteration %d: %s\n", r->w->its[i].n,
				 r->w->its[i].reverted_paths);
}

/* Tests each gate ran, at baseline and now: the evidence of the floor. */
static void add_tests(const struct run *r, struct buf *b)
{
	struct buf d = BUF_INIT;
	if (!r->w->judge.base_counts)
		return;
	buf_adds(b,
		 "\n## Tests\n\n| gate | at baseline | latest round |\n|---|---|---|\n");
	for (size_t i = 0; i < r->cfg->gates.n; i++) {
		buf_addf(b, "| %zu `%s` | ", i + 1, r->cfg->gates.v[i]);
		buf_reset(&d);
		testcount_describe(&r->w->judge.base_counts[i], &d);
		buf_addf(b, "%s | ", d.s);
		buf_reset(&d);
		testcount_describe(&r->w->judge.round_counts[i], &d);
		buf_addf(b, "%s |\n", d.s);
	}
	buf_adds(b,
		 "\nA gate without a recognised test runner at baseline has no "
		 "executed-test floor: a pass there is taken at its exit code alone.\n");
	buf_release(&d);
}

static void add_last_gate(const struct run *r, struct buf *b)
{
	const struct gate_outcome *g = &r->w->judge.last;
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
	/* HEAD still at the base (no commit): nothing to ask git */
	if (!git_head_is(r->w->tree, r->base_sha) &&
	    git_run(r->w->tree, &diff, NULL, "diff", "--no-ext-diff", "--no-textconv",
		    "--stat", "--patch", r->base_sha, "HEAD", NULL) < 0 &&
	    !diff.truncated)
		buf_sets(&diff, "(the diff could not be computed)\n");
	buf_addf(b, "\n## Cumulative diff (%s..%s)\n\n", r->base_sha, r->w->branch);
	if (!diff.len)
		buf_adds(b, "No change was committed on the run branch.\n");
	else {
		utf8_clean(diff.s, diff.len, &clean);
		prompt_fence(b, "diff", clean.s, clean.len);
		if (diff.truncated)
			buf_addf(b, "(diff cut at %u KiB: `git diff %s %s` shows all)\n",
				 DIFF_MAX >> 10, r->base_sha, r->w->branch);
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
		 base, r->w->branch, base, r->w->branch, r->w->tree, r->w->tree,
		 r->w->branch, r->run_dir);
}

/* A fan-out run: every worker, what became of it, and why the winner won. */
static void add_workers(const struct run *r, struct buf *b)
{
	json_t *ws;
	const json_t *w;
	size_t i;

	if (!r->fan)
		return;
	ws = fanout_json(r->fan);
	buf_addf(b, "\n## Workers (select: %s)\n\n", fanout_select(r->fan));
	buf_adds(b,
		 "| worker | who acts | status | iterations | cost | verifiers' vote | "
		 "its claim, checked by loopgate in a clean checkout "
		 "|\n|---|---|---|---|---|---|---|\n");
	json_array_foreach(ws, i, w)
	{
		const json_t *v = json_object_get(w, "verified");
		const char *rej = json_string_value(json_object_get(w, "rejected"));
		const char *id = json_string_value(json_object_get(w, "worker"));
		const char *name = json_string_value(json_object_get(w, "name"));
		char vote[64];
		fanout_vote_text(json_object_get(w, "vote"), vote, sizeof(vote));
		buf_addf(b, "| %s%s%s%s%s | `%s` | %s | %lld | $%.4f | %s | %s%s |\n",
			 json_is_true(json_object_get(w, "winner")) ? "**won** " : "", id,
			 strcmp(id, name) ? " (" : "", strcmp(id, name) ? name : "",
			 strcmp(id, name) ? ")" : "",
			 json_string_value(json_object_get(w, "settings")) ?: "-",
			 json_string_value(json_object_get(w, "status")) ?: "?",
			 (long long)json_integer_value(json_object_get(w, "iterations")),
			 json_number_value(json_object_get(w, "cost_usd")), vote,
			 json_is_true(v)    ? "verified"
			 : json_is_false(v) ? "rejected: "
					    : "no claim",
			 json_is_false(v) && rej ? rej : "");
	}
	buf_adds(b, "\nEach worker's own run (`loopgate show RUN-wK`) holds its "
		    "prompts, replies, gate outputs and signed log.\n");
	json_decref(ws);
}

int report_handoff_begin(const struct run *r, struct fileio_atomic *file, struct buf *err)
{
	struct buf b = BUF_INIT;
	char *path = rundir_file(r->run_dir, RUNDIR_HANDOFF);
	int ret;

	buf_addf(&b, "# loopgate handoff: run %s\n\n", r->id);
	buf_addf(&b, "**Status:** %s — %s\n\n", r->status, r->reason.s);
	buf_addf(&b,
		 "**Branch:** `%s` (from `%s`)  \n**Iterations:** %ld  \n"
		 "**Tokens:** %ld in, %ld out (%ld calls)  \n**Cost:** $%.4f  \n"
		 "**Elapsed:** %.1f s\n",
		 r->w->branch, r->base_sha, r->budget.iterations, r->budget.tokens_in,
		 r->budget.tokens_out, r->budget.calls, r->budget.cost,
		 (clock_ms() - r->start_ms) / 1000.0);
	if (r->resumes)
		buf_addf(&b,
			 "**Resumed:** %d time(s) after the loopgate process died "
			 "(`loopgate resume`); the figures above count the whole run\n",
			 r->resumes);
	if (r->w->reverified_at)
		buf_addf(&b,
			 "**Re-verified:** iteration %d's commit passed every gate in a "
			 "clean checkout (only committed files)\n",
			 r->w->reverified_at);
	if (r->w->reverify_rejects)
		buf_addf(&b,
			 "**Rejected claims:** %d time(s) the gates passed in the "
			 "actor's tree but not in a clean checkout of its commit "
			 "(events `reverify_end`)\n",
			 r->w->reverify_rejects);
	buf_adds(
		&b,
		r->cfg->sandbox != 0
			? "**Sandbox:** on (bubblewrap, seccomp; see the sandbox event)\n"
			: "**Sandbox:** OFF (--no-sandbox): the gates and the actor ran "
			  "with loopgate's own access\n");
	{
		/* who spent it: the roles add up to the figures above */
		json_t *roles = route_spend_json(r);
		struct buf t = BUF_INIT;
		route_spend_text(roles, "    ", &t);
		if (r->spend[ROLE_VERIFIER].calls || r->spend[ROLE_ESCALATION].calls)
			buf_addf(&b,
				 "\n**Spend by role** (worker, verifier, "
				 "escalation):\n\n%s",
				 t.s);
		buf_release(&t);
		json_decref(roles);
	}
	buf_adds(&b, "\n## Goal\n\n");
	buf_adds(&b, r->goal ? r->goal : "");
	buf_adds(&b, "\n\n## Gates\n\n");
	for (size_t i = 0; i < r->cfg->gates.n; i++)
		buf_addf(&b, "%zu. `%s`\n", i + 1, r->cfg->gates.v[i]);
	add_workers(r, &b);
	add_table(r, &b);
	add_actor(r, &b);
	add_integrity(r, &b);
	add_tests(r, &b);
	add_last_gate(r, &b);
	add_diff(r, &b);
	add_continue(r, &b);
	redact_buf(&b);
	if ((ret = fileio_atomic_open(file, path, err)) == 0) {
		fileio_atomic_write(file, b.s, b.len, err);
		fileio_atomic_sync_begin(file);
	}
	free(path);
	buf_release(&b);
	return ret;
}
