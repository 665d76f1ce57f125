/*
 * kueue: the Kueue backend of the executor (executor.h).  A worker is a
 * suspended batch/v1 Job in the tenant's LocalQueue; Kueue creates its
 * Workload, admits it under the ClusterQueue's quota and unsuspends it
 * (docs/design/executors.md).  The handle is the Job's name.
 *
 * Requests, all in the executor's namespace:
 *   submit  POST   /apis/batch/v1/namespaces/NS/jobs
 *   poll    GET    .../jobs/NAME, then the Workload by the Job's uid:
 *           GET    /apis/kueue.x-k8s.io/v1beta1/namespaces/NS/workloads
 *                  ?labelSelector=kueue.x-k8s.io/job-uid=UID
 *   exit    GET    /api/v1/namespaces/NS/pods?labelSelector=batch.kubernetes.io/job-name=NAME
 *   log     GET    /api/v1/namespaces/NS/pods/POD/log
 *   cancel  DELETE .../jobs/NAME  {"propagationPolicy": "Background"}
 *   wait    GET    .../jobs?labelSelector=...&watch=1&resourceVersion=RV
 *                  &allowWatchBookmarks=true&timeoutSeconds=N
 */
#include "dispatch/executor.h"
#include "dispatch/kube.h"
#include "dispatch/kube_manifest.h"
#include "dispatch/kube_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MANAGED "app.kubernetes.io/managed-by=loopgate"

struct kueue {
	struct kube_conn c;
	char *ns;
	struct executor_opts o; /* its strings are ours */
	char *rv;		/* where the next watch starts; NULL: list first */
	int no_visibility;	/* Kueue's visibility API is absent or denied */
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int kueue_open(struct executor *ex, const struct executor_opts *o, struct buf *err)
{
	struct kueue *k = xcalloc(1, sizeof(*k));
	int ret;

	ex->impl = k;
	if ((ret = kube_conn_load(&k->c, o->kubeconfig, err)) < 0)
		return ret;
	k->ns = xstrdup(o->kube_namespace ? o->kube_namespace
			: k->c.ns	  ? k->c.ns
					  : "default");
	k->o.kube_queue = dup_or_null(o->kube_queue);
	k->o.kube_image = dup_or_null(o->kube_image);
	k->o.kube_secret = dup_or_null(o->kube_secret);
	k->o.kube_secret_key = dup_or_null(o->kube_secret_key);
	k->o.kube_account = dup_or_null(o->kube_account);
	return 0;
}

static void kueue_close(struct executor *ex)
{
	struct kueue *k = ex->impl;
	if (!k)
		return;
	kube_conn_release(&k->c);
	free(k->ns);
	free((char *)k->o.kube_queue);
	free((char *)k->o.kube_image);
	free((char *)k->o.kube_secret);
	free((char *)k->o.kube_secret_key);
	free((char *)k->o.kube_account);
	free(k->rv);
	free(k);
}

/* A name we put in a path: a DNS label, nothing a path could be bent by. */
static int name_ok(const char *s, struct buf *err)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > 63 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
		return err_set(err, -EINVAL, "not a Kubernetes Job name: '%s'",
			       s ? s : "");
	return 0;
}

static char *jobs_path(const struct kueue *k, const char *name)
{
	return xasprintf("/apis/batch/v1/namespaces/%s/jobs%s%s", k->ns, name ? "/" : "",
			 name ? name : "");
}

/* 409: the Job exists.  Ours (same run id: a resumed coordinator submitting
 * again) is adopted; anyone else's is an error. */
static int adopt(struct kueue *k, const char *name, const struct executor_job *job,
		 struct buf *err)
{
	char *path = jobs_path(k, name);
	json_t *old = NULL;
	const char *run;
	int ret = kube_call(&k->c, "GET", path, NULL, &old, err);

	if (ret == 0) {
		run = json_string_value(json_object_get(
			json_object_get(json_object_get(old, "metadata"), "annotations"),
			"loopgate.dev/run-id"));
		if (!run || strcmp(run, job->run_id))
			ret = err_set(err, -EEXIST,
				      "a Job named %s already exists in namespace %s and "
				      "is not run %s's worker %s: delete it, or use "
				      "another run",
				      name, k->ns, job->run_id, job->worker_id);
	}
	json_decref(old);
	free(path);
	return ret;
}

static int kueue_submit(struct executor *ex, const struct executor_job *job,
			struct buf *handle, struct buf *err)
{
	struct kueue *k = ex->impl;
	json_t *m = kube_job_manifest(job, &k->o, k->ns, err);
	char name[64];
	char *path;
	int ret;

	if (!m)
		return -EINVAL;
	executor_job_name(job, name);
	path = jobs_path(k, NULL);
	ret = kube_call(&k->c, "POST", path, m, NULL, err);
	if (ret == -EEXIST)
		ret = adopt(k, name, job, err);
	if (ret == 0)
		buf_sets(handle, name);
	free(path);
	json_decref(m);
	return ret;
}

/* items[0] of a list at path?labelSelector=sel, or NULL (none). */
static int first_item(struct kueue *k, const char *path, const char *sel, json_t **out,
		      struct buf *err)
{
	struct buf p = BUF_INIT;
	json_t *list = NULL;
	int ret;

	buf_addf(&p, "%s?labelSelector=", path);
	kube_query_escape(&p, sel);
	ret = kube_call(&k->c, "GET", p.s, NULL, &list, err);
	*out = NULL;
	if (ret == 0) {
		json_t *items = json_object_get(list, "items");
		/* the newest: a retried or requeued Job may have had others */
		*out = json_incref(json_array_get(items, json_array_size(items) - 1));
	}
	json_decref(list);
	buf_release(&p);
	return ret;
}

/* The exit code of the Job's last pod, when one terminated. */
static void pod_exit(struct kueue *k, const char *name, struct executor_status *st)
{
	char *path = xasprintf("/api/v1/namespaces/%s/pods", k->ns);
	char *sel = xasprintf("batch.kubernetes.io/job-name=%s", name);
	json_t *pod = NULL;

	if (first_item(k, path, sel, &pod, NULL) == 0 && pod) {
		int code = kube_pod_exit_code(pod);
		if (code >= 0)
			st->exit_code = code;
	}
	json_decref(pod);
	free(sel);
	free(path);
}

/*
 * Where a waiting Workload stands in its LocalQueue, from Kueue's on-demand
 * visibility API (PendingWorkloadsSummary, positions from 0).  A Kueue
 * without it (404) or a Role that does not grant it (403) is asked no
 * more: the position is a courtesy, never a failure.
 */
static void queue_position(struct kueue *k, json_t *wl, struct executor_status *st)
{
	const char *name = json_string_value(
		json_object_get(json_object_get(wl, "metadata"), "name"));
	const char *queue = json_string_value(
		json_object_get(json_object_get(wl, "spec"), "queueName"));
	struct buf err = BUF_INIT;
	json_t *sum = NULL, *items, *it;
	char *path;
	size_t i;
	int ret;

	if (k->no_visibility || !name || !queue || name_ok(queue, NULL) < 0)
		return;
	path = xasprintf("/apis/visibility.kueue.x-k8s.io/v1beta1/namespaces/%s/"
			 "localqueues/%s/pendingworkloads",
			 k->ns, queue);
	ret = kube_call(&k->c, "GET", path, NULL, &sum, &err);
	if (ret == -ENOENT || ret == -EPERM)
		k->no_visibility = 1;
	items = json_object_get(sum, "items");
	json_array_foreach(items, i, it)
	{
		const char *n = json_string_value(
			json_object_get(json_object_get(it, "metadata"), "name"));
		size_t len = strlen(st->reason);
		if (!n || strcmp(n, name))
			continue;
		st->position = 1 + (int)json_integer_value(
					   json_object_get(it, "positionInLocalQueue"));
		st->waiting = (int)json_array_size(items);
		snprintf(st->reason + len, sizeof(st->reason) - len,
			 "%sposition %d of %d in LocalQueue %s", len ? "; " : "",
			 st->position, st->waiting, queue);
		break;
	}
	json_decref(sum);
	buf_release(&err);
	free(path);
}

static int kueue_poll(struct executor *ex, const char *name, struct executor_status *st,
		      struct buf *err)
{
	struct kueue *k = ex->impl;
	json_t *job = NULL, *wl = NULL;
	char *path, *wpath, *sel;
	const char *uid;
	int ret;

	if (name_ok(name, err) < 0)
		return -EINVAL;
	path = jobs_path(k, name);
	ret = kube_call(&k->c, "GET", path, NULL, &job, err);
	free(path);
	if (ret == -ENOENT) {
		kube_job_state(NULL, NULL, st);
		buf_reset(err);
		return 0;
	}
	if (ret < 0)
		return ret;
	uid = json_string_value(json_object_get(json_object_get(job, "metadata"), "uid"));
	wpath = xasprintf("/apis/kueue.x-k8s.io/v1beta1/namespaces/%s/workloads", k->ns);
	sel = xasprintf("kueue.x-k8s.io/job-uid=%s", uid ? uid : "");
	ret = first_item(k, wpath, sel, &wl, err);
	if (ret == 0) {
		kube_job_state(job, wl, st);
		if (st->state == WS_FAILED || st->state == WS_SUCCEEDED)
			pod_exit(k, name, st);
		else if (st->state == WS_QUEUED && wl)
			queue_position(k, wl, st);
	}
	free(sel);
	free(wpath);
	json_decref(wl);
	json_decref(job);
	return ret;
}

static int kueue_cancel(struct executor *ex, const char *name, struct buf *err)
{
	struct kueue *k = ex->impl;
	json_t *opts = json_pack("{s:s, s:s, s:s}", "kind", "DeleteOptions", "apiVersion",
				 "v1", "propagationPolicy", "Background");
	char *path;
	int ret;

	if (name_ok(name, err) < 0) {
		json_decref(opts);
		return -EINVAL;
	}
	path = jobs_path(k, name);
	/* the pods go with the Job, in the background */
	ret = kube_call(&k->c, "DELETE", path, opts, NULL, err);
	if (ret == -ENOENT) {
		buf_reset(err);
		ret = 0;
	}
	free(path);
	json_decref(opts);
	return ret;
}

static int kueue_log(struct executor *ex, const char *name, struct buf *out,
		     struct buf *err)
{
	struct kueue *k = ex->impl;
	char *path, *sel;
	json_t *pod = NULL;
	const char *pname;
	int ret;

	if (name_ok(name, err) < 0)
		return -EINVAL;
	path = xasprintf("/api/v1/namespaces/%s/pods", k->ns);
	sel = xasprintf("batch.kubernetes.io/job-name=%s", name);
	ret = first_item(k, path, sel, &pod, err);
	free(path);
	pname = json_string_value(
		json_object_get(json_object_get(pod, "metadata"), "name"));
	if (ret == 0 && !pname)
		ret = err_set(err, -ENOENT, "Job %s has no pod (yet): not admitted?",
			      name);
	if (ret == 0) {
		path = xasprintf("/api/v1/namespaces/%s/pods/%s/log", k->ns, pname);
		ret = kube_call_text(&k->c, path, out, err);
		free(path);
	}
	json_decref(pod);
	free(sel);
	return ret;
}

static int on_event(void *ctx, const char *type, json_t *obj)
{
	struct kueue *k = ctx;
	const char *rv = kube_resource_version(obj);

	/* every event moves the version on; a BOOKMARK only does that */
	if (rv) {
		free(k->rv);
		k->rv = xstrdup(rv);
	}
	return strcmp(type, "BOOKMARK") ? 1 : 0;
}

/* The version to watch from: the list's. */
static int relist(struct kueue *k, struct buf *err)
{
	struct buf p = BUF_INIT;
	json_t *list = NULL;
	char *path = jobs_path(k, NULL);
	int ret;

	buf_addf(&p, "%s?labelSelector=", path);
	kube_query_escape(&p, MANAGED);
	if ((ret = kube_call(&k->c, "GET", p.s, NULL, &list, err)) == 0) {
		const char *rv = kube_resource_version(list);
		free(k->rv);
		k->rv = rv ? xstrdup(rv) : NULL;
	}
	json_decref(list);
	buf_release(&p);
	free(path);
	return ret;
}

static int kueue_wait(struct executor *ex, long timeout_ms, struct buf *err)
{
	struct kueue *k = ex->impl;
	long secs = (timeout_ms + 999) / 1000;
	struct buf p = BUF_INIT;
	char *path;
	int ret;

	/* no version yet: list, then poll (the list is the news) */
	if (!k->rv)
		return relist(k, err);
	path = jobs_path(k, NULL);
	buf_addf(&p, "%s?labelSelector=", path);
	kube_query_escape(&p, MANAGED);
	buf_addf(&p,
		 "&watch=1&allowWatchBookmarks=true&timeoutSeconds=%ld&resourceVersion=",
		 secs < 1 ? 1 : secs);
	kube_query_escape(&p, k->rv);
	ret = kube_watch(&k->c, p.s, secs < 1 ? 1 : secs, on_event, k, err);
	if (ret == -ESTALE) {
		/* 410 Gone: the version was compacted away; list again */
		free(k->rv);
		k->rv = NULL;
		buf_reset(err);
		ret = relist(k, err);
	}
	buf_release(&p);
	free(path);
	return ret;
}

const struct executor_ops executor_kueue = {
	.name = "kueue",
	.open = kueue_open,
	.submit = kueue_submit,
	.poll = kueue_poll,
	.cancel = kueue_cancel,
	.log = kueue_log,
	.wait = kueue_wait,
	.close = kueue_close,
};
