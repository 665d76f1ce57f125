/*
 * fanout_end.c: what the coordinator does when a worker ends: read what it
 * says it did, check its claim in a clean checkout, and, when all have
 * ended, choose.  See fanout.h and docs/design/fanout.md.
 */
#include "engine/fanout.h"
#include "engine/fanout_impl.h"
#include "engine/ledger.h"
#include "engine/loop.h"
#include "engine/run.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "tree/git.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_DONE = 0, EXIT_HALTED = 1, EXIT_CANNOT = 3 };

void fanout_stop(struct fanout *f, const char *why)
{
	if (f->stopping)
		return;
	f->stopping = 1;
	f->stop_why = why;
}

static json_t *role_json(const struct role_spend *s)
{
	return json_pack("{s:I,s:I,s:I,s:f}", "tokens_in", (json_int_t)s->tokens_in,
			 "tokens_out", (json_int_t)s->tokens_out, "calls",
			 (json_int_t)s->calls, "cost_usd", s->cost);
}

/* A worker's spend as worker_end records it; "roles": the part of it its
 * verifiers and escalations spent (fanout_spend_roles reads it back). */
static json_t *spend_json(const struct fw *w)
{
	json_t *roles = json_object();
	for (int k = ROLE_VERIFIER; k < ROLE_N; k++)
		json_object_set_new(roles, role_name((enum role)k),
				    role_json(&w->roles[k]));
	return json_pack("{s:I,s:I,s:I,s:I,s:f,s:o}", "iterations",
			 (json_int_t)w->iterations, "tokens_in", (json_int_t)w->tokens_in,
			 "tokens_out", (json_int_t)w->tokens_out, "calls",
			 (json_int_t)w->calls, "cost_usd", w->cost, "roles", roles);
}

void fanout_spend_roles(struct fw *w, const json_t *roles)
{
	memset(w->roles, 0, sizeof(w->roles));
	for (int k = ROLE_VERIFIER; k < ROLE_N; k++) {
		const json_t *s = json_object_get(roles, role_name((enum role)k));
		role_spend_add(&w->roles[k],
			       (long)json_integer_value(json_object_get(s, "tokens_in")),
			       (long)json_integer_value(json_object_get(s, "tokens_out")),
			       (long)json_integer_value(json_object_get(s, "calls")),
			       json_number_value(json_object_get(s, "cost_usd")));
	}
}

void fanout_skip(struct run *r, struct fw *w, const char *why)
{
	w->state = FW_ENDED;
	w->verified = -1;
	free(w->status);
	free(w->reason);
	w->status = xstrdup("not_started");
	w->reason = xstrdup(why);
	events_append(&r->ev, EV_WORKER_END,
		      json_pack("{s:s,s:s,s:s,s:o,s:o}", "worker", w->id, "status",
				w->status, "run_id", w->run_id, "reason", events_str(why),
				"spend", spend_json(w)));
}

/* What the ledger holds for w: its spend, and what it had reserved when
 * it died (counted: the ceiling must hold). */
static void spend_from_ledger(const struct fanout *f, struct fw *w)
{
	struct ledger_use use[FANOUT_MAX_SLOTS];
	long n = ledger_read(f->ledger, use, f->n, NULL, NULL);

	if (n <= (long)w->slot)
		return;
	w->iterations = use[w->slot].iterations;
	w->tokens_in = use[w->slot].tokens + use[w->slot].res_tokens;
	w->tokens_out = 0;
	w->calls = use[w->slot].calls;
	w->cost = use[w->slot].cost + use[w->slot].res_cost;
}

/* Its summary.json, when it wrote one: 0, else -ENOENT. */
static int read_summary(struct fw *w)
{
	char *path = rundir_file(w->run_dir, RUNDIR_SUMMARY);
	json_t *s = json_load_file(path, 0, NULL);
	const char *v;

	free(path);
	if (!json_is_object(s)) {
		json_decref(s);
		return -ENOENT;
	}
	free(w->status);
	free(w->reason);
	v = json_string_value(json_object_get(s, "status"));
	w->status = xstrdup(v ? v : "error");
	v = json_string_value(json_object_get(s, "reason"));
	w->reason = xstrdup(v ? v : "");
	w->iterations = (long)json_integer_value(json_object_get(s, "iterations"));
	w->tokens_in = (long)json_integer_value(json_object_get(s, "tokens_in"));
	w->tokens_out = (long)json_integer_value(json_object_get(s, "tokens_out"));
	w->calls = (long)json_integer_value(json_object_get(s, "calls"));
	w->cost = json_number_value(json_object_get(s, "cost_usd"));
	vote_tally_from_json(&w->vote, json_object_get(s, "vote"));
	fanout_spend_roles(w, json_object_get(s, "roles"));
	json_decref(s);
	return 0;
}

/* The last line of path (at most 64 KiB back), parsed; NULL if none. */
static json_t *last_record(const char *path)
{
	char buf[65536];
	FILE *f = fopen(path, "re");
	size_t n;
	char *end, *start;
	json_t *j;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)sizeof(buf) - 1)
		fseek(f, -(long)(sizeof(buf) - 1), SEEK_END);
	else
		fseek(f, 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	end = buf + n;
	start = memrchr(buf, '\n', (size_t)(end - buf));
	start = start ? start + 1 : buf;
	j = json_loads(start, 0, NULL);
	return j;
}

/* The link to the worker's log: the hash of its last record and its last
 * signed checkpoint (the coordinator's chain commits to both). */
static json_t *log_link(const struct fw *w)
{
	char *ev = rundir_file(w->run_dir, RUNDIR_EVENTS);
	char *cp = rundir_file(w->run_dir, "checkpoints.jsonl");
	json_t *last = last_record(ev), *check = last_record(cp);
	json_t *o = json_pack("{s:o,s:O?,s:O?,s:o}", "events", events_str(ev), "head",
			      last ? json_object_get(last, "h") : NULL, "seq",
			      last ? json_object_get(last, "seq") : NULL, "checkpoint",
			      check ? check : json_null());
	json_decref(last);
	free(ev);
	free(cp);
	return o;
}

/* The coordinator's totals are the sum of its workers'. */
void fanout_account(struct run *r, const struct fw *w)
{
	r->budget.iterations += w->iterations;
	r->budget.tokens_in += w->tokens_in;
	r->budget.tokens_out += w->tokens_out;
	r->budget.calls += w->calls;
	r->budget.cost += w->cost;
	for (int k = ROLE_VERIFIER; k < ROLE_N; k++)
		role_spend_add(&r->spend[k], w->roles[k].tokens_in,
			       w->roles[k].tokens_out, w->roles[k].calls,
			       w->roles[k].cost);
}

void fanout_lost(struct run *r, struct fanout *f, struct fw *w, const char *why)
{
	w->state = FW_ENDED;
	w->verified = -1;
	free(w->status);
	free(w->reason);
	w->status = xstrdup("error");
	w->reason = xstrdup(why);
	spend_from_ledger(f, w);
	fanout_account(r, w);
	events_append(&r->ev, EV_WORKER_END,
		      json_pack("{s:s,s:s,s:s,s:o,s:o}", "worker", w->id, "status",
				w->status, "run_id", w->run_id, "reason", events_str(why),
				"spend", spend_json(w)));
}

void fanout_worker_ended(struct run *r, struct fanout *f, struct fw *w)
{
	w->verified = -1;
	if (f->ex)
		fanout_remote_collect(r, f, w);
	if (read_summary(w) == 0) {
		if (f->ex)
			fanout_remote_settle(f, w);
	} else {
		char why[96];
		snprintf(why, sizeof(why),
			 "the worker ended (status %d) without a summary: its "
			 "spend is taken from the ledger",
			 w->exit_code);
		free(w->status);
		free(w->reason);
		w->status = xstrdup("lost");
		w->reason = xstrdup(why);
		spend_from_ledger(f, w);
	}
	fanout_account(r, w);
	events_append(&r->ev, EV_WORKER_END,
		      json_pack("{s:s,s:s,s:i,s:s,s:o,s:o,s:o}", "worker", w->id,
				"run_id", w->run_id, "exit_code", w->exit_code, "status",
				w->status, "reason", events_str(w->reason), "spend",
				spend_json(w), "log", log_link(w)));
	events_sync(&r->ev);
	if (!strcmp(w->status, "converged")) {
		w->check_wanted = 1;
		if (!f->checks_async)
			fanout_check(r, f, w);
	}
}

/* <0 when a is the better `best` candidate: the smaller diff, then the
 * fewer files, then the stronger vote of its verifiers. */
static int best_cmp(const struct fw *a, const struct fw *b)
{
	if (a->diff_lines != b->diff_lines)
		return a->diff_lines < b->diff_lines ? -1 : 1;
	if (a->diff_files != b->diff_files)
		return a->diff_files < b->diff_files ? -1 : 1;
	return -vote_tally_cmp(&a->vote, &b->vote);
}

/* `best`: the best verified candidate by best_cmp, then the lowest number;
 * *by_vote: the vote decided it (another verified candidate's diff was as
 * small). */
static int best_of(const struct fanout *f, int *by_vote)
{
	int best = -1;
	for (size_t i = 0; i < f->n; i++)
		if (f->w[i].verified == 1 &&
		    (best < 0 || best_cmp(&f->w[i], &f->w[best]) < 0))
			best = (int)i;
	*by_vote = 0;
	for (size_t i = 0; best >= 0 && i < f->n; i++) {
		const struct fw *w = &f->w[i], *b = &f->w[best];
		if ((int)i != best && w->verified == 1 &&
		    w->diff_lines == b->diff_lines && w->diff_files == b->diff_files &&
		    best_cmp(b, w) < 0)
			*by_vote = 1;
	}
	return best;
}

/* Why the winner won, for the record and the reports. */
static char *why_won(const struct fanout *f, const struct fw *w, int by_vote)
{
	if (strcmp(f->select, "best"))
		return xstrdup("the first candidate verified in a clean checkout");
	if (by_vote)
		return xasprintf("the smallest verified change (%ld lines in %ld files), "
				 "as small as another's; its verifiers' vote (%ld of %ld "
				 "accept, score %.2f) was the stronger",
				 w->diff_lines, w->diff_files, w->vote.accepts,
				 w->vote.of, w->vote.score);
	return xasprintf("the smallest verified change (%ld lines in %ld files) of the "
			 "verified candidates",
			 w->diff_lines, w->diff_files);
}

/* One line per worker: what became of it. */
void fanout_outcomes(const struct fanout *f, struct buf *out)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct fw *w = &f->w[i];
		buf_addf(out, "%s%s %s", i ? "; " : "", w->id,
			 w->status ? w->status : "?");
		if (w->verified == 0)
			buf_addf(out, " but rejected in a clean checkout: %s",
				 w->verdict);
		else if (w->reason && *w->reason && w->verified != 1)
			buf_addf(out, " (%s)", w->reason);
	}
}

static int no_winner(struct run *r, struct fanout *f)
{
	struct buf why = BUF_INIT;
	const char *status = "stalled";
	int code;

	for (size_t i = 0; i < f->n; i++)
		if (f->w[i].status && !strcmp(f->w[i].status, "budget_exhausted"))
			status = "budget_exhausted";
	if (f->interrupted)
		status = "interrupted";
	fanout_outcomes(f, &why);
	code = loop_halt(r, status, EXIT_HALTED, "no worker's result was verified: %s",
			 why.s);
	buf_release(&why);
	return code;
}

int fanout_choose(struct run *r, struct fanout *f, struct buf *err)
{
	struct buf out = BUF_INIT;
	struct fw *w;
	int ret, by_vote = 0;

	if (f->tasks)
		return fanout_merge(r, f, err);
	if (!strcmp(f->select, "best"))
		f->winner = best_of(f, &by_vote);
	if (f->winner < 0)
		return no_winner(r, f);
	w = &f->w[f->winner];
	/* the run's branch holds the winner's commit, as any run's result */
	ret = git_run(r->w->tree, NULL, err, "reset", "--quiet", "--hard", w->commit,
		      NULL);
	if (ret < 0)
		return loop_halt(r, "error", EXIT_CANNOT,
				 "cannot move branch %s to worker %s's commit: %s",
				 r->w->branch, w->id, err->s);
	fanout_outcomes(f, &out);
	free(f->why);
	f->why = why_won(f, w, by_vote);
	events_append(&r->ev, EV_SELECTED,
		      json_pack("{s:s,s:s,s:s,s:o,s:s}", "worker", w->id, "commit",
				w->commit, "select", f->select, "why", events_str(f->why),
				"branch", r->w->branch));
	ret = loop_halt(r, "converged", EXIT_DONE,
			"worker %s (%s) converged and its commit passed every gate in a "
			"clean checkout; chosen as %s (%s)",
			w->id, w->settings ? w->settings : w->name, f->why, out.s);
	buf_release(&out);
	return ret;
}

void fanout_vote_text(const json_t *vote, char *out, size_t n)
{
	struct vote_tally t;
	vote_tally_from_json(&t, vote);
	if (t.voted)
		snprintf(out, n, "%ld of %ld (%.2f)", t.accepts, t.of, t.score);
	else
		snprintf(out, n, "-");
}

json_t *fanout_json(const struct fanout *f)
{
	json_t *a = json_array();
	for (size_t i = 0; f && i < f->n; i++) {
		const struct fw *w = &f->w[i];
		json_t *o = json_pack(
			"{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:i}", "worker", w->id, "name",
			w->name, "run_id", w->run_id, "branch", w->branch, "settings",
			events_str(w->settings), "status", events_str(w->status),
			"reason", events_str(w->reason), "exit_code", w->exit_code);
		json_t *spend = spend_json(w);
		json_object_update(o, spend);
		json_decref(spend);
		json_object_set_new(o, "commit", events_str(w->commit));
		json_object_set_new(o, "verified",
				    w->verified < 0 ? json_null()
						    : json_boolean(w->verified));
		json_object_set_new(o, "rejected", events_str(w->verdict));
		json_object_set_new(o, "diff_lines", json_integer(w->diff_lines));
		json_object_set_new(o, "diff_files", json_integer(w->diff_files));
		json_object_set_new(o, "vote", vote_tally_json(&w->vote));
		json_object_set_new(o, "winner", json_boolean(f->winner == (int)i));
		json_array_append_new(a, o);
	}
	return a;
}

const char *fanout_select(const struct fanout *f)
{
	return f->select;
}
