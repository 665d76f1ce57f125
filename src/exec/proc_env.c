/*
 * proc_env: the environment a spawned command gets (proc.h: proc_env_base,
 * proc_env_set, proc_env_release).  Only a fixed set of harmless variables
 * passes from loopgate's own environment: API keys and the rest are set
 * explicitly, by name, for the one spawn that needs them.
 */
#include "exec/proc.h"
#include "exec/proc_impl.h"
#include "base/buf.h"

#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
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

const char *proc_env_get(const char *const *env, const char *name)
{
	size_t len = strlen(name);
	for (; env && *env; env++)
		if (!strncmp(*env, name, len) && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
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

/*
 * Where a command without a slash is found in a PATH, searched in the
 * parent before every spawn: a PATH search in the child costs one failed
 * execve per directory before the command's (a dozen here, for git dozens
 * of times a run), a stat each costs microseconds.  Never remembered: a
 * program installed earlier in PATH during a run (`npm install` into
 * node_modules/.bin) is the one that runs next, as a shell would find it.
 * The parent searches as the child would (the first regular file it may
 * execute); the child execs that path, and only when it is gone (ENOENT)
 * falls back to its own search, which never changes what runs or what an
 * exec failure says.
 */
const char *proc_resolve(const char *file, const char *path_var,
			 char full[PROC_RESOLVE_MAX])
{
	const char *p = path_var ? path_var : "/usr/bin:/bin";
	size_t fl = strlen(file);
	struct stat st;

	if (strchr(file, '/'))
		return NULL;
	while (*p) {
		size_t dl = strcspn(p, ":");
		if (dl && p[0] != '/')
			return NULL; /* relative to the child's cwd: its own search */
		if (dl && dl + fl + 2 < PROC_RESOLVE_MAX) {
			memcpy(full, p, dl);
			full[dl] = '/';
			memcpy(full + dl + 1, file, fl + 1);
			if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(full, X_OK) == 0)
				break;
		}
		p += dl;
		if (*p == ':')
			p++;
	}
	return *p ? full : NULL; /* not found: the child searches and says why */
}

int proc_exec_search(const char *file, const char *found, const char *path_var,
		     char *const argv[], char *const env[])
{
	char full[PROC_RESOLVE_MAX];
	int saved = ENOENT;

	if (strchr(file, '/')) {
		execve(file, argv, env);
		return errno;
	}
	if (found && *found) {
		execve(found, argv, env);
		if (errno != ENOENT)
			return errno;
	}
	/* PATH search by hand: execvpe would use the parent's PATH. */
	for (const char *p = path_var ? path_var : "/usr/bin:/bin"; *p;) {
		size_t dl = strcspn(p, ":"), fl = strlen(file);
		if (dl && dl + fl + 2 < sizeof(full)) {
			memcpy(full, p, dl);
			full[dl] = '/';
			memcpy(full + dl + 1, file, fl + 1);
			execve(full, argv, env);
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;
		}
		p += dl;
		if (*p == ':')
			p++;
	}
	return saved;
}
