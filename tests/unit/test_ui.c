/*
 * test_ui.c: the terminal status line's text (cli/ui.h), a table of runs
 * at different points: baseline, a model call against every ceiling, an
 * agent CLI without a cost, colours on and off (NO_COLOR).
 */
#include "cli/ui.h"
#include "unit.h"

static const struct {
	const char *name;
	struct ui_facts f;
	const char *want;
} cases[] = {
	{"baseline, no ceilings",
	 {0, 10, "gate 1/2", 1.25, 3.5, 0, 0, 0, 0, -1, 1, NULL, 0},
	 "loopgate: baseline | gate 1/2 1.2s | 0 tok | $0.0000 | 3.5s"},
	{"every ceiling",
	 {3, 8, "model call (streaming)", 4, 125, 1800, 12500, 50000, 0.0123, 2, 1,
	  "gate 2 exit 1", 0},
	 "loopgate: iter 3/8 | model call (streaming) 4.0s | 12.5k/50.0k tok | "
	 "$0.0123/$2.00 | 2m05s/30m00s | last: gate 2 exit 1"},
	{"agent CLI: no cost",
	 {1, 5, "agent running", 0.5, 0.5, 0, 0, 0, 0, -1, 0, NULL, 0},
	 "loopgate: iter 1/5 | agent running 0.5s | 0 tok | cost n/a (agent CLI) | 0.5s"},
	{"colour",
	 {2, 5, "gate 1/1", 0, 1, 0, 1500000, 0, 0, -1, 1, "passed", 1},
	 "\033[7m loopgate \033[0m iter 2/5 | gate 1/1 0.0s | 1.5M tok | $0.0000 | 1.0s"
	 " | last: \033[32mpassed\033[0m"},
	{"colour, failure in red",
	 {2, 5, "gate 1/1", 0, 1, 0, 10, 0, 0, -1, 1, "gate 1 exit 2", 1},
	 "\033[7m loopgate \033[0m iter 2/5 | gate 1/1 0.0s | 10 tok | $0.0000 | 1.0s"
	 " | last: \033[31mgate 1 exit 2\033[0m"},
};

TEST(status_text)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;
		ui_status_text(&cases[i].f, &b);
		if (strcmp(b.s, cases[i].want))
			fprintf(stderr, "case '%s'\n", cases[i].name);
		CHECK_STR(b.s, cases[i].want);
		buf_release(&b);
	}
}

int main(void)
{
	RUN(status_text);
	return unit_done();
}
