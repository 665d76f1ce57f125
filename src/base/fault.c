/*
 * fault.c: LOOPGATE_FAULT parsing and hit counting.  See fault.h.
 */
#include "base/fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_FAULTS = 16, MAX_NAME = 96 };

static struct fault {
	char name[MAX_NAME]; /* "kill:point" or "fail:point" */
	long at;	     /* fire on this hit */
	long hits;
} faults[MAX_FAULTS];
static int nfaults = -1; /* -1: not parsed yet */

static void parse(void)
{
	const char *s = getenv("LOOPGATE_FAULT");
	nfaults = 0;
	while (s && *s && nfaults < MAX_FAULTS) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		const char *at = memchr(s, '@', len);
		size_t nlen = at ? (size_t)(at - s) : len;
		struct fault *f = &faults[nfaults];
		if (nlen > 0 && nlen < MAX_NAME) {
			memcpy(f->name, s, nlen);
			f->name[nlen] = '\0';
			f->at = at ? strtol(at + 1, NULL, 10) : 1;
			if (f->at < 1)
				f->at = 1;
			f->hits = 0;
			nfaults++;
		}
		s = end ? end + 1 : NULL;
	}
}

int fault_active(void)
{
	if (nfaults < 0)
		parse();
	return nfaults > 0;
}

int fault_named(const char *prefix)
{
	size_t n = strlen(prefix);
	if (nfaults < 0)
		parse();
	for (int i = 0; i < nfaults; i++)
		if (!strncmp(faults[i].name, prefix, n))
			return 1;
	return 0;
}

static int due(const char *prefix, const char *point)
{
	size_t plen = strlen(prefix);
	int i;

	if (!fault_active())
		return 0;
	for (i = 0; i < nfaults; i++) {
		struct fault *f = &faults[i];
		if (strncmp(f->name, prefix, plen) || strcmp(f->name + plen, point))
			continue;
		if (++f->hits == f->at)
			return 1;
	}
	return 0;
}

void fault_die(void)
{
	for (;;)
		kill(getpid(), SIGKILL);
}

int fault_kill_due(const char *point)
{
	return due("kill:", point);
}

void fault_kill(const char *point)
{
	if (due("kill:", point))
		fault_die();
}

int fault_fail(const char *point)
{
	return due("fail:", point);
}

long fault_delay_ms(void)
{
	const char *s = getenv("LOOPGATE_FAULT_DELAY_MS");
	long v = s ? strtol(s, NULL, 10) : 0;
	return v > 0 && v < 3600000 ? v : 0;
}
