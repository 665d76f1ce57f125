/*
 * http_curl: one request through libcurl, for what the own client
 * (http_wire.c) does not do: a request with TLS settings of its own
 * (rq.tls), a proxy, or LOOPGATE_HTTP=curl (actor/http.h says when).
 *
 * The transfer is driven through the multi interface in short poll slices
 * rather than curl_easy_perform, because libcurl only promises to call the
 * progress callback "about once a second" while a connection is idle: a
 * 300 ms read timeout or a Ctrl-C must act within milliseconds, not a
 * second later.  The limits themselves are checked in the XFERINFO
 * callback, and once more by the driving loop between slices.
 */
#include "actor/http_impl.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actor/curl_api.h"
#include "base/clock.h"

struct xfer {
	struct http_limits l;
	CURL *h;
	curl_off_t last_ul;
};

/*
 * One share for every request of the process: its connections (kept
 * alive between a run's model calls, so a call to a provider does not pay
 * a new TCP and TLS handshake and a reload of the CA store each time),
 * TLS sessions and DNS answers.  libcurl reuses a connection only for the
 * same host, port, proxy and TLS settings (client certificate, CA), and
 * never one a transfer was cut short on.  Requests may come from several
 * threads: each kind of shared data has its own lock.
 */
static CURLSH *share;
static pthread_once_t share_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
	(void)h, (void)a, (void)u;
	if ((unsigned)d < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&share_locks[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *u)
{
	(void)h, (void)u;
	if ((unsigned)d < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&share_locks[d]);
}

static void share_make(void)
{
	static const curl_lock_data kinds[] = {
		CURL_LOCK_DATA_CONNECT, CURL_LOCK_DATA_SSL_SESSION, CURL_LOCK_DATA_DNS};

	for (size_t i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_locks[i], NULL);
	if (!(share = CU.share_init()))
		return; /* each request then connects on its own, as before */
	CU.share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
	CU.share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		CU.share_setopt(share, CURLSHOPT_SHARE, kinds[i]);
}

static int load(struct buf *err)
{
	int ret = curl_api_load(err);

	if (ret == 0)
		pthread_once(&share_once, share_make);
	return ret;
}

static int xferinfo_cb(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = p;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	/* Sending the request is progress too: a large prompt on a slow link
	 * must not count as silence. */
	if (ulnow != x->last_ul) {
		x->last_ul = ulnow;
		x->l.last_rx_ms = clock_ms();
	}
	return http_limits_check(&x->l);
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	size_t n = size * nmemb;
	long status = 0;

	x->l.last_rx_ms = clock_ms();
	CU.easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	x->l.rs->status = status;
	return http_deliver(&x->l, p, n) ? 0 : n; /* any count but n aborts */
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	size_t n = size * nmemb;

	x->l.last_rx_ms = clock_ms();
	if (!x->l.first_hdr_ms)
		x->l.first_hdr_ms = x->l.last_rx_ms;
	x->l.headers_done = n <= 2 && (n == 0 || p[0] == '\r' || p[0] == '\n');
	/* A new status line (after "100 Continue", say) starts a new set. */
	if (n >= 5 && !memcmp(p, "HTTP/", 5))
		http_clear_headers(x->l.rs);
	else
		http_keep_header(x->l.rs, p, n);
	return n;
}

struct failure {
	int code;
	const char *kind;
	const char *what; /* for the message: "could not connect to" ... */
};

static struct failure classify(CURLcode rc, const char *errbuf)
{
	/* a reply with no status line: a protocol error, worth a retry, and
	 * the URL is fine */
	if (rc == CURLE_UNSUPPORTED_PROTOCOL && strstr(errbuf, "HTTP/0.9"))
		return (struct failure){
			-ECONNRESET, "reset",
			"got a reply without an HTTP status line (HTTP/0.9) "
			"from"};
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
		return (struct failure){-ECONNREFUSED, "connect_failed",
					"could not connect to"};
	case CURLE_OPERATION_TIMEDOUT:
		return (struct failure){-ETIMEDOUT, "timeout", "timed out connecting to"};
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return (struct failure){-ECONNRESET, "reset", "lost the connection to"};
	case CURLE_PARTIAL_FILE:
		return (struct failure){-EPIPE, "truncated", "got a cut-off reply from"};
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return (struct failure){-EINVAL, "bad_url", "cannot use the URL"};
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return (struct failure){-EPROTO, "tls", "could not verify TLS for"};
	default:
		return (struct failure){-EIO, "error", "failed talking to"};
	}
}

static struct curl_slist *make_headers(const char *const *h)
{
	struct curl_slist *l = NULL, *t;
	/* No "Expect: 100-continue" round trip for large prompts. */
	l = CU.slist_append(l, "Expect:");
	for (; h && *h && l; h++) {
		t = CU.slist_append(l, *h);
		if (!t) {
			CU.slist_free_all(l);
			return NULL;
		}
		l = t;
	}
	return l;
}

/* A PEM held in memory, copied by libcurl. */
static void set_blob(CURL *h, CURLoption opt, const char *pem)
{
	struct curl_blob b = {(void *)pem, strlen(pem), CURL_BLOB_COPY};
	CU.easy_setopt(h, opt, &b);
}

static void setup_tls(CURL *h, const struct http_request *rq)
{
	if (rq->tls.ca_pem)
		set_blob(h, CURLOPT_CAINFO_BLOB, rq->tls.ca_pem);
	else if (rq->tls.ca_file)
		CU.easy_setopt(h, CURLOPT_CAINFO, rq->tls.ca_file);
	if (rq->tls.cert_pem)
		set_blob(h, CURLOPT_SSLCERT_BLOB, rq->tls.cert_pem);
	else if (rq->tls.cert_file)
		CU.easy_setopt(h, CURLOPT_SSLCERT, rq->tls.cert_file);
	if (rq->tls.key_pem)
		set_blob(h, CURLOPT_SSLKEY_BLOB, rq->tls.key_pem);
	else if (rq->tls.key_file)
		CU.easy_setopt(h, CURLOPT_SSLKEY, rq->tls.key_file);
}

static void setup_method(CURL *h, const struct http_request *rq)
{
	const char *m = rq->method;

	if (m && !strcmp(m, "GET")) {
		CU.easy_setopt(h, CURLOPT_HTTPGET, 1L);
		return;
	}
	CU.easy_setopt(h, CURLOPT_POST, 1L);
	CU.easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
	CU.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	/* DELETE with a body (Kubernetes' DeleteOptions), PUT, PATCH */
	if (m && strcmp(m, "POST"))
		CU.easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
}

static void setup(CURL *h, struct xfer *x, struct curl_slist *hdrs, char *errbuf)
{
	const struct http_request *rq = x->l.rq;

	CU.easy_setopt(h, CURLOPT_URL, rq->url);
	CU.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (share)
		CU.easy_setopt(h, CURLOPT_SHARE, share);
	setup_method(h, rq);
	setup_tls(h, rq);
	CU.easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	CU.easy_setopt(h, CURLOPT_USERAGENT, "loopgate/" LOOPGATE_VERSION);
	CU.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	CU.easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (rq->connect_timeout_ms > 0)
		CU.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_timeout_ms);
	CU.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	CU.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	CU.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	CU.easy_setopt(h, CURLOPT_XFERINFODATA, x);
	CU.easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	CU.easy_setopt(h, CURLOPT_WRITEDATA, x);
	CU.easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	CU.easy_setopt(h, CURLOPT_HEADERDATA, x);
}

/* Runs the transfer to its end; returns libcurl's result for it. */
static CURLcode drive(CURLM *m, struct xfer *x)
{
	CURLcode rc = CURLE_ABORTED_BY_CALLBACK;
	CURLMsg *msg;
	int running = 1, left;

	while (running) {
		if (CU.multi_perform(m, &running) != CURLM_OK)
			return CURLE_OUT_OF_MEMORY;
		if (!running || http_limits_check(&x->l))
			break;
		CU.multi_poll(m, NULL, 0, HTTP_POLL_SLICE_MS, NULL);
		tick();
	}
	while ((msg = CU.multi_info_read(m, &left)))
		if (msg->msg == CURLMSG_DONE)
			rc = msg->data.result;
	return rc;
}

int http_curl_send(const struct http_request *rq, struct http_response *rs,
		   struct buf *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct xfer x = {.h = NULL};
	struct curl_slist *hdrs;
	struct failure f;
	CURLM *m;
	CURLcode rc;
	int ret;
	const char *shown = http_shown(rq);

	if ((ret = load(err)) < 0)
		return ret;
	http_limits_init(&x.l, rq, rs);
	x.h = CU.easy_init();
	m = CU.multi_init();
	hdrs = make_headers(rq->headers);
	if (!x.h || !m || !hdrs) {
		rs->failure = "error";
		ret = err_set(err, -ENOMEM, "could not set up an HTTP request to %s",
			      shown);
		goto out;
	}
	setup(x.h, &x, hdrs, errbuf);
	CU.multi_add_handle(m, x.h);
	rc = drive(m, &x);
	CU.easy_getinfo(x.h, CURLINFO_RESPONSE_CODE, &rs->status);
	CU.multi_remove_handle(m, x.h);
	if (x.l.abort_code) {
		ret = http_limits_error(&x.l, err);
	} else if (rc != CURLE_OK) {
		f = classify(rc, errbuf);
		rs->failure = f.kind;
		ret = err_set(err, f.code, "%s %s: %s", f.what, shown,
			      errbuf[0] ? errbuf : CU.easy_strerror(rc));
	} else {
		ret = 0;
	}
out:
	CU.slist_free_all(hdrs);
	if (m)
		CU.multi_cleanup(m);
	if (x.h)
		CU.easy_cleanup(x.h);
	return ret;
}

int http_curl_init(struct buf *err)
{
	return load(err);
}
