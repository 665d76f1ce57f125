/*
 * runlog.c: a run directory read back into struct runlog.  See runlog.h.
 */
#include "report/runlog.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "engine/auditkey.h"
#include "record/checkpoint.h"
#include "tree/git.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNLOG_LINE_MAX AUDIT_MAX_LINE
#define RUNLOG_DIFF_MAX (8u << 20)

const char *runlog_str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : dflt;
}

double runlog_num(const json_t *o, const char *key, double dflt)
{
	const json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : dflt;
}

double runlog_ts_ms(const char *ts)
{
	struct tm tm;
	int ms = 0;
	char z = 0;

	memset(&tm, 0, sizeof(tm));
	if (!ts ||
	    sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z) != 8 ||
	    z != 'Z')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) * 1000.0 + ms;
}

/* The name of the lane a record belongs to (its body's worker or verifier)
 * into name, or 0: main. */
static int lane_name(const json_t *body, char *name, size_t size)
{
	const char *role = "worker";
	const json_t *w = json_object_get(body, role);

	if (!w || json_is_null(w))
		w = json_object_get(body, role = "verifier");
	if (!w || json_is_null(w)) /* a run of one loop: "worker": null */
		return 0;
	if (json_is_integer(w))
		snprintf(name, size, "%s %lld", role, (long long)json_integer_value(w));
	else
		snprintf(name, size, "%.60s",
			 json_is_string(w) ? json_string_value(w) : "?");
	return 1;
}

/* The lane of a record among those known, or -1. */
static int lane_find(const struct runlog *rl, const json_t *body)
{
	char name[64];
	int i;

	if (!lane_name(body, name, sizeof(name)))
		return 0;
	for (i = 0; i < rl->nlanes; i++)
		if (!strcmp(rl->lanes[i], name))
			return i;
	return rl->nlanes == RUNLOG_MAX_LANES ? RUNLOG_MAX_LANES - 1 : -1;
}

/* The lane a record belongs to: its body's worker or verifier, else main. */
static int lane_of(struct runlog *rl, const json_t *body)
{
	char name[64];
	int i = lane_find(rl, body);

	if (i >= 0)
		return i;
	lane_name(body, name, sizeof(name));
	/* lane names live as long as the records: keep them there */
	json_array_append_new(rl->owned, json_string(name));
	rl->lanes[rl->nlanes] = json_string_value(
		json_array_get(rl->owned, json_array_size(rl->owned) - 1));
	return rl->nlanes++;
}

/* *slot = v, counted: the record v came from can then be freed. */
static void hold(json_t **slot, json_t *v)
{
	json_t *old = *slot;

	*slot = json_incref(v);
	json_decref(old);
}

/* A new object with o's keys among keys (the values shared), or NULL. */
static json_t *pick(const json_t *o, const char *const *keys)
{
	json_t *c;

	if (!o)
		return NULL;
	c = json_object();
	for (; *keys; keys++)
		if (json_object_get(o, *keys))
			json_object_set(c, *keys, json_object_get(o, *keys));
	return c;
}

static void pick_all(json_t **arr, const char *const *keys)
{
	json_t *n = json_array(), *v;
	size_t i;

	json_array_foreach(*arr, i, v) json_array_append_new(n, pick(v, keys));
	json_decref(*arr);
	*arr = n;
}

static void pick_one(json_t **slot, const char *const *keys)
{
	json_t *n = pick(*slot, keys);

	json_decref(*slot);
	*slot = n;
}

/*
 * A round the page shows as one line keeps what that line, the gate grid,
 * the plots and the lanes table read (runlog.h), nothing else: the records
 * of a long run are not all held at once.  Idempotent: a record that comes
 * for a slim round (another lane's, later) is slimmed in turn.
 */
static void slim(struct runlog_iter *it)
{
	static const char *const gate_keys[] = {"gate",	    "passed", "cached",
						"describe", "counts", NULL};
	static const char *const spend_keys[] = {"tokens_in", "tokens_out", "cost_usd",
						 "status", NULL};
	static const char *const mark_keys[] = {"kind", NULL};
	static const char *const commit_keys[] = {"sha", NULL};

	it->slim = 1;
	pick_all(&it->gates, gate_keys);
	pick_all(&it->marks, mark_keys);
	pick_one(&it->end, spend_keys);
	if (it->end) /* the page reads end, else model */
		hold(&it->model, NULL);
	else
		pick_one(&it->model, spend_keys);
	hold(&it->actor, NULL);
	hold(&it->edits, NULL);
	pick_one(&it->commit, commit_keys); /* its diff is found by it */
}

/*
 * A slim round not being read is held as the compact JSON text of what it
 * keeps (~250 bytes with one gate, against ~2 KB as jansson objects):
 * runlog_iter_view parses it back for the page, one round at a time.
 */
static void pack(struct runlog_iter *it)
{
	json_t *o;

	if (!it->slim || it->packed)
		return;
	o = json_pack("{s:O,s:O}", "g", it->gates, "m", it->marks);
	if (it->end)
		json_object_set(o, "e", it->end);
	if (it->model)
		json_object_set(o, "o", it->model);
	if (it->commit)
		json_object_set(o, "c", it->commit);
	it->packed = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!it->packed) /* out of memory: keep it as it is */
		return;
	json_decref(it->gates);
	json_decref(it->marks);
	json_decref(it->end);
	json_decref(it->model);
	json_decref(it->commit);
	it->gates = it->marks = it->end = it->model = it->commit = NULL;
}

/* The packed fields of it into w's (new references). */
static void unpack_into(const struct runlog_iter *it, struct runlog_iter *w)
{
	json_t *o = json_loads(it->packed, 0, NULL);

	w->gates = json_incref(json_object_get(o, "g"));
	w->marks = json_incref(json_object_get(o, "m"));
	w->end = json_incref(json_object_get(o, "e"));
	w->model = json_incref(json_object_get(o, "o"));
	w->commit = json_incref(json_object_get(o, "c"));
	if (!w->gates)
		w->gates = json_array();
	if (!w->marks)
		w->marks = json_array();
	json_decref(o);
}

static void unpack(struct runlog_iter *it)
{
	if (!it->packed)
		return;
	unpack_into(it, it);
	free(it->packed);
	it->packed = NULL;
}

void runlog_iter_view(const struct runlog_iter *it, struct runlog_iter *w)
{
	*w = *it;
	w->packed = NULL;
	if (it->packed) {
		unpack_into(it, w);
		return;
	}
	json_incref(w->gates);
	json_incref(w->marks);
	json_incref(w->model);
	json_incref(w->actor);
	json_incref(w->edits);
	json_incref(w->commit);
	json_incref(w->end);
}

static struct runlog_iter *iter_get(struct runlog *rl, long n, int lane)
{
	struct runlog_iter *it;
	size_t i;

	for (i = rl->nits; i-- > 0;)
		if (rl->its[i].n == n && rl->its[i].lane == lane)
			return &rl->its[i];
	rl->its = xrealloc(rl->its, (rl->nits + 1) * sizeof(*rl->its));
	it = &rl->its[rl->nits++];
	memset(it, 0, sizeof(*it));
	it->n = n;
	it->lane = lane;
	it->t0 = it->t1 = -1;
	it->off0 = it->off1 = rl->line_at;
	it->gates = json_array();
	it->marks = json_array();
	/* the round this one pushes out of the last whole_tail (runlog.h) */
	if (rl->nits > rl->whole_tail) {
		i = rl->nits - 1 - rl->whole_tail;
		if (i >= rl->whole_head && !rl->its[i].slim)
			slim(&rl->its[i]);
	}
	return &rl->its[rl->nits - 1];
}

static void mark(struct runlog_iter *it, const char *kind, json_t *body)
{
	json_array_append_new(it->marks,
			      json_pack("{s:s,s:O}", "kind", kind, "body", body));
}

/* What a record with an iteration adds to that iteration. */
static void take_iter_record(struct runlog_iter *it, const char *kind, json_t *body)
{
	if (!strcmp(kind, EV_GATE_END)) {
		json_array_append(it->gates, body);
		it->gate_ms += runlog_num(body, "duration_ms", 0);
	} else if (!strcmp(kind, EV_GATE_CACHED)) {
		json_t *g = json_deep_copy(body);
		json_object_set_new(g, "cached", json_true());
		json_array_append_new(it->gates, g);
	} else if (!strcmp(kind, EV_MODEL_ATTEMPT)) {
		it->model_ms += runlog_num(body, "elapsed_ms", 0) +
				runlog_num(body, "wait_ms", 0);
	} else if (!strcmp(kind, EV_MODEL_RESPONSE)) {
		hold(&it->model, body);
	} else if (!strcmp(kind, EV_ACTOR_END)) {
		hold(&it->actor, body);
		it->model_ms += runlog_num(body, "duration_ms", 0);
	} else if (!strcmp(kind, EV_EDITS)) {
		hold(&it->edits, body);
	} else if (!strcmp(kind, EV_COMMIT)) {
		hold(&it->commit, body);
	} else if (!strcmp(kind, EV_ITERATION_END)) {
		hold(&it->end, body);
	} else if (!strcmp(kind, EV_INTEGRITY) || !strcmp(kind, EV_ESCALATION) ||
		   !strcmp(kind, EV_FLAKY) || !strcmp(kind, EV_VERDICT)) {
		mark(it, kind, body);
	} else if (!strcmp(kind, EV_TEST_FLOOR) &&
		   json_is_true(json_object_get(body, "violated"))) {
		mark(it, "test floor", body);
	} else if (!strcmp(kind, EV_FINGERPRINT) &&
		   runlog_num(body, "same_in_a_row", 0) >= 2) {
		mark(it, "same failure", body);
	}
}

static void take_record(struct runlog *rl, json_t *rec, struct runlog_iter **cur)
{
	const char *kind = runlog_str(rec, "kind", "");
	json_t *body = json_object_get(rec, "body");
	const json_t *n = json_object_get(body, "iteration");
	double t = runlog_ts_ms(runlog_str(rec, "ts", NULL));

	if (t >= 0) {
		if (rl->t_first < 0)
			rl->t_first = t;
		rl->t_last = t;
	}
	if (!strcmp(kind, EV_RUN_START)) {
		hold(&rl->start, body);
	} else if (!strcmp(kind, EV_RUN_END)) {
		hold(&rl->end, body);
		if (*cur && !strcmp(runlog_str(body, "status", ""), "stalled"))
			mark(*cur, "stall", body);
	} else if (!strcmp(kind, EV_BUDGET)) {
		hold(&rl->budget, body);
	} else if (!strcmp(kind, EV_REVIEW) || !strcmp(kind, EV_RESUME) ||
		   !strcmp(kind, EV_RECOVERED_TAIL) ||
		   !strcmp(kind, EV_REVIEW_REQUESTED) ||
		   !strcmp(kind, "vote")) { /* vote: a verifier's, when fan-out lands */
		json_array_append(rl->record, rec);
		if (*cur && !strcmp(kind, EV_RESUME))
			mark(*cur, EV_RESUME, body);
	}
	if (json_is_integer(n)) {
		size_t was = *cur ? (size_t)(*cur - rl->its) : SIZE_MAX; /* its moves */
		struct runlog_iter *it = iter_get(rl, (long)json_integer_value(n),
						  lane_of(rl, body));
		if (was != SIZE_MAX && &rl->its[was] != it)
			pack(&rl->its[was]);
		unpack(it);
		if (t >= 0) {
			if (it->t0 < 0)
				it->t0 = t;
			it->t1 = t;
		}
		take_iter_record(it, kind, body);
		*cur = it;
	}
	if (*cur && (*cur)->slim)
		slim(*cur);
	if (*cur)
		(*cur)->off1 = rl->line_end;
}

static int read_records(struct runlog *rl, const char *path, struct buf *err)
{
	FILE *f = fopen(path, "re");
	struct runlog_iter *cur = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *rec;
		rl->line_at = rl->line_end;
		rl->line_end += n;
		if ((size_t)n > RUNLOG_LINE_MAX ||
		    !(rec = json_loadb(line, (size_t)n, 0, NULL)) ||
		    !json_is_object(rec)) {
			rl->bad_lines++;
			continue;
		}
		take_record(rl, rec, &cur);
		json_decref(rec); /* what the page needs of it is held */
	}
	if (cur)
		pack(cur);
	free(line);
	fclose(f);
	return 0;
}

/* The chain and the checkpoints, as `loopgate audit verify` judges them. */
static void check_audit(struct runlog *rl, const char *events)
{
	struct checkpoint_list l = CHECKPOINT_LIST_INIT;
	struct checkpoint_key k = CHECKPOINT_KEY_INIT;
	struct checkpoint_result cr;
	struct buf why = BUF_INIT;
	char *cpath = xasprintf("%s/%s", rl->dir, CHECKPOINT_FILE);

	memset(&cr, 0, sizeof(cr));
	if (checkpoint_load(cpath, &l, &why) < 0) {
		rl->audit_ok = audit_verify(events, &rl->audit, &why) == 0;
		buf_addf(&rl->audit_note, "checkpoints: %s", why.s);
		goto out;
	}
	rl->checkpoints = (long)l.n;
	rl->checkpoint_final = l.n && l.v[l.n - 1].final;
	if (auditkey_load(rl->dir, NULL, &k, &why) < 0) {
		rl->audit_ok = audit_verify(events, &rl->audit, &why) == 0;
		buf_addf(&rl->audit_note,
			 "%zu checkpoints, signatures not checked (no audit key: %s)",
			 l.n, why.s);
	} else if (checkpoint_verify(&l, &k, events, &rl->audit, &cr, &why) == 0) {
		rl->audit_ok = 1;
		if (cr.reason)
			buf_addf(&rl->audit_note, "checkpoints fail: %s", cr.detail.s);
		else
			buf_addf(&rl->audit_note,
				 "%ld checkpoints verified, signed up to seq %ld%s",
				 cr.checked, cr.signed_seq, cr.final ? " (final)" : "");
	} else {
		buf_addf(&rl->audit_note, "could not verify: %s", why.s);
	}
out:
	checkpoint_result_release(&cr);
	checkpoint_key_release(&k);
	checkpoint_list_release(&l);
	buf_release(&why);
	free(cpath);
}

/* The repository holding dir: <repo>/.loopgate/runs/<id>. */
static char *repo_of(const char *dir)
{
	char real[PATH_MAX], *p;
	int i;

	if (!realpath(dir, real))
		return NULL;
	for (i = 0; i < 3; i++) {
		if (!(p = strrchr(real, '/')) || p == real)
			return NULL;
		*p = 0;
	}
	return xstrdup(real);
}

/* Each commit's patch is the text after its "\x01<sha>\n" marker. */
static void split_diffs(struct runlog *rl)
{
	size_t i;

	for (i = 0; i < rl->nits; i++) {
		struct runlog_iter *it = &rl->its[i], v;
		const char *sha, *p, *e;
		char key[48];
		runlog_iter_view(it, &v);
		sha = runlog_str(v.commit, "sha", NULL);
		key[0] = 0;
		if (sha && strlen(sha) >= 40)
			snprintf(key, sizeof(key), "\001%.40s\n", sha);
		runlog_iter_release(&v); /* sha with it: key holds it */
		if (!key[0] || !(p = strstr(rl->diffs.s, key)))
			continue;
		p += strlen(key);
		while (*p == '\n')
			p++;
		e = strchr(p, '\001');
		it->diff = p;
		it->diff_len = e ? (size_t)(e - p) : strlen(p);
	}
}

static void load_diffs(struct runlog *rl)
{
	const char *base = runlog_str(rl->start, "base", NULL);
	const char *branch = runlog_str(rl->start, "branch", NULL);
	char *repo = NULL, *range;
	struct buf err = BUF_INIT;
	size_t i;

	buf_init(&rl->diffs, RUNLOG_DIFF_MAX);
	/* diffs are shown per committed iteration: none, no git process */
	for (i = 0; i < rl->nits; i++) {
		struct runlog_iter v;
		int has;
		runlog_iter_view(&rl->its[i], &v);
		has = runlog_str(v.commit, "sha", NULL) != NULL;
		runlog_iter_release(&v);
		if (has)
			break;
	}
	if (i == rl->nits)
		return;
	repo = repo_of(rl->dir);
	if (!repo || !base || !branch) {
		buf_sets(&rl->diff_note, "the run's repository or branch is not known");
		goto out;
	}
	range = xasprintf("%s..%s", base, branch);
	if (git_run(repo, &rl->diffs, &err, "log", "--reverse", "--format=%x01%H",
		    "--stat", "--patch", "--no-color", "--no-ext-diff", range, "--",
		    NULL) < 0 &&
	    !rl->diffs.truncated)
		buf_addf(&rl->diff_note, "no diff: git log %s failed: %s", range, err.s);
	if (rl->diffs.truncated)
		buf_addf(&rl->diff_note, "the diffs were cut at %u MiB",
			 RUNLOG_DIFF_MAX >> 20);
	free(range);
	split_diffs(rl);
out:
	buf_release(&err);
	free(repo);
}

int runlog_load(struct runlog *rl, const char *dir, struct buf *err)
{
	return runlog_load_window(rl, dir, SIZE_MAX, 0, err);
}

int runlog_load_window(struct runlog *rl, const char *dir, size_t head, size_t tail,
		       struct buf *err)
{
	char *events = rundir_file(dir, RUNDIR_EVENTS);
	size_t i;
	int ret;

	rl->dir = xstrdup(dir);
	rl->whole_head = head;
	rl->whole_tail = tail;
	rl->record = json_array();
	rl->owned = json_array();
	rl->t_first = rl->t_last = -1;
	rl->lanes[0] = "main";
	rl->nlanes = 1;
	iter_get(rl, 0, 0);
	ret = read_records(rl, events, err);
	for (i = 0; i < rl->nits; i++) {
		struct runlog_iter v;
		runlog_iter_view(&rl->its[i], &v);
		if (json_array_size(v.gates) > rl->gates_max)
			rl->gates_max = json_array_size(v.gates);
		runlog_iter_release(&v);
	}
	if (ret == 0) {
		if (!rl->end) {
			char *sum = rundir_file(dir, RUNDIR_SUMMARY);
			rl->end = json_load_file(sum, 0, NULL);
			free(sum);
		}
		check_audit(rl, events);
		load_diffs(rl);
	}
	free(events);
	return ret;
}

void runlog_iter_release(struct runlog_iter *it)
{
	json_decref(it->gates);
	json_decref(it->marks);
	json_decref(it->model);
	json_decref(it->actor);
	json_decref(it->edits);
	json_decref(it->commit);
	json_decref(it->end);
	free(it->packed);
	memset(it, 0, sizeof(*it));
}

/*
 * The records of it lie between it->off0 and it->off1 (with other lanes'
 * between them): read again, taken as read_records and take_record took
 * them, the marks of a run_end or resume going to the round current then.
 */
void runlog_iter_whole(const struct runlog *rl, const struct runlog_iter *it,
		       struct runlog_iter *w)
{
	char *events = rundir_file(rl->dir, RUNDIR_EVENTS);
	FILE *f = fopen(events, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	off_t at = it->off0;
	int cur = 0; /* it is the current round */

	memset(w, 0, sizeof(*w));
	w->n = it->n;
	w->lane = it->lane;
	w->t0 = it->t0;
	w->t1 = it->t1;
	w->diff = it->diff;
	w->diff_len = it->diff_len;
	w->off0 = it->off0;
	w->off1 = it->off1;
	w->gates = json_array();
	w->marks = json_array();
	free(events);
	if (!f || fseeko(f, at, SEEK_SET) < 0) {
		if (f)
			fclose(f);
		return;
	}
	while (at < it->off1 && (n = getline(&line, &cap, f)) > 0) {
		json_t *rec, *body;
		const json_t *num;
		const char *kind;
		at += n;
		if ((size_t)n > RUNLOG_LINE_MAX ||
		    !(rec = json_loadb(line, (size_t)n, 0, NULL)))
			continue;
		kind = runlog_str(rec, "kind", "");
		body = json_object_get(rec, "body");
		num = json_object_get(body, "iteration");
		if (cur && ((!strcmp(kind, EV_RUN_END) &&
			     !strcmp(runlog_str(body, "status", ""), "stalled")) ||
			    !strcmp(kind, EV_RESUME)))
			mark(w, !strcmp(kind, EV_RESUME) ? EV_RESUME : "stall", body);
		if (json_is_object(rec) && json_is_integer(num)) {
			cur = (long)json_integer_value(num) == it->n &&
			      lane_find(rl, body) == it->lane;
			if (cur)
				take_iter_record(w, kind, body);
		}
		json_decref(rec);
	}
	free(line);
	fclose(f);
	w->model_ms = it->model_ms;
	w->gate_ms = it->gate_ms;
}

void runlog_release(struct runlog *rl)
{
	size_t i;

	for (i = 0; i < rl->nits; i++)
		runlog_iter_release(&rl->its[i]);
	free(rl->its);
	json_decref(rl->start);
	json_decref(rl->end);
	json_decref(rl->budget);
	json_decref(rl->record);
	json_decref(rl->owned);
	free(rl->dir);
	buf_release(&rl->audit_note);
	buf_release(&rl->diffs);
	buf_release(&rl->diff_note);
	memset(rl, 0, sizeof(*rl));
}
