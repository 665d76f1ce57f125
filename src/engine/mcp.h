/*
 * mcp: a Model Context Protocol client over stdio, for the model actor's
 * tools (docs/design/tools.md, "MCP").
 *
 * Servers come from the .mcp.json format users keep for other agents
 * ({"mcpServers": {NAME: {"command", "args", "env"}}}): <repo>/.mcp.json,
 * or the file --mcp-config names.  Each server is started in the worker's
 * jail (exec/proc.h proc_live: bwrap, seccomp, limits, the policy's
 * network), spoken to in JSON-RPC 2.0, one message per line: initialize
 * (protocol version 2025-06-18 offered, the server's answer recorded),
 * notifications/initialized, tools/list (all pages); its tools are
 * offered to the model as mcp__<server>__<tool>; tools/call runs one.
 * Values in a server's env reach that server only (and are redacted from
 * every record).  A server that does not start, crashes, hangs past its
 * time or sends garbage is reported and its tools answer with that error:
 * it never takes the run down.
 *
 *   struct mcp *m = mcp_start(r, w);          records an `mcp` event per server
 *   json_t *defs = mcp_definitions(m);        neutral tool list (provider.h)
 *   mcp_call(m, "mcp__fs__read_text_file", args, &text, &is_error);
 *   mcp_stop(m);
 */
#ifndef LOOPGATE_MCP_H
#define LOOPGATE_MCP_H

#include <jansson.h>
#include "base/buf.h"

struct run;
struct worker;
struct mcp;

/* NULL when no server is configured. */
struct mcp *mcp_start(struct run *r, struct worker *w);
/* A new reference to the servers' tools, [] when none. */
json_t *mcp_definitions(const struct mcp *m);
/* 1 when name is one of ours (mcp__...). */
int mcp_owns(const char *name);
/* Calls the tool; its result text into out; never fails (a failure is
 * the result, is_error set). */
void mcp_call(struct mcp *m, const char *name, const json_t *args, struct buf *out,
	      int *is_error);
void mcp_stop(struct mcp *m);

#endif
