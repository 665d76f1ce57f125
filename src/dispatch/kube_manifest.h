/*
 * kube_manifest: the objects loopgate sends to or prints for a Kubernetes
 * cluster with Kueue, built with jansson (validated in the tests against
 * the Kubernetes OpenAPI schema and Kueue's v1beta1 API).
 *
 *   json_t *job = kube_job_manifest(&job, &opts, "loopgate-team-a", &err);
 *   json_t *all = kube_tenant_manifests(&tenant, &err);   a JSON array
 *
 * The Job never holds a secret: the API key comes from a Secret through
 * secretKeyRef, by name.
 */
#ifndef LOOPGATE_KUBE_MANIFEST_H
#define LOOPGATE_KUBE_MANIFEST_H

#include <jansson.h>

#include "base/buf.h"
#include "dispatch/executor.h"

/* Label keys loopgate sets (the selector of a run's Jobs uses RUN). */
#define KUBE_LABEL_QUEUE  "kueue.x-k8s.io/queue-name"
#define KUBE_LABEL_RUN	  "loopgate.dev/run"
#define KUBE_LABEL_WORKER "loopgate.dev/worker"

/* NULL with err set when a setting is missing (queue, image). */
json_t *kube_job_manifest(const struct executor_job *job, const struct executor_opts *o,
			  const char *ns, struct buf *err);
/* A label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends. */
void kube_label_value(const char *s, char out[64]);

struct kube_tenant {
	const char *name; /* the tenant: namespace loopgate-NAME */
	const char *cpu;  /* ClusterQueue quotas: "8", "32Gi", "0" */
	const char *memory;
	const char *gpu;  /* NULL or "0": no GPU quota */
	const char *vllm; /* the model Service "NAME.NAMESPACE:PORT" */
};
json_t *kube_tenant_manifests(const struct kube_tenant *t, struct buf *err);
/* base_url of the tenant's model endpoint (OpenAI-compatible vLLM). */
char *kube_tenant_base_url(const struct kube_tenant *t);

#endif
