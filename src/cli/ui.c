/*
 * ui.c: log lines and the live status line, from the run's events.  See
 * ui.h.
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
static struct run *cur_run;
static char cur_phase[64];
static int cur_iteration; /* 0: the baseline */
static int start_pending; /* run_start seen; its line waits for setup's end */
static long long last_draw;

#define REDRAW_MS 200

static void draw_status(void);

static void on_tick(void *ctx)
{
	(void)ctx;
	if (cur_run && status_shown && clock_ms() - last_draw >= REDRAW_MS)
		draw_status();
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

static void draw_status(void)
{
	const struct run *r = cur_run;
	const struct budget *b = &r->budget;
	char tok[32], cost[48], where[48];
	double el = (clock_ms() - r->start_ms) / 1000.0;

	if (!tty || quiet)
		return;
	last_draw = clock_ms();
	human_tokens(budget_tokens_used(b), tok, sizeof(tok));
	if (r->w && r->w->actor && !strcmp(r->w->actor, "command"))
		snprintf(cost, sizeof(cost), "cost n/a (agent CLI)");
	else if (b->max_cost >= 0)
		snprintf(cost, sizeof(cost), "$%.4f/$%.2f", b->cost, b->max_cost);
	else
		snprintf(cost, sizeof(cost), "$%.4f", b->cost);
	if (cur_iteration > 0)
		snprintf(where, sizeof(where), "iter %d/%ld", cur_iteration,
			 b->max_iterations);
	else
		snprintf(where, sizeof(where), "baseline");
	clear_status();
	fprintf(stderr, "\033[7m loopgate \033[0m %s | %s | %.1fs | %s tok | %s", where,
		cur_phase, el, tok, cost);
	fflush(stderr);
	status_shown = 1;
}

static void set_phase(int iteration, const char *phase)
{
	cur_iteration = iteration;
	snprintf(cur_phase, sizeof(cur_phase), "%s", phase);
	draw_status();
}

static long num(const json_t *b, const char *k)
{
	return (long)json_integer_value(json_object_get(b, k));
}

static const char *str(const json_t *b, const char *k)
{
	const char *s = json_string_value(json_object_get(b, k));
	return s ? s : "";
}

/* The command of gate g (1-based) as configured, "" when out of range. */
static const char *gate_cmd(long g)
{
	const struct config *c = cur_run->cfg;
	return g >= 1 && (size_t)g <= c->gates.n ? c->gates.v[g - 1] : "";
}

/* run_start, sandbox, resume: where the run is. */
static void on_setup(const char *kind, const json_t *b)
{
	if (!strcmp(kind, "run_start")) {
		start_pending = 1;
	} else if (!strcmp(kind, "sandbox")) {
		/* the last step of a fresh run's setup: it is under way */
		if (start_pending && !json_object_get(b, "error"))
			ui_log("run %s: branch %s, run directory %s", cur_run->id,
			       cur_run->w->branch, cur_run->run_dir);
		start_pending = 0;
	} else if (!strcmp(kind, "resume")) {
		ui_log("run %s: resumed (%s, iteration %ld) from %s", cur_run->id,
		       str(b, "phase"), num(b, "iteration"), str(b, "head"));
	}
}

/* gate_start, baseline, integrity: the judging side. */
static void on_judge(const char *kind, const json_t *b)
{
	char phase[64];
	long g = num(b, "gate");

	if (!strcmp(kind, "gate_start")) {
		if (num(b, "confirm") == 1 && g == 1)
			ui_log("iteration %ld: every gate passed; confirming %ld more "
			       "time(s)",
			       num(b, "iteration"), cur_run->cfg->confirm);
		snprintf(phase, sizeof(phase), "gate %ld/%zu", g, cur_run->cfg->gates.n);
		set_phase((int)num(b, "iteration"), phase);
	} else if (!strcmp(kind, "baseline")) {
		if (json_is_true(json_object_get(b, "passed")))
			ui_log("baseline: every gate already passes; nothing to do");
		else
			ui_log("baseline: gate %ld `%s` fails (%s), as expected", g,
			       gate_cmd(g), str(b, "describe"));
	} else if (!strcmp(kind, "integrity")) {
		size_t n = json_array_size(json_object_get(b, "paths"));
		if (!strcmp(str(b, "kind"), "protected_change"))
			ui_log("iteration %ld: reverted %zu change(s) to protected files",
			       num(b, "iteration"), n);
		else if (!strcmp(str(b, "kind"), "git_control_change"))
			ui_log("iteration %ld: put back %zu changed git control file(s)",
			       num(b, "iteration"), n);
	}
}

/* iteration_start, model_attempt, edits, iteration_end: the actor's side
 * and the round's verdict. */
static void on_iteration(const char *kind, const json_t *b)
{
	long it = num(b, "iteration");

	if (!strcmp(kind, "iteration_start")) {
		set_phase((int)it, cur_run->w->prov ? "model" : "agent");
	} else if (!strcmp(kind, "model_attempt")) {
		if (json_is_true(json_object_get(b, "will_retry")))
			ui_log("iteration %ld: model call attempt %ld: %s%s%s; retrying "
			       "in "
			       "%.1fs",
			       it, num(b, "attempt"), str(b, "outcome"),
			       *str(b, "detail") ? ": " : "", str(b, "detail"),
			       num(b, "wait_ms") / 1000.0);
	} else if (!strcmp(kind, "edits")) {
		ui_log("iteration %ld: model replied (%ld in / %ld out tokens, $%.4f); "
		       "%ld edit block(s): %ld applied, %ld refused",
		       it, num(b, "turn_tokens_in"), num(b, "turn_tokens_out"),
		       json_number_value(json_object_get(b, "turn_cost_usd")),
		       num(b, "blocks"), num(b, "applied"), num(b, "refused"));
	} else if (!strcmp(kind, "iteration_end")) {
		long g = num(b, "gate_failed");
		if (!strcmp(str(b, "status"), "converged"))
			ui_log("iteration %ld: every gate passed", it);
		else if (g > 0)
			ui_log("iteration %ld: %s; gate %ld `%s` failed: %s", it,
			       json_is_true(json_object_get(b, "noop")) ? "no change"
									: "committed",
			       g, gate_cmd(g), str(b, "gate_describe"));
	}
}

/* The observer: each record the engine writes, as it is written. */
static void on_record(void *ctx, const json_t *rec)
{
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	const json_t *b = json_object_get(rec, "body");
	(void)ctx;
	if (!kind || !json_is_object(b) || !cur_run)
		return;
	on_setup(kind, b);
	on_judge(kind, b);
	on_iteration(kind, b);
}

void ui_watch(struct run *r)
{
	cur_run = r;
	cur_iteration = 0;
	start_pending = 0;
	snprintf(cur_phase, sizeof(cur_phase), "setup");
	/* the table has room for the store and us: a full one is a bug */
	if (events_observe(&r->ev, &(struct events_observer){.record = on_record,
							     .ctx = &cur_run}) < 0)
		ui_log("warning: too many event observers: no progress lines");
}

void ui_finish(void)
{
	tick_set(NULL, NULL);
	if (cur_run)
		events_unobserve(&cur_run->ev, &cur_run);
	cur_run = NULL;
	clear_status();
	fflush(stderr);
}
