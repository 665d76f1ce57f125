/*
 * provider_impl: what provider.c shares with the per-kind files
 * (provider_openai.c, provider_anthropic.c, provider_replay.c).  Not for
 * other modules: they use provider.h.
 *
 * provider.c owns the attempt loop, HTTP, SSE framing, retries, usage
 * charging and recording.  A wire kind only says how to build its request
 * and how to read its replies into a struct provider_turn.
 */
#ifndef LOOPGATE_PROVIDER_IMPL_H
#define LOOPGATE_PROVIDER_IMPL_H

#include <jansson.h>

#include "base/buf.h"
#include "actor/provider.h"

/* What one attempt produced, as far as it got. */
struct provider_turn {
	struct buf text;
	long tokens_in, tokens_out;
	int have_in, have_out; /* usage reported by the server */
	char *finish_reason;
	char *model;
	int done;	      /* terminal event (or whole body) seen */
	unsigned long events; /* stream events seen */
	int bad;	      /* a body or event was not what the API sends */
	struct buf bad_detail;
	int error;	      /* the reply carried an error object */
	char *error_type;     /* error.type, e.g. "overloaded_error" */
	char *error_code;     /* error.code (OpenAI), when a string */
	struct buf error_msg; /* error.message */
	json_t *tool_calls;   /* [{id, name, arguments}] as they arrive, or NULL */
	/* Anthropic streams: content block index -> tool call index + 1 */
	unsigned char tool_of_block[64];
};

void provider_turn_init(struct provider_turn *t);
void provider_turn_release(struct provider_turn *t);

/* Helpers for the parsers (they never fail: they mark the turn). */
void provider_turn_bad(struct provider_turn *t, const char *what);
/* what ("a body", "a stream event") did not parse as a JSON object: says
 * which way (a number past 64 bits is not "not a JSON object"); never
 * quotes the text, which may hold an echoed key. */
void provider_turn_bad_json(struct provider_turn *t, const char *what, const json_t *root,
			    const json_error_t *je);
void provider_turn_error(struct provider_turn *t, json_t *error);
void provider_turn_set(char **slot, json_t *str);
/* The tool call at index (created when new): id and name set when given,
 * args appended to its arguments text. */
void provider_turn_tool(struct provider_turn *t, size_t index, const char *id,
			const char *name, const char *args, size_t args_len);

/* Full jitter: uniform in [0, min(retry_max, base * 2^(n-1))] after
 * attempt n. */
long provider_backoff_ms(const struct provider_opts *o, int n);
/* Sleeps ms in short slices so that Ctrl-C acts at once; -ECANCELED when
 * a signal asked to stop. */
int provider_sleep(long ms);
/* The options' own sense (a kind, a model name, no negative waits): 0,
 * or -EINVAL with err saying which. */
int provider_check_opts(const struct provider_opts *o, struct buf *err);
/* Stores a non-negative integer; returns 1 when v was one. */
int provider_json_long(json_t *v, long *out);

/* A whole JSON reply, error body or reply text: the 16 MiB reply cap. */
#define PROVIDER_MAX_BODY (16u << 20)

#define PROVIDER_MAX_HEADERS 8

struct provider_wire {
	const char *kind;
	const char *default_base_url;
	const char *path;     /* appended to base_url */
	const char *key_hint; /* where users keep the key, for messages */
	/* The request body; NULL only on allocation failure. */
	json_t *(*body)(const struct provider_opts *o, const struct provider_request *rq);
	/* Fills h (NULL-terminated, malloc'd strings) with the kind's own
	 * headers; content-type is added by the caller. */
	void (*headers)(const struct provider_opts *o, char *h[PROVIDER_MAX_HEADERS]);
	/* One SSE event of a streamed reply.  Returns 0, or a negative errno
	 * to stop the stream early (after marking the turn). */
	int (*event)(struct provider_turn *t, const char *name, const char *data,
		     size_t len);
	/* A whole JSON reply (stream off, or a server that ignored it). */
	void (*whole)(struct provider_turn *t, json_t *root);
};

extern const struct provider_wire provider_openai_wire;
extern const struct provider_wire provider_anthropic_wire;

/* Replay of a recorded transcript (provider_replay.c). */
struct provider_replay;
int provider_replay_open(const char *path, struct provider_replay **out, struct buf *err);
/* Fills t with the next recorded turn; -ENODATA when all were used. */
int provider_replay_next(struct provider_replay *r, struct provider_turn *t,
			 struct buf *err);
void provider_replay_free(struct provider_replay *r);
/* Moves past n turns (a resumed run's replies already used). */
void provider_replay_skip(struct provider_replay *r, size_t n);

#endif
