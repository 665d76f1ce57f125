/*
 * sandbox_probe.c: a sandbox started and shown to work before the first
 * gate: the per-run jail's start (sandbox_start), the probe, bubblewrap's
 * version (kept in a cache), and the jail's early end (sandbox_quiesce).
 * See sandbox.h.
 */
#include "exec/sandbox.h"
#include "exec/onejail.h"
#include "exec/proc.h"
#include "exec/proc_impl.h"
#include "base/fileio.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sandbox_start(const struct sandbox *sb)
{
	struct buf err = BUF_INIT;
	int up = sb->bwrap_on && sb->jail ? onejail_use(sb, &err) : 0;

	buf_release(&err);
	return up == 1;
}

void sandbox_start_begin(const struct sandbox *sb)
{
	if (sb->bwrap_on)
		onejail_boot_begin(sb);
}

void sandbox_quiesce(struct sandbox *sb)
{
	if (sb)
		onejail_stop_begin(sb->jail);
}

/* ---- probe ------------------------------------------------------------- */

/*
 * `bwrap --version` is a process at every run's start (3-4 ms): its answer
 * is kept in $XDG_CACHE_HOME/loopgate/bwrap-version (~/.cache), under a key
 * naming the binary found and its inode, size, mtime and ctime, so that a
 * new bubblewrap (an upgrade is a new inode) is asked again.  NULL: no key
 * (not found), no cache.
 */
static char *version_key(const char *bwrap, const struct proc_env *env)
{
	char where[PROC_RESOLVE_MAX];
	const char *path_var = proc_env_get((const char *const *)env->v, "PATH"), *path;
	struct stat st;

	path = strchr(bwrap, '/') ? bwrap : proc_resolve(bwrap, path_var, where);
	if (!path || stat(path, &st) < 0)
		return NULL;
	return xasprintf("%s %lu %lu %lld %lld.%09ld %lld.%09ld", path,
			 (unsigned long)st.st_dev, (unsigned long)st.st_ino,
			 (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			 st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec,
			 st.st_ctim.tv_nsec);
}

static char *version_cache_path(void)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (x && x[0] == '/')
		return xasprintf("%s/loopgate/bwrap-version", x);
	return home && home[0] == '/'
		       ? xasprintf("%s/.cache/loopgate/bwrap-version", home)
		       : NULL;
}

/* The cached version when its key is key; 0 when found. */
static int version_cached(struct sandbox *sb, const char *path, const char *key)
{
	char line[PATH_MAX + 160], ver[256];
	FILE *f = fopen(path, "re");
	int ret = -1;

	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f) && fgets(ver, sizeof(ver), f)) {
		line[strcspn(line, "\n")] = ver[strcspn(ver, "\n")] = 0;
		if (!strcmp(line, key) && ver[0]) {
			free(sb->version);
			sb->version = xstrdup(ver);
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

/* "bubblewrap 0.8.0" from `bwrap --version`, unsandboxed (or the cache). */
static void read_version(struct sandbox *sb)
{
	const char *argv[] = {sb->bwrap, "--version", NULL};
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	struct proc_env env = PROC_ENV_INIT;
	struct buf err = BUF_INIT;
	char *key, *cache = version_cache_path();

	proc_env_base(&env);
	key = version_key(sb->bwrap, &env);
	if (key && cache && version_cached(sb, cache, key) == 0)
		goto out;
	o.argv = argv;
	o.env = (const char *const *)env.v;
	o.merge_output = 1;
	o.max_output = 4096;
	o.timeout_ms = 10000;
	o.no_interrupt = 1;
	if (proc_run(&o, &r, &err) == 0 && r.status == PROC_EXITED && !r.exit_code &&
	    r.out.len) {
		r.out.s[strcspn(r.out.s, "\n")] = 0;
		free(sb->version);
		sb->version = xstrdup(r.out.s);
		if (key && cache) { /* best effort: the next run asks again */
			char *dir = xstrdup(cache), *text;
			*strrchr(dir, '/') = 0;
			text = xasprintf("%s\n%s\n", key, sb->version);
			if (fileio_mkdirs(dir, &err) == 0)
				fileio_write_atomic(cache, text, strlen(text), &err);
			free(text);
			free(dir);
		}
	}
out:
	free(key);
	free(cache);
	proc_result_release(&r);
	proc_env_release(&env);
	buf_release(&err);
}

int sandbox_probe(struct sandbox *sb, struct buf *err)
{
	const char *argv[] = {"/bin/sh", "-c", "exit 0", NULL};
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result r = PROC_RESULT_INIT;
	struct proc_env env = PROC_ENV_INIT;
	struct buf why = BUF_INIT;
	int ret;

	if (!sb->bwrap_on)
		return 0;
	proc_env_base(&env);
	o.argv = argv;
	o.env = (const char *const *)env.v;
	o.cwd = sb->tree;
	o.merge_output = 1;
	o.max_output = 4096;
	o.timeout_ms = 30000;
	o.no_interrupt = 1;
	o.sandbox = sb;
	ret = proc_run(&o, &r, &why);
	if (ret < 0) {
		ret = err_set(err, ret,
			      "cannot start the sandbox: %s (is bubblewrap "
			      "installed? set bwrap: in loopgate.yaml to its path, or "
			      "pass --no-sandbox to run without one)",
			      why.s);
	} else if (r.status != PROC_EXITED || r.exit_code) {
		buf_reset(&why);
		proc_describe(&r, o.timeout_ms, &why);
		while (r.out.len && (r.out.s[r.out.len - 1] == '\n'))
			r.out.s[--r.out.len] = 0;
		ret = err_set(err, -EPERM,
			      "the sandbox cannot be created here: %s "
			      "ended with %s%s%s (pass --no-sandbox to run without "
			      "one)",
			      sb->bwrap, why.s, r.out.len ? ": " : "",
			      r.out.len ? r.out.s : "");
	} else {
		read_version(sb);
	}
	proc_result_release(&r);
	proc_env_release(&env);
	buf_release(&why);
	/* the jail started but cannot make a spawn's namespaces here: one
	 * bwrap per spawn, as without it, said in the sandbox event */
	if (ret < 0 && onejail_give_up(sb->jail, err->s)) {
		buf_reset(err);
		return sandbox_probe(sb, err);
	}
	cgroup_prime_end(); /* per-spawn: its join was the last the prime is for */
	return ret;
}
