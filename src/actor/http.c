/*
 * http: one POST through libcurl.
 *
 * The transfer is driven through the multi interface in short poll slices
 * rather than curl_easy_perform, because libcurl only promises to call the
 * progress callback "about once a second" while a connection is idle: a
 * 300 ms read timeout or a Ctrl-C must act within milliseconds, not a
 * second later.  The limits themselves are checked in the XFERINFO
 * callback, and once more by the driving loop between slices.
 */
#include "actor/http.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actor/curl_api.h"
#include "base/clock.h"

/* How long one curl_multi_poll may sleep: the precision of every limit. */
#define POLL_SLICE_MS 20

struct xfer {
	const struct http_request *rq;
	struct http_response *rs;
	CURL *h;
	long long last_rx_ms; /* last byte received (or sent) */
	curl_off_t last_ul;
	int abort_code; /* set once we decided to stop */
	const char *abort_kind;
	long long first_hdr_ms; /* first header line arrived; 0: none yet */
	int headers_done;	/* the blank line after the headers arrived */
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

int http_global_init(struct buf *err)
{
	int ret = curl_api_load(err);

	if (ret == 0)
		pthread_once(&share_once, share_make);
	return ret;
}

time_t http_date(const char *s)
{
	if (curl_api_load(NULL) < 0)
		return (time_t)-1;
	return CU.getdate(s, NULL);
}

void http_response_init(struct http_response *rs, size_t max_body)
{
	memset(rs, 0, sizeof(*rs));
	buf_init(&rs->body, max_body);
}

static void clear_headers(struct http_response *rs)
{
	free(rs->retry_after);
	free(rs->retry_after_ms);
	free(rs->content_type);
	free(rs->request_id);
	rs->retry_after = rs->retry_after_ms = NULL;
	rs->content_type = rs->request_id = NULL;
}

void http_response_release(struct http_response *rs)
{
	clear_headers(rs);
	buf_release(&rs->body);
}

static int stop(struct xfer *x, int code, const char *kind)
{
	if (!x->abort_code) {
		x->abort_code = code;
		x->abort_kind = kind;
	}
	return 1;
}

/* Non-zero when the transfer must end now: interrupt, deadline, silence. */
static int check_limits(struct xfer *x)
{
	long long now = clock_ms();

	if (x->abort_code)
		return 1;
	if (interrupt_pending())
		return stop(x, -ECANCELED, "interrupted");
	if (x->rq->deadline_ms && now >= x->rq->deadline_ms)
		return stop(x, -ETIME, "deadline");
	if (x->rq->read_timeout_ms && now - x->last_rx_ms >= x->rq->read_timeout_ms)
		return stop(x, -ETIMEDOUT, "timeout");
	/* Headers come in one burst; a server trickling them a line at a time
	 * resets the silence clock forever: they get read_timeout in all. */
	if (x->rq->read_timeout_ms && x->first_hdr_ms && !x->headers_done &&
	    now - x->first_hdr_ms >= x->rq->read_timeout_ms)
		return stop(x, -ETIMEDOUT, "timeout");
	return 0;
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
		x->last_rx_ms = clock_ms();
	}
	return check_limits(x);
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	size_t n = size * nmemb;
	long status = 0;
	int ret;

	x->last_rx_ms = clock_ms();
	x->rs->received += n;
	CU.easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	x->rs->status = status;
	/* a stream is capped like a body: an endless one of tiny events,
	 * none of which any parser keeps, must end too */
	if (x->rs->body.max && x->rs->received > x->rs->body.max) {
		stop(x, -E2BIG, "too_big");
		return 0;
	}
	if (x->rq->on_data && status >= 200 && status < 300) {
		ret = x->rq->on_data(x->rq->ctx, p, n);
		if (ret < 0) {
			stop(x, ret, "callback");
			return 0; /* any count but n aborts */
		}
		return n;
	}
	if (buf_add(&x->rs->body, p, n) < 0) {
		stop(x, -E2BIG, "too_big");
		return 0;
	}
	return n;
}

static char *header_value(const char *p, size_t n, size_t namelen)
{
	const char *v = p + namelen + 1, *end = p + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v &&
	       (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

static void keep_header(char **slot, const char *p, size_t n, size_t namelen)
{
	free(*slot);
	*slot = header_value(p, n, namelen);
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	struct http_response *rs = x->rs;
	size_t n = size * nmemb;
	static const struct {
		const char *name;
		size_t off;
	} keep[] = {
		{"retry-after", offsetof(struct http_response, retry_after)},
		{"retry-after-ms", offsetof(struct http_response, retry_after_ms)},
		{"content-type", offsetof(struct http_response, content_type)},
		{"x-request-id", offsetof(struct http_response, request_id)},
		{"request-id", offsetof(struct http_response, request_id)},
	};
	size_t i;

	x->last_rx_ms = clock_ms();
	if (!x->first_hdr_ms)
		x->first_hdr_ms = x->last_rx_ms;
	x->headers_done = n <= 2 && (n == 0 || p[0] == '\r' || p[0] == '\n');
	/* A new status line (after "100 Continue", say) starts a new set. */
	if (n >= 5 && !memcmp(p, "HTTP/", 5)) {
		clear_headers(rs);
		return n;
	}
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		size_t len = strlen(keep[i].name);
		if (n > len && p[len] == ':' && !strncasecmp(p, keep[i].name, len)) {
			keep_header((char **)((char *)rs + keep[i].off), p, n, len);
			break;
		}
	}
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

static const char *abort_what(const char *kind)
{
	if (!strcmp(kind, "interrupted"))
		return "interrupted while talking to";
	if (!strcmp(kind, "deadline"))
		return "reached the deadline while talking to";
	if (!strcmp(kind, "too_big"))
		return "got a reply larger than allowed from";
	return "stopped reading the reply from";
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
	const struct http_request *rq = x->rq;

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
		if (!running || check_limits(x))
			break;
		CU.multi_poll(m, NULL, 0, POLL_SLICE_MS, NULL);
		tick();
	}
	while ((msg = CU.multi_info_read(m, &left)))
		if (msg->msg == CURLMSG_DONE)
			rc = msg->data.result;
	return rc;
}

int http_send(const struct http_request *rq, struct http_response *rs, struct buf *err)
{
	return http_post(rq, rs, err);
}

int http_post(const struct http_request *rq, struct http_response *rs, struct buf *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct xfer x = {rq, rs, NULL, clock_ms(), 0, 0, NULL, 0, 0};
	struct curl_slist *hdrs;
	struct failure f;
	CURLM *m;
	CURLcode rc;
	int ret;
	const char *shown = rq->shown_url ? rq->shown_url : rq->url;

	if ((ret = http_global_init(err)) < 0)
		return ret;
	rs->status = 0;
	rs->failure = NULL;
	rs->received = 0;
	clear_headers(rs);
	buf_reset(&rs->body);
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
	if (x.abort_code) {
		rs->failure = x.abort_kind;
		if (!strcmp(x.abort_kind, "timeout") && x.first_hdr_ms && !x.headers_done)
			ret = err_set(err, x.abort_code,
				      "the reply headers from %s did not complete within "
				      "%ld ms (a server sending them too slowly)",
				      shown, rq->read_timeout_ms);
		else if (!strcmp(x.abort_kind, "timeout") && !x.first_hdr_ms)
			/* libcurl reports whole lines only: bytes may have come */
			ret = err_set(
				err, x.abort_code,
				"no complete reply line for %ld ms from %s (nothing "
				"came, or the status line trickled in too slowly)",
				rq->read_timeout_ms, shown);
		else if (!strcmp(x.abort_kind, "timeout"))
			ret = err_set(err, x.abort_code,
				      "heard nothing for %ld ms from %s",
				      rq->read_timeout_ms, shown);
		else
			ret = err_set(err, x.abort_code, "%s %s",
				      abort_what(x.abort_kind), shown);
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
