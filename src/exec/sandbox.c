/*
 * sandbox.c: what the sandbox binds and masks, the bwrap argv, the probe.
 * See sandbox.h; proc.c runs the argv, seccomp.c builds the filter,
 * cgroup.c the per-spawn cgroups.
 */
#include "exec/sandbox.h"
#include "exec/cgroup.h"
#include "record/events.h"
#include "exec/netproxy.h"
#include "exec/proc.h"
#include "exec/onejail.h"
#include "exec/standby.h"
#include "exec/proc_impl.h"
#include "base/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* sandbox_mode when the config does not say (docs/design/onejail.md):
 * per-run, falling back to per-spawn where it cannot start (not root). */
#ifndef SANDBOX_MODE_DEFAULT
#define SANDBOX_MODE_DEFAULT "per-run"
#endif

/* Bounds on the walk for .env files (systemd style: bound everything). */
#define ENV_WALK_DEPTH	 8
#define ENV_WALK_ENTRIES 50000

const char *sandbox_cgroup_name(enum cgroup_kind k)
{
	switch (k) {
	case CGROUP_V1:
		return "v1";
	case CGROUP_V2:
		return "v2";
	case CGROUP_NONE:
		break;
	}
	return "none";
}

enum cgroup_kind sandbox_cgroup(const struct sandbox *sb, const char **note)
{
	return cgroup_detect_end(sb->cgroup, note);
}

static int list_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

static int covers(const char *dir, const char *path);

static int still_there(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Adds the real path of p to the dir or file mask list; missing: skipped. */
static void add_mask(struct sandbox *sb, const char *p)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(p, real) || stat(real, &st) < 0 || !strcmp(real, "/"))
		return;
	if (S_ISDIR(st.st_mode)) {
		if (!list_has(&sb->mask_dirs, real))
			strlist_push(&sb->mask_dirs, real);
	} else if (!list_has(&sb->mask_files, real)) {
		strlist_push(&sb->mask_files, real);
	}
}

/* "~/x" under HOME, "x" under base, globs expanded. */
static void add_mask_pattern(struct sandbox *sb, const char *pat, const char *base)
{
	const char *home = getenv("HOME");
	char *full;
	glob_t g;

	if (pat[0] == '~' && (pat[1] == '/' || !pat[1])) {
		if (!home || !*home)
			return;
		full = xasprintf("%s%s", home, pat + 1);
	} else if (pat[0] == '/') {
		full = xstrdup(pat);
	} else {
		full = xasprintf("%s/%s", base, pat);
	}
	if (glob(full, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			add_mask(sb, g.gl_pathv[i]);
		globfree(&g);
	}
	free(full);
}

static int is_env_file(const char *name)
{
	return !strcmp(name, ".env") || !strncmp(name, ".env.", 5);
}

/* Every .env / .env.* under dir, skipping .git, .loopgate, node_modules. */
static void walk_env(struct sandbox *sb, const char *dir, int depth, size_t *seen)
{
	DIR *d;
	struct dirent *e;

	if (depth > ENV_WALK_DEPTH || !(d = opendir(dir)))
		return;
	while ((e = readdir(d)) && ++*seen < ENV_WALK_ENTRIES) {
		char *p;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, ".git") || !strcmp(e->d_name, ".loopgate") ||
		    !strcmp(e->d_name, "node_modules"))
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (is_env_file(e->d_name) &&
		    (e->d_type == DT_REG || e->d_type == DT_LNK))
			add_mask(sb, p);
		else if (e->d_type == DT_DIR)
			walk_env(sb, p, depth + 1, seen);
		free(p);
	}
	closedir(d);
}

/*
 * Unix sockets are reachable through a read-only bind (connect() needs no
 * write access to the filesystem): docker.sock is root.  Every socket
 * found under /run, /var/run, /var/tmp and HOME is masked.  The walk (up
 * to 20,000 entries: 10-20 ms with a large HOME) is made once per process,
 * in a thread started before the run's worktree is made
 * (sandbox_scan_begin), so it costs nothing a run waits for; each sandbox
 * takes its result, and the kernel's table of bound sockets, read fresh
 * for each, covers a socket made since in this network namespace.
 */
#define SOCK_WALK_DEPTH	  4
#define SOCK_WALK_ENTRIES 20000

static struct {
	pthread_mutex_t lock;
	pthread_t thread;
	int state; /* 0 not begun, 1 running in the thread, 2 done, 3 walked
		    * (sandbox_scan_settle), not yet taken */
	struct strlist found;
} scan = {PTHREAD_MUTEX_INITIALIZER, 0, 0, {NULL, 0}};

static void walk_sockets(const char *dir, int depth, size_t *seen)
{
	DIR *d;
	struct dirent *e;

	if (depth > SOCK_WALK_DEPTH || !(d = opendir(dir)))
		return;
	while ((e = readdir(d)) && ++*seen < SOCK_WALK_ENTRIES) {
		char *p;
		/* .loopgate: runs' trees, masked whole anyway */
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, ".git") || !strcmp(e->d_name, "node_modules") ||
		    !strcmp(e->d_name, ".loopgate"))
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (e->d_type == DT_SOCK)
			strlist_push(&scan.found, p);
		else if (e->d_type == DT_DIR)
			walk_sockets(p, depth + 1, seen);
		free(p);
	}
	closedir(d);
}

static void scan_walk(void)
{
	const char *roots[] = {"/run", "/var/run", "/var/tmp", getenv("HOME")};
	char real[PATH_MAX];
	struct strlist done = {NULL, 0};
	size_t seen = 0;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		if (!roots[i] || !realpath(roots[i], real) || list_has(&done, real) ||
		    !strcmp(real, "/"))
			continue;
		strlist_push(&done, real);
		walk_sockets(real, 0, &seen);
	}
	strlist_clear(&done);
}

static void *scan_thread(void *arg)
{
	sigset_t all;

	(void)arg;
	/* signals are the main thread's business (SIGCHLD, Ctrl-C) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	scan_walk();
	return NULL;
}

void sandbox_scan_begin(void)
{
	pthread_mutex_lock(&scan.lock);
	if (scan.state == 0 &&
	    pthread_create(&scan.thread, NULL, scan_thread, NULL) == 0) {
		scan.state = 1;
		cgroup_prime(); /* the jail's cgroup join, ~10 ms from now */
	}
	pthread_mutex_unlock(&scan.lock);
}

void sandbox_scan_settle(void)
{
	pthread_mutex_lock(&scan.lock);
	if (scan.state == 1) {
		pthread_join(scan.thread, NULL);
		scan.state = 3;
	}
	pthread_mutex_unlock(&scan.lock);
}

/* The walk's result (waited for, or made now), the tree's own left out. */
static void scan_take(struct sandbox *sb)
{
	pthread_mutex_lock(&scan.lock);
	if (scan.state == 1)
		pthread_join(scan.thread, NULL);
	else if (scan.state == 0)
		scan_walk();
	scan.state = 2;
	for (size_t i = 0; i < scan.found.n; i++)
		if (!covers(sb->tree, scan.found.v[i]))
			add_mask(sb, scan.found.v[i]);
	pthread_mutex_unlock(&scan.lock);
}

/*
 * Every pathname socket bound in this network namespace, from the kernel's
 * own table: a socket anywhere (/srv, a project directory) is masked, not
 * only those under the places walked below.  Paths that are not absolute
 * (bound relative to another process's cwd) cannot be found and are left.
 */
static void mask_bound_sockets(struct sandbox *sb)
{
	FILE *f = fopen("/proc/net/unix", "re");
	char line[PATH_MAX + 128];
	struct stat st;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');
		size_t n;
		if (!p || p[-1] != ' ')
			continue;
		n = strcspn(p, "\n");
		p[n] = '\0';
		if (lstat(p, &st) == 0 && S_ISSOCK(st.st_mode) && !covers(sb->tree, p))
			add_mask(sb, p);
	}
	fclose(f);
}

static void mask_sockets(struct sandbox *sb)
{
	scan_take(sb);
	mask_bound_sockets(sb);
}

static void add_existing(struct strlist *l, const char *p)
{
	char real[PATH_MAX];
	if (realpath(p, real) && !list_has(l, real))
		strlist_push(l, real);
}

/* What the policy's write and read_deny paths give, some relative to the
 * tree (what is in it decides: sandbox_tree_same). */
static void tree_paths(struct sandbox *sb, const struct policy *p)
{
	char *s;

	for (size_t i = 0; p && i < p->write.n; i++) {
		const char *w = p->write.v[i];
		const char *home = getenv("HOME");
		if (w[0] == '~' && (w[1] == '/' || !w[1]) && home)
			s = xasprintf("%s%s", home, w + 1);
		else if (w[0] == '/')
			s = xstrdup(w);
		else
			s = xasprintf("%s/%s", sb->tree, w);
		if (access(s, F_OK) == 0)
			add_existing(&sb->rw, s);
		else
			strlist_push(&sb->rw_missing, s);
		free(s);
	}
	for (size_t i = 0; policy_default_read_deny[i]; i++)
		add_mask_pattern(sb, policy_default_read_deny[i], sb->tree);
	for (size_t i = 0; p && i < p->read_deny.n; i++)
		add_mask_pattern(sb, p->read_deny.v[i], sb->tree);
}

static int list_within(const struct strlist *a, const struct strlist *b)
{
	for (size_t i = 0; i < a->n; i++)
		if (!list_has(b, a->v[i]))
			return 0;
	return 1;
}

int sandbox_tree_same(const struct sandbox *sb, const struct config *c)
{
	struct sandbox now;
	size_t seen = sb->env_seen; /* as sandbox_init counts */
	int same;

	memset(&now, 0, sizeof(now));
	now.tree = sb->tree;
	tree_paths(&now, c->policy);
	walk_env(&now, sb->tree, 0, &seen);
	/* writable: exactly as before; masked: nothing new */
	same = now.rw.n == sb->rw.n && list_within(&now.rw, &sb->rw) &&
	       now.rw_missing.n == sb->rw_missing.n &&
	       list_within(&now.rw_missing, &sb->rw_missing) &&
	       list_within(&now.mask_dirs, &sb->mask_dirs) &&
	       list_within(&now.mask_files, &sb->mask_files);
	strlist_clear(&now.rw);
	strlist_clear(&now.rw_missing);
	strlist_clear(&now.mask_dirs);
	strlist_clear(&now.mask_files);
	return same;
}

void sandbox_init(struct sandbox *sb, const struct config *c, const char *tree,
		  const char *repo)
{
	const struct policy *p = c->policy;
	char real[PATH_MAX];
	size_t seen = 0;
	char *s;

	memset(sb, 0, sizeof(*sb));
	sb->bwrap_on = c->sandbox != 0;
	sb->bwrap = xstrdup(c->bwrap ? c->bwrap : "bwrap");
	sb->tree = xstrdup(realpath(tree, real) ? real : tree);
	/* the run directory holds the prompt and gate output files the
	 * command actor is pointed at: visible even when it is under /tmp */
	s = strrchr(sb->tree, '/');
	if (s && s != sb->tree)
		sb->run_dir = xstrndup(sb->tree, (size_t)(s - sb->tree));
	sb->network = p && (p->network == POLICY_NET_ON || p->network == POLICY_NET_HOSTS)
			      ? p->network
			      : POLICY_NET_OFF;
	for (size_t i = 0; sb->network == POLICY_NET_HOSTS && i < p->hosts.n; i++)
		strlist_push(&sb->hosts, p->hosts.v[i]);
	if (sb->network == POLICY_NET_HOSTS && realpath("/proc/self/exe", real))
		sb->self_exe = xstrdup(real);
	if (p)
		sb->lim = p->lim;
	else
		sb->lim = (struct policy_limits){0,
						 POLICY_DEFAULT_MEMORY_MB,
						 POLICY_DEFAULT_PROCESSES,
						 POLICY_DEFAULT_FILE_SIZE_MB,
						 POLICY_DEFAULT_OUTPUT_BYTES,
						 0};
	sb->seccomp = sb->bwrap_on;
	if (sb->bwrap_on &&
	    !strcmp(c->sandbox_mode ? c->sandbox_mode : SANDBOX_MODE_DEFAULT,
		    "per-run")) {
		sb->jail = onejail_new();
		if (!sb->self_exe && realpath("/proc/self/exe", real))
			sb->self_exe = xstrdup(real);
	}
	/* the tree's .git file, and the repository's .git it points into */
	s = xasprintf("%s/.git", sb->tree);
	add_existing(&sb->ro, s);
	free(s);
	if (repo) {
		s = xasprintf("%s/.git", repo);
		add_existing(&sb->ro, s);
		free(s);
	}
	tree_paths(sb, p);
	if (repo) {
		/* other runs' trees, logs and the run store: not this run's
		 * business (its own run directory and tree are bound back) */
		s = xasprintf("%s/.loopgate", repo);
		add_mask(sb, s);
		free(s);
		walk_env(sb, repo, 0, &seen);
	}
	sb->env_seen = seen;
	walk_env(sb, sb->tree, 0, &seen);
	mask_sockets(sb);
	sb->cgroup = cgroup_detect_begin();
	sb->standby = standby_new(sb);
}

void sandbox_release(struct sandbox *sb)
{
	onejail_free(sb->jail); /* first: its spawns use the rest */
	standby_free(sb->standby);
	free(sb->bwrap);
	free(sb->version);
	free(sb->tree);
	free(sb->run_dir);
	cgroup_detect_free(sb->cgroup);
	free(sb->self_exe);
	strlist_clear(&sb->hosts);
	strlist_clear(&sb->ro);
	strlist_clear(&sb->rw);
	strlist_clear(&sb->rw_missing);
	strlist_clear(&sb->mask_dirs);
	strlist_clear(&sb->mask_files);
	free(sb->home);
	for (size_t i = 0; i < sb->nfiles; i++) {
		free(sb->files[i].path);
		free(sb->files[i].data);
	}
	free(sb->files);
	memset(sb, 0, sizeof(*sb));
}

void sandbox_allow_host(struct sandbox *sb, const char *rule)
{
	char real[PATH_MAX];

	if (sb->network == POLICY_NET_ON || list_has(&sb->hosts, rule))
		return;
	sb->network = POLICY_NET_HOSTS;
	strlist_push(&sb->hosts, rule);
	if (!sb->self_exe && realpath("/proc/self/exe", real))
		sb->self_exe = xstrdup(real);
}

void sandbox_add_ro(struct sandbox *sb, const char *path)
{
	add_existing(&sb->ro, path);
}

void sandbox_set_home(struct sandbox *sb, const char *home)
{
	free(sb->home);
	sb->home = home ? xstrdup(home) : NULL;
}

void sandbox_add_file(struct sandbox *sb, const char *path, const void *data, size_t len)
{
	struct sandbox_file *f;

	sb->files = xrealloc(sb->files, (sb->nfiles + 1) * sizeof(*sb->files));
	f = &sb->files[sb->nfiles++];
	f->path = xstrdup(path);
	f->data = xmalloc(len + 1);
	memcpy(f->data, data, len);
	f->data[len] = 0;
	f->len = len;
}

void sandbox_files_close(int *fds, size_t n)
{
	for (size_t i = 0; fds && i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int sandbox_files_open(const struct sandbox *sb, int *fds, struct buf *err)
{
	for (size_t i = 0; i < sb->nfiles; i++)
		fds[i] = -1;
	for (size_t i = 0; i < sb->nfiles; i++) {
		const struct sandbox_file *f = &sb->files[i];
		int fd = fileio_memfd("loopgate-file", f->data, f->len);
		if (fd < 0) {
			int code = -fd;
			sandbox_files_close(fds, i);
			return err_set(err, -code, "cannot copy %s into the sandbox: %s",
				       f->path, strerror(code));
		}
		fds[i] = fd;
	}
	return 0;
}

/* ---- the bwrap argv ---------------------------------------------------- */

static void push2(struct strlist *l, const char *a, const char *b)
{
	strlist_push(l, a);
	strlist_push(l, b);
}

static void push3(struct strlist *l, const char *a, const char *b, const char *c)
{
	strlist_push(l, a);
	strlist_push(l, b);
	strlist_push(l, c);
}

/* 1 when dir is path or one of its ancestors. */
static int covers(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	return !strncmp(dir, path, n) && (path[n] == '/' || !path[n]);
}

static const char *const proc_ro[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq",
				      "/proc/bus", NULL};

/* /tmp, the seed files, the tree, the writable and read-only paths and
 * the masks, in the order they must be stacked. */
static void push_binds(const struct sandbox *sb, const int *file_fds, int jail,
		       struct strlist *out)
{
	char num[32];
	size_t i;

	push2(out, "--tmpfs", "/tmp");
	/* the actor's scratch home, on that fresh /tmp */
	if (sb->home && !jail)
		push2(out, "--dir", sb->home);
	for (i = 0; file_fds && !jail && i < sb->nfiles; i++) {
		snprintf(num, sizeof(num), "%d", file_fds[i]);
		push2(out, "--perms", "0600");
		push3(out, "--file", num, sb->files[i].path);
	}
	/* a masked directory holding the tree goes under the tree's bind */
	for (i = 0; i < sb->mask_dirs.n; i++)
		if (covers(sb->mask_dirs.v[i], sb->tree))
			push2(out, "--tmpfs", sb->mask_dirs.v[i]);
	if (sb->run_dir)
		push3(out, "--ro-bind", sb->run_dir, sb->run_dir);
	push3(out, "--bind", sb->tree, sb->tree);
	for (i = 0; i < sb->rw.n; i++)
		push3(out, "--bind", sb->rw.v[i], sb->rw.v[i]);
	for (i = 0; i < sb->ro.n; i++)
		push3(out, "--ro-bind", sb->ro.v[i], sb->ro.v[i]);
	/* A path masked at run start may be gone since (another program's
	 * socket, removed with its directory): there is nothing left to hide,
	 * and bwrap, unable to create it on the read-only root, would refuse
	 * every later spawn of the run. */
	for (i = 0; i < sb->mask_dirs.n; i++)
		if (!covers(sb->mask_dirs.v[i], sb->tree) &&
		    still_there(sb->mask_dirs.v[i]))
			push2(out, "--tmpfs", sb->mask_dirs.v[i]);
	for (i = 0; i < sb->mask_files.n; i++)
		if (still_there(sb->mask_files.v[i]))
			push3(out, "--ro-bind", "/dev/null", sb->mask_files.v[i]);
}

/* jail_fd >= 0: the per-run jail's argv (sandbox_argv_jail). */
static void build_argv(const struct sandbox *sb, const char *const *argv, int seccomp_fd,
		       int net_fd, const int *file_fds, int jail_fd, struct strlist *out)
{
	int relay = sb->network == POLICY_NET_HOSTS && net_fd >= 0 && sb->self_exe;
	int jail = jail_fd >= 0 && sb->self_exe;
	char num[32];
	size_t i;

	strlist_clear(out);
	strlist_push(out, sb->bwrap);
	push3(out, "--ro-bind", "/", "/");
	push2(out, "--dev", "/dev");
	push2(out, "--tmpfs", "/dev/shm");
	push2(out, "--proc", "/proc");
	/* a root without capabilities still passes the mode checks of the
	 * kernel's knobs: /proc/sys and friends are read-only */
	for (i = 0; proc_ro[i]; i++)
		if (access(proc_ro[i], F_OK) == 0)
			push3(out, "--ro-bind", proc_ro[i], proc_ro[i]);
	push_binds(sb, file_fds, jail, out);
	/* the relay's binary, whatever the masks hid */
	if (relay || jail)
		push3(out, "--ro-bind", sb->self_exe, sb->self_exe);
	strlist_push(out, "--unshare-pid");
	strlist_push(out, "--unshare-ipc");
	strlist_push(out, "--unshare-uts");
	if (sb->network != POLICY_NET_ON)
		strlist_push(out, "--unshare-net");
	strlist_push(out, "--unshare-cgroup-try");
	strlist_push(out, "--die-with-parent");
	strlist_push(out, "--new-session");
	push2(out, "--cap-drop", "ALL");
	if (jail) {
		/* each spawn's namespaces and mounts; dropped in the command */
		push2(out, "--cap-add", "CAP_SYS_ADMIN");
		push2(out, "--cap-add", "CAP_SETPCAP");
	}
	push2(out, "--chdir", sb->tree);
	if (seccomp_fd >= 0 && !jail) {
		snprintf(num, sizeof(num), "%d", seccomp_fd);
		push2(out, "--seccomp", num);
	}
	strlist_push(out, "--");
	if (relay) {
		snprintf(num, sizeof(num), "%d", net_fd);
		push3(out, sb->self_exe, "__netrelay", num);
		/* a loopback host on the list means the host's loopback,
		 * through the proxy; otherwise loopback stays the sandbox's */
		strlist_push(out, hostrule_lists_loopback(&sb->hosts)
					  ? ""
					  : "localhost,127.0.0.1,::1");
		strlist_push(out, "--");
	}
	if (jail) {
		snprintf(num, sizeof(num), "%d", jail_fd);
		push3(out, sb->self_exe, "__spawner", num);
		snprintf(num, sizeof(num), "%d", seccomp_fd);
		strlist_push(out, num);
	}
	for (i = 0; !jail && argv[i]; i++)
		strlist_push(out, argv[i]);
	out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
	out->v[out->n] = NULL;
}

void sandbox_argv(const struct sandbox *sb, const char *const *argv, int seccomp_fd,
		  int net_fd, const int *file_fds, struct strlist *out)
{
	build_argv(sb, argv, seccomp_fd, net_fd, file_fds, -1, out);
}

void sandbox_argv_jail(const struct sandbox *sb, int seccomp_fd, int net_fd, int jail_fd,
		       struct strlist *out)
{
	static const char *const none[] = {NULL};
	build_argv(sb, none, seccomp_fd, net_fd, NULL, jail_fd, out);
}

void *sandbox_json(const struct sandbox *sb)
{
	struct policy p;
	const char *cg_note;
	enum cgroup_kind kind;
	json_t *o;

	memset(&p, 0, sizeof(p));
	p.lim = sb->lim;
	kind = sandbox_cgroup(sb, &cg_note);
	o = json_pack("{s:b,s:o,s:b,s:s,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "enabled",
		      sb->bwrap_on, "bwrap",
		      sb->bwrap_on && sb->version ? events_str(sb->version) : json_null(),
		      "seccomp", sb->bwrap_on && sb->seccomp, "cgroup",
		      sandbox_cgroup_name(kind), "cgroup_note",
		      cg_note ? events_str(cg_note) : json_null(), "network",
		      sb->bwrap_on ? policy_net_name(sb->network) : "host", "hosts",
		      (json_t *)policy_list_json(&sb->hosts), "writable",
		      (json_t *)policy_list_json(&sb->rw), "writable_missing",
		      (json_t *)policy_list_json(&sb->rw_missing), "read_only",
		      (json_t *)policy_list_json(&sb->ro), "masked",
		      (json_t *)policy_list_json(&sb->mask_dirs), "masked_files",
		      (json_t *)policy_list_json(&sb->mask_files), "limits",
		      policy_limits_json(&p));
	if (sb->bwrap_on) {
		const char *note, *mode = onejail_mode(sb->jail, &note);
		json_object_set_new(o, "mode", json_string(mode));
		if (note)
			json_object_set_new(o, "mode_note", events_str(note));
	}
	if (sb->home) {
		/* the seed files' names only: they may hold credentials */
		json_t *names = json_array();
		for (size_t i = 0; i < sb->nfiles; i++)
			json_array_append_new(names, events_str(sb->files[i].path));
		json_object_set_new(o, "home", events_str(sb->home));
		json_object_set_new(o, "home_files", names);
	}
	return o;
}
