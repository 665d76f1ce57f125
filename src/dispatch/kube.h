/*
 * kube: a Kubernetes API client over HTTPS (libcurl through actor/http),
 * for what the Kueue executor needs: JSON requests and watches.
 *
 *   struct kube_conn c = KUBE_CONN_INIT;
 *   if (kube_conn_load(&c, NULL, &err) < 0) ...   kubeconfig or in-cluster
 *   json_t *job = NULL;
 *   ret = kube_call(&c, "GET", "/apis/batch/v1/namespaces/ns/jobs/x", NULL,
 *                   &job, &err);
 *   ...
 *   ret = kube_watch(&c, "/apis/batch/v1/namespaces/ns/jobs?labelSelector=...",
 *                    rv, 30, on_event, ctx, &err);
 *   kube_conn_release(&c);
 *
 * Where the connection comes from (kube_conn_load): the kubeconfig file
 * named, else $KUBECONFIG (its first file), else ~/.kube/config, else the
 * pod's service account (KUBERNETES_SERVICE_HOST/PORT and the token, CA
 * and namespace files under /var/run/secrets/kubernetes.io/serviceaccount,
 * or $LOOPGATE_KUBE_SA_DIR).  From a kubeconfig, its current-context: the
 * cluster's server and CA (certificate-authority-data or a file), the
 * user's token (token, tokenFile) or client certificate and key (data or
 * files), the context's namespace.  An exec credential plugin and
 * insecure-skip-tls-verify are refused with a sentence saying so.
 *
 * kube_call returns 0 for a 2xx reply (*out: its JSON, or NULL when not
 * wanted) and -errno otherwise, err saying what the API server said:
 * -EACCES 401 (the credential was refused), -EPERM 403 (RBAC: which verb
 * on which resource), -EEXIST 409, -ENOENT 404, -ESTALE 410, -EPROTO a
 * reply that is not JSON, -EIO any other status; a transfer failure keeps
 * actor/http's code.  The token and keys never appear in err.
 */
#ifndef LOOPGATE_KUBE_H
#define LOOPGATE_KUBE_H

#include <jansson.h>

#include "base/buf.h"

struct kube_conn {
	char *server; /* https://HOST:PORT, no trailing slash */
	char *ns;     /* the context's namespace, or NULL */
	char *ca_pem, *ca_file;
	char *token; /* secret: only ever in the Authorization header */
	char *cert_pem, *cert_file;
	char *key_pem, *key_file;
	char *source; /* "kubeconfig FILE, context NAME" or "the pod's service account" */
};
#define KUBE_CONN_INIT                                                                   \
	{                                                                                \
		.server = NULL                                                           \
	}

int kube_conn_load(struct kube_conn *c, const char *kubeconfig, struct buf *err);
void kube_conn_release(struct kube_conn *c);

/* body: sent as JSON when not NULL (borrowed). */
int kube_call(const struct kube_conn *c, const char *method, const char *path,
	      json_t *body, json_t **out, struct buf *err);
/* The same for a reply that is text (a pod's log): into out. */
int kube_call_text(const struct kube_conn *c, const char *path, struct buf *out,
		   struct buf *err);

/*
 * A watch: one event per call of fn (type "ADDED", "MODIFIED", "DELETED",
 * "BOOKMARK", "ERROR"; obj borrowed).  fn returns 0 to go on, 1 to stop
 * (kube_watch then returns 0), <0 to fail.  The server ends the watch after
 * timeout_s; that is a normal end (0).  An ERROR event with a Status of
 * code 410 (the resourceVersion is too old) makes kube_watch return
 * -ESTALE: the caller lists again and watches from the list's version.
 */
typedef int (*kube_event_fn)(void *ctx, const char *type, json_t *obj);
int kube_watch(const struct kube_conn *c, const char *path, long timeout_s,
	       kube_event_fn fn, void *ctx, struct buf *err);

/* Appends s to out with the characters a query value may not hold
 * %-escaped (a label selector: "a=b,c in (d)"). */
void kube_query_escape(struct buf *out, const char *s);

#endif
