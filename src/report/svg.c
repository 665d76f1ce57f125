/*
 * svg.c: inline SVG charts and HTML escaping.  See svg.h.
 */
#include "report/svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define W	       720.0
#define H	       200.0
#define LEFT	       56.0
#define RIGHT	       16.0
#define TOP	       14.0
#define BOTTOM	       30.0
#define PLOT_W	       (W - LEFT - RIGHT)
#define PLOT_H	       (H - TOP - BOTTOM)
#define SVG_POINTS_MAX 200

void svg_esc(struct buf *b, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		case '\0':
			rep = "\xef\xbf\xbd";
			break; /* U+FFFD */
		default:
			break;
		}
		if (!rep)
			continue;
		buf_add(b, s + run, i - run);
		buf_adds(b, rep);
		run = i + 1;
	}
	buf_add(b, s + run, n - run);
}

void svg_escs(struct buf *b, const char *s)
{
	if (s)
		svg_esc(b, s, strlen(s));
}

/*
 * The largest power of ten not above raw (> 0), as pow(10, floor(log10(raw)))
 * but without libm: those two map ~200 KB of its code and tables at their
 * first call, at the end of every run (heap.md, Session 11).  Exact powers
 * for raw >= 1 (10^k is a double up to 1e22), the correctly rounded 1/10^k
 * below.  Within an ULP under a power of ten log10 rounds up and this does
 * not: the step nice_step makes of it is the same (1 x 10^k or 10 x 10^k-1).
 */
static double pow10_floor(double raw)
{
	double d = 1;

	if (raw >= 1) {
		while (d * 10 <= raw && d < 1e300)
			d *= 10;
		return d;
	}
	while (raw * d < 1 && d < 1e300)
		d *= 10;
	return 1 / d;
}

/* A round step for an axis from 0 to max with about 4 ticks. */
static double nice_step(double max)
{
	double raw = max / 4, mag, f;

	if (raw <= 0)
		return 1;
	mag = pow10_floor(raw);
	f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

static double plot_max(const struct svg_plot *p)
{
	double max = p->ceiling > 0 ? p->ceiling : 0;
	size_t i;
	int s;

	for (i = 0; i < p->n; i++) {
		double sum = 0;
		for (s = 0; s < p->nseries; s++) {
			double v = p->series[s].v[i];
			if (v < 0)
				continue;
			sum = p->bars ? sum + v : v;
			if (sum > max)
				max = sum;
		}
	}
	return max > 0 ? max * 1.08 : 1;
}

static double xpos(const struct svg_plot *p, size_t i)
{
	double slot = PLOT_W / (double)(p->n ? p->n : 1);
	return LEFT + slot * ((double)i + 0.5);
}

static double ypos(double v, double max)
{
	return TOP + PLOT_H - v / max * PLOT_H;
}

static void axes(struct buf *b, const struct svg_plot *p, double max)
{
	double step = nice_step(max);
	size_t i, every = p->n > 24 ? (p->n + 11) / 12 : 1;
	int k;

	for (k = 0; k * step <= max + 1e-9; k++) {
		double v = k * step, y = ypos(v, max);
		buf_addf(b,
			 "<line class=\"grid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" "
			 "y2=\"%.1f\"/>"
			 "<text class=\"ax\" x=\"%.0f\" y=\"%.1f\" "
			 "text-anchor=\"end\">%g</text>",
			 LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, v);
	}
	for (i = 0; i < p->n; i += every)
		if (p->x[i])
			buf_addf(b,
				 "<text class=\"ax\" x=\"%.1f\" y=\"%.0f\" "
				 "text-anchor=\"middle\">%ld</text>",
				 xpos(p, i), H - BOTTOM + 16, p->x[i]);
		else
			buf_addf(b,
				 "<text class=\"ax\" x=\"%.1f\" y=\"%.0f\" "
				 "text-anchor=\"middle\">base</text>",
				 xpos(p, i), H - BOTTOM + 16);
	if (p->n && p->x[0] == 0) /* the baseline round is not an iteration */
		buf_addf(b,
			 "<line class=\"base\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" "
			 "y2=\"%.0f\"/>",
			 (xpos(p, 0) + xpos(p, 1 < p->n ? 1 : 0)) / 2, TOP,
			 (xpos(p, 0) + xpos(p, 1 < p->n ? 1 : 0)) / 2, H - BOTTOM);
	if (p->ceiling > 0)
		buf_addf(b,
			 "<line class=\"ceil\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" "
			 "y2=\"%.1f\"/>"
			 "<text class=\"ax ceil-t\" x=\"%.0f\" y=\"%.1f\" "
			 "text-anchor=\"end\">%s %g</text>",
			 LEFT, ypos(p->ceiling, max), W - RIGHT, ypos(p->ceiling, max),
			 W - RIGHT, ypos(p->ceiling, max) - 4,
			 p->ceiling_label ? p->ceiling_label : "ceiling", p->ceiling);
}

static void marks(struct buf *b, const struct svg_plot *p)
{
	size_t i;

	for (i = 0; p->marks && i < p->n; i++)
		if (p->marks[i])
			buf_addf(b,
				 "<line class=\"mark\" x1=\"%.1f\" y1=\"%.0f\" "
				 "x2=\"%.1f\" "
				 "y2=\"%.0f\"><title>event at iteration "
				 "%ld</title></line>",
				 xpos(p, i), TOP, xpos(p, i), H - BOTTOM, p->x[i]);
}

static void point_title(struct buf *b, const struct svg_plot *p, size_t i, int s)
{
	buf_adds(b, "<title>");
	if (p->x[i])
		buf_addf(b, "iteration %ld", p->x[i]);
	else
		buf_adds(b, "baseline");
	buf_adds(b, ": ");
	svg_escs(b, p->series[s].name);
	buf_addf(b, " %s%g%s</title>", !strcmp(p->unit, "$") ? "$" : "",
		 p->series[s].v[i], !strcmp(p->unit, "$") ? "" : p->unit);
}

static void lines(struct buf *b, const struct svg_plot *p, double max)
{
	size_t i;
	int s;

	for (s = 0; s < p->nseries; s++) {
		const double *v = p->series[s].v;
		int pen = 0;
		buf_addf(b, "<path class=\"ln\" stroke=\"%s\" d=\"", p->series[s].color);
		for (i = 0; i < p->n; i++) {
			if (v[i] < 0) {
				pen = 0;
				continue;
			}
			buf_addf(b, "%c%.1f %.1f", pen ? 'L' : 'M', xpos(p, i),
				 ypos(v[i], max));
			pen = 1;
		}
		buf_adds(b, "\"/>");
		/* a long run's points would be a pixel apart: the line says it */
		for (i = 0; p->n <= SVG_POINTS_MAX && i < p->n; i++) {
			if (v[i] < 0)
				continue;
			buf_addf(b,
				 "<circle class=\"pt\" data-series=\"%d\" cx=\"%.1f\" "
				 "cy=\"%.1f\" "
				 "r=\"%s\" fill=\"%s\">",
				 s, xpos(p, i), ypos(v[i], max), p->n > 60 ? "1.5" : "3",
				 p->series[s].color);
			point_title(b, p, i, s);
			buf_adds(b, "</circle>");
			if (p->flush)
				p->flush(p->flush_ctx);
		}
	}
}

static void bars(struct buf *b, const struct svg_plot *p, double max)
{
	double slot = PLOT_W / (double)(p->n ? p->n : 1), w = slot * 0.7;
	size_t i;
	int s;

	for (i = 0; i < p->n; i++) {
		double base = 0;
		for (s = 0; s < p->nseries; s++) {
			double v = p->series[s].v[i];
			if (v <= 0)
				continue;
			buf_addf(b,
				 "<rect class=\"bar\" data-series=\"%d\" x=\"%.1f\" "
				 "y=\"%.1f\" "
				 "width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
				 s, xpos(p, i) - w / 2, ypos(base + v, max), w,
				 ypos(base, max) - ypos(base + v, max),
				 p->series[s].color);
			point_title(b, p, i, s);
			buf_adds(b, "</rect>");
			base += v;
		}
		if (p->flush)
			p->flush(p->flush_ctx);
	}
}

static void legend(struct buf *b, const struct svg_plot *p)
{
	int s;

	buf_adds(b, "<div class=\"legend\">");
	for (s = 0; s < p->nseries; s++) {
		buf_addf(b, "<span><i style=\"background:%s\"></i>", p->series[s].color);
		svg_escs(b, p->series[s].name);
		buf_adds(b, "</span>");
	}
	if (p->marks)
		buf_adds(b, "<span><i class=\"mk\"></i>stall / integrity event</span>");
	buf_adds(b, "</div>");
}

void svg_plot(struct buf *b, const struct svg_plot *p)
{
	double max = plot_max(p);

	buf_adds(b, "<figure class=\"plot\"><figcaption>");
	svg_escs(b, p->title);
	buf_adds(b, "</figcaption>");
	legend(b, p);
	buf_addf(b,
		 "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		 "aria-label=\"",
		 W, H);
	svg_escs(b, p->title);
	buf_adds(b, "\">");
	axes(b, p, max);
	marks(b, p);
	if (p->bars)
		bars(b, p, max);
	else
		lines(b, p, max);
	buf_adds(b, "</svg></figure>\n");
}

void svg_budget_bar(struct buf *b, const char *name, double value, double ceiling,
		    const char *text)
{
	double f = ceiling > 0 ? value / ceiling : 0;
	const char *cls = ceiling <= 0 ? "none"
			  : f >= 1     ? "over"
			  : f >= 0.8   ? "high"
				       : "ok";

	if (f > 1)
		f = 1;
	buf_adds(b, "<div class=\"budget\"><span class=\"bname\">");
	svg_escs(b, name);
	buf_addf(b,
		 "</span><svg class=\"bbar\" viewBox=\"0 0 300 14\" "
		 "preserveAspectRatio=\"none\" role=\"img\" aria-label=\"%s\">"
		 "<rect class=\"track\" x=\"0\" y=\"0\" width=\"300\" height=\"14\"/>"
		 "<rect class=\"fill %s\" x=\"0\" y=\"0\" width=\"%.1f\" "
		 "height=\"14\"/></svg>"
		 "<span class=\"btext\">",
		 cls, cls, ceiling > 0 ? 300 * f : 0);
	svg_escs(b, text);
	buf_adds(b, "</span></div>\n");
}
