/*
 * resume_state.c: the event log reduced to what resume needs, one record
 * at a time, in log order.  See resume_state.h and docs/design/resume.md.
 */
#include "engine/resume_state.h"
#include "engine/resume_impl.h"
#include "record/evkind.h"
#include "base/ckd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ITER_MAX (1L << 20) /* iteration numbers past this are not ours */

void resume_state_init(struct resume_state *s)
{
	memset(s, 0, sizeof(*s));
	s->gate_files = json_object();
	s->last_resume_seq = -1;
	s->life_start = s->life_last = -1;
}

/* Replaces *slot by a new reference to v (NULL: none). */
static void hold(json_t **slot, const json_t *v)
{
	json_t *old = *slot;
	*slot = v ? json_incref((json_t *)v) : NULL;
	json_decref(old);
}

static void iter_release(struct resume_iter *it)
{
	json_t **all[] = {&it->end,	&it->commit,	  &it->edits,	&it->integrity,
			  &it->decider, &it->fingerprint, &it->request, &it->attempt};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		hold(all[i], NULL);
}

void resume_state_release(struct resume_state *s)
{
	for (size_t i = 0; i < s->nit; i++)
		iter_release(&s->it[i]);
	for (size_t i = 0; i < s->nbase_gate; i++)
		json_decref(s->base_gate[i]);
	for (size_t i = 0; i < s->nfw; i++) {
		free(s->fw[i].id);
		json_decref(s->fw[i].start);
		json_decref(s->fw[i].end);
		json_decref(s->fw[i].candidate);
	}
	json_decref(s->run_start);
	json_decref(s->run_end);
	json_decref(s->base_decider);
	json_decref(s->gate_files);
	json_decref(s->stall);
	free(s->it);
	free(s->base_gate);
	free(s->fw);
	free(s->charges);
	free(s->head);
	memset(s, 0, sizeof(*s));
}

/* Iteration n, made when first named; NULL for a number no run has. */
static struct resume_iter *iter_at(struct resume_state *s, long n)
{
	if (n < 0 || n > ITER_MAX)
		return NULL;
	if ((size_t)n >= s->nit) {
		s->it = xrealloc(s->it, ((size_t)n + 1) * sizeof(*s->it));
		memset(s->it + s->nit, 0, ((size_t)n + 1 - s->nit) * sizeof(*s->it));
		s->nit = (size_t)n + 1;
	}
	return &s->it[n];
}

const struct resume_iter *resume_state_iter(const struct resume_state *s, long n)
{
	return n >= 0 && (size_t)n < s->nit ? &s->it[n] : NULL;
}

static struct resume_charge *charge_add(struct resume_state *s, enum resume_charge_kind k)
{
	struct resume_charge *c;
	s->charges = xrealloc(s->charges, (s->ncharges + 1) * sizeof(*s->charges));
	c = &s->charges[s->ncharges++];
	memset(c, 0, sizeof(*c));
	c->kind = k;
	return c;
}

static void spend_add(struct resume_iter *it, const json_t *b)
{
	if (!it)
		return;
	it->tokens_in = ckd_add(it->tokens_in, jlong(b, "tokens_in", 0));
	it->tokens_out = ckd_add(it->tokens_out, jlong(b, "tokens_out", 0));
	it->cost += jreal(b, "cost_usd");
}

/* ---- one function per kind: (state, body, the record's iteration) ---- */

static void on_run_start(struct resume_state *s, const json_t *b, long n)
{
	(void)n;
	hold(&s->run_start, b);
}

static void on_run_end(struct resume_state *s, const json_t *b, long n)
{
	(void)n;
	hold(&s->run_end, b);
}

/* An earlier resume: counted, and the in-flight call it charged. */
static void on_resume(struct resume_state *s, const json_t *b, long n)
{
	const json_t *c = json_object_get(b, "charged");
	(void)n;
	s->resumes++;
	s->last_resume_seq = s->seq;
	if (!json_is_object(c))
		return;
	struct resume_charge *ch = charge_add(s, RESUME_CHARGE_RESUME);
	ch->tokens_in = jlong(c, "tokens_in", 0);
	ch->tokens_out = jlong(c, "tokens_out", 0);
	spend_add(iter_at(s, jlong(c, "iteration", -1)), c);
}

static void on_baseline(struct resume_state *s, const json_t *b, long n)
{
	long g = jlong(b, "gate", -1) - 1;
	(void)n;
	s->baseline = 1;
	/* the baseline runs every gate: its record names the decider */
	hold(&s->base_decider,
	     g >= 0 && (size_t)g < s->nbase_gate ? s->base_gate[g] : NULL);
}

static void set_head(struct resume_state *s, const json_t *b)
{
	const char *sha = jstr(b, "sha");
	if (sha) {
		free(s->head);
		s->head = xstrdup(sha);
	}
}

static void on_carried(struct resume_state *s, const json_t *b, long n)
{
	(void)n;
	s->carried = 1;
	set_head(s, b);
}

static void on_iteration_start(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	(void)b;
	if (it)
		it->started = 1;
}

/* An escalation counts once its round ended (an unfinished round decides
 * again on resume); the next turn is then the escalation model's. */
static void escalations_take(struct resume_state *s, struct resume_iter *it)
{
	if (!it->escalations)
		return;
	s->escalations_used += it->escalations;
	s->escalate_next = 1;
	it->escalations = 0;
}

static void on_iteration_end(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	if (!it)
		return;
	hold(&it->end, b);
	if (it->fingerprint) /* the stall counters as its round left them */
		hold(&s->stall, it->fingerprint);
	escalations_take(s, it);
	while ((size_t)s->ended + 1 < s->nit && s->it[s->ended + 1].end)
		s->ended++;
}

static void on_model_request(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	const char *role = jstr(b, "role");
	s->prompt_bytes = (size_t)jlong(b, "prompt_bytes", 0);
	s->escalated = role && !strcmp(role, "escalation");
	if (s->escalated)
		s->escalate_next = 0;
	if (it) {
		hold(&it->request, b);
		it->request_seq = s->seq;
	}
}

/* Charged exactly as on_attempt charged it, so the totals and the
 * measured bytes-per-token come out the same. */
static void on_model_attempt(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	struct resume_charge *c = charge_add(s, RESUME_CHARGE_ATTEMPT);
	c->tokens_in = jlong(b, "tokens_in", 0);
	c->tokens_out = jlong(b, "tokens_out", 0);
	c->escalated = s->escalated;
	c->prompt_bytes = json_is_true(json_object_get(b, "usage_estimated"))
				  ? 0
				  : s->prompt_bytes;
	spend_add(it, b);
	if (it) {
		hold(&it->attempt, b);
		it->attempt_seq = s->seq;
	}
}

static void on_model_response(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	(void)b;
	s->responses++;
	if (it)
		it->responded = 1;
}

static void on_edits(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	if (it)
		hold(&it->edits, b);
}

static void on_commit(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	if (it)
		hold(&it->commit, b);
	set_head(s, b);
}

static void on_integrity(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	if (!it)
		return;
	if (!it->integrity)
		it->integrity = json_array();
	json_array_append(it->integrity, (json_t *)b);
}

static void on_gate_end(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	long g = jlong(b, "gate", 0) - 1;
	if (n == 0 && g >= 0 && g < ITER_MAX) {
		if ((size_t)g >= s->nbase_gate) {
			s->base_gate = xrealloc(s->base_gate,
						((size_t)g + 1) * sizeof(*s->base_gate));
			memset(s->base_gate + s->nbase_gate, 0,
			       ((size_t)g + 1 - s->nbase_gate) * sizeof(*s->base_gate));
			s->nbase_gate = (size_t)g + 1;
		}
		hold(&s->base_gate[g], b);
	}
	json_object_set(s->gate_files, jstr(b, "output_file") ?: "", (json_t *)b);
	if (it)
		hold(&it->decider, b);
}

/* A cached result stands for the gate_end that wrote the same output file. */
static void on_gate_cached(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	const char *file = jstr(b, "output_file");
	if (it)
		hold(&it->decider, file ? json_object_get(s->gate_files, file) : NULL);
}

static void on_fingerprint(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	if (!it)
		return;
	hold(&it->fingerprint, b);
	if (n == 0 || it->end) /* the baseline's, or a round that ended */
		hold(&s->stall, b);
}

static void on_escalation(struct resume_state *s, const json_t *b, long n)
{
	struct resume_iter *it = iter_at(s, n);
	if (!it || !json_is_true(json_object_get(b, "available")))
		return;
	it->escalations++;
	if (it->end)
		escalations_take(s, it);
}

static void on_vote(struct resume_state *s, const json_t *b, long n)
{
	struct resume_charge *c = charge_add(s, RESUME_CHARGE_VOTE);
	(void)n;
	c->tokens_in = jlong(b, "tokens_in", 0);
	c->tokens_out = jlong(b, "tokens_out", 0);
	c->calls = jlong(b, "calls", 0);
	c->cost = json_number_value(json_object_get(b, "cost_usd"));
}

static void on_fanout_start(struct resume_state *s, const json_t *b, long n)
{
	(void)b;
	(void)n;
	s->fanned = 1;
}

/* The fan-out worker a record names, made when first named. */
static struct resume_fw *fw_named(struct resume_state *s, const json_t *b)
{
	const char *id = jstr(b, "worker");
	if (!id)
		return NULL;
	for (size_t i = 0; i < s->nfw; i++)
		if (!strcmp(s->fw[i].id, id))
			return &s->fw[i];
	s->fw = xrealloc(s->fw, (s->nfw + 1) * sizeof(*s->fw));
	memset(&s->fw[s->nfw], 0, sizeof(*s->fw));
	s->fw[s->nfw].id = xstrdup(id);
	s->fw[s->nfw].verified_seq = -1;
	return &s->fw[s->nfw++];
}

static void on_worker_start(struct resume_state *s, const json_t *b, long n)
{
	struct resume_fw *w = fw_named(s, b);
	(void)n;
	if (w) {
		w->started = 1;
		hold(&w->start, b);
	}
}

static void on_worker_end(struct resume_state *s, const json_t *b, long n)
{
	struct resume_fw *w = fw_named(s, b);
	(void)n;
	if (w)
		hold(&w->end, b);
}

static void on_candidate(struct resume_state *s, const json_t *b, long n)
{
	struct resume_fw *w = fw_named(s, b);
	(void)n;
	if (!w)
		return;
	hold(&w->candidate, b);
	if (w->verified_seq < 0 && json_is_true(json_object_get(b, "verified")))
		w->verified_seq = s->seq;
}

/* What each kind does to the state; a kind not here changes nothing. */
static const struct {
	const char *kind;
	void (*apply)(struct resume_state *s, const json_t *body, long iteration);
} kinds[] = {
	{EV_RUN_START, on_run_start},
	{EV_RUN_END, on_run_end},
	{EV_RESUME, on_resume},
	{EV_BASELINE, on_baseline},
	{EV_CARRIED_CHANGES, on_carried},
	{EV_ITERATION_START, on_iteration_start},
	{EV_ITERATION_END, on_iteration_end},
	{EV_MODEL_REQUEST, on_model_request},
	{EV_MODEL_ATTEMPT, on_model_attempt},
	{EV_MODEL_RESPONSE, on_model_response},
	{EV_EDITS, on_edits},
	{EV_COMMIT, on_commit},
	{EV_INTEGRITY, on_integrity},
	{EV_GATE_END, on_gate_end},
	{EV_GATE_CACHED, on_gate_cached},
	{EV_FINGERPRINT, on_fingerprint},
	{EV_ESCALATION, on_escalation},
	{EV_VOTE, on_vote},
	{EV_FANOUT_START, on_fanout_start},
	{EV_WORKER_START, on_worker_start},
	{EV_WORKER_END, on_worker_end},
	{EV_CANDIDATE, on_candidate},
};

/* ---- wall time --------------------------------------------------------- */

static long long ts_ms(const json_t *rec)
{
	const char *str = jstr(rec, "ts");
	struct tm tm;
	int ms = 0;
	memset(&tm, 0, sizeof(tm));
	if (!str || sscanf(str, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
			   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

/*
 * Each process's first to last record is time alive; a resume record
 * begins a new lifetime (a recovered tail ends one).  The time the run lay
 * dead is not counted against --deadline (resume.md).
 */
static void lifetime(struct resume_state *s, const json_t *rec, const char *k)
{
	long long t = ts_ms(rec);
	int res = !strcmp(k, EV_RESUME);
	if (t < 0)
		return;
	if (res || !strcmp(k, EV_RECOVERED_TAIL)) {
		if (s->life_start >= 0 && s->life_last > s->life_start)
			s->alive_ms += s->life_last - s->life_start;
		s->life_start = res ? t : -1;
		s->life_last = t;
		return;
	}
	if (s->life_start < 0)
		s->life_start = t;
	s->life_last = t;
}

long long resume_state_alive_ms(const struct resume_state *s)
{
	long long open = s->life_start >= 0 && s->life_last > s->life_start
				 ? s->life_last - s->life_start
				 : 0;
	return s->alive_ms + open;
}

void resume_apply(struct resume_state *s, const json_t *rec)
{
	const char *k = kind(rec);
	const json_t *b = body(rec);

	lifetime(s, rec, k);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(k, kinds[i].kind)) {
			kinds[i].apply(s, b, jlong(b, "iteration", -1));
			break;
		}
	s->started = (size_t)s->ended + 1 < s->nit && s->it[s->ended + 1].started
			     ? s->ended + 1
			     : 0;
	s->seq++;
}

/* ---- questions the state answers --------------------------------------- */

const json_t *resume_state_in_flight(const struct resume_state *s, long n)
{
	const struct resume_iter *it = resume_state_iter(s, n);
	/* a call an earlier resume already charged sits before its record */
	if (!it || !it->request || it->request_seq < s->last_resume_seq ||
	    !json_is_null(json_object_get(it->request, "refused")))
		return NULL;
	if (it->attempt && it->attempt_seq > it->request_seq &&
	    !json_is_true(json_object_get(it->attempt, "will_retry")))
		return NULL; /* the call ended; its attempts are charged */
	return it->request;
}

const json_t *resume_state_decider(const struct resume_state *s, long n)
{
	const struct resume_iter *it = resume_state_iter(s, n);
	if (n == 0)
		return s->base_decider;
	return it ? it->decider : NULL;
}
