/*
 * resume_log.c: the event log as records, the budget replayed from them and
 * the time the run was alive.  See resume_impl.h.
 */
#include "engine/resume_impl.h"
#include "record/evkind.h"
#include "base/ckd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_MAX (1u << 30) /* a log we would read into memory */

void logv_release(struct logv *v)
{
	for (size_t i = 0; i < v->n; i++)
		json_decref(v->rec[i]);
	free(v->rec);
	v->rec = NULL;
	v->n = 0;
}

int logv_load(struct logv *v, const char *path, struct buf *err)
{
	struct buf b = BUF_INIT;
	const char *p, *nl;
	int ret;

	buf_init(&b, LOG_MAX);
	if ((ret = buf_read_file(&b, path)) < 0) {
		buf_release(&b);
		return err_set(err, ret, "cannot read the event log %s: %s", path,
			       strerror(-ret));
	}
	for (p = b.s; (nl = memchr(p, '\n', (size_t)(b.s + b.len - p))); p = nl + 1) {
		json_t *rec = json_loadb(p, (size_t)(nl - p), 0, NULL);
		if (!json_is_object(rec)) {
			json_decref(rec);
			ret = err_set(err, -EBADMSG,
				      "the event log %s has a line that "
				      "is not a record (line %zu): run `loopgate audit "
				      "verify`",
				      path, v->n + 1);
			break;
		}
		v->rec = xrealloc(v->rec, (v->n + 1) * sizeof(*v->rec));
		v->rec[v->n++] = rec;
	}
	buf_release(&b);
	return ret;
}

long find_last(const struct logv *v, const char *k, long it)
{
	for (size_t i = v->n; i-- > 0;)
		if (is(v->rec[i], k) && (it == -2 || iter_of(v->rec[i]) == it))
			return (long)i;
	return -1;
}

/*
 * Every attempt charged in log order, exactly as on_attempt charged it, so
 * the totals and the measured bytes-per-token come out the same; plus what
 * earlier resumes charged for calls killed in flight.
 */
/* A recorded vote (verify.h): its spend, as the panel charged it. */
static void replay_vote(struct run *r, const json_t *b)
{
	long tin = jlong(b, "tokens_in", 0), tout = jlong(b, "tokens_out", 0);
	long calls = jlong(b, "calls", 0);
	double cost = json_number_value(json_object_get(b, "cost_usd"));

	r->budget.calls += calls;
	r->budget.tokens_in = ckd_add(r->budget.tokens_in, tin);
	r->budget.tokens_out = ckd_add(r->budget.tokens_out, tout);
	r->budget.cost += cost;
	role_spend_add(&r->spend[ROLE_VERIFIER], tin, tout, calls, cost);
}

/* An attempt of an escalated turn: at the escalation model's prices. */
static void replay_escalated(struct run *r, const json_t *b, size_t prompt_bytes)
{
	struct model_preset p;
	struct budget *bg = &r->budget;
	long tin = bg->tokens_in, tout = bg->tokens_out, calls = bg->calls;
	double cost = bg->cost;

	if (config_resolve_model(r->cfg, r->cfg->role_escalation, &p, NULL) < 0)
		p.price_in = p.price_out = -1;
	budget_charge_at(
		bg, jlong(b, "tokens_in", 0), jlong(b, "tokens_out", 0),
		json_is_true(json_object_get(b, "usage_estimated")) ? 0 : prompt_bytes,
		p.price_in, p.price_out);
	role_spend_add(&r->spend[ROLE_ESCALATION], bg->tokens_in - tin,
		       bg->tokens_out - tout, bg->calls - calls, bg->cost - cost);
}

/*
 * Every attempt charged in log order, exactly as on_attempt charged it, so
 * the totals and the measured bytes-per-token come out the same; plus what
 * earlier resumes charged for calls killed in flight, the verifiers' votes
 * and the escalations (route.h) used so far.
 */
void replay_budget(struct run *r, const struct logv *v)
{
	size_t prompt_bytes = 0;
	int escalated = 0;
	for (size_t i = 0; i < v->n; i++) {
		const json_t *b = body(v->rec[i]), *c;
		if (is(v->rec[i], EV_MODEL_REQUEST)) {
			prompt_bytes = (size_t)jlong(b, "prompt_bytes", 0);
			escalated = jstr(b, "role") &&
				    !strcmp(jstr(b, "role"), "escalation");
			if (escalated)
				r->w->escalate_next = 0;
		} else if (is(v->rec[i], EV_MODEL_ATTEMPT) && escalated &&
			   r->cfg->role_escalation) {
			replay_escalated(r, b, prompt_bytes);
		} else if (is(v->rec[i], EV_MODEL_ATTEMPT)) {
			budget_charge(&r->budget, jlong(b, "tokens_in", 0),
				      jlong(b, "tokens_out", 0),
				      json_is_true(json_object_get(b, "usage_estimated"))
					      ? 0
					      : prompt_bytes);
		} else if (is(v->rec[i], EV_VOTE)) {
			replay_vote(r, b);
		} else if (is(v->rec[i], EV_ESCALATION) &&
			   json_is_true(json_object_get(b, "available")) &&
			   /* an unfinished round decides again on resume */
			   find_last(v, EV_ITERATION_END, iter_of(v->rec[i])) >= 0) {
			r->w->escalations_used++;
			r->w->escalate_next = 1;
		} else if (is(v->rec[i], EV_RESUME) &&
			   json_is_object(c = json_object_get(b, "charged"))) {
			budget_charge(&r->budget, jlong(c, "tokens_in", 0),
				      jlong(c, "tokens_out", 0), 0);
		}
	}
}

static long long ts_ms(const json_t *rec)
{
	const char *s = jstr(rec, "ts");
	struct tm tm;
	int ms = 0;
	memset(&tm, 0, sizeof(tm));
	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

/*
 * Wall time the run was alive: each process's first to last record.  The
 * time it lay dead is not counted against --deadline (resume.md).
 */
long long alive_ms(const struct logv *v)
{
	long long alive = 0, start = -1, last = -1;
	for (size_t i = 0; i < v->n; i++) {
		long long t = ts_ms(v->rec[i]);
		int res = is(v->rec[i], EV_RESUME);
		if (t < 0)
			continue;
		if (res || is(v->rec[i], EV_RECOVERED_TAIL)) {
			if (start >= 0 && last > start)
				alive += last - start;
			start = res ? t : -1;
			last = t;
			continue;
		}
		if (start < 0)
			start = t;
		last = t;
	}
	if (start >= 0 && last > start)
		alive += last - start;
	return alive;
}
