/*
 * ui.c: log lines and the live status line.  See ui.h.
 */
#include "cli/ui.h"
#include "base/clock.h"
#include "record/redact.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int tty;
static int status_shown;
static int quiet;
/* What the status line shows, kept so tick() can redraw it. */
static const struct run *cur_run;
static char cur_phase[64];
static long long last_draw;

#define REDRAW_MS 200

static void on_tick(void *ctx)
{
	(void)ctx;
	if (cur_run && status_shown && clock_ms() - last_draw >= REDRAW_MS)
		ui_status(cur_run, cur_phase);
}

void ui_init(int q)
{
	quiet = q;
	tty = isatty(2);
	if (tty && !quiet)
		tick_set(on_tick, NULL);
}

static void clear_status(void)
{
	if (status_shown) {
		fputs("\r\033[K", stderr);
		status_shown = 0;
	}
}

void ui_log(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	if (quiet)
		return;
	clear_status();
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	redact_buf(&b); /* a path or message may quote a secret */
	fprintf(stderr, "loopgate: %s\n", b.s);
	fflush(stderr);
	buf_release(&b);
}

static void human_tokens(long n, char *out, size_t size)
{
	if (n >= 1000000)
		snprintf(out, size, "%.1fM", n / 1e6);
	else if (n >= 1000)
		snprintf(out, size, "%.1fk", n / 1e3);
	else
		snprintf(out, size, "%ld", n);
}

void ui_status(const struct run *r, const char *phase)
{
	const struct budget *b = &r->budget;
	char tok[32], cost[48], where[48];
	double el = (clock_ms() - r->start_ms) / 1000.0;

	if (!tty || quiet)
		return;
	cur_run = r;
	if (phase != cur_phase)
		snprintf(cur_phase, sizeof(cur_phase), "%s", phase);
	last_draw = clock_ms();
	human_tokens(b->tokens_in + b->tokens_out, tok, sizeof(tok));
	if (r->actor && !strcmp(r->actor, "command")) /* presets are metered */
		snprintf(cost, sizeof(cost), "cost n/a (agent CLI)");
	else if (b->max_cost >= 0)
		snprintf(cost, sizeof(cost), "$%.4f/$%.2f", b->cost, b->max_cost);
	else
		snprintf(cost, sizeof(cost), "$%.4f", b->cost);
	if (r->phase_iteration > 0)
		snprintf(where, sizeof(where), "iter %d/%ld", r->phase_iteration,
			 b->max_iterations);
	else
		snprintf(where, sizeof(where), "baseline");
	clear_status();
	fprintf(stderr, "\033[7m loopgate \033[0m %s | %s | %.1fs | %s tok | %s", where,
		cur_phase, el, tok, cost);
	fflush(stderr);
	status_shown = 1;
}

void ui_finish(void)
{
	tick_set(NULL, NULL);
	cur_run = NULL;
	clear_status();
	fflush(stderr);
}
