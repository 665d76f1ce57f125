/*
 * auditkey.c: the audit signing key as every command finds it (auditkey.h).
 */
#include "engine/auditkey.h"
#include "config/config.h"
#include "record/checkpoint.h"
#include "record/rundir.h"
#include "tree/git.h"
#include "engine/resume_impl.h"
#include "record/evkind.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <stdlib.h>

/*
 * The repository whose config names the key.  A run's directory names its
 * repository in its path (record/rundir.h): no git process needed to ask,
 * which is the whole cost of writing handoff.md at a run's end.
 */
static int key_top(const char *dir, struct buf *top, struct buf *why)
{
	char *repo = dir ? rundir_repo_of(dir) : NULL, *dotgit;
	struct stat st;
	int ok = 0;

	if (repo) {
		dotgit = xasprintf("%s/.git", repo);
		ok = stat(dotgit, &st) == 0;
		free(dotgit);
	}
	if (ok)
		buf_sets(top, repo);
	free(repo);
	return ok ? 0 : git_toplevel(dir ? dir : ".", top, why);
}

int auditkey_load(const char *dir, const char *explicit_path, struct checkpoint_key *k,
		  struct buf *err)
{
	struct buf top = BUF_INIT, why = BUF_INIT;
	struct config c;
	const char *env = getenv(CHECKPOINT_KEY_ENV);
	char *path = NULL;
	int ret = 0;

	config_init(&c);
	if (explicit_path) {
		path = xstrdup(explicit_path);
	} else {
		if ((!env || !*env) && key_top(dir, &top, &why) == 0 &&
		    (ret = config_load_default(&c, top.s, NULL, &why)) < 0)
			err_set(err, ret,
				"%s (the audit key's path is read from "
				"audit_key: in it; pass --key FILE to name the key "
				"instead)",
				why.s);
		if (ret == 0)
			ret = checkpoint_key_path(c.audit_key, NULL, &path, err);
	}
	if (ret == 0)
		ret = checkpoint_key_load(k, path, 0, err);
	free(path);
	config_release(&c);
	buf_release(&top);
	buf_release(&why);
	return ret;
}

/* The final checkpoint (the highest seq), or NULL. */
static const struct checkpoint *final_of(const struct checkpoint_list *l)
{
	const struct checkpoint *top = NULL;
	for (size_t i = 0; i < l->n; i++)
		if (!top || l->v[i].seq > top->seq)
			top = &l->v[i];
	return top && top->final ? top : NULL;
}

/* run_start's fanout.parent and run_id of the log at path. */
static int parent_of(const struct logv *v, const char **parent, const char **id)
{
	for (size_t i = 0; i < v->n; i++)
		if (is(v->rec[i], EV_RUN_START)) {
			*parent = jstr(json_object_get(body(v->rec[i]), "fanout"),
				       "parent");
			*id = jstr(body(v->rec[i]), "run_id");
			return *parent && *id ? 0 : -ENOENT;
		}
	return -ENOENT;
}

/* The parent's log verified whole with k: 0, or -ENOENT with why. */
static int parent_intact(const char *events, const struct checkpoint_key *k,
			 struct buf *why)
{
	struct checkpoint_list pl = CHECKPOINT_LIST_INIT;
	struct audit_result res;
	struct checkpoint_result cr;
	struct buf err = BUF_INIT;
	char *cpath = checkpoint_file_beside(events);
	int ret = checkpoint_load(cpath, &pl, &err);

	memset(&cr, 0, sizeof(cr));
	if (ret == 0)
		ret = checkpoint_verify(&pl, k, events, &res, &cr, &err);
	if (ret == 0 && (res.status != AUDIT_INTACT || cr.reason))
		ret = -EBADMSG;
	if (ret < 0)
		buf_addf(why,
			 "the log of the run that started it (%s) does not verify "
			 "with this key: %s",
			 events,
			 err.len     ? err.s
			 : cr.reason ? cr.detail.s
				     : res.reason);
	checkpoint_result_release(&cr);
	checkpoint_list_release(&pl);
	buf_release(&err);
	free(cpath);
	return ret < 0 ? -ENOENT : 0;
}

int auditkey_vouched(const char *events_path, const struct checkpoint_list *l,
		     const struct checkpoint_key *k, struct checkpoint_key *out,
		     struct buf *why)
{
	const struct checkpoint *fin = final_of(l);
	struct logv v = {NULL, 0}, pv = {NULL, 0};
	const char *parent = NULL, *id = NULL;
	char *repo = NULL, *pevents = NULL, *run_dir = NULL;
	int ret = -ENOENT;

	if (!fin || !fin->pub[0]) {
		buf_adds(why, "its checkpoints carry no public key to check them with");
		return -ENOENT;
	}
	/* absolute: `audit verify events.jsonl` names no directory */
	if ((run_dir = realpath(events_path, NULL)))
		*strrchr(run_dir, '/') = 0;
	if (!run_dir || logv_load(&v, events_path, NULL) < 0 ||
	    parent_of(&v, &parent, &id) < 0 || !(repo = rundir_repo_of(run_dir))) {
		buf_adds(why, "it is not a worker of another run on this machine");
		goto out;
	}
	pevents = rundir_run_file(repo, parent, RUNDIR_EVENTS);
	if (parent_intact(pevents, k, why) < 0 || logv_load(&pv, pevents, why) < 0)
		goto out;
	for (size_t i = 0; ret < 0 && i < pv.n; i++) {
		const json_t *b = body(pv.rec[i]);
		const json_t *cp = json_object_get(json_object_get(b, "log"),
						   "checkpoint");
		if (!is(pv.rec[i], EV_WORKER_END) || !jstr(b, "run_id") ||
		    strcmp(jstr(b, "run_id"), id))
			continue;
		if (jlong(cp, "seq", -1) == fin->seq && jstr(cp, "h") &&
		    !strcmp(jstr(cp, "h"), fin->h) && jstr(cp, "key_id") &&
		    !strcmp(jstr(cp, "key_id"), fin->key_id) &&
		    checkpoint_key_from_pub(out, fin->pub) == 0 &&
		    !strcmp(out->key_id, fin->key_id)) {
			buf_addf(why, "run %s's verified log, seq %ld", parent,
				 jlong(pv.rec[i], "seq", -1));
			ret = 0;
		}
	}
	if (ret < 0 && !why->len)
		buf_addf(why,
			 "run %s's log holds no worker_end naming this log's final "
			 "checkpoint (seq %ld, key %.16s...)",
			 parent, fin->seq, fin->key_id);
out:
	logv_release(&v);
	logv_release(&pv);
	free(repo);
	free(pevents);
	free(run_dir);
	return ret;
}
