/*
 * judge.c: gate rounds, the result cache, flake confirmation.  See judge.h
 * and docs/design/gates.md.
 */
#include "judge.h"
#include "gate.h"
#include "git.h"
#include "hash.h"
#include "fileio.h"
#include "ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct judge_cache {
	char key[65];
	struct gate_outcome o;
};

int judge_tree_id(struct run *r, struct buf *err)
{
	struct buf out = BUF_INIT;
	int ret = git_run(r->tree, &out, err, "rev-parse", "HEAD^{tree}", NULL);
	buf_rtrim(&out);
	if (ret == 0)
		snprintf(r->tree_id, sizeof(r->tree_id), "%s", out.s);
	buf_release(&out);
	return ret;
}

static void cache_key(const struct run *r, const char *cmd,
		      const struct proc_env *env, char hex[65])
{
	struct buf k = BUF_INIT;
	buf_add(&k, r->tree_id, strlen(r->tree_id) + 1);
	buf_add(&k, cmd, strlen(cmd) + 1);
	for (size_t i = 0; i < env->n; i++)
		buf_add(&k, env->v[i], strlen(env->v[i]) + 1);
	hash_sha256_hex(k.s, k.len, hex);
	buf_release(&k);
}

static void outcome_copy(struct gate_outcome *dst, const struct gate_outcome *src)
{
	gate_outcome_release(dst);
	*dst = *src;
	dst->describe = src->describe ? xstrdup(src->describe) : NULL;
	dst->output_file = src->output_file ? xstrdup(src->output_file) : NULL;
	buf_init(&dst->output, 0);
	buf_add(&dst->output, src->output.s, src->output.len);
}

static const struct gate_outcome *cache_get(const struct run *r, const char *key)
{
	for (size_t i = 0; i < r->ncache; i++)
		if (!strcmp(r->cache[i].key, key))
			return &r->cache[i].o;
	return NULL;
}

static void cache_put(struct run *r, const char *key, const struct gate_outcome *o)
{
	struct judge_cache *e;
	r->cache = xrealloc(r->cache, (r->ncache + 1) * sizeof(*r->cache));
	e = &r->cache[r->ncache++];
	memset(e, 0, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	buf_init(&e->o.output, 0);
	outcome_copy(&e->o, o);
}

void judge_release(struct run *r)
{
	free(r->base_counts);
	free(r->round_counts);
	r->base_counts = r->round_counts = NULL;
	for (size_t i = 0; i < r->ncache; i++)
		gate_outcome_release(&r->cache[i].o);
	free(r->cache);
	r->cache = NULL;
	r->ncache = 0;
}

static void gate_end_event(struct run *r, int iteration, size_t i,
			   const struct gate_outcome *g)
{
	events_append(&r->ev, "gate_end", json_pack("{s:i,s:i,s:o,s:s,s:i,s:i,s:o,s:f,s:s,s:I,s:b}",
		"iteration", iteration, "gate", (int)i + 1,
		"command", events_str(r->cfg->gates.v[i]),
		"status", proc_status_name(g->status),
		"exit_code", g->exit_code, "signal", g->term_signal,
		"describe", events_str(g->describe),
		"duration_ms", g->elapsed_ms,
		"output_file", g->output_file,
		"output_bytes", (json_int_t)g->output_total,
		"passed", g->passed));
}

/* One gate, from the cache or for real, into cur. */
static int one_gate(struct run *r, const char *dir, int iteration, size_t i,
		    const struct proc_env *env, int use_cache,
		    struct gate_outcome *cur, struct buf *err)
{
	char key[65] = "", phase[64];
	const struct gate_outcome *hit;
	char *rel, *abs;
	int ret;

	if (use_cache && r->tree_id[0]) {
		cache_key(r, r->cfg->gates.v[i], env, key);
		if ((hit = cache_get(r, key))) {
			outcome_copy(cur, hit);
			events_append(&r->ev, "gate_cached", json_pack("{s:i,s:i,s:o,s:s,s:s,s:b,s:s}",
				"iteration", iteration, "gate", (int)i + 1,
				"command", events_str(r->cfg->gates.v[i]),
				"tree", r->tree_id, "key", key, "passed", hit->passed,
				"output_file", hit->output_file));
			return 0;
		}
	}
	rel = xasprintf("%s/gate-%zu.out", dir, i + 1);
	abs = xasprintf("%s/%s", r->run_dir, rel);
	{
		struct gate_spec s = { r->cfg->gates.v[i], (int)i, r->tree, abs, rel,
				       r->cfg->gate_timeout_ms, r->budget.deadline_at,
				       (const char *const *)env->v,
				       (size_t)r->cfg->feedback_max_bytes };
		snprintf(phase, sizeof(phase), "gate %zu/%zu", i + 1, r->cfg->gates.n);
		ui_status(r, phase);
		events_append(&r->ev, "gate_start", json_pack("{s:i,s:i,s:o}",
			"iteration", iteration, "gate", (int)i + 1,
			"command", events_str(s.cmd)));
		ret = gate_run(&s, cur, err);
	}
	free(abs);
	free(rel);
	if (ret < 0)
		return ret;
	testcount_parse(cur->output.s, cur->output.len, &cur->counts);
	gate_end_event(r, iteration, i, cur);
	/* Killed by us (timeout, deadline, Ctrl-C) says nothing about the tree. */
	if (key[0] && (cur->status == PROC_EXITED || cur->status == PROC_SIGNALED))
		cache_put(r, key, cur);
	return 0;
}

static void gate_env(const struct run *r, struct proc_env *env)
{
	proc_env_base(env);
	proc_env_set(env, "LOOPGATE_RUN_ID", r->id);
}

int judge_gates(struct run *r, const char *dir, int iteration,
		enum judge_mode mode, struct buf *err)
{
	struct proc_env env = PROC_ENV_INIT;
	struct gate_outcome cur;
	char *absdir = xasprintf("%s/%s", r->run_dir, dir);
	int ret, decided = 0, ran_any = 0;

	memset(&cur, 0, sizeof(cur));
	buf_init(&cur.output, 0);
	if (!r->base_counts) {
		r->base_counts = xcalloc(r->cfg->gates.n, sizeof(*r->base_counts));
		r->round_counts = xcalloc(r->cfg->gates.n, sizeof(*r->round_counts));
	}
	memset(r->round_counts, 0, r->cfg->gates.n * sizeof(*r->round_counts));
	if ((ret = fileio_mkdirs(absdir, err)) < 0)
		goto out;
	gate_env(r, &env);
	for (size_t i = 0; i < r->cfg->gates.n; i++) {
		if ((ret = one_gate(r, dir, iteration, i, &env, 1, &cur, err)) < 0)
			break;
		cur.gates_run = (int)i + 1;
		ran_any = 1;
		r->round_counts[i] = cur.counts;
		if (iteration == 0)
			r->base_counts[i] = cur.counts;
		/* killed by the deadline or Ctrl-C: the round ends, whatever mode */
		int stopped = cur.status == PROC_DEADLINE ||
			      cur.status == PROC_INTERRUPTED;
		/* r->last: the first failure, or the last gate when all pass */
		if (!decided && (!cur.passed || i + 1 == r->cfg->gates.n || stopped)) {
			gate_outcome_release(&r->last);
			r->last = cur;
			memset(&cur, 0, sizeof(cur));
			buf_init(&cur.output, 0);
			decided = !r->last.passed;
		}
		if (stopped || (decided && mode == JUDGE_CASCADE))
			break;
	}
	/* Whatever the gates created is theirs, not the actor's next change. */
	if (ret == 0 && ran_any)
		ret = git_scan_tree(r->tree, r->artifacts, &r->files, err);
out:
	gate_outcome_release(&cur);
	proc_env_release(&env);
	free(absdir);
	return ret;
}

int judge_confirm(struct run *r, const char *dir, int iteration, struct buf *why,
		  struct buf *err)
{
	struct proc_env env = PROC_ENV_INIT;
	struct gate_outcome cur;
	int ret = 0;

	memset(&cur, 0, sizeof(cur));
	buf_init(&cur.output, 0);
	gate_env(r, &env);
	for (long k = 1; k <= r->cfg->confirm && ret == 0; k++) {
		char *sub = xasprintf("%s/confirm-%ld", dir, k);
		char *abs = xasprintf("%s/%s", r->run_dir, sub);
		ret = fileio_mkdirs(abs, err);
		for (size_t i = 0; ret == 0 && i < r->cfg->gates.n; i++) {
			char *first = xasprintf("%s/gate-%zu.out", dir, i + 1);
			ret = one_gate(r, sub, iteration, i, &env, 0, &cur, err);
			if (ret == 0 && !cur.passed) {
				err_set(why, 1, "gate %zu `%s` is flaky: on the same tree "
					"it passed (%s) and then failed on confirmation run "
					"%ld (%s: %s)", i + 1, r->cfg->gates.v[i], first, k,
					cur.output_file, cur.describe);
				events_append(&r->ev, "flaky", json_pack("{s:i,s:i,s:o,s:s,s:s,s:I}",
					"iteration", iteration, "gate", (int)i + 1,
					"command", events_str(r->cfg->gates.v[i]),
					"passed_output", first, "failed_output",
					cur.output_file, "confirm_run", (json_int_t)k));
				ret = 1;
			}
			free(first);
		}
		free(sub);
		free(abs);
	}
	gate_outcome_release(&cur);
	proc_env_release(&env);
	return ret;
}

/* One gate's floor; 1 with why set when the pass is not credible. */
static int floor_one(struct run *r, size_t i, int iteration, struct buf *why)
{
	const struct testcount *b = &r->base_counts[i], *c = &r->round_counts[i];
	struct buf bd = BUF_INIT, cd = BUF_INIT;
	int bad = 0;

	testcount_describe(b, &bd);
	testcount_describe(c, &cd);
	if (!b->known) {
		events_append(&r->ev, "test_floor", json_pack("{s:i,s:i,s:b,s:s}",
			"iteration", iteration, "gate", (int)i + 1, "known", 0,
			"note", "no recognised test runner at baseline: no executed-test floor"));
		goto out;
	}
	bad = !c->known || c->executed < b->executed || c->skipped > b->skipped;
	events_append(&r->ev, "test_floor", json_pack("{s:i,s:i,s:b,s:o,s:o,s:b}",
		"iteration", iteration, "gate", (int)i + 1, "known", 1,
		"baseline", events_str(bd.s), "now", events_str(cd.s), "violated", bad));
	if (bad)
		err_set(why, 1, "gate %zu `%s` passed, but not with the tests the "
			"baseline ran: now %s; at baseline %s. Tests were removed, "
			"skipped or stopped reporting, so this pass does not count",
			i + 1, r->cfg->gates.v[i], cd.s, bd.s);
out:
	buf_release(&bd);
	buf_release(&cd);
	return bad;
}

int judge_floor(struct run *r, int iteration, struct buf *why)
{
	for (size_t i = 0; i < r->cfg->gates.n; i++)
		if (floor_one(r, i, iteration, why))
			return 1;
	return 0;
}
