/*
 * judge.c: gate rounds, the result cache, flake confirmation.  See judge.h
 * and docs/design/gates.md.
 */
#include "judge/judge.h"
#include "judge/gate.h"
#include "tree/git.h"
#include "base/hash.h"
#include "judge/fingerprint.h"
#include "base/fileio.h"
#include "base/saferead.h"
#include "cli/ui.h"

#include <glob.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

/* A JUnit report larger than this is not read (its counts are ignored). */
#define JUNIT_MAX (64u << 20)

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

static void cache_key(const struct run *r, const char *cmd, const struct proc_env *env,
		      char hex[65])
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

static void gate_end_event(struct run *r, int iteration, size_t i, const char *cmd,
			   const struct gate_outcome *g)
{
	struct buf tc = BUF_INIT;
	testcount_describe(&g->counts, &tc);
	events_append(
		&r->ev, "gate_end",
		json_pack(
			"{s:i,s:i,s:o,s:s,s:i,s:i,s:o,s:f,s:s,s:I,s:b,s:o,s:o}",
			"iteration", iteration, "gate", (int)i + 1, "command",
			events_str(cmd), "status", proc_status_name(g->status),
			"exit_code", g->exit_code, "signal", g->term_signal, "describe",
			events_str(g->describe), "duration_ms", g->elapsed_ms,
			"output_file", g->output_file, "output_bytes",
			(json_int_t)g->output_total, "passed", g->passed, "tests",
			events_str(tc.s),
			/* the numbers behind "tests", for resume's executed-test floor */
			"counts",
			json_pack("{s:b,s:s?,s:I,s:I,s:I,s:I}", "known", g->counts.known,
				  "runner", g->counts.runner, "executed",
				  (json_int_t)g->counts.executed, "passed",
				  (json_int_t)g->counts.passed, "failed",
				  (json_int_t)g->counts.failed, "skipped",
				  (json_int_t)g->counts.skipped)));
	buf_release(&tc);
}

/*
 * JUnit reports: files matching the gate's junit glob (relative to the
 * tree) written during this gate run.  When any is found their counts
 * replace what the text output said: the report is the runner's own record.
 */
static void junit_counts(const struct run *r, size_t i, time_t since,
			 struct gate_outcome *cur)
{
	const struct gate_opts *o = config_gate_opts(r->cfg, i);
	struct testcount sum = TESTCOUNT_INIT;
	glob_t gl;
	char *pat;

	if (!o->junit)
		return;
	pat = xasprintf("%s/%s", r->tree, o->junit);
	if (glob(pat, 0, NULL, &gl) == 0) {
		size_t tn = strlen(r->tree);
		for (size_t k = 0; k < gl.gl_pathc; k++) {
			struct stat st;
			struct buf xml = BUF_INIT;
			struct testcount one = TESTCOUNT_INIT;
			const char *rel = gl.gl_pathv[k] + tn;
			if (strncmp(gl.gl_pathv[k], r->tree, tn) || *rel != '/')
				continue;
			/* the gate ran in the actor's tree: a FIFO or a symlink
			 * out at the junit path is refused, not read */
			if (saferead_tree(r->tree, rel + 1, JUNIT_MAX, 0, &xml, &st,
					  NULL) == 0 &&
			    st.st_mtime >= since && /* else stale: an earlier run's */
			    testcount_parse_junit(xml.s, xml.len, &one))
				testcount_add(&sum, &one);
			buf_release(&xml);
		}
		globfree(&gl);
	}
	free(pat);
	if (sum.known)
		cur->counts = sum;
}

/* "'id1' 'id2'": the failing test ids of the last failure, shell-quoted. */
static int failed_ids(const struct gate_outcome *g, struct buf *out)
{
	char **ids = NULL;
	size_t n = fingerprint_failed_tests(g->output.s, g->output.len, &ids, 200);
	for (size_t k = 0; k < n; k++) {
		buf_addf(out, "%s'", k ? " " : "");
		for (const char *c = ids[k]; *c; c++)
			buf_adds(out, *c == '\'' ? "'\\''" : (char[2]){*c, 0});
		buf_addch(out, '\'');
	}
	fingerprint_free_list(ids, n);
	return (int)n;
}

/* The focus command with {failed} filled, or NULL when there is none to run. */
static char *focus_command(const struct run *r, size_t i)
{
	const struct gate_opts *o = config_gate_opts(r->cfg, i);
	struct buf ids = BUF_INIT, cmd = BUF_INIT;
	const char *p, *hole;

	if (!o->focus || !r->last.ran || r->last.passed || (size_t)r->last.index != i ||
	    failed_ids(&r->last, &ids) == 0) {
		buf_release(&ids);
		return NULL;
	}
	for (p = o->focus; (hole = strstr(p, "{failed}")); p = hole + 8) {
		buf_add(&cmd, p, (size_t)(hole - p));
		buf_add(&cmd, ids.s, ids.len);
	}
	buf_adds(&cmd, p);
	buf_release(&ids);
	return buf_detach(&cmd, NULL);
}

/* One gate, from the cache or for real, into cur.  cmd overrides the
 * gate's command (the focus run); tag names its output file. */
static int run_gate(struct run *r, const char *dir, int iteration, size_t i,
		    const struct proc_env *env, int use_cache, const char *cmd,
		    const char *tag, struct gate_outcome *cur, struct buf *err)
{
	const struct gate_opts *o = config_gate_opts(r->cfg, i);
	char key[65] = "", phase[64];
	const struct gate_outcome *hit;
	time_t started = time(NULL);
	char *rel, *abs;
	int ret;

	if (use_cache && r->tree_id[0]) {
		cache_key(r, cmd, env, key);
		if ((hit = cache_get(r, key))) {
			outcome_copy(cur, hit);
			events_append(&r->ev, "gate_cached",
				      json_pack("{s:i,s:i,s:o,s:s,s:s,s:b,s:s}",
						"iteration", iteration, "gate",
						(int)i + 1, "command", events_str(cmd),
						"tree", r->tree_id, "key", key, "passed",
						hit->passed, "output_file",
						hit->output_file));
			return 0;
		}
	}
	rel = xasprintf("%s/gate-%zu%s.out", dir, i + 1, tag);
	abs = xasprintf("%s/%s", r->run_dir, rel);
	{
		struct gate_spec s = {cmd,
				      (int)i,
				      r->tree,
				      abs,
				      rel,
				      o->timeout_ms > 0 ? o->timeout_ms
							: r->cfg->gate_timeout_ms,
				      r->budget.deadline_at,
				      (const char *const *)env->v,
				      (size_t)r->cfg->feedback_max_bytes};
		snprintf(phase, sizeof(phase), "gate %zu/%zu", i + 1, r->cfg->gates.n);
		ui_status(r, phase);
		events_append(&r->ev, "gate_start",
			      json_pack("{s:i,s:i,s:o,s:b}", "iteration", iteration,
					"gate", (int)i + 1, "command", events_str(s.cmd),
					"focus", *tag != 0));
		ret = gate_run(&s, cur, err);
	}
	free(abs);
	free(rel);
	if (ret < 0)
		return ret;
	testcount_parse(cur->output.s, cur->output.len, &cur->counts);
	junit_counts(r, i, started, cur);
	gate_end_event(r, iteration, i, cmd, cur);
	/* Killed by us (timeout, deadline, Ctrl-C) says nothing about the tree. */
	if (key[0] && (cur->status == PROC_EXITED || cur->status == PROC_SIGNALED))
		cache_put(r, key, cur);
	return 0;
}

/*
 * Gate i: its focus command first when it has one and the gate failed last
 * time with named tests — a failing focus run decides the round at a
 * fraction of the cost — then, if that passed, the full command.
 */
static int one_gate(struct run *r, const char *dir, int iteration, size_t i,
		    const struct proc_env *env, int use_cache, struct gate_outcome *cur,
		    struct buf *err)
{
	char *focus = focus_command(r, i);
	int ret;
	if (focus) {
		ret = run_gate(r, dir, iteration, i, env, use_cache, focus, ".focus", cur,
			       err);
		free(focus);
		if (ret < 0 || !cur->passed)
			return ret;
	}
	return run_gate(r, dir, iteration, i, env, use_cache, r->cfg->gates.v[i], "", cur,
			err);
}

static void gate_env(const struct run *r, struct proc_env *env)
{
	proc_env_base(env);
	proc_env_set(env, "LOOPGATE_RUN_ID", r->id);
}

int judge_gates(struct run *r, const char *dir, int iteration, enum judge_mode mode,
		struct buf *err)
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
				err_set(why, 1,
					"gate %zu `%s` is flaky: on the same tree "
					"it passed (%s) and then failed on confirmation "
					"run "
					"%ld (%s: %s)",
					i + 1, r->cfg->gates.v[i], first, k,
					cur.output_file, cur.describe);
				events_append(&r->ev, "flaky",
					      json_pack("{s:i,s:i,s:o,s:s,s:s,s:I}",
							"iteration", iteration, "gate",
							(int)i + 1, "command",
							events_str(r->cfg->gates.v[i]),
							"passed_output", first,
							"failed_output", cur.output_file,
							"confirm_run", (json_int_t)k));
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
		events_append(&r->ev, "test_floor",
			      json_pack("{s:i,s:i,s:b,s:s}", "iteration", iteration,
					"gate", (int)i + 1, "known", 0, "note",
					"no recognised test runner at baseline: no "
					"executed-test floor"));
		goto out;
	}
	bad = !c->known || c->executed < b->executed || c->skipped > b->skipped;
	events_append(&r->ev, "test_floor",
		      json_pack("{s:i,s:i,s:b,s:o,s:o,s:b}", "iteration", iteration,
				"gate", (int)i + 1, "known", 1, "baseline",
				events_str(bd.s), "now", events_str(cd.s), "violated",
				bad));
	if (bad)
		err_set(why, 1,
			"gate %zu `%s` passed, but not with the tests the "
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
