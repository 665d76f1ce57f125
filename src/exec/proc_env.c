/*
 * proc_env: the environment a spawned command gets (proc.h: proc_env_base,
 * proc_env_set, proc_env_release).  Only a fixed set of harmless variables
 * passes from loopgate's own environment: API keys and the rest are set
 * explicitly, by name, for the one spawn that needs them.
 */
#include "exec/proc.h"
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int env_allowed(const char *kv)
{
	static const char *const names[] = {"PATH", "HOME", "USER", "LOGNAME", "SHELL",
					    "LANG", "TERM", "TZ",   "TMPDIR",  NULL};
	size_t len = strcspn(kv, "=");
	int i;
	if (!strncmp(kv, "LC_", 3))
		return 1;
	for (i = 0; names[i]; i++)
		if (strlen(names[i]) == len && !strncmp(kv, names[i], len))
			return 1;
	return 0;
}

static void env_push(struct proc_env *e, char *kv)
{
	e->v = xrealloc(e->v, (e->n + 2) * sizeof(*e->v));
	e->v[e->n++] = kv;
	e->v[e->n] = NULL;
}

void proc_env_base(struct proc_env *e)
{
	char **p;
	for (p = environ; p && *p; p++)
		if (env_allowed(*p))
			env_push(e, xstrdup(*p));
	if (!e->v)
		env_push(e, xstrdup("PATH=/usr/local/bin:/usr/bin:/bin"));
}

void proc_env_set(struct proc_env *e, const char *name, const char *value)
{
	size_t len = strlen(name), i;
	char *kv = xasprintf("%s=%s", name, value);
	for (i = 0; i < e->n; i++) {
		if (!strncmp(e->v[i], name, len) && e->v[i][len] == '=') {
			free(e->v[i]);
			e->v[i] = kv;
			return;
		}
	}
	env_push(e, kv);
}

void proc_env_release(struct proc_env *e)
{
	size_t i;
	for (i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}
