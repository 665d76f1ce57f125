/*
 * serve_http.c: the live view's connections, request parsing, event
 * streams and run list.  See serve.h.
 */
#include "report/serve_impl.h"
#include "report/svg.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEND_TIMEOUT_S 5

double serve_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void serve_client_init(struct serve_client *c, int fd)
{
	struct timeval tv = {SEND_TIMEOUT_S, 0};

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->last_ms = serve_now_ms();
	buf_init(&c->in, 0);
	/* writes block, but never for long: a reader that stalls is dropped */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void serve_client_close(struct serve_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	buf_release(&c->in);
	free(c->events);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void serve_client_write(struct serve_client *c, const void *p, size_t n)
{
	const char *s = p;

	while (c->fd >= 0 && n > 0) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			serve_client_close(c);
			return;
		}
		s += w;
		n -= (size_t)w;
	}
	c->last_ms = serve_now_ms();
}

int serve_host_ok(const char *host, int port)
{
	char a[64], b[64];

	snprintf(a, sizeof(a), "127.0.0.1:%d", port);
	snprintf(b, sizeof(b), "localhost:%d", port);
	return !strcmp(host, a) || !strcmp(host, b);
}

static char *header(const char *head, const char *name)
{
	const char *p = head;
	size_t n = strlen(name);

	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1, *e;
			while (*v == ' ' || *v == '\t')
				v++;
			e = strstr(v, "\r\n");
			return xstrndup(v, e ? (size_t)(e - v) : strlen(v));
		}
	}
	return NULL;
}

int serve_parse_request(const struct buf *in, char *method, size_t mlen, char *path,
			size_t plen, char **host)
{
	const char *sp1 = memchr(in->s, ' ', in->len), *sp2, *q;

	if (!sp1 || (size_t)(sp1 - in->s) >= mlen)
		return -EINVAL;
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || (size_t)(sp2 - sp1 - 1) >= plen || strncmp(sp2 + 1, "HTTP/1.", 7))
		return -EINVAL;
	memcpy(method, in->s, (size_t)(sp1 - in->s));
	method[sp1 - in->s] = 0;
	memcpy(path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	path[sp2 - sp1 - 1] = 0;
	if ((q = strchr(path, '?'))) /* no query parameters exist */
		path[q - path] = 0;
	*host = header(in->s, "Host");
	return 0;
}

void serve_follow(struct serve_client *c, double keepalive_ms, size_t chunk_max)
{
	struct buf data = BUF_INIT, out = BUF_INIT;
	struct stat st;
	const char *p, *end;
	int fd;

	if (stat(c->events, &st) < 0 || st.st_size <= c->off) {
		if (serve_now_ms() - c->last_ms > keepalive_ms)
			serve_client_write(c, ": keep-alive\n\n", 14);
		return;
	}
	buf_init(&data, chunk_max);
	fd = open(c->events, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && lseek(fd, c->off, SEEK_SET) == c->off)
		buf_read_fd(&data, fd);
	if (fd >= 0)
		close(fd);
	/* whole records only: a line being written is sent next time */
	for (p = data.s, end = data.s + data.len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		buf_adds(&out, "data: ");
		buf_add(&out, p, (size_t)(eol - p));
		buf_adds(&out, "\n\n");
		c->off += eol - p + 1;
		p = eol + 1;
	}
	if (out.len)
		serve_client_write(c, out.s, out.len);
	buf_release(&data);
	buf_release(&out);
}

static void index_row(struct buf *b, const char *token, const json_t *run)
{
	const char *id = json_string_value(json_object_get(run, "id"));
	const char *status = json_string_value(json_object_get(run, "status"));

	if (!id)
		return;
	buf_addf(b, "<tr><td><a href=\"/%s/run/", token);
	svg_escs(b, id);
	buf_adds(b, "\"><code>");
	svg_escs(b, id);
	buf_adds(b, "</code></a></td><td><span class=\"pill ");
	svg_escs(b, status ? status : "running");
	buf_adds(b, "\">");
	svg_escs(b, status ? status : "running");
	buf_addf(
		b,
		"</span></td><td class=\"num\">%lld</td><td class=\"num\">$%.4f</td><td>",
		(long long)json_integer_value(json_object_get(run, "iterations")),
		json_number_value(json_object_get(run, "cost_usd")));
	svg_escs(b, json_string_value(json_object_get(run, "started")));
	buf_adds(b, "</td><td>");
	svg_escs(b, json_string_value(json_object_get(run, "goal")));
	buf_adds(b, "</td></tr>\n");
}

void serve_index(const char *repo, const char *token, struct serve_client *c)
{
	struct store_filter f = {NULL, NULL, NULL, NULL, 200};
	struct buf b = BUF_INIT, err = BUF_INIT;
	struct store *st = NULL;
	json_t *runs = NULL, *run;
	size_t i;

	buf_adds(
		&b,
		"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>loopgate runs</title><style>body{font:14px system-ui,"
		"sans-serif;margin:24px}td,th{padding:4px 10px;text-align:left;"
		"border-bottom:1px solid #e2e8f0}.num{text-align:right}.pill{padding:1px "
		"8px;border-radius:9px;color:#fff;background:#b7791f}.pill.converged,"
		".pill.already_satisfied{background:#2f855a}.pill.running{background:"
		"#3b6fb6}.pill.error,.pill.integrity_violation{background:#c53030}"
		"</style></head><body><h1>loopgate runs</h1><p>");
	svg_escs(&b, repo);
	buf_adds(&b, "</p><table><tr><th>run</th><th>status</th><th>iterations</th>"
		     "<th>cost</th><th>started</th><th>goal</th></tr>\n");
	if (store_open_repo(&st, repo, NULL, NULL, &err) < 0 ||
	    store_list_runs(st, &f, &runs, &err) < 0) {
		buf_adds(&b, "<tr><td colspan=\"6\">the run store could not be read: ");
		svg_escs(&b, err.s);
		buf_adds(&b, "</td></tr>");
	}
	json_array_foreach(runs, i, run) index_row(&b, token, run);
	buf_adds(&b, "</table></body></html>\n");
	serve_send_html(c, b.s, b.len);
	json_decref(runs);
	if (st)
		store_close(st);
	buf_release(&b);
	buf_release(&err);
}
