/*
 * serve: the live local view, a small HTTP server on 127.0.0.1 that shows
 * the repository's runs and follows a run in progress.
 *
 *   struct serve *s;
 *   struct serve_opts o = {.repo = "/path/to/repo", .port = 0};
 *   if (serve_open(&s, &o, &err) < 0) ...      binds 127.0.0.1 only
 *   printf("http://127.0.0.1:%d/%s/\n", serve_port(s), serve_token(s));
 *   serve_loop(s, &stop);                       until *stop is set
 *   serve_close(s);
 *
 * Every request must carry the random token as its first path segment (403
 * otherwise) and a Host of 127.0.0.1 or localhost (403: a page elsewhere
 * cannot reach the server through DNS rebinding).  The paths that exist:
 *
 *   /TOKEN/              the run list (from the run store)
 *   /TOKEN/run/ID        the run's report, rendered from its directory on
 *                        each request (report/html.h) with live updates
 *   /TOKEN/events/ID     server-sent events: each record appended to the
 *                        run's events.jsonl, as it is written
 *   /TOKEN/live.js       the page's one script: reloads on a new record
 *
 * Anything else is 404: an ID must name a directory under .loopgate/runs
 * (no slash, no dot first), so no URL reaches another file.  One thread:
 * poll() over the listener and up to SERVE_MAX_CLIENTS connections, the
 * event streams checked every SERVE_TICK_MS.  Never prints.
 */
#ifndef LOOPGATE_SERVE_H
#define LOOPGATE_SERVE_H

#include <signal.h>
#include "base/buf.h"

#define SERVE_MAX_CLIENTS 64
#define SERVE_TICK_MS	  100

struct serve_opts {
	const char *repo; /* the repository's top level */
	int port;	  /* 0: any free port */
};

struct serve;
int serve_open(struct serve **ret, const struct serve_opts *o, struct buf *err);
int serve_port(const struct serve *s);
const char *serve_token(const struct serve *s);
/* Serves until *stop becomes nonzero; 0, or -errno when poll fails. */
int serve_loop(struct serve *s, volatile sig_atomic_t *stop, struct buf *err);
void serve_close(struct serve *s);

#endif
