/*
 * svg: inline SVG charts for the HTML report, and the one escaping function
 * every piece of run text goes through.
 *
 *   double tests[] = {3, 3, 5};
 *   struct svg_plot p = SVG_PLOT_INIT;
 *   p.title = "tests"; p.n = 3; p.x = iteration_numbers;
 *   p.series[0] = (struct svg_series){"executed", "#2b6cb0", tests};
 *   p.nseries = 1;
 *   svg_plot(&page, &p);
 *
 * A value < 0 is "no data" (no point drawn, the line breaks).  Every point
 * is a <circle class="pt"> (up to 200 points; a longer run gets the line
 * only), each bar a <rect class="bar">, with a <title>
 * naming the iteration and the value, so a test or a reader can count and
 * read them.  Charts scale with the page (viewBox) and need no script.
 */
#ifndef LOOPGATE_SVG_H
#define LOOPGATE_SVG_H

#include <stddef.h>
#include "base/buf.h"

#define SVG_MAX_SERIES 4

struct svg_series {
	const char *name;
	const char *color;
	const double *v; /* n values */
};

struct svg_plot {
	const char *title; /* aria-label and the chart's heading */
	const char *unit;  /* appended to values in titles ("s", "$", "") */
	size_t n;	   /* points on the x axis */
	const long *x;	   /* their iteration numbers (0: baseline) */
	int nseries;
	struct svg_series series[SVG_MAX_SERIES];
	int bars;	/* stacked bars instead of lines */
	double ceiling; /* > 0: a dashed line at this value, labelled */
	const char *ceiling_label;
	const unsigned char *marks; /* per point: nonzero draws an event marker */
	/* optional: called after each point's or bar's markup, so a page that
	 * is written as it is rendered need not hold a long run's plot whole */
	void (*flush)(const void *ctx);
	const void *flush_ctx;
};
#define SVG_PLOT_INIT                                                                    \
	{                                                                                \
		.unit = ""                                                               \
	}

void svg_plot(struct buf *b, const struct svg_plot *p);

/* A horizontal bar: value against ceiling (<= 0: no ceiling, shown so). */
void svg_budget_bar(struct buf *b, const char *name, double value, double ceiling,
		    const char *text);

/* Appends s (n bytes, any bytes) escaped for HTML text and attributes. */
void svg_esc(struct buf *b, const char *s, size_t n);
void svg_escs(struct buf *b, const char *s);

#endif
