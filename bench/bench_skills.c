/*
 * bench_skills: the Agent Skills index (src/store/skills.c) at library scale,
 * for `make bench` (see bench/README.md, "Skills").
 *
 *   bench_skills N DIR    writes N generated skills under DIR/lib, indexes
 *                         them into DIR/skills.db (timed), re-indexes with
 *                         nothing changed (timed), runs 400 queries (p50
 *                         and p99 latency) and 200 labelled queries (recall
 *                         at 5: the skill a query was made from is among
 *                         the first 5).  One JSON line on stdout.
 *
 * Each skill is built from a topic of three words drawn from a vocabulary
 * of 2,000 made-up words plus common programming words, so that names and
 * descriptions overlap as in a real library; a labelled query is two of its
 * topic words and one common word, like an error line names a few things.
 */
#include "store/skills.h"
#include "base/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define VOCAB 2000

static const char *const common[] = {"test",   "error",	  "build",   "python", "module",
				     "import", "fixture", "compile", "linker", "docker",
				     "config", "format",  "lint",    "deploy", "cache"};
#define NCOMMON (sizeof(common) / sizeof(common[0]))

static unsigned long rng = 88172645463325252UL;
static unsigned long next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A made-up word for vocabulary index i: stable, pronounceable. */
static void word(unsigned i, char out[16])
{
	static const char c[] = "bcdfghjklmnprstvz", v[] = "aeiou";
	snprintf(out, 16, "%c%c%c%c%c%c", c[i % 17], v[(i / 17) % 5], c[(i / 85) % 17],
		 v[(i / 1445) % 5], c[(i * 7) % 17], v[(i * 3) % 5]);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[1]) : 0;
	unsigned *topic;
	struct skills *s;
	struct skills_report rep = SKILLS_REPORT_INIT, rep2 = SKILLS_REPORT_INIT;
	struct buf err = BUF_INIT;
	double lat[400], t0, t_index, t_reindex;
	long hit = 0;
	char *lib, *db;
	const char *dirs[1];

	if (n <= 0 || argc != 3) {
		fprintf(stderr, "usage: bench_skills N DIR\n");
		return 2;
	}
	lib = xasprintf("%s/lib", argv[2]);
	db = xasprintf("%s/skills.db", argv[2]);
	mkdir(lib, 0755);
	topic = xcalloc((size_t)n * 3, sizeof(*topic));
	for (long i = 0; i < n; i++) {
		char w[3][16], *dir, *path;
		FILE *f;
		for (int k = 0; k < 3; k++)
			word(topic[i * 3 + k] = (unsigned)(next() % VOCAB), w[k]);
		dir = xasprintf("%s/skill-%06ld", lib, i);
		path = xasprintf("%s/SKILL.md", dir);
		mkdir(dir, 0755);
		if (!(f = fopen(path, "w")))
			return 3;
		fprintf(f,
			"---\nname: %s-%s-%ld\ndescription: \"Handle %s %s problems with "
			"%s in %s projects\"\n---\n# %s\n\nSteps for %s and %s when the "
			"%s "
			"fails.\n",
			w[0], w[1], i, w[0], w[1], w[2], common[next() % NCOMMON], w[0],
			w[1], w[2], common[next() % NCOMMON]);
		fclose(f);
		free(dir);
		free(path);
	}
	dirs[0] = lib;
	if (skills_open(&s, db, &err) < 0) {
		fprintf(stderr, "%s\n", err.s);
		return 3;
	}
	t0 = (double)clock_ms();
	if (skills_index(s, dirs, 1, &rep, &err) < 0) {
		fprintf(stderr, "%s\n", err.s);
		return 3;
	}
	t_index = (double)clock_ms() - t0;
	t0 = (double)clock_ms();
	skills_index(s, dirs, 1, &rep2, &err);
	t_reindex = (double)clock_ms() - t0;
	for (int q = 0; q < 400; q++) {
		char a[16], b[16], text[96];
		struct timespec x, y;
		word((unsigned)(next() % VOCAB), a);
		word((unsigned)(next() % VOCAB), b);
		snprintf(text, sizeof(text), "%s %s %s failed", a, b,
			 common[next() % NCOMMON]);
		clock_gettime(CLOCK_MONOTONIC, &x);
		json_decref(skills_search(s, text, 5, &err));
		clock_gettime(CLOCK_MONOTONIC, &y);
		lat[q] = (double)(y.tv_sec - x.tv_sec) * 1e3 +
			 (double)(y.tv_nsec - x.tv_nsec) / 1e6;
	}
	qsort(lat, 400, sizeof(lat[0]), cmp);
	for (int q = 0; q < 200; q++) {
		long i = (long)(next() % (unsigned long)n);
		char a[16], b[16], text[96], want[64];
		json_t *hits, *h;
		size_t k;
		word(topic[i * 3], a);
		word(topic[i * 3 + 2], b);
		snprintf(text, sizeof(text), "%s %s %s", a, b, common[next() % NCOMMON]);
		word(topic[i * 3 + 1], want);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "-%ld", i);
		hits = skills_search(s, text, 5, &err);
		json_array_foreach(hits, k, h)
		{
			const char *nm = json_string_value(json_object_get(h, "name"));
			hit += nm && strstr(nm, want) &&
			       strlen(strstr(nm, want)) == strlen(want);
		}
		json_decref(hits);
	}
	printf("{\"n\":%ld,\"indexed\":%ld,\"index_ms\":%.0f,\"reindex_ms\":%.0f,"
	       "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"recall_at_5\":%.3f}\n",
	       n, rep.added, t_index, t_reindex, lat[199], lat[395], (double)hit / 200.0);
	skills_close(s);
	skills_report_release(&rep);
	skills_report_release(&rep2);
	buf_release(&err);
	free(topic);
	free(lib);
	free(db);
	return 0;
}
