/*
 * fanout_resume.c: a coordinator continued after its process died.  See
 * fanout.h (fanout_resume) and docs/design/fanout.md, "Resume".
 */
#include "engine/fanout.h"
#include "engine/fanout_impl.h"
#include "engine/resume_state.h"
#include "engine/run.h"
#include "engine/loop.h"
#include "record/evkind.h"
#include "record/rundir.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct fw *named(struct fanout *f, const char *id)
{
	for (size_t i = 0; id && i < f->n; i++)
		if (!strcmp(f->w[i].id, id))
			return &f->w[i];
	return NULL;
}

static char *dup_or_null(const json_t *b, const char *k)
{
	const char *s = json_string_value(json_object_get(b, k));
	return s ? xstrdup(s) : NULL;
}

/* A worker_end as recorded: its outcome and spend. */
static void take_end(struct fw *w, const json_t *b)
{
	const json_t *sp = json_object_get(b, "spend");
	w->state = FW_ENDED;
	w->verified = -1;
	free(w->status);
	free(w->reason);
	w->status = dup_or_null(b, "status");
	w->reason = dup_or_null(b, "reason");
	w->exit_code = (int)json_integer_value(json_object_get(b, "exit_code"));
	w->iterations = (long)json_integer_value(json_object_get(sp, "iterations"));
	w->tokens_in = (long)json_integer_value(json_object_get(sp, "tokens_in"));
	w->tokens_out = (long)json_integer_value(json_object_get(sp, "tokens_out"));
	w->calls = (long)json_integer_value(json_object_get(sp, "calls"));
	w->cost = json_number_value(json_object_get(sp, "cost_usd"));
	fanout_spend_roles(w, json_object_get(sp, "roles"));
}

/* A candidate as recorded: the claim's commit and its check. */
static void take_candidate(struct fw *w, const json_t *b)
{
	free(w->commit);
	free(w->verdict);
	w->commit = dup_or_null(b, "commit");
	w->verdict = dup_or_null(b, "reason");
	w->verified = json_is_true(json_object_get(b, "verified"));
	w->diff_lines = (long)json_integer_value(json_object_get(b, "diff_lines"));
	w->diff_files = (long)json_integer_value(json_object_get(b, "diff_files"));
	vote_tally_from_json(&w->vote, json_object_get(b, "vote"));
}

/* What became of the workers the log does not see end. */
static void plan_open(struct run *r, struct fanout *f, const char *started)
{
	for (size_t i = 0; i < f->n; i++) {
		struct fw *w = &f->w[i];
		char *sum, *log;
		if (w->state == FW_ENDED)
			continue;
		sum = rundir_file(w->run_dir, RUNDIR_SUMMARY);
		log = rundir_file(w->run_dir, RUNDIR_EVENTS);
		w->state = FW_WAITING;
		if (started[i] && f->ex && w->handle &&
		    fanout_remote_attach(r, f, w) == 0) {
			/* still queued or running on the cluster: re-attached */
		} else if (started[i] && access(sum, F_OK) == 0) {
			/* it ended while the coordinator was dead */
			w->exit_code = -1;
			w->state = FW_ENDED;
			fanout_worker_ended(r, f, w);
		} else {
			/* begun: its own resume; never begun: a fresh start */
			w->resume = started[i] && access(log, F_OK) == 0;
		}
		free(sum);
		free(log);
	}
}

/*
 * The workers as the reduced log (resume_state.h) tells them: begun (with
 * their settings and cluster handle), ended (their spend is the run's),
 * checked (the claim; a converged worker whose check has no candidate
 * record yet is checked again); with select "first", the first claim
 * verified in log order wins.
 */
static void take_workers(struct run *r, struct fanout *f, const struct resume_state *s,
			 char *started)
{
	long first = -1;
	for (size_t i = 0; i < s->nfw; i++) {
		const struct resume_fw *rw = &s->fw[i];
		struct fw *w = named(f, rw->id);
		if (!w)
			continue;
		if (rw->start) {
			started[w - f->w] = 1;
			free(w->settings);
			w->settings = dup_or_null(rw->start, "settings");
			free(w->handle);
			w->handle = dup_or_null(rw->start, "handle");
		}
		if (rw->end) {
			take_end(w, rw->end);
			fanout_account(r, w);
		}
		if (rw->candidate)
			take_candidate(w, rw->candidate);
		else if (rw->end && w->status && !strcmp(w->status, "converged"))
			w->check_wanted = 1; /* killed before its check ended:
						checked again (fanout_drive) */
		if (rw->verified_seq >= 0 && !strcmp(f->select, "first") &&
		    (first < 0 || rw->verified_seq < first)) {
			first = rw->verified_seq;
			f->winner = (int)(w - f->w);
		}
	}
}

int fanout_resume(struct run *r, const struct resume_state *s, struct buf *err)
{
	struct fanout *f;
	char *started;

	if (!s->fanned)
		return fanout_run(r, err);
	f = fanout_new(r);
	if (fanout_remote_open(r, f, err) < 0)
		return loop_halt(r, "error", 3, "%s", err->s);
	started = xcalloc(f->cap, sizeof(*started));
	take_workers(r, f, s, started);
	plan_open(r, f, started);
	free(started);
	if (f->winner >= 0 && !strcmp(f->select, "first")) {
		fanout_stop(f, "another worker's candidate was verified first");
		for (size_t i = 0; i < f->n; i++)
			if (f->w[i].state == FW_WAITING)
				fanout_skip(r, &f->w[i], f->stop_why);
	}
	return fanout_drive(r, f, err);
}
