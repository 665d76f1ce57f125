/*
 * bench_report: the HTML report's cost on a long run, for `make bench`
 * (bench/report.sh runs it; see bench/README.md).
 *
 *   bench_report N REPEATS DIR   writes DIR/.loopgate/runs/bench/ with a run
 *                                of N iterations shaped like a real one
 *                                (the records a model run writes, a 2 KiB
 *                                gate output and a 6 KiB prompt per
 *                                iteration), then renders its report
 *                                REPEATS times; prints one JSON line:
 *                                {"iterations":N,"s":[...],"bytes":B}
 *
 * Built from the project's own objects by the Makefile's bench target, so
 * it measures exactly the code `loopgate report` runs (DIR is no git
 * repository: the diffs step fails fast, as for a run whose repository
 * is gone).
 */
#include "base/fileio.h"
#include "record/events.h"
#include "report/html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void file(const char *dir, long it, const char *name, size_t size, const char *line)
{
	struct buf b = BUF_INIT, err = BUF_INIT, p = BUF_INIT;

	while (b.len < size)
		buf_adds(&b, line);
	buf_addf(&p, "%s/iter-%03ld", dir, it);
	fileio_mkdirs(p.s, &err);
	buf_addf(&p, "/%s", name);
	fileio_write_atomic(p.s, b.s, b.len, &err);
	buf_release(&b);
	buf_release(&p);
	buf_release(&err);
}

static void iteration(struct events *ev, const char *dir, long i, long n)
{
	char out[64];
	int last = i == n;

	snprintf(out, sizeof(out), "iter-%03ld/gate-1.out", i);
	events_append(ev, "iteration_start", json_pack("{s:I}", "iteration", (json_int_t)i));
	events_append(ev, "model_attempt",
		      json_pack("{s:I,s:f,s:f}", "iteration", (json_int_t)i, "elapsed_ms",
				900.0 + (double)(i % 7) * 50, "wait_ms", 0.0));
	events_append(ev, "model_response",
		      json_pack("{s:I,s:i,s:i,s:f}", "iteration", (json_int_t)i, "tokens_in",
				4000 + (int)(i % 13) * 10, "tokens_out", 300, "cost_usd", 0.0032));
	events_append(ev, "edits",
		      json_pack("{s:I,s:i,s:i,s:[{s:s,s:s,s:s}]}", "iteration", (json_int_t)i,
				"applied", 1, "refused", 0, "items", "path", "src/calc.c", "kind",
				"search_replace", "status", "applied"));
	events_append(ev, "commit",
		      json_pack("{s:I,s:[s],s:b}", "iteration", (json_int_t)i, "files",
				"src/calc.c", "noop", 0));
	events_append(ev, "gate_end",
		      json_pack("{s:I,s:i,s:s,s:b,s:s,s:f,s:s,s:{s:b,s:i,s:i,s:i}}",
				"iteration", (json_int_t)i, "gate", 1, "command", "make test",
				"passed", last, "describe", last ? "exit 0" : "exit 2",
				"duration_ms", 2000.0, "output_file", out, "counts", "known", 1,
				"executed", 120, "failed", last ? 0 : (int)(1 + i % 5), "skipped",
				2));
	events_append(ev, "iteration_end",
		      json_pack("{s:I,s:i,s:i,s:f}", "iteration", (json_int_t)i, "tokens_in",
				4000 + (int)(i % 13) * 10, "tokens_out", 300, "cost_usd", 0.0032));
	file(dir, i, "gate-1.out", 2048, "tests/test_calc.c:42: FAIL expected 5, got 6\n");
	file(dir, i, "prompt.md", 6144, "# Goal\n\nmake the calculator add\n\n");
	file(dir, i, "response.md", 1024, "calc.c\n<<<<<<< SEARCH\n=======\n>>>>>>> REPLACE\n");
}

static int generate(const char *dir, long n)
{
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT;
	char *path = xasprintf("%s/events.jsonl", dir);
	long i;

	ev.sync_each = 0;
	if (fileio_mkdirs(dir, &err) < 0 || events_open(&ev, path, "bench", &err) < 0) {
		fprintf(stderr, "bench_report: %s\n", err.s);
		return 1;
	}
	events_append(&ev, "run_start",
		      json_pack("{s:s,s:s,s:{s:[s],s:I,s:f}}", "run_id", "bench", "goal",
				"make the calculator add", "config", "gates", "make test",
				"max_iterations", (json_int_t)n, "max_cost", 5.0));
	for (i = 1; i <= n; i++)
		iteration(&ev, dir, i, n);
	events_append(&ev, "run_end",
		      json_pack("{s:s,s:s,s:I,s:f}", "status", "converged", "reason",
				"all 1 gates exit 0", "iterations", (json_int_t)n, "cost_usd",
				0.0032 * (double)n));
	events_close(&ev);
	free(path);
	buf_release(&err);
	return 0;
}

int main(int argc, char **argv)
{
	struct buf page = BUF_INIT, err = BUF_INIT;
	char *dir;
	long n, repeats, r;

	if (argc != 4 || (n = strtol(argv[1], NULL, 10)) < 1 ||
	    (repeats = strtol(argv[2], NULL, 10)) < 1) {
		fprintf(stderr, "usage: bench_report N REPEATS DIR\n");
		return 2;
	}
	dir = xasprintf("%s/.loopgate/runs/bench", argv[3]);
	if (generate(dir, n))
		return 1;
	printf("{\"iterations\":%ld,\"s\":[", n);
	for (r = 0; r < repeats; r++) {
		double t0 = now_s();
		buf_reset(&page);
		if (report_html(dir, NULL, &page, &err) < 0) {
			fprintf(stderr, "bench_report: %s\n", err.s);
			return 1;
		}
		printf("%s%.4f", r ? "," : "", now_s() - t0);
	}
	printf("],\"bytes\":%zu}\n", page.len);
	buf_release(&page);
	buf_release(&err);
	free(dir);
	return 0;
}
