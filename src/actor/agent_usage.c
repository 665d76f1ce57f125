/*
 * agent_usage.c: each agent CLI's own usage report, read into tokens and
 * cost (agent.h).  The reports are what the CLIs print on standard output
 * in their JSON modes (measured with the versions in
 * shared/anchors/agent-clis.md); a parser returns -ENODATA when the text
 * holds no report, so "spent nothing" and "could not tell" stay apart.
 *
 * Token counts: input includes cache reads and writes (they are billed
 * and they fill the context), output includes reasoning.
 */
#include "actor/agent.h"
#include "base/ckd.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

/* Above any real report: a count past it is clamped, which still spends
 * the budget (ckd.h: a saturated total is "too much"), and sums of a few
 * such counts cannot overflow. */
#define USAGE_MAX 1000000000000000L

/* A JSON token count (integer or real) as a long in [0, USAGE_MAX]; 0
 * when absent, negative or not a number. */
static long jlong(json_t *v)
{
	double d;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		return i < 0 ? 0 : i > USAGE_MAX ? USAGE_MAX : (long)i;
	}
	d = json_is_real(v) ? json_real_value(v) : 0;
	return !(d > 0) ? 0 : d > (double)USAGE_MAX ? USAGE_MAX : (long)d;
}

/* *dst += v, saturating (a CLI can print any number of lines). */
static void add(long *dst, long v)
{
	*dst = ckd_add(*dst, v);
}

static double jreal(json_t *v, double dflt)
{
	return json_is_number(v) ? json_number_value(v) : dflt;
}

/*
 * Calls fn on every JSON object or array that starts a line of out (after
 * blanks): one per line for JSONL, one multi-line document for pretty
 * JSON; text between them (logs, warnings) is skipped.
 */
static void each_json(const char *out, size_t len, void (*fn)(json_t *v, void *ctx),
		      void *ctx)
{
	size_t i = 0;

	while (i < len) {
		size_t s = i, eol;
		json_error_t je;
		json_t *v;

		while (s < len && (out[s] == ' ' || out[s] == '\t' || out[s] == '\r'))
			s++;
		eol = s;
		while (eol < len && out[eol] != '\n')
			eol++;
		if (s < len && (out[s] == '{' || out[s] == '[')) {
			v = json_loadb(out + s, len - s, JSON_DISABLE_EOF_CHECK, &je);
			if (v) {
				fn(v, ctx);
				json_decref(v);
				/* past the document, then to the next line */
				i = s + (je.position > 0 ? (size_t)je.position : 1);
				while (i < len && out[i - 1] != '\n')
					i++;
				continue;
			}
		}
		i = eol + 1;
	}
}

struct acc {
	struct agent_usage u;
	int found;
};

static void acc_init(struct acc *a)
{
	a->u.tokens_in = a->u.tokens_out = 0;
	a->u.cost = -1;
	a->found = 0;
}

static int acc_done(const struct acc *a, struct agent_usage *u)
{
	if (!a->found)
		return -ENODATA;
	*u = a->u;
	/* What the CLI printed is outside input: a negative, NaN or infinite
	 * figure would lower or poison the run's spend. */
	if (!isfinite(u->cost) || u->cost < 0)
		u->cost = -1;
	if (u->tokens_in < 0)
		u->tokens_in = 0;
	if (u->tokens_out < 0)
		u->tokens_out = 0;
	return 0;
}

static int type_is(json_t *o, const char *t)
{
	const char *s = json_string_value(json_object_get(o, "type"));
	return s && !strcmp(s, t);
}

/* ---- claude -p --output-format json: one "result" object ---------------- */

static void claude_one(json_t *o, void *ctx)
{
	struct acc *a = ctx;
	json_t *mu = json_object_get(o, "modelUsage"), *m, *u;
	const char *name;

	if (!json_is_object(o) || !type_is(o, "result"))
		return;
	/* the last result wins: there is one per invocation */
	acc_init(a);
	a->found = 1;
	a->u.cost = jreal(json_object_get(o, "total_cost_usd"), -1);
	if (json_is_object(mu) && json_object_size(mu)) {
		/* every model the turn used (side calls to a small model too) */
		json_object_foreach(mu, name, m)
		{
			add(&a->u.tokens_in,
			    jlong(json_object_get(m, "inputTokens")) +
				    jlong(json_object_get(m, "cacheReadInputTokens")) +
				    jlong(json_object_get(m,
							  "cacheCreationInputTokens")));
			add(&a->u.tokens_out, jlong(json_object_get(m, "outputTokens")));
		}
		return;
	}
	u = json_object_get(o, "usage");
	a->u.tokens_in = jlong(json_object_get(u, "input_tokens")) +
			 jlong(json_object_get(u, "cache_read_input_tokens")) +
			 jlong(json_object_get(u, "cache_creation_input_tokens"));
	a->u.tokens_out = jlong(json_object_get(u, "output_tokens"));
}

int agent_usage_claude(const char *out, size_t len, struct agent_usage *u)
{
	struct acc a;
	acc_init(&a);
	each_json(out, len, claude_one, &a);
	return acc_done(&a, u);
}

/* ---- codex exec --json: one turn.completed event per model turn --------- */

static void codex_one(json_t *o, void *ctx)
{
	struct acc *a = ctx;
	json_t *u = json_object_get(o, "usage");

	if (!json_is_object(o) || !type_is(o, "turn.completed") || !json_is_object(u))
		return;
	a->found = 1;
	/* OpenAI's input_tokens already include cached_input_tokens, and
	 * output_tokens the reasoning */
	add(&a->u.tokens_in, jlong(json_object_get(u, "input_tokens")));
	add(&a->u.tokens_out, jlong(json_object_get(u, "output_tokens")));
}

int agent_usage_codex(const char *out, size_t len, struct agent_usage *u)
{
	struct acc a;
	acc_init(&a);
	each_json(out, len, codex_one, &a);
	return acc_done(&a, u);
}

/* ---- gemini -o json: stats.models.NAME.tokens ---------------------------- */

static void gemini_one(json_t *o, void *ctx)
{
	struct acc *a = ctx;
	json_t *models = json_object_get(json_object_get(o, "stats"), "models"), *m;
	const char *name;

	if (!json_is_object(models))
		return;
	acc_init(a);
	a->found = 1;
	json_object_foreach(models, name, m)
	{
		json_t *t = json_object_get(m, "tokens");
		/* prompt includes the cached part; tool is the tool-use prompt */
		add(&a->u.tokens_in, jlong(json_object_get(t, "prompt")) +
					     jlong(json_object_get(t, "tool")));
		add(&a->u.tokens_out, jlong(json_object_get(t, "candidates")) +
					      jlong(json_object_get(t, "thoughts")));
	}
}

int agent_usage_gemini(const char *out, size_t len, struct agent_usage *u)
{
	struct acc a;
	acc_init(&a);
	each_json(out, len, gemini_one, &a);
	return acc_done(&a, u);
}

/* ---- qwen -o json: an array of messages ending with a "result" ----------- */

static void qwen_result(json_t *o, struct acc *a)
{
	json_t *u = json_object_get(o, "usage");

	if (!json_is_object(o) || !type_is(o, "result") || !json_is_object(u))
		return;
	acc_init(a);
	a->found = 1;
	/* converted from Chat Completions usage: input includes cache reads */
	a->u.tokens_in = jlong(json_object_get(u, "input_tokens"));
	a->u.tokens_out = jlong(json_object_get(u, "output_tokens"));
	a->u.cost = jreal(json_object_get(o, "total_cost_usd"), -1);
}

static void qwen_one(json_t *v, void *ctx)
{
	size_t i;
	json_t *e;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e) qwen_result(e, ctx);
	} else {
		qwen_result(v, ctx); /* -o stream-json: one message a line */
	}
}

int agent_usage_qwen(const char *out, size_t len, struct agent_usage *u)
{
	struct acc a;
	acc_init(&a);
	each_json(out, len, qwen_one, &a);
	return acc_done(&a, u);
}

/* ---- opencode run --format json: step_finish events ---------------------- */

static void opencode_one(json_t *o, void *ctx)
{
	struct acc *a = ctx;
	json_t *t = json_object_get(json_object_get(o, "part"), "tokens"), *cache;

	if (!json_is_object(o) || !type_is(o, "step_finish") || !json_is_object(t))
		return;
	a->found = 1;
	cache = json_object_get(t, "cache");
	/* the AI SDK counts cached input apart from input */
	add(&a->u.tokens_in, jlong(json_object_get(t, "input")) +
				     jlong(json_object_get(cache, "read")) +
				     jlong(json_object_get(cache, "write")));
	add(&a->u.tokens_out,
	    jlong(json_object_get(t, "output")) + jlong(json_object_get(t, "reasoning")));
}

int agent_usage_opencode(const char *out, size_t len, struct agent_usage *u)
{
	struct acc a;
	acc_init(&a);
	each_json(out, len, opencode_one, &a);
	/* its cost needs its price list from the network (models.dev),
	 * which the sandbox does not give it: not a figure to trust */
	a.u.cost = -1;
	return acc_done(&a, u);
}

/* ---- aider: "Tokens: 1.2k sent, 340 received. Cost: $0.01 message, ..." -- */

/* strtod within [p, lim): the output is not NUL-terminated where a line
 * ends.  *next: past the number (p when there is none). */
static double bounded_strtod(const char *p, const char *lim, const char **next)
{
	char tmp[48], *end;
	size_t n = (size_t)(lim - p) < sizeof(tmp) - 1 ? (size_t)(lim - p)
						       : sizeof(tmp) - 1;
	double v;

	memcpy(tmp, p, n);
	tmp[n] = '\0';
	v = strtod(tmp, &end);
	*next = p + (end - tmp);
	return v;
}

/* "12", "1.2k", "3M" -> tokens; p advanced past it.  -1: not a number. */
static long aider_count(const char **p, const char *eol)
{
	const char *end;
	double v = bounded_strtod(*p, eol, &end);

	if (end == *p || !(v >= 0) || v > (double)USAGE_MAX / 1e6)
		return -1;
	if (end < eol && (*end == 'k' || *end == 'K'))
		v *= 1e3, end++;
	else if (end < eol && (*end == 'M' || *end == 'm'))
		v *= 1e6, end++;
	*p = end;
	return (long)(v + 0.5);
}

/* One "Tokens:" line: "N sent, N cache write, N cache hit, N received." */
static void aider_tokens(const char *s, const char *eol, struct acc *a)
{
	const char *p = s;

	while (p < eol) {
		long n;
		while (p < eol && !isdigit((unsigned char)*p))
			p++;
		if (p >= eol || (n = aider_count(&p, eol)) < 0)
			break;
		while (p < eol && *p == ' ')
			p++;
		if ((size_t)(eol - p) >= 8 && !strncmp(p, "received", 8))
			add(&a->u.tokens_out, n);
		else /* sent, cache write, cache hit */
			add(&a->u.tokens_in, n);
	}
}

int agent_usage_aider(const char *out, size_t len, struct agent_usage *u)
{
	const char *p = out, *end = out + len;
	struct acc a;

	acc_init(&a);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *cost;
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > 8 && !strncmp(p, "Tokens: ", 8)) {
			a.found = 1;
			cost = memmem(p, (size_t)(eol - p), "Cost: $", 7);
			aider_tokens(p + 8, cost ? cost : eol, &a);
			/* "$0.01 message, $0.02 session": the session total */
			if (cost) {
				const char *s = memmem(cost, (size_t)(eol - cost), ", $",
						       3);
				const char *num = s ? s + 3 : cost + 7, *after;
				a.u.cost = bounded_strtod(num, eol, &after);
			}
		}
		p = eol + 1;
	}
	return acc_done(&a, u);
}

int agent_usage_read(const struct agent_preset *p, const char *out, size_t len,
		     struct agent_usage *u)
{
	int ret = p->usage(out, len, u);
	if (ret == 0 && !p->reports_cost)
		u->cost = -1;
	return ret;
}
