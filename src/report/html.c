/*
 * html.c: the report page, its head, summary, budgets, convergence, spend
 * and record sections.  See html.h; per-iteration details are html_iter.c.
 */
#include "report/html.h"
#include "record/evkind.h"
#include "report/html_impl.h"
#include "base/fileio.h"
#include "engine/fanout.h"

#include <stdlib.h>
#include <string.h>

#define C_PASS	"#2f855a"
#define C_FAIL	"#c53030"
#define C_SKIP	"#b7791f"
#define C_MODEL "#3b6fb6"
#define C_GATE	"#d69e2e"
#define C_SELF	"#a0aec0"
#define C_IN	"#4c7fc0"
#define C_OUT	"#9f7aea"
#define C_COST	"#2c7a7b"

static const char css[] =
	":root{--fg:#1a202c;--mut:#5a6577;--bd:#e2e8f0;--bg:#f7fafc;--ok:" C_PASS
	";--bad:" C_FAIL ";--warn:" C_SKIP "}"
	"*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,'Segoe "
	"UI',sans-serif;color:var(--fg);margin:0;background:#fff}"
	"main{max-width:1080px;margin:0 auto;padding:20px 28px 60px}"
	"header{border-bottom:1px solid var(--bd);padding-bottom:12px;margin-bottom:8px}"
	"h1{font-size:20px;margin:0 0 6px}h1 code{font-size:18px}"
	"h2{font-size:16px;margin:26px 0 10px;padding-bottom:4px;border-bottom:1px solid "
	"var(--bd)}h3{font-size:14px;margin:14px 0 6px}"
	".pill{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;"
	"font-weight:600;font-size:13px;vertical-align:middle}"
	".pill.converged,.pill.already_satisfied{background:var(--ok)}"
	".pill.budget_exhausted,.pill.stalled{background:var(--warn)}"
	".pill.integrity_violation,.pill.error,.pill.running{background:var(--bad)}"
	".pill.running{background:#3b6fb6}.reason{color:var(--mut);margin:4px 0 0}"
	"pre{background:var(--bg);border:1px solid "
	"var(--bd);border-radius:4px;padding:8px "
	"10px;overflow:auto;max-height:480px;font:12px/1.4 ui-monospace,'DejaVu Sans "
	"Mono',monospace;white-space:pre-wrap;word-break:break-all;margin:4px 0}"
	"pre.goal{max-height:none;font-size:13px}"
	"table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;text-align:"
	"left;border-bottom:1px solid var(--bd);vertical-align:top}th{color:var(--mut);"
	"font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}"
	".facts th{width:150px}"
	".budget{display:flex;align-items:center;gap:10px;margin:4px 0}"
	".bname{width:90px;color:var(--mut)}.bbar{width:320px;height:14px}"
	".track{fill:#edf2f7}.fill.ok{fill:" C_PASS "}.fill.high{fill:" C_SKIP
	"}.fill.over{fill:" C_FAIL "}"
	".btext{font-variant-numeric:tabular-nums}"
	".grid{overflow-x:auto}.grid table{font-size:11px}.grid td{padding:0;border:2px "
	"solid #fff;min-width:24px;height:22px;text-align:center;border-radius:4px}"
	".grid th{font-weight:500;white-space:nowrap;padding:0 6px 0 0}"
	".c-pass{background:" C_PASS ";color:#fff}.c-fail{background:" C_FAIL
	";color:#fff}.c-none{background:#edf2f7}.c-cached{opacity:.6}.c-mark{"
	"color:" C_FAIL ";font-weight:700}"
	".plots{display:grid;grid-template-columns:1fr 1fr;gap:6px 28px}"
	"figure.plot{margin:10px 0 18px}figcaption{font-weight:600;margin-bottom:2px}"
	"svg.chart{width:100%;height:auto;max-height:240px;display:block}"
	"svg .grid{stroke:#edf2f7}svg .ax{font-size:11px;fill:#718096}.plots svg "
	".ax{font-size:15px}"
	"svg .base{stroke:#4a5568;stroke-dasharray:3 3}svg .ceil{stroke:" C_FAIL
	";stroke-dasharray:6 4}svg .ceil-t{fill:" C_FAIL "}svg .mark{stroke:" C_FAIL
	";stroke-width:2;opacity:.5}svg .ln{fill:none;stroke-width:2}"
	".legend{font-size:12px;color:var(--mut)}.legend span{margin-right:14px}"
	".legend i{display:inline-block;width:10px;height:10px;margin-right:4px;"
	"border-radius:2px}.legend i.mk{background:" C_FAIL ";opacity:.5;width:3px}"
	"details{margin:4px 0}summary{cursor:pointer}details.iter{border:1px solid "
	"var(--bd);border-radius:6px;padding:6px 10px;margin:6px 0}"
	"details.iter>summary{font-weight:600}details.iter .sub{margin-left:6px}"
	".ok{color:var(--ok)}.bad{color:var(--bad)}.mut{color:var(--mut)}"
	"mark{background:#fefcbf;color:inherit}.event{margin:4px 0}.event code,td "
	"code,#records code{"
	"white-space:pre-wrap;word-break:break-all}"
	".d-add{color:#22543d;background:#f0fff4}.d-del{color:#742a2a;background:#fff5f5}"
	".d-hunk{color:#553c9a}.tag{font-size:11px;border:1px solid var(--bd);border-"
	"radius:3px;padding:0 4px;margin-left:4px;color:var(--bad)}"
	"html[data-live=open] #status::after{content:' · live'}"
	"@media (max-width:800px){.plots{grid-template-columns:1fr}}"
	"@media print{main{max-width:none;padding:0}pre{max-height:none}"
	"details.iter{break-inside:avoid}}";

void html_duration(struct buf *b, double ms)
{
	double s = ms / 1000;

	if (ms < 0)
		buf_adds(b, "-");
	else if (s < 60)
		buf_addf(b, "%.1f s", s);
	else if (s < 3600)
		buf_addf(b, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		buf_addf(b, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

const json_t *html_gate(const struct runlog_iter *it, int k)
{
	const json_t *g, *found = NULL;
	size_t i;

	json_array_foreach(it->gates, i, g) if (runlog_num(g, "gate", 0) == k) found = g;
	return found;
}

int html_ngates(const struct runlog *rl)
{
	const json_t *cfg = json_object_get(rl->start, "config");
	size_t n = json_array_size(json_object_get(cfg, "gates"));

	return (int)(rl->gates_max > n ? rl->gates_max : n); /* a log without run_start */
}

void html_iter_name(const struct page *pg, const struct runlog_iter *it)
{
	if (it->n == 0)
		buf_adds(pg->b, "baseline");
	else
		buf_addf(pg->b, "iteration %ld", it->n);
	if (pg->rl->nlanes > 1) {
		buf_adds(pg->b, " · ");
		svg_escs(pg->b, pg->rl->lanes[it->lane]);
	}
}

static void head(const struct page *pg, const struct report_html_opts *o)
{
	const char *status = runlog_str(pg->rl->end, "status", "running");

	buf_adds(pg->b,
		 "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
		 "'none'; style-src 'unsafe-inline'; img-src data:");
	if (o && o->live_script)
		buf_adds(pg->b, "; script-src 'self'; connect-src 'self'");
	buf_adds(pg->b,
		 "\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
		 "<meta name=\"viewport\" content=\"width=device-width\">\n<title>");
	buf_adds(pg->b, "loopgate ");
	svg_escs(pg->b, runlog_str(pg->rl->start, "run_id", ""));
	buf_adds(pg->b, " — ");
	svg_escs(pg->b, status);
	buf_addf(pg->b, "</title>\n<style>%s</style>\n", css);
	if (o && o->live_script) {
		buf_adds(pg->b, "<script src=\"");
		svg_escs(pg->b, o->live_script);
		buf_adds(pg->b, "\" defer></script>\n");
	}
	buf_adds(pg->b, "</head><body><main>\n");
}

static void fact(struct buf *b, const char *name, const char *key, const char *value)
{
	buf_adds(b, "<tr><th>");
	buf_adds(b, name);
	buf_adds(b, "</th><td");
	if (key)
		buf_addf(b, " data-k=\"%s\"", key);
	buf_adds(b, ">");
	svg_escs(b, value);
	buf_adds(b, "</td></tr>\n");
}

static void summary(const struct page *pg, const struct report_html_opts *o)
{
	const struct runlog *rl = pg->rl;
	const json_t *cfg = json_object_get(rl->start, "config"), *g;
	const char *status = runlog_str(rl->end, "status", "running");
	struct buf t = BUF_INIT;
	size_t i;

	buf_adds(pg->b, "<header>");
	if (o && o->base_href) {
		buf_adds(pg->b, "<p class=\"mut\"><a href=\"");
		svg_escs(pg->b, o->base_href);
		buf_adds(pg->b, "\">all runs</a></p>");
	}
	buf_adds(pg->b, "<h1>loopgate run <code>");
	svg_escs(pg->b, runlog_str(rl->start, "run_id", "?"));
	buf_adds(pg->b, "</code> <span id=\"status\" class=\"pill ");
	svg_escs(pg->b, status);
	buf_adds(pg->b, "\">");
	svg_escs(pg->b, status);
	buf_adds(pg->b, "</span></h1><p class=\"reason\" id=\"reason\">");
	svg_escs(pg->b, runlog_str(rl->end, "reason",
				   rl->end ? ""
					   : "no run_end record: the run is in progress, "
					     "or was killed (see loopgate resume)"));
	buf_adds(pg->b, "</p></header>\n<section id=\"summary\"><h2>Goal</h2><pre "
			"class=\"goal\">");
	svg_escs(pg->b, runlog_str(rl->start, "goal", "(no run_start record)"));
	buf_adds(pg->b, "</pre><h3>Gates</h3><ol id=\"gates\">");
	json_array_foreach(json_object_get(cfg, "gates"), i, g)
	{
		buf_adds(pg->b, "<li><code>");
		svg_escs(pg->b, json_string_value(g));
		buf_adds(pg->b, "</code></li>");
	}
	buf_adds(pg->b, "</ol><table class=\"facts\">\n");
	fact(pg->b, "branch", "branch", runlog_str(rl->start, "branch", "-"));
	fact(pg->b, "base", "base", runlog_str(rl->start, "base", "-"));
	fact(pg->b, "actor", NULL,
	     json_string_value(json_object_get(cfg, "agent_cmd"))
		     ? runlog_str(cfg, "agent_cmd", "")
		     : runlog_str(cfg, "model", "-"));
	buf_addf(&t, "%.0f", runlog_num(rl->end, "iterations", (double)(rl->nits - 1)));
	fact(pg->b, "iterations", "iterations", t.s);
	buf_reset(&t);
	buf_addf(&t, "%.0f", runlog_num(rl->end ? rl->end : rl->budget, "tokens_in", 0));
	fact(pg->b, "tokens in", "tokens_in", t.s);
	buf_reset(&t);
	buf_addf(&t, "%.0f", runlog_num(rl->end ? rl->end : rl->budget, "tokens_out", 0));
	fact(pg->b, "tokens out", "tokens_out", t.s);
	buf_reset(&t);
	buf_addf(&t, "%.4f", runlog_num(rl->end ? rl->end : rl->budget, "cost_usd", 0));
	fact(pg->b, "cost (USD)", "cost_usd", t.s);
	buf_reset(&t);
	buf_addf(&t, "%.3f",
		 runlog_num(rl->end, "elapsed_s", (rl->t_last - rl->t_first) / 1000));
	fact(pg->b, "elapsed (s)", "elapsed_s", t.s);
	buf_reset(&t);
	buf_addf(&t, "%.0f", runlog_num(rl->end, "resumed", 0));
	fact(pg->b, "resumed", "resumed", t.s);
	fact(pg->b, "sandbox", NULL,
	     json_is_false(json_object_get(cfg, "sandbox")) ? "off (--no-sandbox)"
							    : "on");
	fact(pg->b, "run directory", NULL, rl->dir);
	buf_adds(pg->b, "</table></section>\n");
	buf_release(&t);
}

/* A fan-out's workers (summary "workers"): what each did, the coordinator's
 * own check of its claim, its verifiers' vote, and who won. */
static void workers(const struct page *pg)
{
	const json_t *ws = json_object_get(pg->rl->end, "workers"), *w;
	size_t i;

	if (!json_array_size(ws))
		return;
	buf_adds(pg->b,
		 "<section id=\"workers\"><h2>Workers</h2><p class=\"mut\">select: ");
	svg_escs(pg->b, runlog_str(pg->rl->end, "select", "?"));
	buf_adds(pg->b, "</p><table class=\"facts\"><tr><th>worker</th><th>who acts</th>"
			"<th>status</th><th>iterations</th><th>cost</th><th>change</th>"
			"<th>verifiers' vote</th><th>its claim, checked in a clean "
			"checkout</th></tr>\n");
	json_array_foreach(ws, i, w)
	{
		const json_t *v = json_object_get(w, "verified");
		char vote[64];
		fanout_vote_text(json_object_get(w, "vote"), vote, sizeof(vote));
		buf_addf(pg->b, "<tr%s><td>%s",
			 json_is_true(json_object_get(w, "winner")) ? " class=\"won\""
								    : "",
			 json_is_true(json_object_get(w, "winner")) ? "<b>won</b> " : "");
		svg_escs(pg->b, runlog_str(w, "worker", "?"));
		buf_adds(pg->b, " (");
		svg_escs(pg->b, runlog_str(w, "name", "?"));
		buf_adds(pg->b, ")</td><td><code>");
		svg_escs(pg->b, runlog_str(w, "settings", "-"));
		buf_adds(pg->b, "</code></td><td>");
		svg_escs(pg->b, runlog_str(w, "status", "?"));
		buf_addf(pg->b,
			 "</td><td>%.0f</td><td>$%.4f</td><td>%.0f lines, %.0f "
			 "files</td><td>%s</td><td>",
			 runlog_num(w, "iterations", 0), runlog_num(w, "cost_usd", 0),
			 runlog_num(w, "diff_lines", 0), runlog_num(w, "diff_files", 0),
			 vote);
		svg_escs(pg->b, json_is_true(v)	   ? "verified"
				: json_is_false(v) ? runlog_str(w, "rejected", "rejected")
						   : "no claim");
		buf_adds(pg->b, "</td></tr>\n");
	}
	buf_adds(pg->b, "</table></section>\n");
}

static void budget_bar(struct buf *b, const char *name, double v, double max,
		       const char *fmt)
{
	struct buf t = BUF_INIT;

	buf_addf(&t, fmt, v);
	if (max > 0) {
		buf_adds(&t, " of ");
		buf_addf(&t, fmt, max);
		buf_addf(&t, " (%.0f%%)", 100 * v / max);
	} else {
		buf_adds(&t, " (no ceiling)");
	}
	svg_budget_bar(b, name, v, max, t.s);
	buf_release(&t);
}

static void budgets(const struct page *pg)
{
	const struct runlog *rl = pg->rl;
	const json_t *cfg = json_object_get(rl->start, "config");
	const json_t *src = rl->end ? rl->end : rl->budget;
	double tokens = runlog_num(src, "tokens_in", 0) +
			runlog_num(src, "tokens_out", 0);
	double elapsed = runlog_num(rl->end, "elapsed_s",
				    (rl->t_last - rl->t_first) / 1000);

	buf_adds(pg->b, "<section id=\"budgets\"><h2>Budgets</h2>\n");
	budget_bar(pg->b, "iterations", runlog_num(src, "iterations", 0),
		   runlog_num(cfg, "max_iterations", 0), "%.0f");
	budget_bar(pg->b, "tokens", tokens, runlog_num(cfg, "max_tokens", 0), "%.0f");
	budget_bar(pg->b, "cost (USD)", runlog_num(src, "cost_usd", 0),
		   runlog_num(cfg, "max_cost", 0), "%.4f");
	budget_bar(pg->b, "time (s)", elapsed, runlog_num(cfg, "deadline_ms", 0) / 1000,
		   "%.1f");
	buf_adds(pg->b, "</section>\n");
}

static void grid_row(const struct page *pg, int lane, int k)
{
	size_t i;

	buf_adds(pg->b, "<tr><th>");
	if (pg->rl->nlanes > 1) {
		svg_escs(pg->b, pg->rl->lanes[lane]);
		buf_adds(pg->b, " · ");
	}
	buf_addf(pg->b, "gate %d</th>", k);
	for (i = 0; i < pg->rl->nits; i++) {
		const struct runlog_iter *it = &pg->rl->its[i];
		struct runlog_iter v;
		const json_t *g;
		if (it->lane != lane)
			continue;
		runlog_iter_view(it, &v);
		g = html_gate(&v, k);
		if (!g) {
			buf_addf(pg->b,
				 "<td class=\"cell c-none\" title=\"%ld: not run\"></td>",
				 it->n);
			runlog_iter_release(&v);
			continue;
		}
		buf_addf(pg->b, "<td class=\"cell %s%s\" title=\"%ld: ",
			 json_is_true(json_object_get(g, "passed")) ? "c-pass" : "c-fail",
			 json_is_true(json_object_get(g, "cached")) ? " c-cached" : "",
			 it->n);
		svg_escs(pg->b, runlog_str(g, "describe",
					   json_is_true(json_object_get(g, "passed"))
						   ? "passed"
						   : "failed"));
		buf_addf(pg->b, "\">%s</td>",
			 json_is_true(json_object_get(g, "passed")) ? "✓" : "✗");
		runlog_iter_release(&v);
	}
	buf_adds(pg->b, "</tr>\n");
}

static void grid(const struct page *pg)
{
	int lane, k, ngates = html_ngates(pg->rl);
	size_t i;

	buf_adds(pg->b, "<div class=\"grid\"><table id=\"gate-grid\">\n");
	for (lane = 0; lane < pg->rl->nlanes; lane++) {
		buf_adds(pg->b, "<tr><th></th>");
		for (i = 0; i < pg->rl->nits; i++)
			if (pg->rl->its[i].lane == lane)
				buf_addf(pg->b, "<th>%s%ld</th>",
					 pg->rl->its[i].n ? "" : "b", pg->rl->its[i].n);
		buf_adds(pg->b, "</tr>\n");
		for (k = 1; k <= ngates; k++) {
			grid_row(pg, lane, k);
			html_flush(pg, 0);
		}
		buf_adds(pg->b, "<tr><th>events</th>");
		for (i = 0; i < pg->rl->nits; i++) {
			struct runlog_iter v;
			if (pg->rl->its[i].lane != lane)
				continue;
			runlog_iter_view(&pg->rl->its[i], &v);
			buf_adds(pg->b, "<td class=\"c-mark\"");
			if (json_array_size(v.marks)) {
				buf_adds(pg->b, " title=\"");
				svg_escs(pg->b, runlog_str(json_array_get(v.marks, 0),
							   "kind", ""));
				buf_adds(pg->b, "\">!");
			} else {
				buf_adds(pg->b, ">");
			}
			buf_adds(pg->b, "</td>");
			runlog_iter_release(&v);
		}
		buf_adds(pg->b, "</tr>\n");
	}
	buf_adds(pg->b, "</table></div>\n");
}

/* The test counts of the last gate with known counts, per iteration. */
static void test_counts(const struct runlog_iter *it, double *ex, double *fa, double *sk)
{
	const json_t *g, *c;
	size_t i;

	*ex = *fa = *sk = -1;
	json_array_foreach(it->gates, i, g)
	{
		c = json_object_get(g, "counts");
		if (!json_is_true(json_object_get(c, "known")))
			continue;
		*ex = runlog_num(c, "executed", 0);
		*fa = runlog_num(c, "failed", 0);
		*sk = runlog_num(c, "skipped", 0);
	}
}

struct series_set {
	long *x;
	unsigned char *marks;
	double *v[8];
};

/* svg_plot's flush: a long run's plot goes to the file as it is drawn */
static void plot_flush(const void *pg)
{
	html_flush(pg, 0);
}

static void convergence(const struct page *pg, struct series_set *s)
{
	struct svg_plot p = SVG_PLOT_INIT;
	size_t i, known = 0;

	for (i = 0; i < pg->rl->nits; i++) {
		struct runlog_iter v;
		runlog_iter_view(&pg->rl->its[i], &v);
		test_counts(&v, &s->v[0][i], &s->v[1][i], &s->v[2][i]);
		runlog_iter_release(&v);
		known += s->v[0][i] >= 0;
	}
	buf_adds(pg->b, "<section id=\"convergence\"><h2>Convergence</h2>\n");
	grid(pg);
	p.title = "Tests per round (parsed counts; the dashed line ends the baseline)";
	p.n = pg->rl->nits;
	p.x = s->x;
	p.marks = s->marks;
	p.flush = plot_flush;
	p.flush_ctx = pg;
	p.nseries = 3;
	p.series[0] = (struct svg_series){"executed", C_MODEL, s->v[0]};
	p.series[1] = (struct svg_series){"failed", C_FAIL, s->v[1]};
	p.series[2] = (struct svg_series){"skipped", C_SKIP, s->v[2]};
	buf_adds(pg->b, "<div id=\"plot-tests\">");
	svg_plot(pg->b, &p);
	if (!known)
		buf_adds(pg->b,
			 "<p class=\"mut\">No gate printed test counts loopgate "
			 "recognises (pytest, go test, cargo, jest, TAP, JUnit XML...): "
			 "no points.</p>");
	buf_adds(pg->b, "</div></section>\n");
}

static void spend_series(const struct runlog *rl, struct series_set *s)
{
	double cum = 0;
	size_t i;

	for (i = 0; i < rl->nits; i++) {
		const struct runlog_iter *it = &rl->its[i];
		struct runlog_iter v;
		const json_t *src;
		double wall = it->t0 >= 0 ? it->t1 - it->t0 : 0, self;
		runlog_iter_view(it, &v);
		src = v.end ? v.end : v.model;
		self = wall - it->model_ms - it->gate_ms;
		s->v[0][i] = it->model_ms / 1000;
		s->v[1][i] = it->gate_ms / 1000;
		s->v[2][i] = (self > 0 ? self : 0) / 1000;
		s->v[3][i] = runlog_num(src, "tokens_in", 0);
		s->v[4][i] = runlog_num(src, "tokens_out", 0);
		s->v[5][i] = runlog_num(src, "cost_usd", 0);
		runlog_iter_release(&v);
		cum += s->v[5][i];
		s->v[6][i] = cum;
	}
}

static void spend(const struct page *pg, struct series_set *s)
{
	const json_t *cfg = json_object_get(pg->rl->start, "config");
	struct svg_plot p = SVG_PLOT_INIT;

	spend_series(pg->rl, s);
	buf_adds(pg->b, "<section id=\"spend\"><h2>Where the time and money went</h2>\n"
			"<div class=\"plots\">");
	p.n = pg->rl->nits;
	p.x = s->x;
	p.marks = s->marks;
	p.flush = plot_flush;
	p.flush_ctx = pg;
	p.bars = 1;
	p.unit = " s";
	p.title = "Time per round (seconds, stacked)";
	p.nseries = 3;
	p.series[0] = (struct svg_series){"actor / model", C_MODEL, s->v[0]};
	p.series[1] = (struct svg_series){"gates", C_GATE, s->v[1]};
	p.series[2] = (struct svg_series){"loopgate", C_SELF, s->v[2]};
	buf_adds(pg->b, "<div id=\"plot-time\">");
	svg_plot(pg->b, &p);
	p.title = "Tokens per iteration (stacked)";
	p.unit = "";
	p.nseries = 2;
	p.series[0] = (struct svg_series){"tokens in", C_IN, s->v[3]};
	p.series[1] = (struct svg_series){"tokens out", C_OUT, s->v[4]};
	buf_adds(pg->b, "</div><div id=\"plot-tokens\">");
	svg_plot(pg->b, &p);
	p.title = "Cost per iteration (USD)";
	p.unit = "$";
	p.nseries = 1;
	p.series[0] = (struct svg_series){"cost", C_COST, s->v[5]};
	buf_adds(pg->b, "</div><div id=\"plot-cost\">");
	svg_plot(pg->b, &p);
	if (pg->rl->nits && s->v[6][pg->rl->nits - 1] <= 0)
		buf_adds(pg->b,
			 "<p class=\"mut\">No cost recorded: a replayed transcript, an "
			 "agent CLI, or a model without a price in loopgate.yaml.</p>");
	p.title = "Cumulative cost against the ceiling (USD)";
	p.bars = 0;
	p.series[0] = (struct svg_series){"cumulative cost", C_COST, s->v[6]};
	p.ceiling = runlog_num(cfg, "max_cost", 0);
	p.ceiling_label = "max cost";
	buf_adds(pg->b, "</div><div id=\"plot-cumcost\">");
	svg_plot(pg->b, &p);
	buf_adds(pg->b, "</div></div></section>\n");
}

static void record_item(const struct page *pg, const json_t *rec)
{
	const char *kind = runlog_str(rec, "kind", "");
	const json_t *body = json_object_get(rec, "body");
	char *txt = json_dumps(body, JSON_SORT_KEYS | JSON_COMPACT);

	buf_adds(pg->b, "<li><b>");
	svg_escs(pg->b, kind);
	buf_adds(pg->b, "</b> <span class=\"mut\">");
	svg_escs(pg->b, runlog_str(rec, "ts", ""));
	buf_adds(pg->b, "</span> ");
	if (!strcmp(kind, EV_REVIEW)) {
		buf_adds(pg->b, "<span class=\"verdict\">");
		svg_escs(pg->b, runlog_str(body, "verdict", "?"));
		buf_adds(pg->b, "</span> by ");
		svg_escs(pg->b, runlog_str(body, "reviewer", "?"));
		buf_adds(pg->b, ": ");
		svg_escs(pg->b, runlog_str(body, "note", ""));
	} else {
		buf_adds(pg->b, "<code>");
		svg_escs(pg->b, txt ? txt : "");
		buf_adds(pg->b, "</code>");
	}
	buf_adds(pg->b, "</li>\n");
	free(txt);
}

static void record(const struct page *pg)
{
	static const char *const names[] = {"intact", "tampered", "torn"};
	const struct runlog *rl = pg->rl;
	const json_t *rec;
	size_t i;

	buf_adds(pg->b,
		 "<section id=\"record\"><h2>Record</h2><table class=\"facts\">\n");
	buf_adds(pg->b, "<tr><th>audit verify</th><td id=\"audit\">");
	if (!rl->audit_ok) {
		buf_adds(pg->b, "<span class=\"bad\">not verified</span>");
	} else {
		buf_addf(pg->b, "<span class=\"%s\">%s</span>: %ld records",
			 rl->audit.status == AUDIT_INTACT ? "ok" : "bad",
			 names[rl->audit.status], rl->audit.records);
		if (rl->audit.status != AUDIT_INTACT) {
			buf_addf(pg->b, "; first bad line %ld: ", rl->audit.bad_line);
			svg_escs(pg->b, rl->audit.reason);
		}
	}
	buf_adds(pg->b, "</td></tr>\n<tr><th>checkpoints</th><td id=\"checkpoints\">");
	svg_esc(pg->b, rl->audit_note.s, rl->audit_note.len);
	buf_adds(pg->b, "</td></tr>\n");
	if (rl->bad_lines)
		buf_addf(pg->b,
			 "<tr><th>unreadable lines</th><td class=\"bad\">%ld</td></tr>\n",
			 rl->bad_lines);
	buf_adds(pg->b, "</table><h3>Reviews, votes, resumes and repairs</h3><ul "
			"id=\"records\">\n");
	json_array_foreach(rl->record, i, rec) record_item(pg, rec);
	if (!json_array_size(rl->record))
		buf_adds(pg->b, "<li class=\"mut\">none</li>\n");
	buf_adds(pg->b, "</ul></section>\n");
}

static void lanes(const struct page *pg)
{
	int l;
	size_t i;

	if (pg->rl->nlanes < 2)
		return;
	buf_adds(pg->b, "<section id=\"lanes\"><h2>Lanes</h2><table><tr><th>lane</th>"
			"<th>rounds</th><th>last outcome</th></tr>\n");
	for (l = 0; l < pg->rl->nlanes; l++) {
		const struct runlog_iter *last = NULL;
		size_t n = 0;
		for (i = 0; i < pg->rl->nits; i++)
			if (pg->rl->its[i].lane == l) {
				last = &pg->rl->its[i];
				n++;
			}
		buf_adds(pg->b, "<tr class=\"lane\"><td>");
		svg_escs(pg->b, pg->rl->lanes[l]);
		buf_addf(pg->b, "</td><td class=\"num\">%zu</td><td>", n);
		if (last) {
			struct runlog_iter v;
			runlog_iter_view(last, &v);
			svg_escs(pg->b,
				 v.end ? runlog_str(v.end, "status", "failed") : "-");
			runlog_iter_release(&v);
		} else {
			svg_escs(pg->b, "-");
		}
		buf_adds(pg->b, "</td></tr>\n");
	}
	buf_adds(pg->b, "</table></section>\n");
}

static void series_alloc(struct series_set *s, const struct runlog *rl)
{
	size_t i, n = rl->nits ? rl->nits : 1;

	s->x = xcalloc(n, sizeof(*s->x));
	s->marks = xcalloc(n, 1);
	for (i = 0; i < sizeof(s->v) / sizeof(s->v[0]); i++)
		s->v[i] = xcalloc(n, sizeof(double));
	for (i = 0; i < rl->nits; i++) {
		struct runlog_iter v;
		runlog_iter_view(&rl->its[i], &v);
		s->x[i] = rl->its[i].n;
		s->marks[i] = json_array_size(v.marks) > 0;
		runlog_iter_release(&v);
	}
}

static void series_free(struct series_set *s)
{
	size_t i;

	free(s->x);
	free(s->marks);
	for (i = 0; i < sizeof(s->v) / sizeof(s->v[0]); i++)
		free(s->v[i]);
}

void html_flush(const struct page *pg, int all)
{
	if (pg->file && (all || pg->b->len >= HTML_FLUSH_AT)) {
		fileio_atomic_write(pg->file, pg->b->s, pg->b->len, pg->err);
		buf_reset(pg->b);
	}
}

/* The page into out, or, with path, through out into that file (created
 * once the run has loaded: a run that cannot be read leaves it alone),
 * closed, or with begun its fsync begun and the file left to the caller. */
static int render(const char *run_dir, const struct report_html_opts *o, struct buf *out,
		  const char *path, struct fileio_atomic *begun, struct buf *err)
{
	struct runlog rl = RUNLOG_INIT;
	struct fileio_atomic own, *file = begun ? begun : &own;
	struct page pg = {out, &rl, path ? file : NULL, err};
	struct series_set s;
	int ret = runlog_load_window(&rl, run_dir, 0, 0, err);

	if (ret == 0 && path)
		ret = fileio_atomic_open(file, path, err);
	if (ret < 0) {
		runlog_release(&rl);
		return ret;
	}
	series_alloc(&s, &rl);
	head(&pg, o);
	summary(&pg, o);
	workers(&pg);
	budgets(&pg);
	convergence(&pg, &s);
	html_flush(&pg, 0);
	spend(&pg, &s);
	lanes(&pg);
	html_iterations(&pg);
	record(&pg);
	buf_adds(out, "<footer class=\"mut\"><p>Rendered by loopgate " LOOPGATE_VERSION
		      " from the run directory; every file named here is in it.</p>"
		      "</footer></main></body></html>\n");
	html_flush(&pg, 1);
	series_free(&s);
	runlog_release(&rl);
	if (path && begun) {
		fileio_atomic_sync_begin(file);
		return 0;
	}
	return path ? fileio_atomic_close(file, err) : 0;
}

int report_html(const char *run_dir, const struct report_html_opts *o, struct buf *out,
		struct buf *err)
{
	return render(run_dir, o, out, NULL, NULL, err);
}

static int write_page(const char *run_dir, const char *path, struct fileio_atomic *begun,
		      struct buf *err)
{
	struct buf page = BUF_INIT;
	char *dflt = path ? NULL : xasprintf("%s/%s", run_dir, REPORT_HTML_FILE);
	int ret = render(run_dir, NULL, &page, path ? path : dflt, begun, err);

	buf_release(&page);
	free(dflt);
	return ret;
}

int report_html_write(const char *run_dir, const char *path, struct buf *err)
{
	return write_page(run_dir, path, NULL, err);
}

int report_html_write_begin(const char *run_dir, struct fileio_atomic *file,
			    struct buf *err)
{
	return write_page(run_dir, NULL, file, err);
}
