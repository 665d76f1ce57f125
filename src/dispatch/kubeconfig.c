/*
 * kubeconfig: where kube_conn_load finds the API server and the
 * credentials (kube.h): a kubeconfig's current context, or the pod's
 * service account.  Relative file paths in a kubeconfig are relative to
 * its own directory, as kubectl reads them.
 */
#include "dispatch/kube.h"
#include "base/crypto_api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/saferead.h"
#include "config/yamltree.h"

/* A kubeconfig is small; a file far larger is a mistake, not a config. */
#define KUBECONFIG_MAX (4 << 20)
#define SA_DIR	       "/var/run/secrets/kubernetes.io/serviceaccount"

void kube_conn_release(struct kube_conn *c)
{
	char **f[] = {&c->server,   &c->ns,	   &c->ca_pem,	&c->ca_file,  &c->token,
		      &c->cert_pem, &c->cert_file, &c->key_pem, &c->key_file, &c->source};
	size_t i;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (*f[i] == c->token || *f[i] == c->key_pem)
			if (*f[i])
				explicit_bzero(*f[i], strlen(*f[i]));
		free(*f[i]);
		*f[i] = NULL;
	}
}

/* The value of key in mapping m, or NULL. */
static const struct ynode *ymap(const struct ynode *m, const char *key)
{
	size_t i;
	if (!m || m->kind != Y_MAP)
		return NULL;
	for (i = 0; i + 1 < m->n; i += 2)
		if (m->kids[i].kind == Y_SCALAR && !strcmp(m->kids[i].val, key))
			return &m->kids[i + 1];
	return NULL;
}

static const char *ystr(const struct ynode *m, const char *key)
{
	const struct ynode *v = ymap(m, key);
	return v && v->kind == Y_SCALAR && v->len ? v->val : NULL;
}

/* The entry named name of the list under key (clusters, users, contexts),
 * then its inner mapping (cluster, user, context). */
static const struct ynode *ynamed(const struct ynode *root, const char *list,
				  const char *inner, const char *name)
{
	const struct ynode *l = ymap(root, list);
	size_t i;
	if (!l || l->kind != Y_SEQ || !name)
		return NULL;
	for (i = 0; i < l->n; i++) {
		const char *n = ystr(&l->kids[i], "name");
		if (n && !strcmp(n, name))
			return ymap(&l->kids[i], inner);
	}
	return NULL;
}

/* base64 (PEM data fields) into a NUL-terminated string. */
static char *b64_decode(const char *s, struct buf *err, const char *what)
{
	size_t n = strlen(s);
	unsigned char *out;
	int len;

	if (crypto_api_load(err) < 0)
		return NULL;
	out = xmalloc(n / 4 * 3 + 4);
	len = CR.EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);

	if (len < 0 || n % 4) {
		free(out);
		err_set(err, -EINVAL, "%s is not base64", what);
		return NULL;
	}
	/* EVP_DecodeBlock counts the '=' padding as zero bytes */
	while (n && s[n - 1] == '=') {
		n--;
		len--;
	}
	out[len] = '\0';
	return (char *)out;
}

/* A path from the kubeconfig, relative to its directory. */
static char *rel_path(const char *cfg, const char *p)
{
	const char *slash = strrchr(cfg, '/');
	if (p[0] == '/' || !slash)
		return xstrdup(p);
	return xasprintf("%.*s/%s", (int)(slash - cfg), cfg, p);
}

static int read_small(const char *path, const char *what, char **out, struct buf *err)
{
	struct buf b = BUF_INIT;
	int ret = saferead_user(path, what, 1 << 20, 0, &b, err);
	if (ret < 0) {
		buf_release(&b);
		return ret;
	}
	buf_rtrim(&b);
	*out = buf_detach(&b, NULL);
	return 0;
}

static int load_cluster(struct kube_conn *c, const char *cfg, const struct ynode *cl,
			struct buf *err)
{
	const char *v;

	if (!cl || !(v = ystr(cl, "server")))
		return err_set(err, -EINVAL, "%s: the context's cluster has no server",
			       c->source);
	c->server = xstrdup(v);
	while (strlen(c->server) && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	if ((v = ystr(cl, "insecure-skip-tls-verify")) && !strcmp(v, "true"))
		return err_set(err, -EINVAL,
			       "%s: insecure-skip-tls-verify is set; loopgate sends the "
			       "API key's Secret name and your token only to a server "
			       "it can verify (give certificate-authority-data)",
			       c->source);
	if ((v = ystr(cl, "certificate-authority-data")) &&
	    !(c->ca_pem = b64_decode(v, err, "certificate-authority-data")))
		return -EINVAL;
	if ((v = ystr(cl, "certificate-authority")))
		c->ca_file = rel_path(cfg, v);
	return 0;
}

static int load_user(struct kube_conn *c, const char *cfg, const struct ynode *u,
		     struct buf *err)
{
	const char *v;

	if (!u)
		return 0; /* no user: anonymous, the server will say 401 */
	if (ymap(u, "exec") || ymap(u, "auth-provider"))
		return err_set(err, -ENOTSUP,
			       "%s: the user gets its credential from a plugin (exec or "
			       "auth-provider), which loopgate does not run; give a "
			       "token or a client certificate",
			       c->source);
	if ((v = ystr(u, "token")))
		c->token = xstrdup(v);
	else if ((v = ystr(u, "tokenFile"))) {
		char *p = rel_path(cfg, v);
		int ret = read_small(p, "the kubeconfig's tokenFile", &c->token, err);
		free(p);
		if (ret < 0)
			return ret;
	}
	if ((v = ystr(u, "client-certificate-data")) &&
	    !(c->cert_pem = b64_decode(v, err, "client-certificate-data")))
		return -EINVAL;
	if ((v = ystr(u, "client-key-data")) &&
	    !(c->key_pem = b64_decode(v, err, "client-key-data")))
		return -EINVAL;
	if ((v = ystr(u, "client-certificate")))
		c->cert_file = rel_path(cfg, v);
	if ((v = ystr(u, "client-key")))
		c->key_file = rel_path(cfg, v);
	return 0;
}

static int load_kubeconfig(struct kube_conn *c, const char *cfg, struct buf *err)
{
	struct buf text = BUF_INIT;
	struct ynode *root = NULL;
	const struct ynode *ctx;
	const char *cur;
	int ret;

	if ((ret = saferead_user(cfg, "the kubeconfig", KUBECONFIG_MAX, 0, &text, err)) <
	    0)
		goto out;
	if ((ret = yamltree_load(cfg, text.s, text.len, &root, err)) < 0)
		goto out;
	if (!(cur = ystr(root, "current-context"))) {
		ret = err_set(err, -EINVAL, "%s has no current-context", cfg);
		goto out;
	}
	c->source = xasprintf("kubeconfig %s, context %s", cfg, cur);
	if (!(ctx = ynamed(root, "contexts", "context", cur))) {
		ret = err_set(err, -EINVAL, "%s: no context named %s", cfg, cur);
		goto out;
	}
	if (ystr(ctx, "namespace"))
		c->ns = xstrdup(ystr(ctx, "namespace"));
	ret = load_cluster(
		c, cfg, ynamed(root, "clusters", "cluster", ystr(ctx, "cluster")), err);
	if (ret == 0)
		ret = load_user(c, cfg, ynamed(root, "users", "user", ystr(ctx, "user")),
				err);
out:
	yamltree_free(root);
	buf_release(&text);
	return ret;
}

static int load_in_cluster(struct kube_conn *c, struct buf *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("LOOPGATE_KUBE_SA_DIR");
	char *p;
	int ret;

	if (!host || !*host)
		return err_set(
			err, -ENOENT,
			"no kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config) "
			"and not inside a pod (KUBERNETES_SERVICE_HOST is not set)");
	dir = dir && *dir ? dir : SA_DIR;
	c->source = xstrdup("the pod's service account");
	/* an IPv6 address goes in brackets in a URL */
	c->server = strchr(host, ':')
			    ? xasprintf("https://[%s]:%s", host, port ? port : "443")
			    : xasprintf("https://%s:%s", host, port ? port : "443");
	p = xasprintf("%s/token", dir);
	ret = read_small(p, "the service account token", &c->token, err);
	free(p);
	if (ret < 0)
		return ret;
	c->ca_file = xasprintf("%s/ca.crt", dir);
	p = xasprintf("%s/namespace", dir);
	if (access(p, R_OK) == 0)
		read_small(p, "the service account namespace", &c->ns, NULL);
	free(p);
	return 0;
}

int kube_conn_load(struct kube_conn *c, const char *kubeconfig, struct buf *err)
{
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
	char *path = NULL;
	int ret;

	if (kubeconfig)
		path = xstrdup(kubeconfig);
	else if (env && *env)
		path = xstrndup(env, strcspn(env, ":")); /* the first of a list */
	else if (home && *home) {
		path = xasprintf("%s/.kube/config", home);
		if (access(path, F_OK) != 0) {
			free(path);
			path = NULL;
		}
	}
	ret = path ? load_kubeconfig(c, path, err) : load_in_cluster(c, err);
	free(path);
	if (ret < 0)
		kube_conn_release(c);
	return ret;
}
