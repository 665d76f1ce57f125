/*
 * kube_manifest: see kube_manifest.h.  Kueue's objects follow its
 * kueue.x-k8s.io/v1beta1 API (ResourceFlavor, ClusterQueue, LocalQueue).
 */
#include "dispatch/kube_manifest.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KUEUE_API "kueue.x-k8s.io/v1beta1"
#define FLAVOR	  "loopgate-default"

void kube_label_value(const char *s, char out[64])
{
	size_t n = 0;
	for (; *s && n < 63; s++) {
		unsigned char c = (unsigned char)*s;
		out[n++] = (isalnum(c) || c == '.' || c == '_' || c == '-') ? (char)c
									    : '-';
	}
	while (n && !isalnum((unsigned char)out[n - 1]))
		n--;
	out[n] = '\0';
	/* and from the start */
	for (n = 0; out[n] && !isalnum((unsigned char)out[n]); n++)
		;
	if (n)
		memmove(out, out + n, strlen(out + n) + 1);
}

static json_t *env_value(const char *name, const char *value)
{
	return json_pack("{s:s, s:s}", "name", name, "value", value);
}

static json_t *job_env(const struct executor_job *job, const struct executor_opts *o)
{
	json_t *env = json_array();

	json_array_append_new(env, env_value("LOOPGATE_RUN", job->run_id));
	json_array_append_new(env, env_value("LOOPGATE_WORKER", job->worker_id));
	if (job->repo_url)
		json_array_append_new(env, env_value("LOOPGATE_REPO", job->repo_url));
	if (job->base_commit)
		json_array_append_new(env, env_value("LOOPGATE_BASE", job->base_commit));
	for (const char *const *v = job->env_values; v && *v; v++) {
		const char *eq = strchr(*v, '=');
		if (eq && eq > *v)
			json_array_append_new(env, json_pack("{s:s%, s:s}", "name", *v,
							     (size_t)(eq - *v), "value",
							     eq + 1));
	}
	if (job->secret_env)
		json_array_append_new(
			env, json_pack("{s:s, s:{s:{s:s, s:s}}}", "name", job->secret_env,
				       "valueFrom", "secretKeyRef", "name",
				       o->kube_secret, "key",
				       o->kube_secret_key ? o->kube_secret_key
							  : job->secret_env));
	return env;
}

static json_t *job_resources(const struct executor_job *job)
{
	json_t *req = json_object(), *lim = json_object();
	char v[32];

	snprintf(v, sizeof(v), "%d", job->cpus > 0 ? job->cpus : 1);
	json_object_set_new(req, "cpu", json_string(v));
	if (job->mem_mb > 0) {
		snprintf(v, sizeof(v), "%ldMi", job->mem_mb);
		json_object_set_new(req, "memory", json_string(v));
		json_object_set_new(lim, "memory", json_string(v));
	}
	if (job->gpus > 0) {
		/* an extended resource: its request must equal its limit */
		snprintf(v, sizeof(v), "%d", job->gpus);
		json_object_set_new(req, "nvidia.com/gpu", json_string(v));
		json_object_set_new(lim, "nvidia.com/gpu", json_string(v));
	}
	return json_pack("{s:o, s:o}", "requests", req, "limits", lim);
}

static json_t *job_pod(const struct executor_job *job, const struct executor_opts *o,
		       json_t *labels)
{
	json_t *args = json_array(), *spec;
	const char *const *a;

	for (a = job->argv; *a; a++)
		json_array_append_new(args, json_string(*a));
	/* the pod is the worker's jail (kube_sandbox): not root, no
	 * capabilities, no privilege escalation, the runtime's seccomp */
	spec = json_pack("{s:s, s:b, s:{s:b, s:{s:s}}, s:[{s:s, s:s, s:o, s:o, s:o, "
			 "s:{s:b, s:{s:[s]}}}]}",
			 "restartPolicy", "Never", "automountServiceAccountToken", 0,
			 "securityContext", "runAsNonRoot", 1, "seccompProfile", "type",
			 "RuntimeDefault", "containers", "name", "worker", "image",
			 o->kube_image, "args", args, "env", job_env(job, o), "resources",
			 job_resources(job), "securityContext",
			 "allowPrivilegeEscalation", 0, "capabilities", "drop", "ALL");
	if (o->kube_account)
		json_object_set_new(spec, "serviceAccountName",
				    json_string(o->kube_account));
	return json_pack("{s:{s:O}, s:o}", "metadata", "labels", labels, "spec", spec);
}

json_t *kube_job_manifest(const struct executor_job *job, const struct executor_opts *o,
			  const char *ns, struct buf *err)
{
	char name[64], run[64], worker[64];
	json_t *labels, *m, *spec;

	if (!o->kube_queue || !o->kube_image) {
		err_set(err, -EINVAL,
			"a Kueue job needs its LocalQueue (--queue) and the "
			"loopgate image (--image)");
		return NULL;
	}
	if (job->secret_env && !o->kube_secret) {
		err_set(err, -EINVAL,
			"the API key (%s) comes from a Secret: name it "
			"(--secret)",
			job->secret_env);
		return NULL;
	}
	executor_job_name(job, name);
	kube_label_value(job->run_id, run);
	kube_label_value(job->worker_id, worker);
	labels = json_pack("{s:s, s:s, s:s}", "app.kubernetes.io/managed-by", "loopgate",
			   KUBE_LABEL_RUN, run, KUBE_LABEL_WORKER, worker);
	/* Kueue admits a suspended Job of a queue, then unsuspends it */
	spec = json_pack("{s:b, s:i, s:o}", "suspend", 1, "backoffLimit", 0, "template",
			 job_pod(job, o, labels));
	if (job->time_limit_s > 0)
		json_object_set_new(spec, "activeDeadlineSeconds",
				    json_integer(job->time_limit_s));
	/* the pods' labels are a copy: only the Job carries the queue's */
	m = json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:{s:s}}, s:o}", "apiVersion",
		      "batch/v1", "kind", "Job", "metadata", "name", name, "namespace",
		      ns, "labels", json_deep_copy(labels), "annotations",
		      "loopgate.dev/run-id", job->run_id, "spec", spec);
	json_object_set_new(json_object_get(json_object_get(m, "metadata"), "labels"),
			    KUBE_LABEL_QUEUE, json_string(o->kube_queue));
	json_decref(labels);
	return m;
}

static json_t *meta(const char *name, const char *ns)
{
	json_t *m = json_pack("{s:s, s:{s:s}}", "name", name, "labels",
			      "app.kubernetes.io/managed-by", "loopgate");
	if (ns)
		json_object_set_new(m, "namespace", json_string(ns));
	return m;
}

static json_t *object(const char *api, const char *kind, json_t *metadata)
{
	return json_pack("{s:s, s:s, s:o}", "apiVersion", api, "kind", kind, "metadata",
			 metadata);
}

static json_t *quota(const char *resource, const char *value)
{
	return json_pack("{s:s, s:s}", "name", resource, "nominalQuota", value);
}

static json_t *cluster_queue(const struct kube_tenant *t, const char *cq, const char *ns)
{
	json_t *covered = json_pack("[s, s]", "cpu", "memory");
	json_t *res = json_pack("[o, o]", quota("cpu", t->cpu),
				quota("memory", t->memory));
	json_t *o = object(KUEUE_API, "ClusterQueue", meta(cq, NULL));

	if (t->gpu && strcmp(t->gpu, "0")) {
		json_array_append_new(covered, json_string("nvidia.com/gpu"));
		json_array_append_new(res, quota("nvidia.com/gpu", t->gpu));
	}
	/* only the tenant's namespace may use its quota; a worker of a
	 * lower priority in the same queue can be preempted */
	json_object_set_new(
		o, "spec",
		json_pack("{s:{s:{s:s}}, s:s, s:{s:s}, s:[{s:o, s:[{s:s, s:o}]}]}",
			  "namespaceSelector", "matchLabels",
			  "kubernetes.io/metadata.name", ns, "queueingStrategy",
			  "BestEffortFIFO", "preemption", "withinClusterQueue",
			  "LowerPriority", "resourceGroups", "coveredResources", covered,
			  "flavors", "name", FLAVOR, "resources", res));
	return o;
}

static json_t *rule(const char *group, const char *resource, json_t *verbs)
{
	return json_pack("{s:[s], s:[s], s:o}", "apiGroups", group, "resources", resource,
			 "verbs", verbs);
}

/* Exactly what the Kueue executor asks of the API server (kube.h). */
static json_t *role(const char *ns)
{
	json_t *o = object("rbac.authorization.k8s.io/v1", "Role", meta("loopgate", ns));
	json_object_set_new(
		o, "rules",
		json_pack("[o, o, o, o, o]",
			  rule("batch", "jobs",
			       json_pack("[s, s, s, s, s]", "create", "get", "list",
					 "watch", "delete")),
			  rule("kueue.x-k8s.io", "workloads",
			       json_pack("[s, s, s]", "get", "list", "watch")),
			  rule("", "pods", json_pack("[s, s]", "get", "list")),
			  rule("", "pods/log", json_pack("[s]", "get")),
			  /* a queued worker's place in line (visibility API) */
			  rule("visibility.kueue.x-k8s.io",
			       "localqueues/pendingworkloads", json_pack("[s]", "get"))));
	return o;
}

static json_t *role_binding(const char *ns)
{
	json_t *o = object("rbac.authorization.k8s.io/v1", "RoleBinding",
			   meta("loopgate", ns));
	json_object_set_new(o, "roleRef",
			    json_pack("{s:s, s:s, s:s}", "apiGroup",
				      "rbac.authorization.k8s.io", "kind", "Role", "name",
				      "loopgate"));
	json_object_set_new(o, "subjects",
			    json_pack("[{s:s, s:s, s:s}]", "kind", "ServiceAccount",
				      "name", "loopgate", "namespace", ns));
	return o;
}

char *kube_tenant_base_url(const struct kube_tenant *t)
{
	const char *svc = t->vllm ? t->vllm : "vllm.vllm:8000";
	const char *colon = strchr(svc, ':');
	/* NAME.NAMESPACE[:PORT] -> the Service's cluster DNS name */
	return xasprintf("http://%.*s.svc.cluster.local:%s/v1",
			 (int)(colon ? (size_t)(colon - svc) : strlen(svc)), svc,
			 colon ? colon + 1 : "8000");
}

json_t *kube_tenant_manifests(const struct kube_tenant *t, struct buf *err)
{
	char name[64];
	char *ns, *cq;
	json_t *all, *lq;

	kube_label_value(t->name ? t->name : "", name);
	/* it names a namespace: a lower-case DNS label with the prefix */
	if (!name[0] || strcmp(name, t->name) || strlen(name) > 40 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(name)) {
		err_set(err, -EINVAL, "a tenant name is up to 40 of [a-z0-9-]: '%s'",
			t->name ? t->name : "");
		return NULL;
	}
	ns = xasprintf("loopgate-%s", name);
	cq = xasprintf("loopgate-%s", name);
	lq = object(KUEUE_API, "LocalQueue", meta("loopgate", ns));
	json_object_set_new(lq, "spec", json_pack("{s:s}", "clusterQueue", cq));
	all = json_pack("[o, o, o, o, o, o, o]",
			object("v1", "Namespace", meta(ns, NULL)),
			object(KUEUE_API, "ResourceFlavor", meta(FLAVOR, NULL)),
			cluster_queue(t, cq, ns), lq,
			object("v1", "ServiceAccount", meta("loopgate", ns)), role(ns),
			role_binding(ns));
	json_object_set_new(json_array_get(all, 1), "spec", json_object());
	free(ns);
	free(cq);
	return all;
}
