#include "base/clock.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t pending_signal;

long long clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double clock_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void clock_iso8601(char *out, unsigned long size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 ts.tv_nsec / 1000000);
}

static void on_signal(int sig)
{
	pending_signal = sig;
}

void interrupt_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking poll() or read() must return EINTR so the
	 * caller notices the interrupt at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int interrupt_pending(void)
{
	return (int)pending_signal;
}

static void (*tick_fn)(void *);
static void *tick_ctx;

#define DEFER_MAX 4
static struct {
	void (*fn)(void *);
	void *ctx;
} deferred[DEFER_MAX];
static int defer_forks; /* the atfork handler is installed */

static void defer_forget_all(void)
{
	memset(deferred, 0, sizeof(deferred));
}

void tick_defer(void (*fn)(void *ctx), void *ctx)
{
	int i, free_at = -1;

	for (i = 0; i < DEFER_MAX; i++) {
		if (deferred[i].fn && deferred[i].ctx == ctx)
			return;
		if (!deferred[i].fn && free_at < 0)
			free_at = i;
	}
	if (free_at < 0) {
		fn(ctx);
		return;
	}
	if (!defer_forks)
		defer_forks = pthread_atfork(NULL, NULL, defer_forget_all) == 0;
	deferred[free_at].fn = fn;
	deferred[free_at].ctx = ctx;
}

void tick_defer_cancel(void *ctx)
{
	for (int i = 0; i < DEFER_MAX; i++)
		if (deferred[i].ctx == ctx)
			deferred[i].fn = NULL, deferred[i].ctx = NULL;
}

void tick_set(void (*fn)(void *ctx), void *ctx)
{
	tick_fn = fn;
	tick_ctx = ctx;
}

void tick(void)
{
	for (int i = 0; i < DEFER_MAX; i++) {
		void (*fn)(void *) = deferred[i].fn;
		void *ctx = deferred[i].ctx;
		if (!fn)
			continue;
		deferred[i].fn = NULL; /* before the call: it may defer again */
		deferred[i].ctx = NULL;
		fn(ctx);
	}
	if (tick_fn)
		tick_fn(tick_ctx);
}
