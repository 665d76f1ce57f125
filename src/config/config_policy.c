/*
 * config_policy.c: the schema of `policy:` (and of a --policy FILE) for the
 * YAML walker of config_yaml.c, and the one value the schema cannot type
 * by itself: network, which is off, on or a list of hosts.  The struct and
 * its meaning are policy.h; docs/design/sandbox.md says why.
 */
#include "config/config.h"
#include "config/config_impl.h"
#include "config/policy.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define PK(n, t, f, lo_, hi_)                                                            \
	{                                                                                \
		.name = (n), .type = (t), .off = offsetof(struct policy, f),             \
		.lo = (lo_), .hi = (hi_)                                                 \
	}
#define PKEYS_END                                                                        \
	{                                                                                \
		.name = NULL                                                             \
	}

const struct key config_policy_keys[] = {PK("commands", K_PCOMMANDS, allow, 0, 0),
					 PK("tools", K_PTOOLS, tools_allow, 0, 0),
					 PK("write", K_LIST, write, 0, 0),
					 PK("read_deny", K_LIST, read_deny, 0, 0),
					 PK("network", K_PNET, network, 0, 0),
					 PK("env", K_ENVLIST, env, 0, 0),
					 PK("actor_env", K_ENVLIST, actor_env, 0, 0),
					 PK("limits", K_PLIMITS, lim, 0, 0),
					 PKEYS_END};

const struct key config_policy_commands_keys[] = {
	PK("allow", K_LIST, allow, 0, 0), PK("deny", K_LIST, deny, 0, 0), PKEYS_END};

const struct key config_policy_tools_keys[] = {PK("allow", K_LIST, tools_allow, 0, 0),
					       PK("deny", K_LIST, tools_deny, 0, 0),
					       PKEYS_END};

/* Ranges: generous, but a typo of three zeros too many is caught. */
const struct key config_policy_limits_keys[] = {
	PK("cpu_seconds", K_INT, lim.cpu_seconds, 0, 7L * 24 * 3600),
	PK("memory_mb", K_INT, lim.memory_mb, 16, 1L << 22),
	PK("processes", K_INT, lim.processes, 8, 1L << 22),
	PK("file_size_mb", K_INT, lim.file_size_mb, 1, 1L << 24),
	PK("output_bytes", K_INT, lim.output_bytes, 4096, 1L << 40),
	PK("wall_seconds", K_INT, lim.wall_seconds, 0, 7L * 24 * 3600),
	PKEYS_END};

int config_policy_network(const struct walk *w, const struct ynode *y, const char *path,
			  void *base)
{
	struct policy *p = base;
	static const struct key hosts = PK("network", K_LIST, hosts, 0, 0);
	int ret;

	if (y->kind == Y_SEQ) {
		if ((ret = config_walk_list(w, &hosts, y, path, &p->hosts)) < 0)
			return ret;
		if (!p->hosts.n)
			return config_key_err(
				w, y->line, path,
				"an empty host list; write 'off' for no network");
		p->network = POLICY_NET_HOSTS;
		return 0;
	}
	if (y->kind == Y_SCALAR && !y->refused) {
		/* YAML 1.1 habits: on/off/true/false all mean what they say */
		if (!strcasecmp(y->val, "off") || !strcasecmp(y->val, "false") ||
		    !strcasecmp(y->val, "no")) {
			p->network = POLICY_NET_OFF;
			return 0;
		}
		if (!strcasecmp(y->val, "on") || !strcasecmp(y->val, "true") ||
		    !strcasecmp(y->val, "yes")) {
			p->network = POLICY_NET_ON;
			return 0;
		}
	}
	return config_key_err(w, y->line, path,
			      "expected off, on or a list of hosts, got %s",
			      y->kind == Y_SCALAR ? y->val : "a mapping");
}
