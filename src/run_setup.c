/*
 * run_setup.c: everything before the baseline — the repository, the dirty
 * check, the run id and directory, the event log, the actor, the worktree.
 * See loop.h.
 */
#include "loop.h"
#include "clock.h"
#include "config.h"
#include "fileio.h"
#include "git.h"
#include "gate.h"
#include "hash.h"
#include "policy.h"
#include "provider.h"
#include "sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EXIT_USAGE = 2, EXIT_CANNOT = 3 };


static void make_id(struct run *r)
{
	char rnd[7] = "000000";	/* kept if the kernel has no randomness */
	time_t now = time(NULL);
	struct tm tm;
	hash_random_hex(3, rnd);
	gmtime_r(&now, &tm);
	snprintf(r->id, sizeof(r->id), "%04d%02d%02d-%02d%02d%02d-%s",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, rnd);
}

/* --allow-dirty: the user's uncommitted tracked changes become the run's
 * first commit, so the baseline judges what the user actually has. */
static int carry_dirty(struct run *r, struct buf *err)
{
	struct buf diff = BUF_INIT, changed = BUF_INIT;
	char *patch = xasprintf("%s/carried.patch", r->run_dir);
	const char *apply[] = { "apply", "--index", "--binary", patch, NULL };
	int ret = git_run(r->repo, &diff, err, "diff", "HEAD", "--binary", NULL);
	if (ret < 0 || (ret = fileio_write_atomic(patch, diff.s, diff.len, err)) < 0)
		goto out;
	if ((ret = git_runv(r->tree, apply, NULL, NULL, err)) < 0)
		goto out;
	ret = git_commit_all(r->tree, "loopgate: uncommitted changes carried from "
			     "the user's tree", NULL, &r->index, &changed, NULL, err);
	events_append(&r->ev, "carried_changes", json_pack("{s:s,s:I}",
		"patch", "carried.patch", "bytes", (json_int_t)diff.len));
out:
	free(patch);
	buf_release(&diff);
	buf_release(&changed);
	return ret;
}

static int setup_model(struct run *r, struct buf *err)
{
	const struct config *c = r->cfg;
	struct provider_opts o = PROVIDER_OPTS_INIT;
	const char *key = NULL;
	int ret = config_resolve_model(c, c->model, &r->preset, err);

	if (ret < 0)
		return EXIT_USAGE;
	r->budget.price_in = r->preset.price_in;
	r->budget.price_out = r->preset.price_out;
	r->max_output_tokens = c->max_output_tokens > 0 ? c->max_output_tokens
			     : r->preset.max_output_tokens > 0 ? r->preset.max_output_tokens
			     : CONFIG_DEFAULT_MAX_OUTPUT_TOKENS;
	if (r->preset.api_key_env && *r->preset.api_key_env)
		key = getenv(r->preset.api_key_env);
	if ((!key || !*key) && r->preset.base_url &&
	    (strstr(r->preset.base_url, "api.openai.com") ||
	     strstr(r->preset.base_url, "api.anthropic.com"))) {
		err_set(err, -EINVAL, "no API key: set $%s (or name another variable "
			"with api_key_env in loopgate.yaml)", r->preset.api_key_env);
		return EXIT_USAGE;
	}
	o.kind = r->preset.provider;
	o.model = r->preset.model;
	o.base_url = r->preset.base_url;
	o.api_key = key && *key ? key : NULL;
	o.replay_file = !strcmp(o.kind, "replay") ? r->preset.model : NULL;
	o.record_file = c->record;
	o.connect_timeout_ms = c->connect_timeout_ms;
	o.read_timeout_ms = c->read_timeout_ms;
	o.max_retries = (int)c->retries;
	o.retry_base_ms = c->retry_base_ms;
	o.retry_max_ms = c->retry_max_ms;
	o.stream = c->stream != 0;
	o.temperature = c->temperature;
	if (provider_new(&o, &r->prov, err) < 0)
		return EXIT_USAGE;
	return 0;
}

/*
 * The sandbox every gate and the command actor run in (sandbox.h), its
 * `sandbox` event, and a `policy` event for each gate (config_finalize
 * refused denied ones).  EXIT_CANNOT when the sandbox cannot be made.
 */
static int setup_sandbox(struct run *r, struct buf *err)
{
	const struct policy *p = r->cfg->policy;
	struct buf why = BUF_INIT;
	json_t *ev;
	int ret;

	r->sandbox = xcalloc(1, sizeof(*r->sandbox));
	sandbox_init(r->sandbox, r->cfg, r->tree, r->repo);
	ret = sandbox_probe(r->sandbox, err);
	ev = sandbox_json(r->sandbox);
	if (ret < 0)
		json_object_set_new(ev, "error", events_str(err->s));
	events_append(&r->ev, "sandbox", ev);
	if (ret < 0)
		return EXIT_CANNOT;
	for (size_t i = 0; p && i < r->cfg->gates.n; i++) {
		int ok = policy_check_command(p, r->cfg->gates.v[i], &why);
		events_append(&r->ev, "policy", json_pack("{s:s,s:i,s:o,s:s,s:o,s:o}",
			"subject", "gate", "gate", (int)i + 1,
			"command", events_str(r->cfg->gates.v[i]),
			"decision", ok ? "allow" : "deny", "rule", events_str(why.s),
			"limits", policy_limits_json(p)));
	}
	buf_release(&why);
	gate_use_sandbox(r->sandbox, p);
	return 0;
}

int run_setup(struct run *r, struct buf *err)
{
	struct buf b = BUF_INIT;
	json_t *cfgj = NULL;
	int ret, dirty;

	if ((ret = git_toplevel(r->cfg->dir, &b, err)) < 0)
		goto usage;
	r->repo = buf_detach(&b, NULL);
	if ((ret = git_rev(r->repo, "HEAD", &b, err)) < 0) {
		err_set(err, ret, "the repository %s has no commit yet: commit "
			"something first (loopgate runs from HEAD)", r->repo);
		goto usage;
	}
	r->base_sha = buf_detach(&b, NULL);
	dirty = git_is_dirty(r->repo, err);
	if (dirty < 0)
		goto cannot;
	if (dirty && !r->cfg->allow_dirty) {
		err_set(err, -EINVAL, "%s has uncommitted changes to tracked files; "
			"loopgate starts from HEAD and never touches your tree: commit "
			"or stash them, or pass --allow-dirty to carry them into the run",
			r->repo);
		goto usage;
	}
	make_id(r);
	r->run_dir = xasprintf("%s/.loopgate/runs/%s", r->repo, r->id);
	r->tree = xasprintf("%s/tree", r->run_dir);
	r->branch = xasprintf("loopgate/%s", r->id);
	r->artifacts = xasprintf("%s/gate-artifacts.exclude", r->run_dir);
	if (fileio_mkdirs(r->run_dir, err) < 0 || git_exclude_loopgate_dir(r->repo, err) < 0)
		goto cannot;
	{
		char *evp = xasprintf("%s/events.jsonl", r->run_dir);
		ret = events_open(&r->ev, evp, r->id, err);
		free(evp);
		if (ret < 0)
			goto cannot;
	}
	if (r->cfg->agent_cmd) {
		r->actor = "command";
	} else {
		r->actor = "model";
		if ((ret = setup_model(r, err)) != 0)
			goto usage;
	}
	if (config_to_json(r->cfg, (void **)&cfgj) < 0 || !cfgj)
		cfgj = json_object();
	events_append(&r->ev, "run_start", json_pack("{s:s,s:o,s:s,s:s,s:o,s:s,s:s,s:o,s:o}",
		"run_id", r->id, "repo", events_str(r->repo), "base", r->base_sha,
		"branch", r->branch, "tree", events_str(r->tree), "actor", r->actor,
		"version", LOOPGATE_VERSION, "config", cfgj, "goal", events_str(r->goal)));
	if (git_worktree_add(r->repo, r->tree, r->branch, r->base_sha, err) < 0)
		goto cannot;
	protect_init(&r->protect, r->cfg, r->tree);
	if (dirty && carry_dirty(r, err) < 0)
		goto cannot;
	if (setup_sandbox(r, err) != 0)
		goto cannot;
	buf_release(&b);
	return 0;
usage:
	buf_release(&b);
	return EXIT_USAGE;
cannot:
	buf_release(&b);
	return EXIT_CANNOT;
}

