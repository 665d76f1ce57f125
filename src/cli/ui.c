/*
 * ui.c: log lines and the live status line.  See ui.h.
 */
#include "cli/ui.h"
#include "cli/cmd.h"
#include "config/config.h"
#include "base/clock.h"
#include "record/redact.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int tty;
static int status_shown;
static int quiet;
static int color;
/* What the status line shows, kept so tick() can redraw it. */
static const struct run *cur_run;
static char cur_phase[64];
static long long last_draw, phase_since;

#define REDRAW_MS 200

static void on_tick(void *ctx)
{
	(void)ctx;
	if (cur_run && status_shown && clock_ms() - last_draw >= REDRAW_MS)
		ui_status(cur_run, cur_phase);
}

void ui_init(int flags)
{
	const char *nc = getenv("NO_COLOR");

	quiet = flags & UI_QUIET;
	/* --no-progress: the plain one-line-per-step log, as off a terminal */
	tty = isatty(2) && !(flags & UI_NO_PROGRESS);
	color = tty && !(nc && *nc);
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

static void human_tokens(struct buf *b, long n)
{
	if (n >= 1000000)
		buf_addf(b, "%.1fM", n / 1e6);
	else if (n >= 1000)
		buf_addf(b, "%.1fk", n / 1e3);
	else
		buf_addf(b, "%ld", n);
}

static void human_time(struct buf *b, double s)
{
	char t[32];

	cmd_runs_duration(s, t, sizeof(t));
	buf_adds(b, t);
}

void ui_status_text(const struct ui_facts *f, struct buf *out)
{
	buf_adds(out, f->color ? "\033[7m loopgate \033[0m " : "loopgate: ");
	if (f->iteration > 0)
		buf_addf(out, "iter %ld/%ld", f->iteration, f->max_iterations);
	else
		buf_adds(out, "baseline");
	buf_addf(out, " | %s ", f->phase);
	human_time(out, f->phase_s);
	buf_adds(out, " | ");
	human_tokens(out, f->tokens);
	if (f->max_tokens > 0) {
		buf_addch(out, '/');
		human_tokens(out, f->max_tokens);
	}
	buf_adds(out, " tok | ");
	if (!f->cost_known)
		buf_adds(out, "cost n/a (agent CLI)");
	else if (f->max_cost >= 0)
		buf_addf(out, "$%.4f/$%.2f", f->cost, f->max_cost);
	else
		buf_addf(out, "$%.4f", f->cost);
	buf_adds(out, " | ");
	human_time(out, f->elapsed_s);
	if (f->deadline_s > 0) {
		buf_addch(out, '/');
		human_time(out, f->deadline_s);
	}
	if (f->last) {
		int bad = strncmp(f->last, "passed", 6) != 0;
		buf_adds(out, " | last: ");
		if (f->color)
			buf_adds(out, bad ? "\033[31m" : "\033[32m");
		buf_adds(out, f->last);
		if (f->color)
			buf_adds(out, "\033[0m");
	}
}

static size_t visible_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '\033') { /* an SGR sequence: ESC [ ... m */
			while (*s && *s != 'm')
				s++;
			if (!*s)
				break;
		} else if (((unsigned char)*s & 0xc0) != 0x80) {
			n++;
		}
	}
	return n;
}

/* A status line longer than the terminal wraps, and \r then redraws only
 * its last row: drop the last result, then cut (plain text only). */
static void fit(struct ui_facts *f, struct buf *line)
{
	struct winsize ws;
	size_t w;

	if (ioctl(2, TIOCGWINSZ, &ws) < 0 || ws.ws_col < 20)
		return;
	w = (size_t)ws.ws_col - 1;
	if (visible_len(line->s) > w && f->last) {
		f->last = NULL;
		buf_reset(line);
		ui_status_text(f, line);
	}
	if (!f->color && line->len > w)
		buf_setlen(line, w);
}

/* The phase as the person reads it: what is running, not a code. */
static void phase_name(const struct run *r, const char *phase, char *out, size_t n)
{
	if (!strcmp(phase, "model"))
		snprintf(out, n, "model call%s",
			 r->cfg && r->cfg->stream != 0 ? " (streaming)" : "");
	else if (!strcmp(phase, "agent"))
		snprintf(out, n, "agent running");
	else
		snprintf(out, n, "%s", phase);
}

void ui_status(const struct run *r, const char *phase)
{
	const struct budget *b = &r->budget;
	struct ui_facts f;
	struct buf line = BUF_INIT, last = BUF_INIT;
	char name[80];

	if (!tty || quiet)
		return;
	cur_run = r;
	if (phase != cur_phase && strcmp(phase, cur_phase)) {
		snprintf(cur_phase, sizeof(cur_phase), "%s", phase);
		phase_since = clock_ms();
	}
	last_draw = clock_ms();
	phase_name(r, cur_phase, name, sizeof(name));
	memset(&f, 0, sizeof(f));
	f.iteration = r->phase_iteration;
	f.max_iterations = b->max_iterations;
	f.phase = name;
	f.phase_s = (clock_ms() - phase_since) / 1000.0;
	f.elapsed_s = (clock_ms() - r->start_ms) / 1000.0;
	f.deadline_s = b->deadline_at > 0 ? (b->deadline_at - r->start_ms) / 1000.0 : 0;
	f.tokens = b->tokens_in + b->tokens_out;
	f.max_tokens = b->max_tokens;
	f.cost = b->cost;
	f.max_cost = b->max_cost;
	f.cost_known = !(r->actor && !strcmp(r->actor, "command"));
	f.color = color;
	if (r->last.ran && r->last.passed)
		buf_adds(&last, "passed");
	else if (r->last.ran)
		buf_addf(&last, "gate %d %s", r->last.index + 1,
			 r->last.describe ? r->last.describe : "failed");
	f.last = last.len ? last.s : NULL;
	ui_status_text(&f, &line);
	fit(&f, &line);
	clear_status();
	fputs(line.s, stderr);
	fflush(stderr);
	status_shown = 1;
	buf_release(&line);
	buf_release(&last);
}

void ui_finish(void)
{
	tick_set(NULL, NULL);
	cur_run = NULL;
	clear_status();
	fflush(stderr);
}
