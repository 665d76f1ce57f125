/*
 * policy.c: policy values, layering, defaults and command matching.  See
 * policy.h; parsing is config_policy.c.
 */
#include "config/policy.h"
#include "record/events.h"
#include "base/hostrule.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

const char *const policy_default_read_deny[] = {"~/.ssh", "~/.aws", "~/.gnupg",
						"~/.config/loopgate", NULL};

struct policy *policy_new(void)
{
	struct policy *p = xcalloc(1, sizeof(*p));
	p->network = POLICY_NET_UNSET;
	p->lim = (struct policy_limits){-1, -1, -1, -1, -1, -1};
	return p;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	strlist_clear(&p->allow);
	strlist_clear(&p->deny);
	strlist_clear(&p->write);
	strlist_clear(&p->read_deny);
	strlist_clear(&p->hosts);
	strlist_clear(&p->env);
	strlist_clear(&p->actor_env);
	strlist_clear(&p->tools_allow);
	strlist_clear(&p->tools_deny);
	free(p);
}

static void list_over(struct strlist *d, const struct strlist *s)
{
	if (s->n)
		strlist_copy(d, s);
}

static void long_over(long *d, long s)
{
	if (s >= 0)
		*d = s;
}

void policy_overlay(struct policy **dst, const struct policy *s)
{
	struct policy *d;

	if (!s)
		return;
	if (!*dst)
		*dst = policy_new();
	d = *dst;
	list_over(&d->allow, &s->allow);
	list_over(&d->deny, &s->deny);
	list_over(&d->write, &s->write);
	list_over(&d->read_deny, &s->read_deny);
	list_over(&d->env, &s->env);
	list_over(&d->actor_env, &s->actor_env);
	list_over(&d->tools_allow, &s->tools_allow);
	list_over(&d->tools_deny, &s->tools_deny);
	if (s->network != POLICY_NET_UNSET) {
		d->network = s->network;
		strlist_copy(&d->hosts, &s->hosts);
	}
	long_over(&d->lim.cpu_seconds, s->lim.cpu_seconds);
	long_over(&d->lim.memory_mb, s->lim.memory_mb);
	long_over(&d->lim.processes, s->lim.processes);
	long_over(&d->lim.file_size_mb, s->lim.file_size_mb);
	long_over(&d->lim.output_bytes, s->lim.output_bytes);
	long_over(&d->lim.wall_seconds, s->lim.wall_seconds);
}

void policy_finalize(struct policy *p)
{
	if (p->network == POLICY_NET_UNSET)
		p->network = POLICY_NET_OFF;
	if (p->lim.cpu_seconds < 0)
		p->lim.cpu_seconds = 0;
	if (p->lim.wall_seconds < 0)
		p->lim.wall_seconds = 0;
	if (p->lim.memory_mb < 0)
		p->lim.memory_mb = POLICY_DEFAULT_MEMORY_MB;
	if (p->lim.processes < 0)
		p->lim.processes = POLICY_DEFAULT_PROCESSES;
	if (p->lim.file_size_mb < 0)
		p->lim.file_size_mb = POLICY_DEFAULT_FILE_SIZE_MB;
	if (p->lim.output_bytes < 0)
		p->lim.output_bytes = POLICY_DEFAULT_OUTPUT_BYTES;
}

/* ---- matching ------------------------------------------------------------ */

static int is_assignment(const char *w, size_t n)
{
	size_t i = 0;
	if (!n || !(w[0] == '_' || (w[0] >= 'A' && w[0] <= 'Z') ||
		    (w[0] >= 'a' && w[0] <= 'z')))
		return 0;
	for (i = 1; i < n && w[i] != '='; i++)
		if (!(w[i] == '_' || (w[i] >= 'A' && w[i] <= 'Z') ||
		      (w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9')))
			return 0;
	return i < n;
}

void policy_program(const char *cmd, struct buf *out)
{
	const char *p = cmd, *w, *slash;
	size_t n;

	buf_reset(out);
	for (;;) {
		p += strspn(p, " \t\n");
		if (!*p)
			return;
		w = p;
		n = strcspn(p, " \t\n");
		p += n;
		if (!is_assignment(w, n))
			break;
	}
	for (slash = w + n; slash > w && slash[-1] != '/'; slash--)
		;
	buf_add(out, slash, n - (size_t)(slash - w));
}

static const char *match_list(const struct strlist *l, const char *prog, const char *cmd)
{
	for (size_t i = 0; i < l->n; i++)
		if ((*prog && !fnmatch(l->v[i], prog, 0)) || !fnmatch(l->v[i], cmd, 0))
			return l->v[i];
	return NULL;
}

int policy_check_command(const struct policy *p, const char *cmd, struct buf *why)
{
	struct buf prog = BUF_INIT;
	const char *rule;
	int ok = 1;

	buf_reset(why);
	if (!p) {
		buf_adds(why, "no policy: allowed");
		return 1;
	}
	policy_program(cmd, &prog);
	if ((rule = match_list(&p->deny, prog.s ? prog.s : "", cmd))) {
		buf_addf(why, "commands.deny '%s'", rule);
		ok = 0;
	} else if ((rule = match_list(&p->allow, prog.s ? prog.s : "", cmd))) {
		buf_addf(why, "commands.allow '%s'", rule);
	} else if (p->allow.n) {
		buf_adds(why, "not in commands.allow");
		ok = 0;
	} else {
		buf_adds(why, "no rule matched: allowed (commands.allow is empty)");
	}
	buf_release(&prog);
	return ok;
}

/* A rule NAME or NAME:GLOB against a call of tool with its main arg. */
static const char *match_tool(const struct strlist *l, const char *tool, const char *arg)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *r = l->v[i], *colon = strchr(r, ':');
		size_t n = colon ? (size_t)(colon - r) : strlen(r);
		char name[128];
		if (n >= sizeof(name))
			continue;
		memcpy(name, r, n);
		name[n] = 0;
		if (fnmatch(name, tool, 0))
			continue;
		if (!colon || !fnmatch(colon + 1, arg ? arg : "", 0))
			return r;
	}
	return NULL;
}

int policy_check_tool(const struct policy *p, const char *tool, const char *arg,
		      struct buf *why)
{
	const char *rule;

	buf_reset(why);
	if (!p)
		return 1;
	if ((rule = match_tool(&p->tools_deny, tool, arg))) {
		buf_addf(why, "tools.deny '%s'", rule);
		return 0;
	}
	if ((rule = match_tool(&p->tools_allow, tool, arg))) {
		buf_addf(why, "tools.allow '%s'", rule);
		return 1;
	}
	if (p->tools_allow.n) {
		buf_adds(why, "not in tools.allow");
		return 0;
	}
	return 1;
}

int policy_check_config(const struct config *c, struct buf *err)
{
	const struct policy *p = c->policy;
	struct buf why = BUF_INIT;
	int ret = 0;

	if (!p)
		return 0;
	for (size_t i = 0; p->network == POLICY_NET_HOSTS && i < p->hosts.n; i++) {
		const char *bad;
		if (hostrule_check(p->hosts.v[i], &bad) < 0)
			return err_set(err, -EINVAL, "policy.network: '%s': %s",
				       p->hosts.v[i], bad);
	}
	if (p->network == POLICY_NET_HOSTS && c->sandbox == 0)
		return err_set(err, -EINVAL,
			       "policy.network: a host list (%s%s) cannot be enforced "
			       "with --no-sandbox (the proxy needs the sandbox's own "
			       "network namespace); run with the sandbox, or say "
			       "network: on to allow every host",
			       p->hosts.n ? p->hosts.v[0] : "",
			       p->hosts.n > 1 ? ", ..." : "");
	for (size_t i = 0; i < c->gates.n && !ret; i++) {
		const struct gate_opts *o = config_gate_opts(c, i);
		if (!policy_check_command(p, c->gates.v[i], &why))
			ret = err_set(
				err, -EINVAL,
				"gate %zu `%s` is denied by the policy (%s): change "
				"the gate or the policy's commands",
				i + 1, c->gates.v[i], why.s);
		else if (o->focus && !policy_check_command(p, o->focus, &why))
			ret = err_set(
				err, -EINVAL,
				"the focus command of gate %zu `%s` is denied by the "
				"policy (%s)",
				i + 1, o->focus, why.s);
	}
	buf_release(&why);
	return ret;
}

/* ---- JSON ---------------------------------------------------------------- */

const char *policy_net_name(int network)
{
	switch (network) {
	case POLICY_NET_OFF:
		return "off";
	case POLICY_NET_ON:
		return "on";
	case POLICY_NET_HOSTS:
		return "hosts";
	}
	return "unset";
}

void *policy_limits_json(const struct policy *p)
{
	const struct policy_limits *l = &p->lim;
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "cpu_seconds",
			 (json_int_t)l->cpu_seconds, "memory_mb",
			 (json_int_t)l->memory_mb, "processes", (json_int_t)l->processes,
			 "file_size_mb", (json_int_t)l->file_size_mb, "output_bytes",
			 (json_int_t)l->output_bytes, "wall_seconds",
			 (json_int_t)l->wall_seconds);
}

void *policy_decision_json(const char *subject, const char *key, int n,
			   const char *command, int allowed, const char *rule,
			   const struct policy *p)
{
	return json_pack("{s:s,s:i,s:o,s:s,s:o,s:o}", "subject", subject, key, n,
			 "command", events_str(command), "decision",
			 allowed ? "allow" : "deny", "rule", events_str(rule), "limits",
			 p ? (json_t *)policy_limits_json(p) : json_null());
}

void *policy_list_json(const struct strlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, events_str(l->v[i]));
	return a;
}

void *policy_to_json(const struct policy *p)
{
	return json_pack("{s:{s:o,s:o},s:{s:o,s:o},s:o,s:o,s:s,s:o,s:o,s:o,s:o}", "tools",
			 "allow", (json_t *)policy_list_json(&p->tools_allow), "deny",
			 (json_t *)policy_list_json(&p->tools_deny), "commands", "allow",
			 (json_t *)policy_list_json(&p->allow), "deny",
			 (json_t *)policy_list_json(&p->deny), "write",
			 (json_t *)policy_list_json(&p->write), "read_deny",
			 (json_t *)policy_list_json(&p->read_deny), "network",
			 policy_net_name(p->network), "hosts",
			 (json_t *)policy_list_json(&p->hosts), "env",
			 (json_t *)policy_list_json(&p->env), "actor_env",
			 (json_t *)policy_list_json(&p->actor_env), "limits",
			 policy_limits_json(p));
}
