/*
 * kube: requests and watches against the Kubernetes API (kube.h).  The
 * error sentences name the server, the request and what the server said
 * (a Status object's message); never a header: the token travels in one.
 */
#include "dispatch/kube.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actor/http.h"
#include "base/clock.h"

/* A Job, a Workload or a list of a run's few Jobs: far under this. */
#define KUBE_REPLY_MAX	(8 << 20)
#define KUBE_CONNECT_MS 10000
#define KUBE_READ_MS	30000

void kube_query_escape(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch)) {
			buf_addch(out, (char)ch);
		} else {
			buf_addch(out, '%');
			buf_addch(out, hex[ch >> 4]);
			buf_addch(out, hex[ch & 15]);
		}
	}
}

/* The request with the connection's TLS and credential. */
static void prepare(const struct kube_conn *c, struct http_request *rq, struct buf *url,
		    struct buf *auth, const char *path)
{
	buf_addf(url, "%s%s", c->server, path);
	rq->url = url->s;
	rq->connect_timeout_ms = KUBE_CONNECT_MS;
	rq->tls.ca_pem = c->ca_pem;
	rq->tls.ca_file = c->ca_file;
	rq->tls.cert_pem = c->cert_pem;
	rq->tls.cert_file = c->cert_file;
	rq->tls.key_pem = c->key_pem;
	rq->tls.key_file = c->key_file;
	if (c->token)
		buf_addf(auth, "authorization: Bearer %s", c->token);
}

/* The message of a Status reply, or the start of the body. */
static void status_message(const struct buf *body, struct buf *msg)
{
	json_t *j = json_loadb(body->s, body->len, 0, NULL);
	const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;
	if (m)
		buf_adds(msg, m);
	else
		buf_addf(msg, "%.200s", body->s);
	json_decref(j);
}

/* -errno and a sentence for a reply that is not 2xx. */
static int status_error(const struct kube_conn *c, const char *method, const char *path,
			long status, const struct buf *body, struct buf *err)
{
	struct buf msg = BUF_INIT;
	int ret;

	status_message(body, &msg);
	buf_rtrim(&msg);
	switch (status) {
	case 401:
		ret = err_set(err, -EACCES,
			      "%s refused the credentials of %s (401 Unauthorized: the "
			      "token or client certificate is wrong or expired): %s",
			      c->server, c->source ? c->source : "?", msg.s);
		break;
	case 403:
		ret = err_set(err, -EPERM,
			      "%s %s: forbidden (403): %s; the tenant's Role must allow "
			      "it (loopgate kueue manifests prints one that does)",
			      method, path, msg.s);
		break;
	case 404:
		ret = err_set(err, -ENOENT, "%s %s: not found (404): %s", method, path,
			      msg.s);
		break;
	case 409:
		ret = err_set(err, -EEXIST, "%s %s: already exists (409): %s", method,
			      path, msg.s);
		break;
	case 410:
		ret = err_set(err, -ESTALE, "%s %s: gone (410): %s", method, path, msg.s);
		break;
	default:
		ret = err_set(err, -EIO, "%s %s: the API server answered %ld: %s", method,
			      path, status, msg.s);
	}
	buf_release(&msg);
	return ret;
}

/* One request; the 2xx reply's body into raw. */
static int call(const struct kube_conn *c, const char *method, const char *path,
		json_t *body, struct buf *raw, struct buf *err)
{
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs;
	struct buf url = BUF_INIT, auth = BUF_INIT;
	const char *hdrs[4] = {"accept: application/json, */*", NULL, NULL, NULL};
	char *text = NULL;
	int ret, h = 1;

	prepare(c, &rq, &url, &auth, path);
	rq.method = method;
	rq.read_timeout_ms = KUBE_READ_MS;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		rq.body = text;
		rq.body_len = strlen(text);
		hdrs[h++] = "content-type: application/json";
	}
	if (auth.len)
		hdrs[h++] = auth.s;
	rq.headers = hdrs;
	http_response_init(&rs, KUBE_REPLY_MAX);
	ret = http_send(&rq, &rs, err);
	if (ret == 0 && (rs.status < 200 || rs.status > 299))
		ret = status_error(c, method, path, rs.status, &rs.body, err);
	else if (ret == 0)
		buf_add(raw, rs.body.s, rs.body.len);
	http_response_release(&rs);
	free(text);
	buf_release(&url);
	buf_release(&auth);
	return ret;
}

int kube_call(const struct kube_conn *c, const char *method, const char *path,
	      json_t *body, json_t **out, struct buf *err)
{
	struct buf raw = BUF_INIT;
	int ret = call(c, method, path, body, &raw, err);

	if (out)
		*out = NULL;
	if (ret == 0 && out && !(*out = json_loadb(raw.s, raw.len, 0, NULL)))
		ret = err_set(err, -EPROTO, "%s %s: the reply is not JSON", method, path);
	buf_release(&raw);
	return ret;
}

int kube_call_text(const struct kube_conn *c, const char *path, struct buf *out,
		   struct buf *err)
{
	return call(c, "GET", path, NULL, out, err);
}

struct watch_ctx {
	struct buf line; /* a partial event line */
	kube_event_fn fn;
	void *ctx;
	int stopped; /* fn asked to stop */
	int gone;    /* an ERROR event with code 410 */
	struct buf *err;
};

static int watch_event(struct watch_ctx *w, const char *p, size_t n)
{
	json_t *ev = json_loadb(p, n, 0, NULL);
	const char *type = ev ? json_string_value(json_object_get(ev, "type")) : NULL;
	json_t *obj = ev ? json_object_get(ev, "object") : NULL;
	int ret;

	if (!type || !json_is_object(obj)) {
		json_decref(ev);
		return err_set(w->err, -EPROTO, "a watch event is not one: '%.100s'", p);
	}
	if (!strcmp(type, "ERROR") &&
	    json_integer_value(json_object_get(obj, "code")) == 410) {
		w->gone = 1;
		json_decref(ev);
		return -ESTALE;
	}
	ret = w->fn(w->ctx, type, obj);
	json_decref(ev);
	if (ret == 1)
		w->stopped = 1;
	return ret == 1 ? -ECANCELED : ret;
}

/* Newline-delimited JSON, in whatever pieces the transfer brings. */
static int watch_data(void *ctx, const char *p, size_t n)
{
	struct watch_ctx *w = ctx;
	const char *nl;
	int ret;

	while ((nl = memchr(p, '\n', n))) {
		size_t k = (size_t)(nl - p);
		if (buf_add(&w->line, p, k) < 0)
			return err_set(w->err, -E2BIG, "a watch event is too large");
		if (w->line.len && (ret = watch_event(w, w->line.s, w->line.len)) < 0)
			return ret;
		buf_reset(&w->line);
		n -= k + 1;
		p = nl + 1;
	}
	return buf_add(&w->line, p, n) < 0
		       ? err_set(w->err, -E2BIG, "a watch event is too large")
		       : 0;
}

int kube_watch(const struct kube_conn *c, const char *path, long timeout_s,
	       kube_event_fn fn, void *ctx, struct buf *err)
{
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs;
	struct buf url = BUF_INIT, auth = BUF_INIT, werr = BUF_INIT;
	struct watch_ctx w = {.fn = fn, .ctx = ctx, .err = &werr};
	const char *hdrs[3] = {"accept: application/json", NULL, NULL};
	int ret;

	buf_init(&w.line, 1 << 20);
	prepare(c, &rq, &url, &auth, path);
	rq.method = "GET";
	/* the server closes the watch after timeout_s; bookmarks come in
	 * between, so a silence much longer than that is a dead connection */
	rq.read_timeout_ms = (timeout_s + 30) * 1000;
	rq.deadline_ms = clock_ms() + (timeout_s + 60) * 1000;
	rq.on_data = watch_data;
	rq.ctx = &w;
	if (auth.len)
		hdrs[1] = auth.s;
	rq.headers = hdrs;
	/* counts streamed bytes too: one watch of a run's Jobs is far less */
	http_response_init(&rs, (size_t)256 << 20);
	ret = http_send(&rq, &rs, err);
	if (w.stopped)
		ret = 0;
	else if (w.gone)
		ret = err_set(err, -ESTALE,
			      "watch %s: the resourceVersion is too old (410)", path);
	else if (ret < 0 && werr.len)
		ret = err_set(err, ret, "%s", werr.s);
	else if (ret == 0 && (rs.status < 200 || rs.status > 299))
		ret = status_error(c, "GET", path, rs.status, &rs.body, err);
	http_response_release(&rs);
	buf_release(&w.line);
	buf_release(&werr);
	buf_release(&url);
	buf_release(&auth);
	return ret;
}
