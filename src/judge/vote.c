/*
 * vote.c: verdict parsing and the tally.  See vote.h.
 */
#include "judge/vote.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *vote_verdict_name(enum vote_verdict v)
{
	return v == VOTE_ACCEPT ? "accept" : v == VOTE_REJECT ? "reject" : "abstain";
}

void vote_ballot_release(struct vote_ballot *b)
{
	for (size_t i = 0; i < b->nreasons; i++) {
		free(b->reasons[i].file);
		free(b->reasons[i].text);
	}
	free(b->reasons);
	free(b->error);
	memset(b, 0, sizeof(*b));
	b->verdict = VOTE_ABSTAIN;
}

static int no_verdict(struct vote_ballot *b, const char *fmt, const char *arg)
{
	struct buf e = BUF_INIT;
	buf_addf(&e, fmt, arg ? arg : "");
	vote_ballot_release(b);
	b->error = buf_detach(&e, NULL);
	return -EINVAL;
}

/*
 * The object's bytes: the whole reply, or the inside of one ``` fence
 * (models often fence JSON even when told not to).  Nothing may stand
 * outside the fence: prose around a verdict is not the structured answer
 * that was asked for.
 */
static void unfence(const char **s, size_t *n)
{
	const char *p = *s, *e = *s + *n;
	while (p < e && strchr(" \t\r\n", *p))
		p++;
	while (e > p && strchr(" \t\r\n", e[-1]))
		e--;
	if (e - p >= 6 && !memcmp(p, "```", 3) && !memcmp(e - 3, "```", 3)) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		if (nl && nl < e - 3) {
			p = nl + 1;
			e -= 3;
		}
	}
	*s = p;
	*n = (size_t)(e - p);
}

static char *capped(const char *s)
{
	size_t n = strlen(s);
	if (n > VOTE_MAX_REASON_TEXT)
		n = VOTE_MAX_REASON_TEXT;
	return xstrndup(s, n);
}

static int parse_reason(json_t *r, struct vote_reason *out, struct vote_ballot *b)
{
	json_t *text = json_object_get(r, "text"), *file = json_object_get(r, "file");
	json_t *line = json_object_get(r, "line");

	if (!json_is_object(r))
		return no_verdict(b, "a reason is not an object", NULL);
	if (!json_is_string(text) || !*json_string_value(text))
		return no_verdict(b, "a reason has no text", NULL);
	if (file && !json_is_null(file) && !json_is_string(file))
		return no_verdict(b, "a reason's file is not a string", NULL);
	if (line && !json_is_null(line) &&
	    (!json_is_integer(line) || json_integer_value(line) < 0))
		return no_verdict(b, "a reason's line is not a line number", NULL);
	out->text = capped(json_string_value(text));
	out->file = json_is_string(file) ? capped(json_string_value(file)) : NULL;
	out->line = json_is_integer(line) ? (long)json_integer_value(line) : -1;
	return 0;
}

static int parse_object(json_t *o, struct vote_ballot *b)
{
	json_t *v = json_object_get(o, "verdict"), *c = json_object_get(o, "confidence");
	json_t *rs = json_object_get(o, "reasons"), *r;
	enum vote_verdict verdict;
	size_t i;

	if (!json_is_string(v))
		return no_verdict(b, "no \"verdict\" string", NULL);
	if (!strcmp(json_string_value(v), "accept"))
		verdict = VOTE_ACCEPT;
	else if (!strcmp(json_string_value(v), "reject"))
		verdict = VOTE_REJECT;
	else
		return no_verdict(b, "verdict '%.40s' is neither accept nor reject",
				  json_string_value(v));
	if (!json_is_number(c) ||
	    !(json_number_value(c) >= 0 && json_number_value(c) <= 1))
		return no_verdict(b, "no \"confidence\" between 0 and 1", NULL);
	if (!json_is_array(rs))
		return no_verdict(b, "no \"reasons\" list", NULL);
	if (verdict == VOTE_REJECT && !json_array_size(rs))
		return no_verdict(b, "a reject with no reasons", NULL);
	if (json_array_size(rs) > VOTE_MAX_REASONS)
		return no_verdict(b, "more than 32 reasons", NULL);
	b->reasons = xcalloc(json_array_size(rs) + 1, sizeof(*b->reasons));
	json_array_foreach(rs, i, r)
	{
		int ret = parse_reason(r, &b->reasons[i], b);
		if (ret < 0)
			return ret;
		b->nreasons++;
	}
	b->verdict = verdict;
	b->confidence = json_number_value(c);
	return 0;
}

int vote_parse(const char *text, size_t len, struct vote_ballot *b)
{
	json_error_t je;
	json_t *o;
	int ret;

	vote_ballot_release(b);
	if (!text)
		return no_verdict(b, "an empty reply", NULL);
	unfence(&text, &len);
	if (!len)
		return no_verdict(b, "an empty reply", NULL);
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return no_verdict(b, "the reply is not one JSON object (%s)", je.text);
	if (!json_is_object(o))
		ret = no_verdict(b, "the reply is JSON but not an object", NULL);
	else
		ret = parse_object(o, b);
	json_decref(o);
	return ret;
}

double vote_score(const struct vote_ballot *b)
{
	if (b->verdict == VOTE_ACCEPT)
		return 0.5 + b->confidence / 2;
	if (b->verdict == VOTE_REJECT)
		return 0.5 - b->confidence / 2;
	return 0;
}

int vote_brief_accepts(const double *scores, size_t n, double k, double *mean,
		       double *std)
{
	double m = 0, var = 0;
	*mean = *std = 0;
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		m += scores[i];
	m /= (double)n;
	for (size_t i = 0; i < n; i++)
		var += (scores[i] - m) * (scores[i] - m);
	*mean = m;
	*std = sqrt(var / (double)n);
	/* a hair of slack: 0.5 + 0.5/2 ... sums must not flip on rounding */
	return m - k * *std >= 0.5 - 1e-9;
}

size_t vote_needed(long accept, size_t k)
{
	return accept > 0 ? (size_t)accept : k / 2 + 1;
}

void vote_reasons_text(const struct vote_ballot *b, struct buf *out)
{
	for (size_t i = 0; i < b->nreasons; i++) {
		const struct vote_reason *r = &b->reasons[i];
		buf_adds(out, "- ");
		if (r->file && r->line >= 0)
			buf_addf(out, "%s:%ld: ", r->file, r->line);
		else if (r->file)
			buf_addf(out, "%s: ", r->file);
		buf_addf(out, "%s\n", r->text);
	}
}
