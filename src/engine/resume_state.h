/*
 * resume_state: a run's event log reduced, in one pass, to what resume needs.
 *
 *   struct resume_state s;
 *   resume_state_init(&s);
 *   for each record of events.jsonl, in log order:
 *           resume_apply(&s, rec);
 *   ... s.ended, s.started, s.it[n], s.charges, s.stall, s.head ...
 *   resume_state_release(&s);
 *
 * resume_load does that loop over a log file.  The state is right after
 * every record (a prefix of a log reduces to the state of that prefix), so
 * no question about the log is asked twice and nothing searches backwards.
 *
 * Pure: no files, no run, no config.  It holds references to the records'
 * bodies (json_incref), so the records may be freed after resume_apply.
 * What depends on the configuration (escalation prices, how many gates
 * there are, the fan-out's workers) is applied by the caller from the
 * state: resume.c (resume_run) and fanout_resume.c.
 *
 * A new event kind that changes what resume does: a row in the table in
 * resume_state.c (kind from record/evkind.h -> its apply function) and the
 * field it fills here.  Kinds resume does not care about have no row.
 */
#ifndef LOOPGATE_RESUME_STATE_H
#define LOOPGATE_RESUME_STATE_H

#include <jansson.h>
#include <stddef.h>
#include "base/buf.h"

/* One charge to replay into the budget, in log order. */
enum resume_charge_kind {
	RESUME_CHARGE_ATTEMPT, /* a model_attempt, as on_attempt charged it */
	RESUME_CHARGE_VOTE,    /* a verifier's vote: its recorded spend */
	RESUME_CHARGE_RESUME,  /* a call an earlier resume found killed in flight */
};

struct resume_charge {
	enum resume_charge_kind kind;
	long tokens_in, tokens_out;
	long calls;	     /* a vote's */
	double cost;	     /* a vote's */
	size_t prompt_bytes; /* an attempt's request's; 0 when usage was estimated */
	int escalated;	     /* an attempt of a turn given to the escalation model */
};

/* One iteration (0: the baseline), as its records tell it.  Bodies are
 * the last record of that kind for the iteration, or NULL. */
struct resume_iter {
	int started;	     /* an iteration_start */
	json_t *end;	     /* iteration_end */
	json_t *commit;	     /* commit (sha, files, noop, edit_feedback_file) */
	json_t *edits;	     /* edits (blocks, applied, refused) */
	json_t *integrity;   /* array of its integrity bodies, in order */
	json_t *decider;     /* the gate_end that decided its latest round (a
				gate_cached resolved to the gate_end it stands
				for), NULL when none or unresolved */
	json_t *fingerprint; /* fingerprint, promoted to s->stall at its end */
	int escalations;     /* available escalations waiting for its end */
	/* its spend so far: attempts plus what resumes charged for it */
	long tokens_in, tokens_out;
	double cost;
	/* the model call: the last request and attempt, with their places */
	json_t *request, *attempt;
	long request_seq, attempt_seq;
	int responded; /* a model_response */
};

/* A fan-out coordinator's worker, as its records tell it. */
struct resume_fw {
	char *id;
	int started;	   /* a worker_start */
	json_t *start;	   /* worker_start (settings, handle) */
	json_t *end;	   /* worker_end */
	json_t *candidate; /* candidate: the claim and its check */
	long verified_seq; /* where its candidate was verified, or -1 */
};

struct resume_state {
	long seq;		     /* records applied */
	json_t *run_start, *run_end; /* bodies */
	int baseline, carried;	     /* a baseline / carried_changes record */
	char *head;		     /* the last recorded commit, NULL: the base */
	/* iterations by number, 0 the baseline; ended: 1..ended all ended;
	 * started: ended + 1 when it has begun, else 0 */
	struct resume_iter *it;
	size_t nit;
	long ended, started;
	/* the judge */
	json_t **base_gate; /* baseline gate_end by gate number - 1 */
	size_t nbase_gate;
	json_t *base_decider; /* the baseline's deciding gate_end */
	json_t *gate_files;   /* output_file -> the last gate_end writing it */
	json_t *stall;	      /* fingerprint of the last ended round */
	/* spend: charges in log order, and the escalations (route.h) */
	struct resume_charge *charges;
	size_t ncharges;
	size_t prompt_bytes; /* of the call in progress */
	int escalated;	     /* the call in progress is the escalation model's */
	int escalations_used, escalate_next;
	long responses;	      /* model_response records: replies received */
	long resumes;	      /* resume records */
	long last_resume_seq; /* place of the last one, or -1 */
	/* wall time alive: closed lifetimes, and the open one */
	long long alive_ms, life_start, life_last;
	/* fan-out (a coordinator) */
	int fanned; /* a fanout_start */
	struct resume_fw *fw;
	size_t nfw;
};

void resume_state_init(struct resume_state *s);
void resume_state_release(struct resume_state *s);
/* One record (a whole line of the log, header included) into s. */
void resume_apply(struct resume_state *s, const json_t *rec);
/* Every whole line of the log at path (a torn last line is events_reopen's).
 * 0, or -errno with err set (-EBADMSG: a line that is not a record). */
int resume_load(struct resume_state *s, const char *path, struct buf *err);

/* Wall time the run was alive: each process's first to last record. */
long long resume_state_alive_ms(const struct resume_state *s);
/* The model_request of iteration n still in flight when the log ends (no
 * attempt ended it, it was not refused, no resume came after it), or NULL. */
const json_t *resume_state_in_flight(const struct resume_state *s, long n);
/* The gate_end that decided iteration n's round (0: the baseline), or NULL. */
const json_t *resume_state_decider(const struct resume_state *s, long n);
/* Iteration n, or NULL when the log never named it. */
const struct resume_iter *resume_state_iter(const struct resume_state *s, long n);

#endif
