/*
 * mcp.c: the Model Context Protocol client over stdio.  See mcp.h.
 */
#include "engine/mcp.h"
#include "engine/run.h"
#include "engine/worker.h"
#include "base/clock.h"
#include "base/saferead.h"
#include "exec/proc.h"
#include "exec/sandbox.h"
#include "record/evkind.h"
#include "record/events.h"
#include "record/redact.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MCP_PROTOCOL	"2025-06-18"
#define MCP_MAX_SERVERS 16
#define MCP_LINE_MAX	(4u << 20) /* one message, at most */
#define MCP_GARBAGE_MAX 64	   /* lines that are not JSON-RPC, at most */

struct server {
	char *name;
	long timeout_ms; /* mcp_timeout: the start, and each call */
	struct proc_live *p;
	struct sandbox *sb; /* its own: the run's, plus its install read-only */
	struct buf in;	    /* bytes read, not yet a whole line */
	long next_id;
	int dead;
	struct buf why; /* why it is dead */
	json_t *tools;	/* [{name, description, inputSchema}] */
};

struct mcp {
	struct server s[MCP_MAX_SERVERS];
	size_t n;
};

int mcp_owns(const char *name)
{
	return name && !strncmp(name, "mcp__", 5);
}

static void kill_server(struct server *sv, const char *fmt, const char *detail)
{
	if (!sv->dead) {
		buf_reset(&sv->why);
		buf_addf(&sv->why, fmt, sv->name, detail ? detail : "");
	}
	sv->dead = 1;
	proc_live_stop(sv->p);
	sv->p = NULL;
}

static int send_msg(struct server *sv, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0, done = 0;
	int ret = 0;

	json_decref(msg);
	if (!text)
		return -ENOMEM;
	text = realloc(text, len + 2);
	text[len++] = '\n';
	while (done < len) {
		ssize_t w = write(proc_live_in(sv->p), text + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = -EPIPE;
			break;
		}
		done += (size_t)w;
	}
	free(text);
	if (ret < 0)
		kill_server(sv, "MCP server %s stopped reading its input (it exited)%s",
			    NULL);
	return ret;
}

/* The next whole line from the server (without its newline), waiting up to
 * the deadline; 0, or -1 with the server marked dead. */
static int read_line(struct server *sv, long long deadline, struct buf *line)
{
	for (;;) {
		char *nl = sv->in.len ? memchr(sv->in.s, '\n', sv->in.len) : NULL;
		char chunk[65536];
		struct pollfd pf = {.fd = proc_live_out(sv->p), .events = POLLIN};
		long left = (long)(deadline - clock_ms());
		ssize_t got;

		if (nl) {
			size_t n = (size_t)(nl - sv->in.s);
			buf_reset(line);
			buf_add(line, sv->in.s, n);
			memmove(sv->in.s, nl + 1, sv->in.len - n - 1);
			sv->in.len -= n + 1;
			sv->in.s[sv->in.len] = 0;
			return 0;
		}
		if (sv->in.len > MCP_LINE_MAX) {
			kill_server(sv, "MCP server %s sent a line over 4 MiB%s", NULL);
			return -1;
		}
		if (left <= 0) {
			kill_server(sv, "MCP server %s did not answer in time%s", NULL);
			return -1;
		}
		if (poll(&pf, 1, left > 200 ? 200 : (int)left) <= 0) {
			if (interrupt_pending()) {
				kill_server(sv, "MCP server %s: interrupted%s", NULL);
				return -1;
			}
			continue;
		}
		got = read(pf.fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			kill_server(sv, "MCP server %s exited (its output ended)%s",
				    NULL);
			return -1;
		}
		buf_add(&sv->in, chunk, (size_t)got);
	}
}

/* The response to request id: its result (a new reference), or NULL with
 * why set (an error object, or the server dead). */
static json_t *await(struct server *sv, long id, long long deadline, struct buf *why)
{
	struct buf line = BUF_INIT;
	int garbage = 0;
	json_t *res = NULL;

	while (!sv->dead && read_line(sv, deadline, &line) == 0) {
		json_t *m = json_loadb(line.s ? line.s : "", line.len, 0, NULL);
		const json_t *mid = json_object_get(m, "id");
		if (!json_is_object(m)) {
			json_decref(m);
			if (++garbage > MCP_GARBAGE_MAX)
				kill_server(
					sv,
					"MCP server %s sent more than 64 lines that are "
					"not JSON-RPC%s",
					NULL);
			continue;
		}
		if (json_is_integer(mid) && json_integer_value(mid) == id) {
			const json_t *e = json_object_get(m, "error");
			if (e)
				buf_addf(why, "MCP server %s answered with an error: %s",
					 sv->name,
					 json_string_value(json_object_get(e, "message"))
						 ?: "(no message)");
			else
				res = json_incref(json_object_get(m, "result"));
			json_decref(m);
			break;
		}
		json_decref(m); /* a notification, or a request to us: not needed */
	}
	if (!res && !why->len)
		buf_adds(why, sv->why.s ? sv->why.s : "MCP server gone");
	buf_release(&line);
	return res;
}

static json_t *request(struct server *sv, const char *method, json_t *params,
		       long timeout_ms, struct buf *why)
{
	long id = ++sv->next_id;
	json_t *msg = json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id", (json_int_t)id,
				"method", method);
	if (params)
		json_object_set_new(msg, "params", params);
	if (sv->dead) {
		json_decref(msg);
		buf_adds(why, sv->why.s);
		return NULL;
	}
	if (send_msg(sv, msg) < 0) {
		buf_adds(why, sv->why.s);
		return NULL;
	}
	return await(sv, id, clock_ms() + timeout_ms, why);
}

/* initialize, initialized, tools/list (every page): 0, or -1 (why). */
static int handshake(struct server *sv, struct buf *version, struct buf *why)
{
	json_t *res = request(sv, "initialize",
			      json_pack("{s:s,s:{},s:{s:s,s:s}}", "protocolVersion",
					MCP_PROTOCOL, "capabilities", "clientInfo",
					"name", "loopgate", "version", LOOPGATE_VERSION),
			      sv->timeout_ms, why);
	const char *cursor = NULL;
	char *next = NULL;

	if (!res)
		return -1;
	buf_sets(version,
		 json_string_value(json_object_get(res, "protocolVersion")) ?: "?");
	json_decref(res);
	if (send_msg(sv, json_pack("{s:s,s:s}", "jsonrpc", "2.0", "method",
				   "notifications/initialized")) < 0) {
		buf_adds(why, sv->why.s);
		return -1;
	}
	sv->tools = json_array();
	do {
		json_t *p = cursor ? json_pack("{s:s}", "cursor", cursor) : NULL;
		res = request(sv, "tools/list", p, sv->timeout_ms, why);
		if (!res)
			return -1;
		json_array_extend(sv->tools, json_object_get(res, "tools"));
		free(next);
		next = json_string_value(json_object_get(res, "nextCursor"))
			       ? xstrdup(json_string_value(
					 json_object_get(res, "nextCursor")))
			       : NULL;
		cursor = next;
		json_decref(res);
	} while (cursor && json_array_size(sv->tools) < 1000);
	free(next);
	return 0;
}

/* The servers' entries of the .mcp.json the run uses (NULL: none). */
static json_t *config_servers(const struct run *r)
{
	struct buf text = BUF_INIT;
	char *path = r->cfg->mcp_config ? xstrdup(r->cfg->mcp_config)
					: xasprintf("%s/.mcp.json", r->repo);
	json_t *j = NULL, *servers;

	if (saferead_user(path, ".mcp.json", 1u << 20, 0, &text, NULL) == 0)
		j = json_loadb(text.s ? text.s : "", text.len, 0, NULL);
	servers = json_incref(json_object_get(j, "mcpServers"));
	json_decref(j);
	buf_release(&text);
	free(path);
	return json_is_object(servers) ? servers : (json_decref(servers), NULL);
}

/* The server's own sandbox: the run's, with the install of each absolute
 * path in its command line bound read-only (a package under /tmp or a
 * masked home is otherwise not there: its node_modules directory, or the
 * file's directory). */
static int server_sandbox(struct run *r, struct worker *w, struct server *sv,
			  const struct strlist *argv, struct buf *why)
{
	sv->sb = xcalloc(1, sizeof(*sv->sb));
	sandbox_init(sv->sb, r->cfg, w->tree, r->repo);
	sv->sb->ev = &r->ev;
	for (size_t i = 0; i < argv->n; i++) {
		char *real = argv->v[i][0] == '/' ? realpath(argv->v[i], NULL) : NULL;
		char *nm = real ? strstr(real, "/node_modules/") : NULL, *slash;
		if (nm)
			nm[strlen("/node_modules")] = 0;
		else if (real && (slash = strrchr(real, '/')) && slash != real)
			*slash = 0;
		if (real)
			sandbox_add_ro(sv->sb, real);
		free(real);
	}
	return sandbox_probe(sv->sb, why);
}

/* Starts one server in the worker's jail and says hello. */
static void start_one(struct run *r, struct worker *w, struct server *sv, const json_t *c)
{
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_env env = PROC_ENV_INIT;
	struct strlist argv = STRLIST_INIT;
	struct buf why = BUF_INIT, version = BUF_INIT;
	const char *cmd = json_string_value(json_object_get(c, "command")), *k;
	char *log = xasprintf("%s/mcp-%s.log", r->run_dir, sv->name);
	const json_t *v;
	size_t i;

	proc_env_base(&env);
	json_object_foreach((json_t *)json_object_get(c, "env"), k,
			    v) if (json_is_string(v))
	{
		redact_add(json_string_value(v)); /* the server's own secrets */
		proc_env_set(&env, k, json_string_value(v));
	}
	if (cmd)
		strlist_push(&argv, cmd);
	json_array_foreach(json_object_get(c, "args"), i, v) if (json_is_string(v))
		strlist_push(&argv, json_string_value(v));
	argv.v = xrealloc(argv.v, (argv.n + 1) * sizeof(*argv.v));
	argv.v[argv.n] = NULL;
	o.argv = (const char *const *)argv.v;
	o.cwd = w->tree;
	o.env = (const char *const *)env.v;
	o.output_path = log;
	/* the start is on record before the server runs, or it does not run */
	if (events_barrier(&r->ev) < 0)
		buf_addf(&why, "not started: %s", r->ev.err.s);
	else if (cmd && w->sandbox && w->sandbox->bwrap_on)
		server_sandbox(r, w, sv, &argv, &why);
	o.sandbox = sv->sb ? sv->sb : w->sandbox;
	if (!cmd)
		buf_adds(&why, "no \"command\" in its .mcp.json entry");
	else if (why.len || proc_live_start(&o, &sv->p, &why) < 0)
		;
	else if (handshake(sv, &version, &why) < 0)
		kill_server(sv, "%s%s", NULL);
	if (why.len) {
		sv->dead = 1;
		buf_reset(&sv->why);
		buf_addf(&sv->why, "MCP server %s: %s", sv->name, why.s);
	}
	events_append(&r->ev, EV_MCP,
		      json_pack("{s:s,s:o,s:b,s:o,s:I,s:o,s:o}", "server", sv->name,
				"command", events_str(cmd), "ok", !sv->dead, "protocol",
				version.len ? events_str(version.s) : json_null(),
				"tools", (json_int_t)json_array_size(sv->tools), "error",
				sv->dead ? events_str(sv->why.s) : json_null(), "stderr",
				events_str(log)));
	proc_env_release(&env);
	strlist_clear(&argv);
	buf_release(&why);
	buf_release(&version);
	free(log);
}

struct mcp *mcp_start(struct run *r, struct worker *w)
{
	json_t *servers = config_servers(r), *c;
	struct mcp *m;
	const char *name;

	if (!servers || !json_object_size(servers)) {
		json_decref(servers);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	json_object_foreach(servers, name, c)
	{
		struct server *sv;
		if (m->n == MCP_MAX_SERVERS)
			break;
		sv = &m->s[m->n++];
		sv->name = xstrdup(name);
		sv->timeout_ms = r->cfg->mcp_timeout_ms > 0 ? r->cfg->mcp_timeout_ms
							    : 60000;
		buf_init(&sv->in, 0);
		buf_init(&sv->why, 0);
		start_one(r, w, sv, c);
	}
	json_decref(servers);
	return m;
}

json_t *mcp_definitions(const struct mcp *m)
{
	json_t *a = json_array();
	for (size_t i = 0; m && i < m->n; i++) {
		size_t k;
		const json_t *t;
		json_array_foreach(m->s[i].tools, k, t)
		{
			const char *tn = json_string_value(json_object_get(t, "name"));
			const json_t *schema = json_object_get(t, "inputSchema");
			char *full;
			if (!tn)
				continue;
			full = xasprintf("mcp__%s__%s", m->s[i].name, tn);
			json_array_append_new(
				a, json_pack("{s:s,s:s,s:O}", "name", full, "description",
					     json_string_value(
						     json_object_get(t, "description"))
						     ?: "",
					     "parameters",
					     json_is_object(schema) ? schema
								    : json_object()));
			free(full);
		}
	}
	return a;
}

/* The server and tool a full name mcp__SERVER__TOOL names. */
static struct server *lookup(struct mcp *m, const char *name, const char **tool)
{
	for (size_t i = 0; m && i < m->n; i++) {
		size_t n = strlen(m->s[i].name);
		if (!strncmp(name + 5, m->s[i].name, n) &&
		    !strncmp(name + 5 + n, "__", 2)) {
			*tool = name + 5 + n + 2;
			return &m->s[i];
		}
	}
	return NULL;
}

void mcp_call(struct mcp *m, const char *name, const json_t *args, struct buf *out,
	      int *is_error)
{
	const char *tool = NULL;
	struct server *sv = lookup(m, name, &tool);
	struct buf why = BUF_INIT;
	json_t *res, *c;
	size_t i;

	*is_error = 1;
	if (!sv) {
		buf_addf(out, "error: no MCP server provides %s", name);
		return;
	}
	res = request(sv, "tools/call",
		      json_pack("{s:s,s:O}", "name", tool, "arguments", args),
		      sv->timeout_ms, &why);
	if (!res) {
		buf_addf(out, "error: %s", why.s);
		buf_release(&why);
		return;
	}
	json_array_foreach(json_object_get(res, "content"), i, c)
	{
		const char *type = json_string_value(json_object_get(c, "type"));
		if (type && !strcmp(type, "text"))
			buf_addf(out, "%s",
				 json_string_value(json_object_get(c, "text")) ?: "");
		else
			buf_addf(out, "[%s content]\n", type ? type : "unknown");
	}
	*is_error = json_is_true(json_object_get(res, "isError"));
	json_decref(res);
	buf_release(&why);
}

void mcp_stop(struct mcp *m)
{
	for (size_t i = 0; m && i < m->n; i++) {
		proc_live_stop(m->s[i].p);
		if (m->s[i].sb) {
			sandbox_release(m->s[i].sb);
			free(m->s[i].sb);
		}
		free(m->s[i].name);
		buf_release(&m->s[i].in);
		buf_release(&m->s[i].why);
		json_decref(m->s[i].tools);
	}
	free(m);
}
