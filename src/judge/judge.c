/*
 * judge.c: gate rounds, the result cache, flake confirmation.  See judge.h
 * and docs/design/gates.md.
 */
#include "judge/judge.h"
#include "record/evkind.h"
#include "judge/gate.h"
#include "tree/git.h"
#include "exec/proc.h"
#include "base/hash.h"
#include "judge/fingerprint.h"
#include "base/fileio.h"
#include "base/saferead.h"

#include <glob.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

/* A JUnit report larger than this is not read (its counts are ignored). */
#define JUNIT_MAX (64u << 20)

/* A result without its output, which stays in its file (the run's own):
 * sum is the SHA-256 of the output as it was, so a reload that reads
 * anything else is a miss, never a different result. */
struct judge_cache {
	char key[65];
	char sum[65];
	struct gate_outcome o;
};

static void output_sum(const struct gate_outcome *g, char hex[65])
{
	struct buf k = BUF_INIT;

	buf_addf(&k, "%d %d %zu:", g->output.truncated, g->output_binary, g->output.len);
	buf_add(&k, g->output.s, g->output.len);
	hash_sha256_hex(k.s, k.len, hex);
	buf_release(&k);
}

int judge_tree_id(struct judge *j, struct buf *err)
{
	return git_head_tree(j->tree, j->tree_id, err);
}

static void cache_key(const struct judge *j, const char *cmd, const struct proc_env *env,
		      char hex[65])
{
	struct buf k = BUF_INIT;
	buf_add(&k, j->tree_id, strlen(j->tree_id) + 1);
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

static void cache_put(struct judge *j, const char *key, const struct gate_outcome *o)
{
	struct judge_cache *e;
	j->cache = xrealloc(j->cache, (j->ncache + 1) * sizeof(*j->cache));
	e = &j->cache[j->ncache++];
	memset(e, 0, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	output_sum(o, e->sum);
	buf_init(&e->o.output, 0);
	outcome_copy(&e->o, o);
	buf_release(&e->o.output); /* in e->o.output_file */
}

/* The cached result of key into cur, its output read back; NULL: a miss. */
static const struct gate_outcome *cache_hit(const struct judge *j, const char *key,
					    struct gate_outcome *cur)
{
	const struct judge_cache *e = NULL;
	char sum[65];

	for (size_t i = 0; i < j->ncache && !e; i++)
		if (!strcmp(j->cache[i].key, key))
			e = &j->cache[i];
	if (!e)
		return NULL;
	outcome_copy(cur, &e->o);
	if (gate_output_reload(cur, j->run_dir, (size_t)j->cfg->feedback_max_bytes) < 0)
		return NULL;
	output_sum(cur, sum);
	return strcmp(sum, e->sum) ? NULL : &e->o;
}

int judge_nothing_ran_since_scan(const struct judge *j)
{
	return j->scan_spawns && j->scan_spawns == proc_spawns() + 1;
}

int judge_scan_wait(struct judge *j, struct buf *err)
{
	return git_scan_finish(&j->scan, err);
}

void judge_release(struct judge *j)
{
	git_scan_finish(&j->scan, NULL);
	free(j->base_counts);
	buf_release(&j->files);
	gate_outcome_release(&j->last);
	free(j->round_counts);
	j->base_counts = j->round_counts = NULL;
	for (size_t i = 0; i < j->ncache; i++)
		gate_outcome_release(&j->cache[i].o);
	free(j->cache);
	j->cache = NULL;
	j->ncache = 0;
}

static void gate_end_event(struct judge *j, int iteration, size_t i, const char *cmd,
			   const struct gate_outcome *g)
{
	struct buf tc = BUF_INIT;
	json_t *b;
	testcount_describe(&g->counts, &tc);
	b = json_pack("{s:i,s:i,s:o,s:s,s:i,s:i,s:o,s:f,s:s,s:I,s:b,s:o,s:o}",
		      "iteration", iteration, "gate", (int)i + 1, "command",
		      events_str(cmd), "status", proc_status_name(g->status), "exit_code",
		      g->exit_code, "signal", g->term_signal, "describe",
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
				(json_int_t)g->counts.skipped));
	if (b && j->phase)
		json_object_set_new(b, "phase", json_string(j->phase));
	events_append(j->ev, EV_GATE_END, b);
	buf_release(&tc);
}

/*
 * JUnit reports: files matching the gate's junit glob (relative to the
 * tree) written during this gate run.  When any is found their counts
 * replace what the text output said: the report is the runner's own record.
 */
static void junit_counts(const struct judge *j, size_t i, time_t since,
			 struct gate_outcome *cur)
{
	const struct gate_opts *o = config_gate_opts(j->cfg, i);
	struct testcount sum = TESTCOUNT_INIT;
	glob_t gl;
	char *pat;

	if (!o->junit)
		return;
	pat = xasprintf("%s/%s", j->tree, o->junit);
	if (glob(pat, 0, NULL, &gl) == 0) {
		size_t tn = strlen(j->tree);
		for (size_t k = 0; k < gl.gl_pathc; k++) {
			struct stat st;
			struct buf xml = BUF_INIT;
			struct testcount one = TESTCOUNT_INIT;
			const char *rel = gl.gl_pathv[k] + tn;
			if (strncmp(gl.gl_pathv[k], j->tree, tn) || *rel != '/')
				continue;
			/* the gate ran in the actor's tree: a FIFO or a symlink
			 * out at the junit path is refused, not read */
			if (saferead_tree(j->tree, rel + 1, JUNIT_MAX, 0, &xml, &st,
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
static char *focus_command(const struct judge *j, size_t i)
{
	const struct gate_opts *o = config_gate_opts(j->cfg, i);
	struct buf ids = BUF_INIT, cmd = BUF_INIT;
	const char *p, *hole;

	if (!o->focus || !j->last.ran || j->last.passed || (size_t)j->last.index != i ||
	    failed_ids(&j->last, &ids) == 0) {
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

/* The gate_start record; "confirm" only on a confirmation run. */
static void gate_start_event(struct judge *j, int iteration, size_t i, const char *cmd,
			     int focus, int confirm)
{
	json_t *b = json_pack("{s:i,s:i,s:o,s:b}", "iteration", iteration, "gate",
			      (int)i + 1, "command", events_str(cmd), "focus", focus);
	if (b && confirm > 0)
		json_object_set_new(b, "confirm", json_integer(confirm));
	if (b && j->phase)
		json_object_set_new(b, "phase", json_string(j->phase));
	events_append(j->ev, EV_GATE_START, b);
}

/* One gate, from the cache or for real, into cur.  cmd overrides the
 * gate's command (the focus run); tag names its output file.  confirm:
 * 0 for a normal round (cached), k for confirmation run k (never cached). */
static int run_gate(struct judge *j, const char *dir, int iteration, size_t i,
		    const struct proc_env *env, int confirm, const char *cmd,
		    const char *tag, struct gate_outcome *cur, struct buf *err)
{
	const struct gate_opts *o = config_gate_opts(j->cfg, i);
	char key[65] = "";
	const struct gate_outcome *hit;
	time_t started = time(NULL);
	char *rel, *abs;
	int ret;

	if (!confirm && j->tree_id[0]) {
		cache_key(j, cmd, env, key);
		if ((hit = cache_hit(j, key, cur))) {
			events_append(j->ev, EV_GATE_CACHED,
				      json_pack("{s:i,s:i,s:o,s:s,s:s,s:b,s:s}",
						"iteration", iteration, "gate",
						(int)i + 1, "command", events_str(cmd),
						"tree", j->tree_id, "key", key, "passed",
						hit->passed, "output_file",
						hit->output_file));
			return 0;
		}
	}
	rel = xasprintf("%s/gate-%zu%s.out", dir, i + 1, tag);
	abs = xasprintf("%s/%s", j->run_dir, rel);
	{
		struct gate_spec s = {cmd,
				      (int)i,
				      j->tree,
				      abs,
				      rel,
				      o->timeout_ms > 0 ? o->timeout_ms
							: j->cfg->gate_timeout_ms,
				      j->deadline_at,
				      (const char *const *)env->v,
				      (size_t)j->cfg->feedback_max_bytes,
				      j->sandbox,
				      j->policy};
		gate_start_event(j, iteration, i, s.cmd, *tag != 0, confirm);
		/* the gate is on record before it runs, or it does not run */
		if ((ret = events_barrier(j->ev)) < 0)
			err_set(err, ret, "%s", j->ev->err.s);
		else
			ret = gate_run(&s, cur, err);
	}
	free(abs);
	free(rel);
	if (ret < 0)
		return ret;
	testcount_parse(cur->output.s, cur->output.len, &cur->counts);
	junit_counts(j, i, started, cur);
	gate_end_event(j, iteration, i, cmd, cur);
	/* Killed by us (timeout, deadline, Ctrl-C) says nothing about the tree. */
	if (key[0] && (cur->status == PROC_EXITED || cur->status == PROC_SIGNALED))
		cache_put(j, key, cur);
	return 0;
}

/*
 * Gate i: its focus command first when it has one and the gate failed last
 * time with named tests — a failing focus run decides the round at a
 * fraction of the cost — then, if that passed, the full command.
 */
static int one_gate(struct judge *j, const char *dir, int iteration, size_t i,
		    const struct proc_env *env, int confirm, struct gate_outcome *cur,
		    struct buf *err)
{
	char *focus = focus_command(j, i);
	int ret;
	if (focus) {
		ret = run_gate(j, dir, iteration, i, env, confirm, focus, ".focus", cur,
			       err);
		free(focus);
		if (ret < 0 || !cur->passed)
			return ret;
	}
	return run_gate(j, dir, iteration, i, env, confirm, j->cfg->gates.v[i], "", cur,
			err);
}

static void gate_env(const struct judge *j, struct proc_env *env)
{
	proc_env_base(env);
	proc_env_set(env, "LOOPGATE_RUN_ID", j->run_id);
}

int judge_gates(struct judge *j, const char *dir, int iteration, enum judge_mode mode,
		struct buf *err)
{
	struct proc_env env = PROC_ENV_INIT;
	struct gate_outcome cur;
	char *absdir = xasprintf("%s/%s", j->run_dir, dir);
	int ret, decided = 0, ran_any = 0;

	memset(&cur, 0, sizeof(cur));
	buf_init(&cur.output, 0);
	if (!j->base_counts) {
		j->base_counts = xcalloc(j->cfg->gates.n, sizeof(*j->base_counts));
		j->round_counts = xcalloc(j->cfg->gates.n, sizeof(*j->round_counts));
	}
	memset(j->round_counts, 0, j->cfg->gates.n * sizeof(*j->round_counts));
	if ((ret = judge_scan_wait(j, err)) < 0 || (ret = fileio_mkdirs(absdir, err)) < 0)
		goto out;
	gate_env(j, &env);
	for (size_t i = 0; i < j->cfg->gates.n; i++) {
		if ((ret = one_gate(j, dir, iteration, i, &env, 0, &cur, err)) < 0)
			break;
		cur.gates_run = (int)i + 1;
		ran_any = 1;
		j->round_counts[i] = cur.counts;
		if (iteration == 0)
			j->base_counts[i] = cur.counts;
		/* killed by the deadline or Ctrl-C: the round ends, whatever mode */
		int stopped = cur.status == PROC_DEADLINE ||
			      cur.status == PROC_INTERRUPTED;
		/* j->last: the first failure, or the last gate when all pass */
		if (!decided && (!cur.passed || i + 1 == j->cfg->gates.n || stopped)) {
			gate_outcome_release(&j->last);
			j->last = cur;
			memset(&cur, 0, sizeof(cur));
			buf_init(&cur.output, 0);
			decided = !j->last.passed;
		}
		if (stopped || (decided && mode == JUDGE_CASCADE))
			break;
	}
	/* Whatever the gates created is theirs, not the actor's next change. */
	/* nothing ran since the last scan: it would find what that one did */
	if (ret == 0 && ran_any &&
	    !(j->scan_unless_unchanged && judge_nothing_ran_since_scan(j))) {
		ret = j->scan_later
			      ? git_scan_start(j->tree, j->artifacts, &j->files, &j->scan,
					       err)
			      : git_scan_tree(j->tree, j->artifacts, &j->files, err);
		j->scan_spawns = ret == 0 ? proc_spawns() + 1 : 0;
	}
out:
	gate_outcome_release(&cur);
	proc_env_release(&env);
	free(absdir);
	return ret;
}

int judge_confirm(struct judge *j, const char *dir, int iteration, struct buf *why,
		  struct buf *err)
{
	struct proc_env env = PROC_ENV_INIT;
	struct gate_outcome cur;
	int ret = 0;

	memset(&cur, 0, sizeof(cur));
	buf_init(&cur.output, 0);
	if ((ret = judge_scan_wait(j, err)) < 0)
		return ret;
	gate_env(j, &env);
	for (long k = 1; k <= j->cfg->confirm && ret == 0; k++) {
		char *sub = xasprintf("%s/confirm-%ld", dir, k);
		char *abs = xasprintf("%s/%s", j->run_dir, sub);
		ret = fileio_mkdirs(abs, err);
		for (size_t i = 0; ret == 0 && i < j->cfg->gates.n; i++) {
			char *first = xasprintf("%s/gate-%zu.out", dir, i + 1);
			ret = one_gate(j, sub, iteration, i, &env, (int)k, &cur, err);
			if (ret == 0 && !cur.passed) {
				err_set(why, 1,
					"gate %zu `%s` is flaky: on the same tree "
					"it passed (%s) and then failed on confirmation "
					"run "
					"%ld (%s: %s)",
					i + 1, j->cfg->gates.v[i], first, k,
					cur.output_file, cur.describe);
				events_append(j->ev, EV_FLAKY,
					      json_pack("{s:i,s:i,s:o,s:s,s:s,s:I}",
							"iteration", iteration, "gate",
							(int)i + 1, "command",
							events_str(j->cfg->gates.v[i]),
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
static int floor_one(struct judge *j, size_t i, int iteration, struct buf *why)
{
	const struct testcount *b = &j->base_counts[i], *c = &j->round_counts[i];
	struct buf bd = BUF_INIT, cd = BUF_INIT;
	int bad = 0;

	testcount_describe(b, &bd);
	testcount_describe(c, &cd);
	if (!b->known) {
		events_append(j->ev, EV_TEST_FLOOR,
			      json_pack("{s:i,s:i,s:b,s:s}", "iteration", iteration,
					"gate", (int)i + 1, "known", 0, "note",
					"no recognised test runner at baseline: no "
					"executed-test floor"));
		goto out;
	}
	bad = !c->known || c->executed < b->executed || c->skipped > b->skipped;
	events_append(j->ev, EV_TEST_FLOOR,
		      json_pack("{s:i,s:i,s:b,s:o,s:o,s:b}", "iteration", iteration,
				"gate", (int)i + 1, "known", 1, "baseline",
				events_str(bd.s), "now", events_str(cd.s), "violated",
				bad));
	if (bad)
		err_set(why, 1,
			"gate %zu `%s` passed, but not with the tests the "
			"baseline ran: now %s; at baseline %s. Tests were removed, "
			"skipped or stopped reporting, so this pass does not count",
			i + 1, j->cfg->gates.v[i], cd.s, bd.s);
out:
	buf_release(&bd);
	buf_release(&cd);
	return bad;
}

int judge_floor(struct judge *j, int iteration, struct buf *why)
{
	for (size_t i = 0; i < j->cfg->gates.n; i++)
		if (floor_one(j, i, iteration, why))
			return 1;
	return 0;
}
