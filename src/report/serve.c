/*
 * serve.c: the live local view.  See serve.h.
 */
#include "report/serve.h"
#include "record/rundir.h"
#include "report/html.h"
#include "report/serve_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_MAX	(16u << 10)
#define KEEPALIVE_MS	15000
#define REQUEST_IDLE_MS 10000
#define SSE_CHUNK_MAX	(1u << 20)

static const char live_js[] =
	"(function(){\n"
	"var m=location.pathname.match(/^\\/([^/]+)\\/run\\/([^/]+)$/);\n"
	"if(!m||!window.EventSource)return;\n"
	"var es=new EventSource('/'+m[1]+'/events/'+m[2]),busy=false,again=false;\n"
	"function reload(){if(busy){again=true;return;}busy=true;\n"
	" fetch(location.href,{cache:'no-store'}).then(function(r){return r.text();})\n"
	" .then(function(t){var open={};\n"
	"  "
	"document.querySelectorAll('details[open][id]').forEach(function(d){open[d.id]=1;"
	"});\n"
	"  var doc=new DOMParser().parseFromString(t,'text/html');\n"
	"  document.querySelector('main').replaceWith(doc.querySelector('main'));\n"
	"  "
	"document.querySelectorAll('details[id]').forEach(function(d){if(open[d.id])d."
	"open=true;});\n"
	"  document.title=doc.title;})\n"
	" .finally(function(){busy=false;if(again){again=false;reload();}});}\n"
	"es.onopen=function(){document.documentElement.dataset.live='open';};\n"
	"es.onerror=function(){document.documentElement.dataset.live='retrying';};\n"
	"es.onmessage=reload;\n"
	"})();\n";

static const char csp[] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
			  "script-src 'self'; connect-src 'self'";

struct serve {
	int fd, port;
	char token[33];
	char *repo;
	struct serve_client c[SERVE_MAX_CLIENTS];
};

int serve_port(const struct serve *s)
{
	return s->port;
}

const char *serve_token(const struct serve *s)
{
	return s->token;
}

int serve_open(struct serve **ret, const struct serve_opts *o, struct buf *err)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	unsigned char rnd[16];
	struct serve *s;
	int i, one = 1;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return err_set(err, -EIO, "no random token: getrandom failed");
	s = xcalloc(1, sizeof(*s));
	for (i = 0; i < 16; i++)
		snprintf(s->token + 2 * i, 3, "%02x", rnd[i]);
	for (i = 0; i < SERVE_MAX_CLIENTS; i++)
		s->c[i].fd = -1;
	s->repo = xstrdup(o->repo);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)o->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never another interface */
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->fd, 16) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &len) < 0) {
		int e = -errno;
		err_set(err, e, "cannot listen on 127.0.0.1:%d: %s", o->port,
			strerror(-e));
		serve_close(s);
		return e;
	}
	s->port = ntohs(a.sin_port);
	*ret = s;
	return 0;
}

void serve_close(struct serve *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < SERVE_MAX_CLIENTS; i++)
		serve_client_close(&s->c[i]);
	if (s->fd >= 0)
		close(s->fd);
	free(s->repo);
	free(s);
}

/* The run directory ID names, or NULL: one path segment of safe bytes,
 * not starting with a dot, that is a directory with an events.jsonl. */
static char *run_dir(const struct serve *s, const char *id)
{
	const char *p;
	char *dir, *ev;
	struct stat st;
	int ok;

	if (!*id || *id == '.' || strlen(id) > 128)
		return NULL;
	for (p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return NULL;
	dir = rundir_path(s->repo, id);
	ev = rundir_file(dir, RUNDIR_EVENTS);
	ok = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && lstat(ev, &st) == 0 &&
	     S_ISREG(st.st_mode);
	free(ev);
	if (!ok) {
		free(dir);
		return NULL;
	}
	return dir;
}

static void send_page(struct serve_client *c, int code, const char *type,
		      const char *body, size_t len)
{
	struct buf h = BUF_INIT;

	buf_addf(&h,
		 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		 "Content-Security-Policy: %s\r\nX-Content-Type-Options: nosniff\r\n"
		 "Referrer-Policy: no-referrer\r\nCache-Control: no-store\r\n"
		 "Connection: close\r\n\r\n",
		 code,
		 code == 200   ? "OK"
		 : code == 403 ? "Forbidden"
		 : code == 404 ? "Not Found"
		 : code == 405 ? "Method Not Allowed"
			       : "Error",
		 type, len, csp);
	buf_add(&h, body, len);
	serve_client_write(c, h.s, h.len);
	buf_release(&h);
}

static void send_text(struct serve_client *c, int code, const char *text)
{
	send_page(c, code, "text/plain; charset=utf-8", text, strlen(text));
}

static void route_run(struct serve *s, struct serve_client *c, const char *id)
{
	struct report_html_opts o = {NULL, NULL};
	struct buf page = BUF_INIT, err = BUF_INIT;
	char *dir = run_dir(s, id), *js = xasprintf("/%s/live.js", s->token);
	char *home = xasprintf("/%s/", s->token);

	o.live_script = js;
	o.base_href = home;
	if (!dir)
		send_text(c, 404, "no such run\n");
	else if (report_html(dir, &o, &page, &err) < 0)
		send_text(c, 500, "the run could not be read\n");
	else
		send_page(c, 200, "text/html; charset=utf-8", page.s, page.len);
	free(dir);
	free(js);
	free(home);
	buf_release(&page);
	buf_release(&err);
}

static void route_events(struct serve *s, struct serve_client *c, const char *id)
{
	char *dir = run_dir(s, id);
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		"Cache-Control: no-store\r\nX-Content-Type-Options: "
		"nosniff\r\nConnection: close\r\n\r\n: following\n\n";
	struct stat st;

	if (!dir) {
		send_text(c, 404, "no such run\n");
		return;
	}
	c->events = rundir_file(dir, RUNDIR_EVENTS);
	free(dir);
	/* from now on: the page on screen already shows what was there */
	c->off = stat(c->events, &st) == 0 ? st.st_size : 0;
	c->sse = 1;
	c->last_ms = serve_now_ms();
	serve_client_write(c, head, sizeof(head) - 1);
}

/* The token's check takes the same time wherever a guess goes wrong. */
static int token_ok(const char *token, const char *path)
{
	size_t i, n = strlen(token);
	unsigned char diff = 0;

	if (strnlen(path, n) < n)
		return 0;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(token[i] ^ path[i]);
	return !diff && path[n] == '/';
}

/* Dispatches one request: path after the method, Host header checked. */
static void route(struct serve *s, struct serve_client *c, const char *method,
		  const char *path, const char *host)
{
	size_t tl = strlen(s->token);
	const char *rest;

	if (!host || !serve_host_ok(host, s->port) || path[0] != '/' ||
	    !token_ok(s->token, path + 1)) {
		send_text(c, 403,
			  "forbidden: the URL loopgate serve printed carries a token\n");
		return;
	}
	if (strcmp(method, "GET")) {
		send_text(c, 405, "only GET\n");
		return;
	}
	rest = path + 2 + tl;
	if (!*rest)
		serve_index(s->repo, s->token, c);
	else if (!strcmp(rest, "live.js"))
		send_page(c, 200, "text/javascript; charset=utf-8", live_js,
			  sizeof(live_js) - 1);
	else if (!strncmp(rest, "run/", 4))
		route_run(s, c, rest + 4);
	else if (!strncmp(rest, "events/", 7))
		route_events(s, c, rest + 7);
	else
		send_text(c, 404, "not found\n");
}

void serve_send_html(struct serve_client *c, const char *html, size_t len)
{
	send_page(c, 200, "text/html; charset=utf-8", html, len);
}

static void on_request(struct serve *s, struct serve_client *c)
{
	char method[16], path[1024], *host = NULL;

	if (serve_parse_request(&c->in, method, sizeof(method), path, sizeof(path),
				&host) < 0) {
		send_text(c, 400, "bad request\n");
	} else {
		route(s, c, method, path, host);
	}
	free(host);
	if (!c->sse)
		serve_client_close(c);
}

static void accept_one(struct serve *s)
{
	int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC), i;

	if (fd < 0)
		return;
	for (i = 0; i < SERVE_MAX_CLIENTS; i++)
		if (s->c[i].fd < 0) {
			serve_client_init(&s->c[i], fd);
			return;
		}
	close(fd); /* full: the browser retries */
}

static void on_readable(struct serve *s, struct serve_client *c)
{
	char tmp[4096];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));

	if (n <= 0 || c->sse) { /* an event stream's reader only hangs up */
		if (n <= 0)
			serve_client_close(c);
		return;
	}
	if (buf_add(&c->in, tmp, (size_t)n) < 0 || c->in.len > REQUEST_MAX) {
		send_text(c, 431, "request too large\n");
		serve_client_close(c);
	} else if (strstr(c->in.s, "\r\n\r\n")) {
		on_request(s, c);
	}
}

int serve_loop(struct serve *s, volatile sig_atomic_t *stop, struct buf *err)
{
	struct pollfd p[SERVE_MAX_CLIENTS + 1];
	int i, n;

	while (!*stop) {
		p[0].fd = s->fd;
		p[0].events = POLLIN;
		for (i = 0; i < SERVE_MAX_CLIENTS; i++) {
			p[i + 1].fd = s->c[i].fd;
			p[i + 1].events = POLLIN;
		}
		n = poll(p, SERVE_MAX_CLIENTS + 1, SERVE_TICK_MS);
		if (n < 0 && errno != EINTR)
			return err_set(err, -errno, "poll: %s", strerror(errno));
		if (n > 0 && (p[0].revents & POLLIN))
			accept_one(s);
		for (i = 0; n > 0 && i < SERVE_MAX_CLIENTS; i++)
			if (s->c[i].fd >= 0 && p[i + 1].fd == s->c[i].fd &&
			    (p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				on_readable(s, &s->c[i]);
		for (i = 0; i < SERVE_MAX_CLIENTS; i++) {
			struct serve_client *c = &s->c[i];
			if (c->fd >= 0 && c->sse)
				serve_follow(c, KEEPALIVE_MS, SSE_CHUNK_MAX);
			else if (c->fd >= 0 &&
				 serve_now_ms() - c->last_ms > REQUEST_IDLE_MS)
				serve_client_close(c); /* a request that never ends */
		}
	}
	return 0;
}
