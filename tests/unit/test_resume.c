/*
 * Unit tests for src/engine/resume_state.c: the reducer resume runs over
 * a run's event log.  Each case is a hand-written log (records in order)
 * and the state it must reduce to: what ended, what is in progress, the
 * head, the stall counters, the deciding gate, the call in flight, the
 * spend and the time alive.  Then the fan-out coordinator's workers, a
 * torn log, and a prefix of a log reducing to the state of that prefix.
 */
#include "unit.h"
#include "engine/resume_state.h"
#include "record/evkind.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* A record at second S of 10:00 (two digits), of kind K, with body B. */
#define R(S, K, B)                                                                       \
	"{\"ts\":\"2026-12-05T10:00:" S ".000Z\",\"kind\":\"" K "\",\"body\":" B "}\n"

/* A run's start, its baseline failing gate 1 (output base-1.out), with
 * fingerprint f0: the state every case below starts from. */
#define START                                                                            \
	R("00", EV_RUN_START, "{\"base\":\"b0\",\"config\":{}}")                         \
	R("01", EV_GATE_END,                                                             \
	  "{\"iteration\":0,\"gate\":1,\"passed\":false,\"describe\":\"base "            \
	  "fails\",\"output_file\":\"iter-000/gate-1.out\",\"counts\":{"                 \
	  "\"executed\":4}}")                                                            \
	R("02", EV_BASELINE, "{\"gate\":1,\"passed\":false}")                            \
	R("02", EV_FINGERPRINT,                                                          \
	  "{\"iteration\":0,\"fingerprint\":\"f0\",\"same_in_a_row\":1}")

/* Iteration N: a model call answered, a commit C, gate 1 failing with
 * output O and fingerprint F, its end. */
#define ITER(N, C, O, F)                                                                 \
	R("03", EV_ITERATION_START, "{\"iteration\":" N "}")                             \
	R("03", EV_MODEL_REQUEST,                                                        \
	  "{\"iteration\":" N ",\"prompt_bytes\":400,\"estimate_tokens_in\":"            \
	  "100,\"refused\":null}")                                                       \
	R("04", EV_MODEL_ATTEMPT,                                                        \
	  "{\"iteration\":" N ",\"tokens_in\":100,\"tokens_out\":10,"                    \
	  "\"cost_usd\":0.5,\"will_retry\":false}")                                      \
	R("04", EV_MODEL_RESPONSE, "{\"iteration\":" N "}")                              \
	R("04", EV_EDITS, "{\"iteration\":" N ",\"blocks\":1,\"applied\":1}")            \
	R("05", EV_COMMIT, "{\"iteration\":" N ",\"sha\":\"" C "\"}")                    \
	R("06", EV_GATE_END,                                                             \
	  "{\"iteration\":" N ",\"gate\":1,\"passed\":false,\"describe\":\"" O           \
	  "\",\"output_file\":\"" O "\"}")                                               \
	R("06", EV_FINGERPRINT,                                                          \
	  "{\"iteration\":" N ",\"fingerprint\":\"" F "\",\"same_in_a_row\":2}")

#define ITER_END(N) R("07", EV_ITERATION_END, "{\"iteration\":" N ",\"gate_failed\":1}")

static const struct {
	const char *name;
	const char *log;
	long ended, started;
	const char *head;    /* the last recorded commit, NULL: the base */
	const char *stall;   /* the stall fingerprint, NULL: none */
	const char *decider; /* describe of the deciding gate_end of `ended` */
	long in_flight;	     /* estimate_tokens_in of `started`'s call, -1 */
	long resumes, responses;
	size_t charges;
	long long alive_ms;
} cases[] = {
	{"killed before the baseline", R("00", EV_RUN_START, "{}"), 0, 0, NULL, NULL,
	 NULL, -1, 0, 0, 0, 0},
	{"baseline done", START, 0, 0, NULL, "f0", "base fails", -1, 0, 0, 0, 2000},
	{"two iterations ended",
	 START ITER("1", "c1", "o1", "f1") ITER_END("1") ITER("2", "c2", "o2", "f2")
		 ITER_END("2"),
	 2, 0, "c2", "f2", "o2", -1, 0, 2, 2, 7000},
	{"a cached gate stands for the gate_end that wrote its output",
	 START ITER("1", "c1", "o1", "f1") ITER_END("1")
		 R("08", EV_ITERATION_START, "{\"iteration\":2}")
			 R("08", EV_COMMIT, "{\"iteration\":2,\"sha\":\"c2\"}")
				 R("09", EV_GATE_CACHED,
				   "{\"iteration\":2,\"gate\":1,\"output_file\":\"o1\"}")
					 ITER_END("2"),
	 2, 0, "c2", "f1", "o1", -1, 0, 1, 1, 7000},
	{"a cached gate whose gate_end is not in the log decides nothing",
	 START R("03", EV_ITERATION_START, "{\"iteration\":1}")
		 R("05", EV_GATE_CACHED, "{\"iteration\":1,\"output_file\":\"gone\"}")
			 ITER_END("1"),
	 1, 0, NULL, "f0", NULL, -1, 0, 0, 0, 7000},
	{"torn iteration: killed while the model call was in flight",
	 START ITER("1", "c1", "o1", "f1") ITER_END("1") R("08", EV_ITERATION_START,
							   "{\"iteration\":2}")
		 R("08", EV_MODEL_REQUEST,
		   "{\"iteration\":2,\"estimate_tokens_in\":500,\"refused\":null}"),
	 1, 2, "c1", "f1", "o1", 500, 0, 1, 1, 8000},
	{"torn iteration: the attempt said it would retry",
	 START R("03", EV_ITERATION_START, "{\"iteration\":1}")
		 R("03", EV_MODEL_REQUEST,
		   "{\"iteration\":1,\"estimate_tokens_in\":300,\"refused\":null}")
			 R("04", EV_MODEL_ATTEMPT,
			   "{\"iteration\":1,\"tokens_in\":0,\"will_retry\":true}"),
	 0, 1, NULL, "f0", "base fails", 300, 0, 0, 1, 4000},
	{"torn iteration: the call ended, its reply not yet saved",
	 START R("03", EV_ITERATION_START, "{\"iteration\":1}")
		 R("03", EV_MODEL_REQUEST,
		   "{\"iteration\":1,\"estimate_tokens_in\":300,\"refused\":null}")
			 R("04", EV_MODEL_ATTEMPT,
			   "{\"iteration\":1,\"tokens_in\":280,\"will_retry\":false}"),
	 0, 1, NULL, "f0", "base fails", -1, 0, 0, 1, 4000},
	{"a refused request was never sent",
	 START R("03", EV_ITERATION_START, "{\"iteration\":1}")
		 R("03", EV_MODEL_REQUEST,
		   "{\"iteration\":1,\"estimate_tokens_in\":300,\"refused\":\"budget\"}"),
	 0, 1, NULL, "f0", "base fails", -1, 0, 0, 0, 3000},
	{"SIGKILL mid-gate: the round's fingerprint is not the stall's",
	 START ITER("1", "c1", "o1", "f1"), 0, 1, "c1", "f0", "base fails", -1, 0, 1, 1,
	 6000},
	{"a resume charged the call in flight; killed again before asking",
	 START R("03", EV_ITERATION_START, "{\"iteration\":1}")
		 R("03", EV_MODEL_REQUEST,
		   "{\"iteration\":1,\"estimate_tokens_in\":300,\"refused\":null}")
			 R("40", EV_RESUME,
			   "{\"resumes\":1,\"phase\":\"actor\",\"charged\":{"
			   "\"iteration\":1,\"tokens_in\":300,\"tokens_out\":0,"
			   "\"cost_usd\":0.25}}"),
	 0, 1, NULL, "f0", "base fails", -1, 1, 0, 1, 3000},
	{"a resume record followed by more iterations",
	 START R("03", EV_ITERATION_START, "{\"iteration\":1}")
		 R("03", EV_MODEL_REQUEST,
		   "{\"iteration\":1,\"estimate_tokens_in\":300,\"refused\":null}")
			 R("03", EV_RESUME,
			   "{\"resumes\":1,\"charged\":{\"iteration\":1,\"tokens_in\":"
			   "300}}") ITER("1", "c1", "o1", "f1") ITER_END("1")
				 ITER("2", "c2", "o2", "f2") ITER_END("2"),
	 /* alive: 00..03, then from the resume at 03 to 07 */
	 2, 0, "c2", "f2", "o2", -1, 1, 2, 3, 7000},
	{"carried changes are the head until a commit",
	 R("00", EV_RUN_START, "{}")
		 R("01", EV_CARRIED_CHANGES, "{\"sha\":\"dirty\",\"files\":[\"a\"]}"),
	 0, 0, "dirty", NULL, NULL, -1, 0, 0, 0, 1000},
};

static void reduce(struct resume_state *s, const char *log)
{
	const char *p = log, *nl;
	resume_state_init(s);
	while ((nl = strchr(p, '\n'))) {
		json_error_t je;
		json_t *rec = json_loadb(p, (size_t)(nl - p), 0, &je);
		if (!rec)
			fprintf(stderr, "bad test record: %s: %.*s\n", je.text,
				(int)(nl - p), p);
		CHECK(rec != NULL);
		if (rec)
			resume_apply(s, rec);
		json_decref(rec); /* the state holds what it needs */
		p = nl + 1;
	}
}

static const char *str_or_null(const json_t *o, const char *k)
{
	return o ? json_string_value(json_object_get(o, k)) : NULL;
}

static void check_str(const char *name, const char *what, const char *got,
		      const char *want)
{
	if (want ? !got || strcmp(got, want) : got != NULL) {
		fprintf(stderr, "%s: %s is %s, expected %s\n", name, what,
			got ? got : "NULL", want ? want : "NULL");
		unit_cur_failed = 1;
	}
}

TEST(table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resume_state s;
		const json_t *req;
		int failed_before = unit_cur_failed;
		unit_cur_failed = 0;
		reduce(&s, cases[i].log);
		CHECK_INT(s.ended, cases[i].ended);
		CHECK_INT(s.started, cases[i].started);
		check_str(cases[i].name, "head", s.head, cases[i].head);
		check_str(cases[i].name, "stall", str_or_null(s.stall, "fingerprint"),
			  cases[i].stall);
		check_str(cases[i].name, "decider",
			  str_or_null(resume_state_decider(&s, s.ended), "describe"),
			  cases[i].decider);
		req = resume_state_in_flight(&s, s.started);
		CHECK_INT(req ? json_integer_value(
					json_object_get(req, "estimate_tokens_in"))
			      : -1,
			  cases[i].in_flight);
		CHECK_INT(s.resumes, cases[i].resumes);
		CHECK_INT(s.responses, cases[i].responses);
		CHECK_INT(s.ncharges, cases[i].charges);
		CHECK_INT(resume_state_alive_ms(&s), cases[i].alive_ms);
		if (unit_cur_failed)
			fprintf(stderr, "  in case: %s\n", cases[i].name);
		unit_cur_failed |= failed_before;
		resume_state_release(&s);
	}
}

/* Each iteration's facts: its commit, edits, integrity and spend. */
TEST(iterations)
{
	struct resume_state s;
	const struct resume_iter *it;
	reduce(&s,
	       START ITER("1", "c1", "o1", "f1")
		       R("06", EV_INTEGRITY, "{\"iteration\":1,\"paths\":[\"t.py\"]}")
			       R("06", EV_INTEGRITY,
				 "{\"iteration\":1,\"paths\":[\"u.py\"]}") ITER_END("1")
				       R("08", EV_ITERATION_START, "{\"iteration\":2}") R(
					       "40", EV_RESUME,
					       "{\"charged\":{\"iteration\":2,"
					       "\"tokens_in\":50,\"cost_usd\":0.1}}")
					       R("41", EV_MODEL_ATTEMPT,
						 "{\"iteration\":2,\"tokens_in\":7,"
						 "\"tokens_out\":3,\"cost_usd\":0.2}"));
	it = resume_state_iter(&s, 1);
	CHECK(it && it->started && it->end);
	CHECK_STR(str_or_null(it->commit, "sha"), "c1");
	CHECK_INT(json_integer_value(json_object_get(it->edits, "applied")), 1);
	CHECK_INT(json_array_size(it->integrity), 2);
	CHECK_INT(it->tokens_in, 100);
	CHECK_INT(it->tokens_out, 10);
	it = resume_state_iter(&s, 2);
	CHECK(it && it->started && !it->end && !it->commit && !it->responded);
	CHECK_INT(it->tokens_in, 57); /* the resume's charge and the attempt */
	CHECK_INT(it->tokens_out, 3);
	CHECK(it->cost > 0.29 && it->cost < 0.31);
	CHECK_INT(s.started, 2);
	CHECK(resume_state_iter(&s, 3) == NULL);
	/* the baseline's counts by gate */
	CHECK_INT(s.nbase_gate, 1);
	CHECK_INT(json_integer_value(json_object_get(
			  json_object_get(s.base_gate[0], "counts"), "executed")),
		  4);
	CHECK(s.baseline && !s.carried);
	resume_state_release(&s);
}

/* Charges in log order: attempts with their request's prompt bytes (none
 * when usage was estimated), escalated ones marked, votes, resumes. */
TEST(charges)
{
	struct resume_state s;
	reduce(&s,
	       START R("03", EV_ITERATION_START, "{\"iteration\":1}") R(
		       "03", EV_MODEL_REQUEST, "{\"iteration\":1,\"prompt_bytes\":800}")
		       R("04", EV_MODEL_ATTEMPT,
			 "{\"iteration\":1,\"tokens_in\":200,\"tokens_out\":5}")
			       R("04", EV_MODEL_ATTEMPT,
				 "{\"iteration\":1,\"tokens_in\":9,\"usage_estimated\":"
				 "true}") R("05", EV_VOTE,
					    "{\"iteration\":1,\"tokens_in\":30,\"tokens_"
					    "out\":4,"
					    "\"calls\":2,\"cost_usd\":0.5}")
				       R("05", EV_ESCALATION,
					 "{\"iteration\":1,\"available\":true}")
					       ITER_END("1") R(
						       "06", EV_MODEL_REQUEST,
						       "{\"iteration\":2,\"role\":"
						       "\"escalation\",\"prompt_bytes\":"
						       "90}")
						       R("07", EV_MODEL_ATTEMPT,
							 "{\"iteration\":2,\"tokens_"
							 "in\":20}"));
	CHECK_INT(s.ncharges, 4);
	CHECK_INT(s.charges[0].kind, RESUME_CHARGE_ATTEMPT);
	CHECK_INT(s.charges[0].prompt_bytes, 800);
	CHECK_INT(s.charges[0].tokens_in, 200);
	CHECK_INT(s.charges[1].prompt_bytes, 0);
	CHECK_INT(s.charges[2].kind, RESUME_CHARGE_VOTE);
	CHECK_INT(s.charges[2].calls, 2);
	CHECK_INT(s.charges[3].escalated, 1);
	CHECK_INT(s.charges[3].prompt_bytes, 90);
	CHECK_INT(s.charges[0].escalated, 0);
	/* the escalation counted once its round ended; its turn has begun */
	CHECK_INT(s.escalations_used, 1);
	CHECK_INT(s.escalate_next, 0);
	resume_state_release(&s);

	/* an escalation of a round that did not end is decided again */
	reduce(&s, START R("03", EV_ITERATION_START, "{\"iteration\":1}") R(
			   "05", EV_ESCALATION, "{\"iteration\":1,\"available\":true}"));
	CHECK_INT(s.escalations_used, 0);
	CHECK_INT(s.escalate_next, 0);
	resume_state_release(&s);
	reduce(&s, START R("03", EV_ITERATION_START, "{\"iteration\":1}")
			   R("05", EV_ESCALATION, "{\"iteration\":1,\"available\":true}")
				   ITER_END("1"));
	CHECK_INT(s.escalations_used, 1);
	CHECK_INT(s.escalate_next, 1);
	resume_state_release(&s);
}

/* A coordinator's log: its workers begun, ended, checked; the first
 * verified claim in log order. */
TEST(fanout_coordinator)
{
	struct resume_state s;
	reduce(&s,
	       START R("03", EV_FANOUT_START, "{\"workers\":3}") R(
		       "03", EV_WORKER_START,
		       "{\"worker\":\"w1\",\"settings\":\"a\",\"handle\":\"job-1\"}")
		       R("03", EV_WORKER_START, "{\"worker\":\"w2\"}") R(
			       "09", EV_WORKER_END,
			       "{\"worker\":\"w2\",\"status\":\"converged\"}")
			       R("10", EV_CANDIDATE,
				 "{\"worker\":\"w2\",\"verified\":true}")
				       R("11", EV_WORKER_END,
					 "{\"worker\":\"w1\",\"status\":\"converged\"}")
					       R("12", EV_CANDIDATE,
						 "{\"worker\":\"w1\",\"verified\":"
						 "true}"));
	CHECK(s.fanned);
	CHECK_INT(s.nfw, 2);
	CHECK_STR(s.fw[0].id, "w1");
	CHECK(s.fw[0].started && s.fw[0].end && s.fw[0].candidate);
	CHECK_STR(str_or_null(s.fw[0].start, "handle"), "job-1");
	CHECK_STR(s.fw[1].id, "w2");
	CHECK(s.fw[1].verified_seq >= 0 && s.fw[1].verified_seq < s.fw[0].verified_seq);
	CHECK_INT(s.ended, 0); /* a coordinator runs no iteration itself */
	resume_state_release(&s);
}

/* A worker's own log (run_start names its coordinator) reduces like any
 * run's: the coordinator's records are not in it. */
TEST(fanout_worker)
{
	struct resume_state s;
	reduce(&s,
	       R("00", EV_RUN_START,
		 "{\"base\":\"b0\",\"fanout\":{\"parent\":\"P\",\"slot\":1}}")
		       R("01", EV_GATE_END,
			 "{\"iteration\":0,\"gate\":1,\"describe\":\"base\","
			 "\"output_file\":\"g\"}") R("02", EV_BASELINE, "{\"gate\":1}")
			       ITER("1", "wc1", "o1", "f1") ITER_END("1")
				       R("08", EV_ITERATION_START, "{\"iteration\":2}"));
	CHECK(!s.fanned && s.nfw == 0);
	CHECK_STR(str_or_null(json_object_get(s.run_start, "fanout"), "parent"), "P");
	CHECK_INT(s.ended, 1);
	CHECK_INT(s.started, 2);
	CHECK_STR(s.head, "wc1");
	resume_state_release(&s);
}

/* A prefix of a log reduces to the state of that prefix: the state after
 * each record is the answer for a log cut there. */
TEST(prefix)
{
	struct resume_state s;
	reduce(&s, START ITER("1", "c1", "o1", "f1"));
	CHECK_INT(s.ended, 0);
	CHECK_INT(s.started, 1);
	json_t *end = json_pack("{s:s,s:s,s:{s:i}}", "ts", "2026-12-05T10:00:07.000Z",
				"kind", EV_ITERATION_END, "body", "iteration", 1);
	resume_apply(&s, end);
	json_decref(end);
	CHECK_INT(s.ended, 1);
	CHECK_INT(s.started, 0);
	CHECK_STR(str_or_null(s.stall, "fingerprint"), "f1");
	CHECK(s.run_end == NULL);
	resume_state_release(&s);
}

/* resume_load reads whole lines: a torn last line (the crash cut the
 * write short) is not a record yet; a bad line inside the log is an error. */
TEST(load_torn)
{
	char path[] = "/tmp/test_resume.XXXXXX";
	const char *whole = START R("03", EV_ITERATION_START, "{\"iteration\":1}");
	const char *torn =
		"{\"ts\":\"2026-12-05T10:00:04.000Z\",\"kind\":\"commit\",\"bo";
	struct resume_state s;
	struct buf err = BUF_INIT;
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(whole, f);
	fputs(torn, f);
	fclose(f);
	resume_state_init(&s);
	CHECK_INT(resume_load(&s, path, &err), 0);
	CHECK_INT(s.seq, 5);
	CHECK_INT(s.started, 1);
	CHECK(s.head == NULL); /* the torn commit never happened */
	resume_state_release(&s);

	f = fopen(path, "w");
	fputs(START, f);
	fputs("not a record\n", f);
	fputs(R("03", EV_ITERATION_START, "{\"iteration\":1}"), f);
	fclose(f);
	resume_state_init(&s);
	CHECK_INT(resume_load(&s, path, &err), -EBADMSG);
	CHECK_CONTAINS(err.s, "line 5");
	resume_state_release(&s);
	buf_release(&err);
	unlink(path);
}

int main(void)
{
	RUN(table);
	RUN(iterations);
	RUN(charges);
	RUN(fanout_coordinator);
	RUN(fanout_worker);
	RUN(prefix);
	RUN(load_torn);
	return unit_done();
}
