/*
 * ui.c: log lines and the live status line, from the run's events.  See
 * ui.h.
 */
#include "cli/ui.h"
#include "record/evkind.h"
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
static struct run *cur_run;
static char cur_phase[64];
static int cur_iteration; /* 0: the baseline */
static int start_pending; /* run_start seen; its line waits for setup's end */
static long long last_draw, phase_since;

#define REDRAW_MS 200

static void draw_status(void);

static void on_tick(void *ctx)
{
	(void)ctx;
	if (cur_run && status_shown && clock_ms() - last_draw >= REDRAW_MS)
		draw_status();
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

static void draw_status(void)
{
	const struct run *r = cur_run;
	const struct budget *b = &r->budget;
	struct ui_facts f;
	struct buf line = BUF_INIT, last = BUF_INIT;
	char name[80];

	if (!tty || quiet)
		return;
	last_draw = clock_ms();
	phase_name(r, cur_phase, name, sizeof(name));
	memset(&f, 0, sizeof(f));
	f.iteration = cur_iteration;
	f.max_iterations = b->max_iterations;
	f.phase = name;
	f.phase_s = (clock_ms() - phase_since) / 1000.0;
	f.elapsed_s = (clock_ms() - r->start_ms) / 1000.0;
	f.deadline_s = b->deadline_at > 0 ? (b->deadline_at - r->start_ms) / 1000.0 : 0;
	f.tokens = b->tokens_in + b->tokens_out;
	f.max_tokens = b->max_tokens;
	f.cost = b->cost;
	f.max_cost = b->max_cost;
	f.cost_known = !(r->w && r->w->actor && !strcmp(r->w->actor, "command"));
	f.color = color;
	if (r->w->judge.last.ran && r->w->judge.last.passed)
		buf_adds(&last, "passed");
	else if (r->w->judge.last.ran)
		buf_addf(&last, "gate %d %s", r->w->judge.last.index + 1,
			 r->w->judge.last.describe ? r->w->judge.last.describe
						   : "failed");
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

static void set_phase(int iteration, const char *phase)
{
	cur_iteration = iteration;
	if (strcmp(phase, cur_phase))
		phase_since = clock_ms();
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
	if (!strcmp(kind, EV_RUN_START)) {
		start_pending = 1;
	} else if (!strcmp(kind, EV_SANDBOX)) {
		/* the last step of a fresh run's setup: it is under way */
		if (start_pending && !json_object_get(b, "error"))
			ui_log("run %s: branch %s, run directory %s", cur_run->id,
			       cur_run->w->branch, cur_run->run_dir);
		start_pending = 0;
	} else if (!strcmp(kind, EV_RESUME)) {
		ui_log("run %s: resumed (%s, iteration %ld) from %s", cur_run->id,
		       str(b, "phase"), num(b, "iteration"), str(b, "head"));
	}
}

/* gate_start, baseline, integrity: the judging side. */
static void on_judge(const char *kind, const json_t *b)
{
	char phase[64];
	long g = num(b, "gate");

	if (!strcmp(kind, EV_GATE_START)) {
		if (g == 1 && !num(b, "confirm") &&
		    !strcmp(str(b, "phase"), "reverify") && cur_run->fan)
			ui_log("re-verifying a worker's commit in a clean checkout");
		else if (g == 1 && !num(b, "confirm") &&
			 !strcmp(str(b, "phase"), "reverify"))
			ui_log("iteration %ld: gates passed in its tree; re-verifying "
			       "the commit "
			       "in a clean checkout",
			       num(b, "iteration"));
		if (num(b, "confirm") == 1 && g == 1)
			ui_log("iteration %ld: every gate passed; confirming %ld more "
			       "time(s)",
			       num(b, "iteration"), cur_run->cfg->confirm);
		snprintf(phase, sizeof(phase), "gate %ld/%zu", g, cur_run->cfg->gates.n);
		set_phase((int)num(b, "iteration"), phase);
	} else if (!strcmp(kind, EV_REVERIFY_END) && *str(b, "worker")) {
		ui_log("worker %s: its commit %s in a clean checkout%s%s",
		       str(b, "worker"),
		       json_is_true(json_object_get(b, "passed")) ? "holds"
								  : "is rejected",
		       *str(b, "reason") ? ": " : "", str(b, "reason"));
	} else if (!strcmp(kind, EV_REVERIFY_END) &&
		   !json_is_true(json_object_get(b, "passed"))) {
		ui_log("iteration %ld: not converged: %s", num(b, "iteration"),
		       str(b, "reason"));
	} else if (!strcmp(kind, EV_VERDICT)) {
		ui_log("iteration %ld: verifiers: %s", num(b, "iteration"),
		       str(b, "summary"));
	} else if (!strcmp(kind, EV_ESCALATION) &&
		   json_is_true(json_object_get(b, "available"))) {
		ui_log("iteration %ld: stalled; the next turn goes to the escalation "
		       "model %s (%ld of %ld)",
		       num(b, "iteration"), str(b, "model"), num(b, "used"),
		       num(b, "of"));
	} else if (!strcmp(kind, EV_BASELINE)) {
		if (json_is_true(json_object_get(b, "passed")))
			ui_log("baseline: every gate already passes; nothing to do");
		else if (*str(b, "missing"))
			ui_log("baseline: gate %ld `%s` cannot run: %s is not installed "
			       "(%s)",
			       g, gate_cmd(g), str(b, "missing"), str(b, "describe"));
		else
			ui_log("baseline: gate %ld `%s` fails (%s), as expected", g,
			       gate_cmd(g), str(b, "describe"));
		if (*str(b, "missing_module"))
			ui_log("warning: gate %ld: Python has no module %s. If it is a "
			       "tool that is not installed (pip install %s, or the "
			       "python3 it runs is not the one you meant), no change to "
			       "the tree can fix that; the run goes on in case writing "
			       "it is the goal",
			       g, str(b, "missing_module"), str(b, "missing_module"));
	} else if (!strcmp(kind, EV_INTEGRITY)) {
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

	if (!strcmp(kind, EV_ITERATION_START)) {
		set_phase((int)it, cur_run->w->prov ? "model" : "agent");
	} else if (!strcmp(kind, EV_ACTOR_END)) {
		/* a failed agent command is shown as it is: its exit status, the
		 * last lines it printed, the hosts the sandbox refused it */
		if (*str(b, "network_denied"))
			ui_log("iteration %ld: the sandbox refused the agent network "
			       "access to %s",
			       it, str(b, "network_denied"));
		if (json_is_true(json_object_get(b, "failed")))
			ui_log("iteration %ld: the agent command failed: %s%s%s", it,
			       str(b, "describe"),
			       *str(b, "tail") ? "; its last lines:\n" : "",
			       str(b, "tail"));
	} else if (!strcmp(kind, EV_MODEL_ATTEMPT)) {
		if (json_is_true(json_object_get(b, "will_retry")))
			ui_log("iteration %ld: model call attempt %ld: %s%s%s; retrying "
			       "in "
			       "%.1fs",
			       it, num(b, "attempt"), str(b, "outcome"),
			       *str(b, "detail") ? ": " : "", str(b, "detail"),
			       num(b, "wait_ms") / 1000.0);
	} else if (!strcmp(kind, EV_EDITS)) {
		ui_log("iteration %ld: model replied (%ld in / %ld out tokens, $%.4f); "
		       "%ld edit block(s): %ld applied, %ld refused",
		       it, num(b, "turn_tokens_in"), num(b, "turn_tokens_out"),
		       json_number_value(json_object_get(b, "turn_cost_usd")),
		       num(b, "blocks"), num(b, "applied"), num(b, "refused"));
	} else if (!strcmp(kind, EV_ITERATION_END)) {
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

/* fan-out: the workers' starts and ends, and the choice. */
static void on_fanout(const char *kind, const json_t *b)
{
	const json_t *sp = json_object_get(b, "spend");

	if (!strcmp(kind, EV_FANOUT_START))
		ui_log("fan-out: %zu workers, at most %ld at once, select %s",
		       json_array_size(json_object_get(b, "workers")),
		       num(b, "max_parallel"), str(b, "select"));
	else if (!strcmp(kind, EV_WORKER_START))
		ui_log("worker %s (%s) %s: %s; its run %s", str(b, "worker"),
		       str(b, "name"),
		       json_is_true(json_object_get(b, "resumed")) ? "resumed"
								   : "started",
		       str(b, "settings"), str(b, "run_id"));
	else if (!strcmp(kind, EV_WORKER_END))
		ui_log("worker %s ended %s after %ld iteration(s), $%.4f%s%s",
		       str(b, "worker"), str(b, "status"), num(sp, "iterations"),
		       json_number_value(json_object_get(sp, "cost_usd")),
		       *str(b, "reason") ? ": " : "", str(b, "reason"));
	else if (!strcmp(kind, EV_WORKER_STATE))
		ui_log("worker %s: job %s %s: %s", str(b, "worker"), str(b, "handle"),
		       str(b, "state"),
		       *str(b, "reason") ? str(b, "reason") : str(b, "native"));
	else if (!strcmp(kind, EV_SELECTED))
		ui_log("worker %s's commit %.12s chosen: %s", str(b, "worker"),
		       str(b, "commit"), str(b, "why"));
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
	on_fanout(kind, b);
}

/* A warning the engine passes up (run.h's warn): printed even when quiet. */
void ui_warn(void *ctx, const char *msg)
{
	struct buf b = BUF_INIT;
	(void)ctx;
	clear_status();
	buf_sets(&b, msg);
	redact_buf(&b);
	fprintf(stderr, "loopgate: warning: %s\n", b.s);
	fflush(stderr);
	buf_release(&b);
}

void ui_watch(struct run *r)
{
	r->warn = ui_warn;
	r->warn_ctx = NULL;
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
