/*
 * bench_events: the event log's write rate and a big log for `audit
 * verify`, for `make bench` (bench/audit.sh runs it; see bench/README.md).
 *
 *   bench_events rate N REPEATS DIR   appends N records to a fresh signed
 *                                     log in DIR, REPEATS times with
 *                                     fdatasync per record and REPEATS
 *                                     times without; prints one JSON line
 *                                     per run: {"sync":B,"records":N,"s":T}
 *   bench_events gen N DIR KEY        writes DIR/events.jsonl with N records
 *                                     after the header and its signed
 *                                     checkpoints (every 64), no fsync,
 *                                     signing key KEY (created if missing)
 *
 * The records are shaped like a run's gate_end records.  Built from the
 * project's own objects (src/events.c, src/checkpoint.c) by the Makefile's
 * bench target, so it measures exactly the code a run uses.
 */
#include "record/checkpoint.h"
#include "base/clock.h"
#include "record/events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *body(long i)
{
	return json_pack("{s:I,s:i,s:s,s:i,s:s,s:f,s:b}", "iteration", (json_int_t)i,
			 "gate", 1, "command", "sh test.sh", "exit_code", 1,
			 "describe", "exit 1", "duration_ms", 12.5, "timed_out", 0);
}

/* One log of n records in dir (removed first); its wall time. */
static int write_log(const char *dir, long n, int sync, const struct checkpoint_key *k,
		     double *secs)
{
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT;
	char *path = xasprintf("%s/events.jsonl", dir);
	char *cp = xasprintf("%s/" CHECKPOINT_FILE, dir);
	double t0;
	long i;
	int ret;

	unlink(path);
	unlink(cp);
	ev.sync_each = sync;
	events_set_signer(&ev, k, CHECKPOINT_EVERY);
	t0 = now_s();
	ret = events_open(&ev, path, "bench-run", &err);
	for (i = 1; ret == 0 && i <= n; i++)
		ret = events_append(&ev, "gate_end", body(i));
	if (ret == 0)
		ret = events_seal(&ev);
	*secs = now_s() - t0;
	if (ret < 0)
		fprintf(stderr, "bench_events: %s\n", err.len ? err.s : ev.err.s);
	events_close(&ev);
	buf_release(&err);
	free(path);
	free(cp);
	return ret;
}

static int load_key(const char *path, struct checkpoint_key *k)
{
	struct buf err = BUF_INIT;
	int ret = checkpoint_key_load(k, path, 1, &err);

	if (ret < 0)
		fprintf(stderr, "bench_events: %s\n", err.s);
	buf_release(&err);
	return ret;
}

static int rate(long n, int repeats, const char *dir)
{
	struct checkpoint_key k = CHECKPOINT_KEY_INIT;
	char *kp = xasprintf("%s/rate-key.pem", dir);
	double s;
	int r, sync;

	if (load_key(kp, &k) < 0)
		return 1;
	for (r = 0; r < repeats; r++)
		for (sync = 1; sync >= 0; sync--) {
			if (write_log(dir, n, sync, &k, &s) < 0)
				return 1;
			printf("{\"sync\":%s,\"records\":%ld,\"s\":%.6f}\n",
			       sync ? "true" : "false", n, s);
			fflush(stdout);
		}
	checkpoint_key_release(&k);
	free(kp);
	return 0;
}

static int gen(long n, const char *dir, const char *key)
{
	struct checkpoint_key k = CHECKPOINT_KEY_INIT;
	double s;

	if (load_key(key, &k) < 0 || write_log(dir, n, 0, &k, &s) < 0)
		return 1;
	printf("{\"records\":%ld,\"s\":%.3f}\n", n, s);
	checkpoint_key_release(&k);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;

	if (argc == 5 && !strcmp(argv[1], "rate") && n > 0)
		return rate(n, atoi(argv[3]), argv[4]);
	if (argc == 5 && !strcmp(argv[1], "gen") && n > 0)
		return gen(n, argv[3], argv[4]);
	fputs("usage: bench_events rate N REPEATS DIR | gen N DIR KEY\n", stderr);
	return 2;
}
