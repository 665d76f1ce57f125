/*
 * Unit tests for the event log's hash chain: src/events.c writes it,
 * src/audit.c verifies it.  Each test builds a real log with events_open
 * and events_append in a temporary directory, tampers with a copy the way
 * an editor or a script would, and checks what audit_verify says (and,
 * for the cut-and-forged log, what checkpoint_verify says).
 */
#include "unit.h"
#include "record/audit.h"
#include "record/events.h"
#include "record/checkpoint.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define NREC 5		/* records after the header: seq 1..5, lines 2..6 */

static char dir[] = "/tmp/loopgate-audit-XXXXXX";
static char head_of_log[65];

/* ---- helpers ------------------------------------------------------------ */

static char *path_of(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* A fresh log of NREC records at dir/name; its path. */
static char *make_log(const char *name)
{
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT;
	char *path = path_of(name);
	int i;

	unlink(path);
	CHECK_INT(events_open(&ev, path, "run-test", &err), 0);
	for (i = 1; i <= NREC; i++)
		CHECK_INT(events_append(&ev, "step", json_pack("{s:i,s:s}", "i", i,
				       "text", "hello world")), 0);
	memcpy(head_of_log, ev.head, sizeof(head_of_log));
	events_close(&ev);
	buf_release(&err);
	return path;
}

static struct buf slurp(const char *path)
{
	struct buf b = BUF_INIT;

	CHECK_INT(buf_read_file(&b, path), 0);
	return b;
}

static void spit(const char *path, const char *s, size_t len)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_INT(fwrite(s, 1, len, f), len);
	fclose(f);
}

/* Splits b into lines (each keeps its newline); returns the count. */
static size_t split(struct buf *b, char **line, size_t *len, size_t max)
{
	size_t n = 0;
	char *p = b->s, *end = b->s + b->len, *nl;

	while (p < end && n < max) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line[n] = p;
		len[n] = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		p += len[n++];
	}
	return n;
}

/* Writes the lines of the log at src in the order given (1-based line
 * numbers, 0 ends) to dir/name; returns its path. */
static char *rewrite(const char *src, const char *name, const int *order)
{
	struct buf b = slurp(src), out = BUF_INIT;
	char *line[64], *path = path_of(name);
	size_t len[64], n = split(&b, line, len, 64);

	for (; *order; order++)
		if ((size_t)*order <= n)
			buf_add(&out, line[*order - 1], len[*order - 1]);
	spit(path, out.s, out.len);
	buf_release(&b);
	buf_release(&out);
	return path;
}

static struct audit_result verify(const char *path)
{
	struct audit_result res;
	struct buf err = BUF_INIT;

	CHECK_INT(audit_verify(path, &res, &err), 0);
	buf_release(&err);
	return res;
}

/* One chained record line, forged by someone who sees the log's last
 * line (so knows its "h") but nothing secret: there is nothing secret. */
static char *forge(long seq, const char *prev, const char *kind, char h[65])
{
	json_t *rec = json_pack("{s:I,s:s,s:s,s:{s:s},s:s}", "seq", (json_int_t)seq,
				"ts", "2026-01-01T00:00:00.000Z", "kind", kind,
				"body", "forged", "yes", "prev", prev);
	char *s;

	CHECK_INT(audit_record_hash(rec, h), 0);
	json_object_set_new(rec, "h", json_string(h));
	s = json_dumps(rec, AUDIT_JSON_FLAGS);
	json_decref(rec);
	return s;
}

/* ---- tests -------------------------------------------------------------- */

TEST(intact_log_verifies)
{
	char *p = make_log("ok.jsonl");
	struct audit_result r = verify(p);

	CHECK_INT(r.status, AUDIT_INTACT);
	CHECK_INT(r.records, NREC + 1);
	CHECK_INT(r.last_seq, NREC);
	CHECK_STR(r.head, head_of_log);
	CHECK_STR(r.run_id, "run-test");
	CHECK(r.reason == NULL);
	free(p);
}

TEST(header_opens_the_chain)
{
	char *p = make_log("hdr.jsonl");
	struct buf b = slurp(p);

	CHECK(!strncmp(b.s, "{\"body\":{\"format\":\"loopgate-events-1\",\"nonce\":\"", 47));
	CHECK_CONTAINS(b.s, "\"kind\":\"header\",\"prev\":\"" AUDIT_ZERO_HASH
		       "\",\"seq\":0,");
	CHECK_CONTAINS(b.s, "\"run_id\":\"run-test\"");
	buf_release(&b);
	free(p);
}

TEST(open_refuses_an_existing_log)
{
	char *p = make_log("exists.jsonl");
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT;

	CHECK_INT(events_open(&ev, p, "again", &err), -EEXIST);
	CHECK_CONTAINS(err.s, "cannot create the event log");
	events_close(&ev);
	buf_release(&err);
	free(p);
}

TEST(bit_flip_in_a_body_value_is_a_bad_hash)
{
	char *p = make_log("flip.jsonl");
	struct buf b = slurp(p);
	char *line[16], *hit, *q = path_of("flip-t.jsonl");
	size_t len[16];
	struct audit_result r;

	split(&b, line, len, 16);
	hit = strstr(line[3], "hello world");	/* line 4: seq 3 */
	CHECK(hit != NULL && hit < line[4]);
	hit[0] ^= 0x02;				/* 'h' -> 'j' */
	spit(q, b.s, b.len);
	r = verify(q);
	CHECK_INT(r.status, AUDIT_TAMPERED);
	CHECK_INT(r.bad_line, 4);
	CHECK_INT(r.bad_seq, 3);
	CHECK_STR(r.reason, "bad hash");
	CHECK_INT(r.records, 3);
	buf_release(&b);
	free(p);
	free(q);
}

TEST(flip_in_seq_or_h_is_a_bad_hash)
{
	char *p = make_log("flip2.jsonl");
	struct buf b = slurp(p);
	char *line[16], *q = path_of("flip2-t.jsonl"), *s;
	size_t len[16];

	split(&b, line, len, 16);
	s = strstr(line[2], "\"seq\":2");
	CHECK(s != NULL);
	s[6] = '7';				/* seq 2 -> 7 */
	spit(q, b.s, b.len);
	CHECK_STR(verify(q).reason, "bad hash");
	CHECK_INT(verify(q).bad_line, 3);
	s[6] = '2';
	s = strstr(line[4], "\"h\":\"");
	s[5] = s[5] == 'a' ? 'b' : 'a';		/* its own hash */
	spit(q, b.s, b.len);
	CHECK_STR(verify(q).reason, "bad hash");
	CHECK_INT(verify(q).bad_line, 5);
	buf_release(&b);
	free(p);
	free(q);
}

TEST(deleted_middle_line)
{
	static const int order[] = { 1, 2, 3, 5, 6, 0 };
	char *p = make_log("del.jsonl"), *q = rewrite(p, "del-t.jsonl", order);
	struct audit_result r = verify(q);

	CHECK_INT(r.status, AUDIT_TAMPERED);
	CHECK_INT(r.bad_line, 4);
	CHECK_INT(r.bad_seq, 4);
	CHECK_STR(r.reason, "prev does not match");
	free(p);
	free(q);
}

TEST(deleted_header)
{
	static const int order[] = { 2, 3, 4, 5, 6, 0 };
	char *p = make_log("delh.jsonl"), *q = rewrite(p, "delh-t.jsonl", order);
	struct audit_result r = verify(q);

	CHECK_INT(r.bad_line, 1);
	CHECK_STR(r.reason, "prev does not match");
	free(p);
	free(q);
}

TEST(swapped_lines)
{
	static const int order[] = { 1, 2, 4, 3, 5, 6, 0 };
	char *p = make_log("swap.jsonl"), *q = rewrite(p, "swap-t.jsonl", order);
	struct audit_result r = verify(q);

	CHECK_INT(r.status, AUDIT_TAMPERED);
	CHECK_INT(r.bad_line, 3);
	CHECK_INT(r.bad_seq, 3);
	CHECK_STR(r.reason, "prev does not match");
	free(p);
	free(q);
}

TEST(inserted_copy_of_a_line)
{
	static const int order[] = { 1, 2, 3, 3, 4, 5, 6, 0 };
	char *p = make_log("ins.jsonl"), *q = rewrite(p, "ins-t.jsonl", order);
	struct audit_result r = verify(q);

	CHECK_INT(r.status, AUDIT_TAMPERED);
	CHECK_INT(r.bad_line, 4);
	CHECK_INT(r.bad_seq, 2);
	CHECK_STR(r.reason, "prev does not match");
	free(p);
	free(q);
}

TEST(garbage_line_is_not_json)
{
	char *p = make_log("junk.jsonl"), *q = path_of("junk-t.jsonl");
	struct buf b = slurp(p);
	struct audit_result r;

	buf_adds(&b, "this is not json\n");
	spit(q, b.s, b.len);
	r = verify(q);
	CHECK_INT(r.bad_line, NREC + 2);
	CHECK_STR(r.reason, "not JSON");
	spit(q, "", 0);
	r = verify(q);
	CHECK_INT(r.status, AUDIT_TAMPERED);
	CHECK_STR(r.reason, "empty log (no header)");
	buf_release(&b);
	free(p);
	free(q);
}

TEST(torn_tail_is_reported_distinctly)
{
	char *p = make_log("torn.jsonl"), *q = path_of("torn-t.jsonl");
	struct buf b = slurp(p);
	struct audit_result r;

	spit(q, b.s, b.len - 10);
	r = verify(q);
	CHECK_INT(r.status, AUDIT_TORN);
	CHECK_INT(r.bad_line, NREC + 1);
	CHECK_CONTAINS(r.reason, "torn tail (a crash mid-write)");
	CHECK_INT(r.records, NREC);
	CHECK_INT(r.last_seq, NREC - 1);
	CHECK(r.torn_bytes > 0);
	CHECK_INT(r.intact_bytes + r.torn_bytes, (long long)b.len - 10);
	buf_release(&b);
	free(p);
	free(q);
}

/* A forger who keeps the chain's arithmetic but skips a number. */
TEST(seq_gap_with_a_valid_chain)
{
	char *p = make_log("gap.jsonl"), h[65], *rec;
	struct buf b = slurp(p);
	struct audit_result r;

	rec = forge(NREC + 2, head_of_log, "step", h);
	buf_adds(&b, rec);
	buf_addch(&b, '\n');
	spit(p, b.s, b.len);
	r = verify(p);
	CHECK_INT(r.bad_line, NREC + 2);
	CHECK_INT(r.bad_seq, NREC + 2);
	CHECK_STR(r.reason, "seq gap");
	free(rec);
	buf_release(&b);
	free(p);
}

/*
 * THE GAP, stated honestly: cutting whole lines off the end and appending
 * records forged with a fresh chain from the last kept line's "h" (which
 * the file itself shows) yields a log that verifies.  So does replacing
 * the whole log with a new chain under a new header.  A hash chain with
 * nothing secret and nothing outside the file proves only internal
 * consistency; detecting this needs the signed checkpoints of issue 4
 * (an Ed25519 signature over (seq, h) kept outside the log).  Until then
 * the verifier says "intact" here, and this test pins that down so the
 * day checkpoints land it must be changed on purpose.
 */
/* The chain alone cannot see a log cut after a whole record and continued
 * with forged, correctly chained records; the signed checkpoints can. */
TEST(truncate_and_forge_is_detected_by_checkpoints)
{
	struct checkpoint_key key = CHECKPOINT_KEY_INIT;
	struct checkpoint_list l = CHECKPOINT_LIST_INIT;
	struct checkpoint_result cr;
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT, b;
	char *kp = path_of("forge-key.pem"), *sub = path_of("forge");
	char *p = xasprintf("%s/events.jsonl", sub);
	char *cp = xasprintf("%s/" CHECKPOINT_FILE, sub);
	char prev[65], h[65], *rec, *line[64];
	size_t len[64], n, i;
	struct audit_result r;
	long seq;

	CHECK_INT(mkdir(sub, 0700), 0);
	CHECK_INT(checkpoint_key_load(&key, kp, 1, &err), 0);
	events_set_signer(&ev, &key, 2);	/* header, seq 2, 4, final 5 */
	CHECK_INT(events_open(&ev, p, "run-test", &err), 0);
	for (i = 1; i <= NREC; i++)
		CHECK_INT(events_append(&ev, "step", json_pack("{s:i}", "i", (int)i)), 0);
	events_close(&ev);
	/* keep seq 0..3, then forge seq 4..6 chained from seq 3 */
	b = slurp(p);
	n = split(&b, line, len, 64);
	CHECK_INT(n, NREC + 1);
	buf_setlen(&b, (size_t)(line[4] - b.s));
	spit(p, b.s, b.len);
	r = verify(p);
	CHECK_INT(r.status, AUDIT_INTACT);
	memcpy(prev, r.head, sizeof(prev));
	for (seq = r.last_seq + 1; seq <= r.last_seq + 3; seq++) {
		rec = forge(seq, prev, "run_end", h);
		buf_adds(&b, rec);
		buf_addch(&b, '\n');
		memcpy(prev, h, sizeof(prev));
		free(rec);
	}
	spit(p, b.s, b.len);
	r = verify(p);
	CHECK_INT(r.status, AUDIT_INTACT);	/* the chain alone: not detected */
	CHECK_INT(r.records, 4 + 3);
	CHECK_INT(checkpoint_load(cp, &l, &err), 0);
	CHECK_INT(l.n, 4);
	CHECK_INT(checkpoint_verify(&l, &key, p, &r, &cr, &err), 0);
	CHECK(cr.reason != NULL);		/* the checkpoints: detected */
	CHECK_STR(cr.reason, "checkpoint h mismatch");
	CHECK_INT(cr.bad_seq, 4);		/* the first forged record */
	CHECK_CONTAINS(cr.detail.s, "checkpoint h mismatch at seq 4");
	checkpoint_result_release(&cr);
	checkpoint_list_release(&l);
	checkpoint_key_release(&key);
	unlink(cp);
	unlink(p);
	unlink(kp);
	rmdir(sub);
	buf_release(&b);
	buf_release(&err);
	free(kp);
	free(sub);
	free(p);
	free(cp);
}

TEST(reopen_cuts_a_torn_tail_and_records_it)
{
	char *p = make_log("reopen.jsonl");
	struct buf b = slurp(p), err = BUF_INIT, after;
	struct events ev = EVENTS_INIT;
	struct audit_result torn, r;

	spit(p, b.s, b.len - 7);
	torn = verify(p);
	CHECK_INT(torn.status, AUDIT_TORN);
	CHECK_INT(events_reopen(&ev, p, &err), 0);
	CHECK_INT(ev.seq, NREC);		/* recovered_tail took the torn seq */
	CHECK_INT(events_append(&ev, "step", json_pack("{s:i}", "i", 99)), 0);
	events_close(&ev);
	r = verify(p);
	CHECK_INT(r.status, AUDIT_INTACT);
	CHECK_INT(r.records, NREC + 2);
	CHECK_INT(r.last_seq, NREC + 1);
	after = slurp(p);
	CHECK_CONTAINS(after.s, "\"kind\":\"recovered_tail\"");
	{
		char want[64];
		snprintf(want, sizeof(want), "{\"body\":{\"dropped_bytes\":%lld,"
			 "\"line\":%d}", torn.torn_bytes, NREC + 1);
		CHECK_CONTAINS(after.s, want);
	}
	buf_release(&after);
	buf_release(&b);
	buf_release(&err);
	free(p);
}

TEST(reopen_continues_an_intact_log)
{
	char *p = make_log("cont.jsonl");
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT, after;
	struct audit_result r;

	CHECK_INT(events_reopen(&ev, p, &err), 0);
	CHECK_STR(ev.head, head_of_log);
	CHECK_INT(events_append(&ev, "more", NULL), 0);
	events_close(&ev);
	r = verify(p);
	CHECK_INT(r.status, AUDIT_INTACT);
	CHECK_INT(r.last_seq, NREC + 1);
	after = slurp(p);
	CHECK(strstr(after.s, "recovered_tail") == NULL);
	buf_release(&after);
	buf_release(&err);
	free(p);
}

TEST(reopen_refuses_a_tampered_log)
{
	static const int order[] = { 1, 2, 4, 5, 0 };
	char *p = make_log("reo-bad.jsonl"), *q = rewrite(p, "reo-bad-t.jsonl", order);
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT, before = slurp(q), now;

	CHECK_INT(events_reopen(&ev, q, &err), -EBADMSG);
	CHECK_CONTAINS(err.s, "line 3: prev does not match");
	events_close(&ev);
	now = slurp(q);
	CHECK(now.len == before.len);		/* untouched */
	buf_release(&now);
	buf_release(&before);
	buf_release(&err);
	free(p);
	free(q);
}

TEST(missing_file_is_an_error)
{
	struct audit_result r;
	struct buf err = BUF_INIT;
	char *p = path_of("nope.jsonl");

	CHECK_INT(audit_verify(p, &r, &err), -ENOENT);
	CHECK_CONTAINS(err.s, "cannot open the event log");
	buf_release(&err);
	free(p);
}

/* ---- observers ------------------------------------------------------------ */

/* Each observer appends "<tag>:<kind>," to its own trace. */
struct trace {
	char tag;
	struct buf *out;
};

static void trace_record(void *ctx, const json_t *rec)
{
	struct trace *t = ctx;
	buf_addf(t->out, "%c:%s,", t->tag,
		 json_string_value(json_object_get(rec, "kind")));
}

TEST(every_observer_sees_each_record_in_order)
{
	char *p = path_of("obs.jsonl");
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT, seen = BUF_INIT;
	struct trace a = {'a', &seen}, b = {'b', &seen}, c = {'c', &seen};
	struct events_observer oa = {.record = trace_record, .ctx = &a};
	struct events_observer ob = {.record = trace_record, .ctx = &b};
	struct events_observer oc = {.record = trace_record, .ctx = &c};

	unlink(p);
	/* registered before the log opens, like the CLI's terminal view */
	CHECK_INT(events_observe(&ev, &oa), 0);
	CHECK_INT(events_open(&ev, p, "run-obs", &err), 0);
	CHECK_INT(events_observe(&ev, &ob), 0);
	CHECK_INT(events_append(&ev, "one", json_object()), 0);
	events_unobserve(&ev, &a);
	CHECK_INT(events_observe(&ev, &oc), 0);
	CHECK_INT(events_append(&ev, "two", json_object()), 0);
	CHECK_STR(seen.s, "a:header,a:one,b:one,b:two,c:two,");
	/* the table is bounded: past it, -ENOSPC and nothing changes */
	CHECK_INT(events_observe(&ev, &oa), 0);
	CHECK_INT(events_observe(&ev, &oa), 0);
	CHECK_INT(events_observe(&ev, &oa), -ENOSPC);
	CHECK_INT(ev.nobs, EVENTS_OBSERVERS_MAX);
	events_close(&ev);
	buf_release(&seen);
	buf_release(&err);
	free(p);
}

/* A forked check's log (events_capture): records go to the array, the
 * file and the observers see nothing, and the log's descriptors are
 * forgotten, not closed (they are the parent's). */
TEST(capture_writes_nothing_and_keeps_the_records)
{
	char *p = path_of("cap.jsonl");
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT, seen = BUF_INIT;
	struct trace a = {'a', &seen};
	struct events_observer oa = {.record = trace_record, .ctx = &a};
	json_t *recs = json_array(), *r0, *r1;
	struct stat before, after;
	int fd;

	unlink(p);
	CHECK_INT(events_open(&ev, p, "run-cap", &err), 0);
	CHECK_INT(events_observe(&ev, &oa), 0);
	CHECK_INT(events_append(&ev, "one", json_object()), 0);
	fd = ev.fd;
	CHECK_INT(stat(p, &before), 0);
	events_capture(&ev, recs);
	CHECK_INT(events_append(&ev, "gate_start", json_pack("{s:i}", "gate", 1)), 0);
	CHECK_INT(events_append(&ev, "gate_end", NULL), 0);
	CHECK_INT(events_sync(&ev), 0);
	CHECK_INT(stat(p, &after), 0);
	CHECK_INT(after.st_size, before.st_size);
	CHECK_STR(seen.s, "a:one,");
	CHECK_INT(json_array_size(recs), 2);
	r0 = json_array_get(recs, 0);
	r1 = json_array_get(recs, 1);
	CHECK_STR(json_string_value(json_object_get(r0, "kind")), "gate_start");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(r0, "body"), "gate")), 1);
	CHECK(json_object_get(json_object_get(r1, "body"), "error") != NULL);
	CHECK(fcntl(fd, F_GETFD) >= 0); /* still open: the parent's */
	close(fd);
	events_close(&ev);
	json_decref(recs);
	buf_release(&seen);
	buf_release(&err);
	free(p);
}

static void remove_dir(void)
{
	char *cmd[] = { "ok", "hdr", "exists", "flip", "flip-t", "flip2", "flip2-t",
			"del", "del-t", "delh", "delh-t", "swap", "swap-t", "ins",
			"ins-t", "junk", "junk-t", "torn", "torn-t", "gap", "forge",
			"forge-t", "reopen", "cont", "reo-bad", "reo-bad-t", "obs", "cap", NULL };
	char **c;

	for (c = cmd; *c; c++) {
		char *p = xasprintf("%s/%s.jsonl", dir, *c);
		unlink(p);
		free(p);
	}
	rmdir(dir);
}

/* audit_record_line splices "h" into the one dump it hashes: the line is
 * byte for byte the dump of the record with "h", whatever the body holds
 * (nested objects, escapes, non-ASCII, a key sorting after "h"). */
TEST(record_line_is_the_dump_with_h)
{
	static const char *const bodies[] = {
		"{}", "{\"a\":1,\"z\":[1,2,{\"k\":\"v\"}]}",
		"{\"s\":\"quote \\\" back \\\\ nl \\n \\u00e9 \\u2603\"}",
		"{\"kind\":\"x\",\"prev\":\"y\",\"h\":\"z\"}", NULL};
	for (size_t i = 0; bodies[i]; i++) {
		json_t *rec = json_pack(
			"{s:I,s:s,s:s,s:o,s:s}", "seq", (json_int_t)(i + 7), "ts",
			"2026-12-06T02:33:38.006Z", "kind", "gate_end", "body",
			json_loads(bodies[i], 0, NULL), "prev", AUDIT_ZERO_HASH);
		char h[65], h2[65], *line = audit_record_line(rec, h), *want;
		CHECK_INT(audit_record_hash(rec, h2), 0);
		CHECK_STR(h, h2);
		json_object_set_new(rec, "h", json_string(h));
		want = json_dumps(rec, AUDIT_JSON_FLAGS);
		CHECK(line != NULL);
		CHECK_STR(line ? line : "", want);
		free(line);
		free(want);
		json_decref(rec);
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(intact_log_verifies);
	RUN(record_line_is_the_dump_with_h);
	RUN(header_opens_the_chain);
	RUN(open_refuses_an_existing_log);
	RUN(bit_flip_in_a_body_value_is_a_bad_hash);
	RUN(flip_in_seq_or_h_is_a_bad_hash);
	RUN(deleted_middle_line);
	RUN(deleted_header);
	RUN(swapped_lines);
	RUN(inserted_copy_of_a_line);
	RUN(garbage_line_is_not_json);
	RUN(torn_tail_is_reported_distinctly);
	RUN(seq_gap_with_a_valid_chain);
	RUN(truncate_and_forge_is_detected_by_checkpoints);
	RUN(reopen_cuts_a_torn_tail_and_records_it);
	RUN(reopen_continues_an_intact_log);
	RUN(reopen_refuses_a_tampered_log);
	RUN(every_observer_sees_each_record_in_order);
	RUN(capture_writes_nothing_and_keeps_the_records);
	RUN(missing_file_is_an_error);
	remove_dir();
	return unit_done();
}
