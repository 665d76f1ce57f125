/*
 * audit.c: the event log's hash chain and its verifier.  See audit.h.
 */
#include "record/audit.h"
#include "base/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 65536

static const char *str_or_empty(json_t *j)
{
	const char *s = json_string_value(j);

	return s ? s : "";
}

static int is_hex64(const char *s)
{
	size_t i;

	if (!s || strlen(s) != 64)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* The canonical dump of rec (malloc'd) and its hash, or NULL. */
static char *hash_canon(json_t *rec, char h[65])
{
	static const char domain[] = AUDIT_DOMAIN; /* its NUL is hashed too */
	const char *prev = json_string_value(json_object_get(rec, "prev"));
	struct buf in = BUF_INIT;
	char *canon;

	if (!is_hex64(prev) || json_object_get(rec, "h"))
		return NULL;
	canon = json_dumps(rec, AUDIT_JSON_FLAGS);
	if (!canon)
		return NULL;
	buf_add(&in, domain, sizeof(domain));
	buf_add(&in, prev, 64);
	buf_addch(&in, '\0');
	buf_adds(&in, canon);
	hash_sha256_hex(in.s, in.len, h);
	buf_release(&in);
	return canon;
}

int audit_record_hash(json_t *rec, char h[65])
{
	char *canon = hash_canon(rec, h);
	free(canon);
	return canon ? 0 : -EINVAL;
}

/* 1 when s is printed by the dump as it is between quotes: printable
 * ASCII without a quote or a backslash. */
static int plain_str(const char *s)
{
	for (; s && *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return 0;
	return s != NULL;
}

/*
 * Sorted keys put "h" between "body" and "kind": the line is the canonical
 * dump with "h":"..." inserted before the tail that follows the body, a
 * tail this function prints itself and checks against the dump's own.
 */
char *audit_record_line(json_t *rec, char h[65])
{
	const char *kind = json_string_value(json_object_get(rec, "kind")),
		   *prev = json_string_value(json_object_get(rec, "prev")),
		   *ts = json_string_value(json_object_get(rec, "ts"));
	json_t *seq = json_object_get(rec, "seq");
	char *canon = hash_canon(rec, h), *line = NULL, *tail = NULL;
	size_t cl, tl;

	if (canon && json_object_size(rec) == 5 && json_object_get(rec, "body") &&
	    plain_str(kind) && plain_str(prev) && plain_str(ts) && json_is_integer(seq))
		tail = xasprintf(
			",\"kind\":\"%s\",\"prev\":\"%s\",\"seq\":%" JSON_INTEGER_FORMAT
			",\"ts\":\"%s\"}",
			kind, prev, json_integer_value(seq), ts);
	if (tail && (cl = strlen(canon)) > (tl = strlen(tail)) &&
	    !strcmp(canon + cl - tl, tail))
		line = xasprintf("%.*s,\"h\":\"%s\"%s", (int)(cl - tl), canon, h, tail);
	free(tail);
	if (canon && !line) {
		json_object_set_new(rec, "h", json_string(h));
		line = json_dumps(rec, AUDIT_JSON_FLAGS);
		json_object_del(rec, "h");
	}
	free(canon);
	return line;
}

/* ---- reading a line at a time ------------------------------------------ */

struct lines {
	int fd;
	char chunk[READ_CHUNK];
	size_t pos, len; /* unread bytes of chunk: [pos, len) */
	int eof;
};

/*
 * The next line into b, without its newline.  1 a whole line, 2 a last
 * line without newline (torn), 0 end of file, -E2BIG a line longer than
 * b's cap, -errno a read error.
 */
static int lines_next(struct lines *lr, struct buf *b)
{
	char *nl;
	ssize_t n;

	buf_reset(b);
	for (;;) {
		if (lr->pos < lr->len) {
			size_t avail = lr->len - lr->pos;
			nl = memchr(lr->chunk + lr->pos, '\n', avail);
			size_t take = nl ? (size_t)(nl - (lr->chunk + lr->pos)) : avail;
			if (buf_add(b, lr->chunk + lr->pos, take) < 0)
				return -E2BIG;
			lr->pos += take + (nl ? 1 : 0);
			if (nl)
				return 1;
		}
		if (lr->eof)
			return b->len ? 2 : 0;
		n = read(lr->fd, lr->chunk, sizeof(lr->chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		lr->pos = 0;
		lr->len = (size_t)n;
		lr->eof = n == 0;
	}
}

/* ---- checking one record ------------------------------------------------ */

/* The bytes of the line must be exactly the canonical dump that was hashed
 * (with "h" added): otherwise two different lines could verify alike. */
static int is_canonical(json_t *rec, const char *line, size_t len)
{
	char *d = json_dumps(rec, AUDIT_JSON_FLAGS);
	int same = d && strlen(d) == len && !memcmp(d, line, len);

	free(d);
	return same;
}

/* Why the record on this line breaks the chain, or NULL when it holds.
 * On success the result's counters move past the record. */
static const char *check_record(struct audit_result *res, long line, const char *s,
				size_t len)
{
	json_t *rec = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *bare;
	const char *why = NULL, *prev, *h, *kind;
	char want[65];
	json_int_t seq;

	if (!json_is_object(rec)) {
		json_decref(rec);
		return "not JSON";
	}
	prev = json_string_value(json_object_get(rec, "prev"));
	h = json_string_value(json_object_get(rec, "h"));
	kind = json_string_value(json_object_get(rec, "kind"));
	if (!json_is_integer(json_object_get(rec, "seq")) || !is_hex64(prev) ||
	    !is_hex64(h) || !kind) {
		json_decref(rec);
		return "not a chained record (seq, kind, prev or h missing)";
	}
	seq = json_integer_value(json_object_get(rec, "seq"));
	res->bad_seq = (long)seq;
	bare = json_copy(rec);
	json_object_del(bare, "h");
	if (audit_record_hash(bare, want) < 0 || strcmp(want, h))
		why = "bad hash";
	else if (!is_canonical(rec, s, len))
		why = "bad hash (the line is not the canonical form that was hashed)";
	else if (strcmp(prev, line == 1 ? AUDIT_ZERO_HASH : res->head))
		why = "prev does not match";
	else if (seq != res->last_seq + 1)
		why = "seq gap";
	else if ((line == 1) != !strcmp(kind, "header"))
		why = line == 1 ? "the first record is not a header" : "a second header";
	else if (line == 1 && strcmp(str_or_empty(json_object_get(
					     json_object_get(rec, "body"), "format")),
				     AUDIT_FORMAT))
		why = "the header is not format " AUDIT_FORMAT;
	if (!why) {
		if (line == 1) {
			json_t *body = json_object_get(rec, "body");
			snprintf(res->run_id, sizeof(res->run_id), "%s",
				 str_or_empty(json_object_get(body, "run_id")));
			snprintf(res->nonce, sizeof(res->nonce), "%s",
				 str_or_empty(json_object_get(body, "nonce")));
		}
		memcpy(res->head, h, 65);
		res->last_seq = (long)seq;
		res->records++;
	}
	json_decref(bare);
	json_decref(rec);
	return why;
}

/* ---- the whole file ----------------------------------------------------- */

static void result_init(struct audit_result *res)
{
	memset(res, 0, sizeof(*res));
	res->status = AUDIT_INTACT;
	res->last_seq = -1;
	res->bad_seq = -1;
}

static void bad(struct audit_result *res, enum audit_status st, long line,
		const char *why)
{
	res->status = st;
	res->bad_line = line;
	res->reason = why;
}

int audit_verify(const char *path, struct audit_result *res, struct buf *err)
{
	return audit_verify_picks(path, NULL, 0, res, err);
}

int audit_verify_picks(const char *path, struct audit_pick *picks, size_t npicks,
		       struct audit_result *res, struct buf *err)
{
	size_t pi = 0;
	struct lines *lr = xcalloc(1, sizeof(*lr));
	struct buf b;
	long line = 0;
	int r;

	result_init(res);
	buf_init(&b, AUDIT_MAX_LINE);
	lr->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (lr->fd < 0) {
		r = err_set(err, -errno, "cannot open the event log %s: %s", path,
			    strerror(errno));
		goto out;
	}
	while ((r = lines_next(lr, &b)) > 0) {
		const char *why;

		line++;
		res->bad_seq = -1;
		if (r == 2) {
			res->torn_bytes = (long long)b.len;
			bad(res, AUDIT_TORN, line,
			    "torn tail (a crash mid-write): "
			    "loopgate run resume/reopen truncates it");
			break;
		}
		if ((why = check_record(res, line, b.s, b.len))) {
			bad(res, AUDIT_TAMPERED, line, why);
			break;
		}
		res->intact_bytes += (long long)b.len + 1;
		for (; pi < npicks && picks[pi].seq <= res->last_seq; pi++)
			if (picks[pi].seq == res->last_seq)
				memcpy(picks[pi].h, res->head, 65);
	}
	if (r == -E2BIG) {
		bad(res, AUDIT_TAMPERED, line + 1, "a line longer than 16 MiB");
	} else if (r < 0) {
		r = err_set(err, r, "cannot read the event log %s: %s", path,
			    strerror(-r));
		goto out;
	}
	if (res->status == AUDIT_INTACT && res->records == 0)
		bad(res, AUDIT_TAMPERED, 1, "empty log (no header)");
	r = 0;
out:
	if (lr->fd >= 0)
		close(lr->fd);
	free(lr);
	buf_release(&b);
	return r;
}
