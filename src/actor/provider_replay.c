/*
 * provider_replay: answers each turn from a recorded transcript, in order.
 *
 * The transcript is the JSONL that record_file writes (see provider.c); a
 * line needs only "content", with optional tokens_in, tokens_out,
 * finish_reason and model, so hand-written transcripts stay short.  The
 * whole file is read and checked when the provider is created: a bad
 * transcript should fail before a run spends anything, not at turn 7.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actor/provider_impl.h"
#include "base/saferead.h"

/* Transcripts are text the user chose; still, bound what we hold. */
#define REPLAY_MAX_BYTES (256u << 20)

struct provider_replay {
	char *path;
	json_t **turns;
	size_t n, next;
};

void provider_replay_free(struct provider_replay *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		json_decref(r->turns[i]);
	free(r->turns);
	free(r->path);
	free(r);
}

static int check_turn(json_t *t, const char *path, size_t lineno, struct buf *err)
{
	json_t *v;
	if (!json_is_object(t))
		return err_set(err, -EINVAL,
			       "%s:%zu: a transcript line must be a JSON object: "
			       "fix or remove the line",
			       path, lineno);
	if (!json_is_string(json_object_get(t, "content")))
		return err_set(err, -EINVAL,
			       "%s:%zu: the line has no \"content\" string: "
			       "fix or remove the line",
			       path, lineno);
	v = json_object_get(t, "tokens_in");
	if (v && !json_is_integer(v))
		return err_set(err, -EINVAL, "%s:%zu: \"tokens_in\" must be an integer",
			       path, lineno);
	v = json_object_get(t, "tokens_out");
	if (v && !json_is_integer(v))
		return err_set(err, -EINVAL, "%s:%zu: \"tokens_out\" must be an integer",
			       path, lineno);
	return 0;
}

/* Parses the lines of text into r->turns; blank lines are skipped. */
static int parse_lines(struct provider_replay *r, const char *text, size_t len,
		       struct buf *err)
{
	const char *p = text, *end = text + len;
	size_t lineno = 0, alloc = 0;
	json_error_t je;
	int ret;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *q = p;
		json_t *t;

		lineno++;
		while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		if (q < eol) {
			t = json_loadb(p, (size_t)(eol - p), 0, &je);
			if (!t)
				return err_set(err, -EINVAL,
					       "%s:%zu: not valid JSON (%s): "
					       "fix or remove the line",
					       r->path, lineno, je.text);
			if ((ret = check_turn(t, r->path, lineno, err)) < 0) {
				json_decref(t);
				return ret;
			}
			if (r->n == alloc) {
				alloc = alloc ? alloc * 2 : 16;
				r->turns = xrealloc(r->turns, alloc * sizeof(*r->turns));
			}
			r->turns[r->n++] = t;
		}
		p = eol + 1;
	}
	return 0;
}

int provider_replay_open(const char *path, struct provider_replay **out, struct buf *err)
{
	struct provider_replay *r;
	struct buf b;
	int ret;

	if (!path || !path[0])
		return err_set(err, -EINVAL,
			       "the replay provider needs a transcript file: "
			       "set replay_file");
	buf_init(&b, 0);
	/* bounded, non-blocking: replay:/dev/zero or a FIFO must not hang us */
	ret = saferead_user(path, "transcript", REPLAY_MAX_BYTES, 0, &b, err);
	if (ret == -EFBIG)
		ret = err_set(err, ret,
			      "the transcript %s is larger than the limit of %u MiB: "
			      "use a shorter one",
			      path, REPLAY_MAX_BYTES >> 20);
	if (ret < 0) {
		buf_release(&b);
		return ret;
	}
	r = xcalloc(1, sizeof(*r));
	r->path = xstrdup(path);
	ret = parse_lines(r, b.s, b.len, err);
	buf_release(&b);
	if (ret < 0) {
		provider_replay_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

int provider_replay_next(struct provider_replay *r, struct provider_turn *t,
			 struct buf *err)
{
	json_t *turn, *c;

	if (r->next >= r->n)
		return err_set(err, -ENODATA,
			       "the transcript %s has %zu turns and all "
			       "were used: record a longer transcript or allow fewer "
			       "iterations",
			       r->path, r->n);
	turn = r->turns[r->next++];
	c = json_object_get(turn, "content");
	buf_add(&t->text, json_string_value(c), json_string_length(c));
	if (provider_json_long(json_object_get(turn, "tokens_in"), &t->tokens_in))
		t->have_in = 1;
	if (provider_json_long(json_object_get(turn, "tokens_out"), &t->tokens_out))
		t->have_out = 1;
	provider_turn_set(&t->finish_reason, json_object_get(turn, "finish_reason"));
	provider_turn_set(&t->model, json_object_get(turn, "model"));
	t->done = 1;
	return 0;
}

void provider_replay_skip(struct provider_replay *r, size_t n)
{
	r->next = n < r->n - r->next ? r->next + n : r->n;
}
