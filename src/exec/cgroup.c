/*
 * cgroup.c: per-spawn control groups, v2 or v1.  See cgroup.h.
 */
#include "exec/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup"
/* Rounds of "kill what is left, look again" before giving up, the
 * longest pause between two (about a second in all, as before). */
#define KILL_ROUNDS  210
#define PAUSE_MAX_NS (5 * 1000 * 1000L)

/* 1 when the comma-separated list has the word w. */
static int has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; *p; p += strcspn(p, ","), p += *p == ',') {
		if (!strncmp(p, w, n) && (p[n] == ',' || !p[n]))
			return 1;
	}
	return 0;
}

/* loopgate's own cgroup path in the hierarchy of controller ctrl ("" for
 * v2's "0::"), from /proc/self/cgroup; NULL when not found. */
static char *own_path(const char *ctrl)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	char *found = NULL;

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = 0;
		c2[1 + strcspn(c2 + 1, "\n")] = 0;
		if (*ctrl ? has_word(c1 + 1, ctrl) : !strcmp(line, "0") && !c1[1])
			found = xstrdup(c2 + 1);
	}
	fclose(f);
	return found;
}

static int write_str(const char *dir, const char *file, const char *val)
{
	char *p = xasprintf("%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC), ret = 0;
	size_t n = strlen(val);

	free(p);
	if (fd < 0)
		return -errno;
	if (write(fd, val, n) != (ssize_t)n)
		ret = -errno;
	close(fd);
	return ret;
}

/* The value after "key " in a flat-keyed file; -1 when absent. */
static long long read_key(const char *dir, const char *file, const char *key)
{
	char *p = xasprintf("%s/%s", dir, file);
	FILE *f = fopen(p, "re");
	char line[256];
	size_t kl = strlen(key);
	long long v = -1;

	free(p);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			char *end;
			errno = 0;
			v = strtoll(line + kl + 1, &end, 10);
			if (errno || end == line + kl + 1)
				v = -1;
		}
	fclose(f);
	return v;
}

static long long read_num(const char *dir, const char *file)
{
	char *p = xasprintf("%s/%s", dir, file);
	FILE *f = fopen(p, "re");
	long long v = -1;

	free(p);
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* The parent directory for our groups in the hierarchy at root. */
static char *base_dir(const char *root, const char *ctrl)
{
	char *own = own_path(ctrl), *b;
	if (!own)
		return NULL;
	b = xasprintf("%s%s", root, strcmp(own, "/") ? own : "");
	free(own);
	return b;
}

static void group_name(char *out, size_t n)
{
	static unsigned seq;
	snprintf(out, n, "loopgate-%ld-%u", (long)getpid(), seq++);
}

static int v2_usable(void)
{
	char *base;
	int ok;

	if (access(CG_ROOT "/cgroup.controllers", R_OK) < 0)
		return 0;
	if (!(base = base_dir(CG_ROOT, "")))
		return 0;
	{
		char *p = xasprintf("%s/cgroup.subtree_control", base);
		FILE *f = fopen(p, "re");
		char line[512] = "";
		ok = f && fgets(line, sizeof(line), f) && strstr(line, "memory") &&
		     strstr(line, "pids");
		if (f)
			fclose(f);
		free(p);
	}
	free(base);
	return ok;
}

static int kill_all(const char *dir);

/* Groups left by a loopgate that died (SIGKILL): emptied and removed. */
static void sweep(const char *root, const char *ctrl)
{
	char *base = base_dir(root, ctrl);
	struct dirent *e;
	DIR *d;

	if (!base || !(d = opendir(base))) {
		free(base);
		return;
	}
	while ((e = readdir(d))) {
		long pid;
		unsigned seq;
		char *p;
		if (sscanf(e->d_name, "loopgate-%ld-%u", &pid, &seq) != 2 || pid <= 0 ||
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		p = xasprintf("%s/%s", base, e->d_name);
		kill_all(p);
		rmdir(p); /* best effort: a task still exiting keeps it */
		free(p);
	}
	closedir(d);
	free(base);
}

enum cgroup_kind cgroup_detect(char **note)
{
	struct policy_limits lim = {0, 64, 64, 0, 0, 0};
	struct cgroup cg;

	free(*note);
	*note = NULL;
	if (v2_usable())
		sweep(CG_ROOT, "");
	else {
		sweep(CG_ROOT "/pids", "pids");
		sweep(CG_ROOT "/memory", "memory");
	}
	if (v2_usable() && cgroup_create(&cg, CGROUP_V2, &lim) == 0) {
		cgroup_destroy(&cg);
		return CGROUP_V2;
	}
	if (cgroup_create(&cg, CGROUP_V1, &lim) == 0) {
		cgroup_destroy(&cg);
		return CGROUP_V1;
	}
	*note = xstrdup("no usable cgroup hierarchy (v2 with memory and pids "
			"delegated to loopgate's cgroup, or writable v1 pids and "
			"memory): limits are rlimits only");
	return CGROUP_NONE;
}

/* Detection in a thread of its own (cgroup.h): its cgroup operations wait
 * behind the prime's first migration, and the jail's start need not. */
struct cgroup_detecting {
	pthread_t t;
	pthread_mutex_t lock; /* askers in two threads join it once */
	int running;	      /* the thread is to be joined */
	enum cgroup_kind kind;
	char *note;
};

static void *detect_thread(void *arg)
{
	struct cgroup_detecting *d = arg;
	sigset_t all;

	sigfillset(&all); /* signals are the main thread's business */
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	d->kind = cgroup_detect(&d->note);
	return NULL;
}

struct cgroup_detecting *cgroup_detect_begin(void)
{
	struct cgroup_detecting *d = xcalloc(1, sizeof(*d));

	pthread_mutex_init(&d->lock, NULL);
	d->running = pthread_create(&d->t, NULL, detect_thread, d) == 0;
	if (!d->running) /* no thread: here and now */
		d->kind = cgroup_detect(&d->note);
	return d;
}

enum cgroup_kind cgroup_detect_end(struct cgroup_detecting *d, const char **note)
{
	if (!d) { /* none begun */
		if (note)
			*note = NULL;
		return CGROUP_NONE;
	}
	pthread_mutex_lock(&d->lock);
	if (d->running) {
		pthread_join(d->t, NULL);
		d->running = 0;
	}
	pthread_mutex_unlock(&d->lock);
	if (note)
		*note = d->note;
	return d->kind;
}

void cgroup_detect_free(struct cgroup_detecting *d)
{
	if (!d)
		return;
	cgroup_detect_end(d, NULL);
	pthread_mutex_destroy(&d->lock);
	free(d->note);
	free(d);
}

static void cg_reset(struct cgroup *cg)
{
	cg->kind = CGROUP_NONE;
	cg->dir[0] = cg->dir[1] = NULL;
	cg->procs_fd[0] = cg->procs_fd[1] = -1;
}

static int make_one(struct cgroup *cg, int i, const char *root, const char *ctrl)
{
	char name[64], *base = base_dir(root, ctrl);
	if (!base)
		return -ENOENT;
	group_name(name, sizeof(name));
	cg->dir[i] = xasprintf("%s/%s", base, name);
	free(base);
	if (mkdir(cg->dir[i], 0700) < 0) {
		int e = -errno;
		free(cg->dir[i]);
		cg->dir[i] = NULL;
		return e;
	}
	return 0;
}

int cgroup_create(struct cgroup *cg, enum cgroup_kind kind,
		  const struct policy_limits *lim)
{
	char val[64];
	int ret = 0, i;

	cg_reset(cg);
	if (kind == CGROUP_NONE)
		return -ENOTSUP;
	cg->kind = kind;
	if (kind == CGROUP_V2) {
		ret = make_one(cg, 0, CG_ROOT, "");
		if (!ret && lim->processes > 0) {
			snprintf(val, sizeof(val), "%ld", lim->processes);
			ret = write_str(cg->dir[0], "pids.max", val);
		}
		if (!ret && lim->memory_mb > 0) {
			snprintf(val, sizeof(val), "%lld",
				 (long long)lim->memory_mb << 20);
			ret = write_str(cg->dir[0], "memory.max", val);
			if (!ret)
				write_str(cg->dir[0], "memory.swap.max", "0");
		}
	} else {
		ret = make_one(cg, 0, CG_ROOT "/pids", "pids");
		if (!ret)
			ret = make_one(cg, 1, CG_ROOT "/memory", "memory");
		if (!ret && lim->processes > 0) {
			snprintf(val, sizeof(val), "%ld", lim->processes);
			ret = write_str(cg->dir[0], "pids.max", val);
		}
		if (!ret && lim->memory_mb > 0) {
			snprintf(val, sizeof(val), "%lld",
				 (long long)lim->memory_mb << 20);
			ret = write_str(cg->dir[1], "memory.limit_in_bytes", val);
			/* no swapping past it either, where swap is accounted */
			if (!ret)
				write_str(cg->dir[1], "memory.memsw.limit_in_bytes", val);
		}
	}
	for (i = 0; !ret && i < 2; i++) {
		char *p;
		if (!cg->dir[i])
			continue;
		p = xasprintf("%s/cgroup.procs", cg->dir[i]);
		cg->procs_fd[i] = open(p, O_WRONLY | O_CLOEXEC);
		if (cg->procs_fd[i] < 0)
			ret = -errno;
		free(p);
	}
	if (ret < 0)
		cgroup_destroy(cg);
	return ret;
}

void cgroup_join(const struct cgroup *cg)
{
	for (int i = 0; i < 2; i++)
		if (cg->procs_fd[i] >= 0) {
			ssize_t w = write(cg->procs_fd[i], "0", 1);
			(void)w; /* not joined: the limits are the rlimits */
		}
}

/*
 * The kernel's first migration into a cgroup after a quiet moment waits for
 * an RCU grace period (the cgroup threadgroup lock goes to its slow mode:
 * 8-14 ms here); migrations within about a grace period after one are
 * quick (under 20 ms apart: microseconds; 40 ms apart: 8 ms each).  A
 * no-op one, loopgate moving itself into the cgroup it is in, takes that
 * wait in a thread while git works, and is made again every PRIME_EVERY_MS
 * until cgroup_prime_end (the jail has joined its cgroup), so that the join
 * finds the lock quick however long the run's setup took: primed once, it
 * had cooled by the time of the join, and the jail's start waited 8-10 ms
 * in its write to cgroup.procs.  PRIME_MAX_MS bounds it when no end comes.
 */
#define PRIME_EVERY_MS 2
#define PRIME_MAX_MS   3000

static struct {
	pthread_mutex_t lock;
	pthread_cond_t ended;
	int running, end;
} prime = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void *prime_thread(void *arg)
{
	sigset_t all;
	char *own, *p = NULL;
	struct timespec at;
	int fd = -1;

	(void)arg;
	sigfillset(&all); /* signals are the main thread's business */
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (v2_usable())
		p = (own = base_dir(CG_ROOT, "")) ? xasprintf("%s/cgroup.procs", own)
						  : NULL;
	else
		p = (own = base_dir(CG_ROOT "/pids", "pids"))
			    ? xasprintf("%s/cgroup.procs", own)
			    : NULL;
	if (p)
		fd = open(p, O_WRONLY | O_CLOEXEC);
	free(p);
	free(own);
	pthread_mutex_lock(&prime.lock);
	for (int n = 0; fd >= 0 && !prime.end && n < PRIME_MAX_MS / PRIME_EVERY_MS; n++) {
		pthread_mutex_unlock(&prime.lock);
		if (write(fd, "0", 1) != 1) /* refused: nothing to keep warm */
			break;
		clock_gettime(CLOCK_REALTIME, &at); /* the condition's clock */
		at.tv_nsec += PRIME_EVERY_MS * 1000000L;
		at.tv_sec += at.tv_nsec / 1000000000L;
		at.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&prime.lock);
		while (!prime.end &&
		       pthread_cond_timedwait(&prime.ended, &prime.lock, &at) == 0)
			;
	}
	prime.running = 0;
	pthread_mutex_unlock(&prime.lock);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* A fork (a fan-out's check of a claim, engine/fanout_check.c) while the
 * thread holds prime.lock would leave the child's copy locked for ever:
 * the lock is taken across fork, and the child has no thread priming. */
static void prime_fork_prepare(void)
{
	pthread_mutex_lock(&prime.lock);
}

static void prime_fork_parent(void)
{
	pthread_mutex_unlock(&prime.lock);
}

static void prime_fork_child(void)
{
	prime.running = 0;
	pthread_mutex_unlock(&prime.lock);
}

static void prime_atfork(void)
{
	pthread_atfork(prime_fork_prepare, prime_fork_parent, prime_fork_child);
}

void cgroup_prime(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_attr_t a;
	pthread_t t;

	if (geteuid() != 0) /* the cgroups loopgate can make are root's */
		return;
	pthread_once(&once, prime_atfork);
	pthread_mutex_lock(&prime.lock);
	prime.end = 0; /* one still running goes on */
	if (!prime.running) {
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		prime.running = pthread_create(&t, &a, prime_thread, NULL) == 0;
		pthread_attr_destroy(&a);
	}
	pthread_mutex_unlock(&prime.lock);
}

void cgroup_prime_end(void)
{
	pthread_mutex_lock(&prime.lock);
	prime.end = 1;
	pthread_cond_broadcast(&prime.ended);
	pthread_mutex_unlock(&prime.lock);
}

const char *cgroup_limit_hit(const struct cgroup *cg)
{
	if (cg->kind == CGROUP_V2) {
		if (read_key(cg->dir[0], "memory.events", "oom_kill") > 0)
			return "memory_mb";
		if (read_key(cg->dir[0], "pids.events", "max") > 0)
			return "processes";
	} else if (cg->kind == CGROUP_V1) {
		long long k = cg->dir[1] ? read_key(cg->dir[1], "memory.oom_control",
						    "oom_kill")
					 : -1;
		if (k > 0 ||
		    (k < 0 && cg->dir[1] && read_num(cg->dir[1], "memory.failcnt") > 0))
			return "memory_mb";
		if (cg->dir[0] && read_key(cg->dir[0], "pids.events", "max") > 0)
			return "processes";
	}
	return NULL;
}

void cgroup_counts(const struct cgroup *cg, long long out[2])
{
	out[0] = out[1] = 0;
	if (cg->kind == CGROUP_V2) {
		out[0] = read_key(cg->dir[0], "memory.events", "oom_kill");
		out[1] = read_key(cg->dir[0], "pids.events", "max");
	} else if (cg->kind == CGROUP_V1) {
		out[0] = cg->dir[1]
				 ? read_key(cg->dir[1], "memory.oom_control", "oom_kill")
				 : 0;
		if (out[0] < 0 && cg->dir[1])
			out[0] = read_num(cg->dir[1], "memory.failcnt");
		out[1] = cg->dir[0] ? read_key(cg->dir[0], "pids.events", "max") : 0;
	}
}

/* Kills every task in dir; 1 when none was left to kill. */
static int kill_all(const char *dir)
{
	char *p = xasprintf("%s/cgroup.procs", dir);
	FILE *f = fopen(p, "re");
	long pid;
	int empty = 1;

	free(p);
	if (!f)
		return 1;
	while (fscanf(f, "%ld", &pid) == 1) {
		kill((pid_t)pid, SIGKILL);
		empty = 0;
	}
	fclose(f);
	return empty;
}

void cgroup_kill(const struct cgroup *cg)
{
	for (int i = 0; i < 2; i++)
		if (cg->dir[i])
			kill_all(cg->dir[i]);
}

void cgroup_destroy(struct cgroup *cg)
{
	for (int i = 0; i < 2; i++) {
		/* a task killed a moment ago leaves in microseconds: looked for
		 * again after 0.2 ms, then twice as long each round, up to
		 * PAUSE_MAX_NS (a whole 5 ms at the first miss was most of a
		 * run's end when the jail's last processes were still exiting) */
		long pause_ns = 200 * 1000;
		if (cg->procs_fd[i] >= 0)
			close(cg->procs_fd[i]);
		if (!cg->dir[i])
			continue;
		for (int round = 0; round < KILL_ROUNDS; round++) {
			struct timespec pause = {0, pause_ns};
			if (kill_all(cg->dir[i]) && rmdir(cg->dir[i]) == 0)
				break;
			nanosleep(&pause, NULL);
			pause_ns = pause_ns * 2 > PAUSE_MAX_NS ? PAUSE_MAX_NS
							       : pause_ns * 2;
		}
		free(cg->dir[i]);
	}
	cg_reset(cg);
}
