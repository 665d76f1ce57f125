/*
 * runlog: a finished (or running) run read back from its run directory,
 * the source the HTML report and the live view render.
 *
 *   struct runlog rl = RUNLOG_INIT;
 *   if (runlog_load(&rl, ".loopgate/runs/ID", &err) < 0) ...   err says why
 *   ... rl.its[0] is the baseline round, rl.its[k] iteration k ...
 *   runlog_release(&rl);
 *
 * Everything comes from events.jsonl, checkpoints.jsonl and summary.json
 * (and the files their records name, read by the renderer).  The json_t
 * pointers are owned by rl (runlog_release frees them); only the record
 * bodies named here are kept, read one line at a time.
 *
 * A long run is loaded windowed, so that its size does not set the memory
 * of the process rendering it (`loopgate run` renders its page at the end):
 *
 *   runlog_load_window(&rl, dir, 20, 80, &err);
 *
 * keeps the whole bodies of rl.its[0..19] and of the last 80 rounds; every
 * other round is slim (its.slim): it keeps t0, t1, model_ms, gate_ms, its
 * gates with only gate, passed, cached, describe and counts, its marks with
 * only kind, end (else model) with only tokens_in, tokens_out, cost_usd
 * and status, its commit with only sha (and so its diff), and no actor or
 * edits: what a one-line summary, the gate grid, the plots and the lanes
 * table read.  The HTML page loads every round slim (0, 0) and reads the
 * rounds it shows whole back one at a time (runlog_iter_whole, below).
 * A torn or tampered log still loads: the records read so far are kept and
 * the audit section says where the log breaks.  Lines that are not JSON are
 * counted in rl.bad_lines and skipped.
 */
#ifndef LOOPGATE_RUNLOG_H
#define LOOPGATE_RUNLOG_H

#include <jansson.h>
#include <sys/types.h>
#include "base/buf.h"
#include "record/audit.h"

#define RUNLOG_MAX_LANES 32

struct runlog_iter {
	long n;		  /* 0: baseline */
	int lane;	  /* index into runlog.lanes */
	double t0, t1;	  /* ms since the epoch of its first and last record */
	json_t *gates;	  /* array of gate_end bodies in the order run */
	json_t *marks;	  /* array of {"kind":K,"body":B}: integrity, stall... */
	json_t *model;	  /* model_response body, or NULL */
	json_t *actor;	  /* actor_end body (command actor), or NULL */
	json_t *edits;	  /* edits body, or NULL */
	json_t *commit;	  /* commit body, or NULL */
	json_t *end;	  /* iteration_end body, or NULL: did not finish */
	double model_ms;  /* model attempts (elapsed + waits) */
	double gate_ms;	  /* gate_end durations */
	const char *diff; /* this iteration's patch (into runlog.diffs), or NULL */
	size_t diff_len;
	int slim;	  /* outside the whole window: the fields above only in part */
	off_t off0, off1; /* its records lie between these offsets of events.jsonl */
	char *packed;	  /* a slim round's json fields, as text: see runlog_iter_view */
};

struct runlog {
	char *dir;	/* the run directory as given */
	json_t *start;	/* run_start body, or NULL */
	json_t *end;	/* run_end body, else summary.json, or NULL */
	json_t *budget; /* the last budget record's body, or NULL */
	json_t *record; /* review, resume, recovered_tail, vote records */
	json_t *owned;	/* summary.json and lane names, kept alive here */
	struct runlog_iter *its;
	size_t nits; /* its[0] always exists (the baseline) */
	const char *lanes[RUNLOG_MAX_LANES];
	int nlanes;
	long bad_lines;		/* lines that were not JSON */
	double t_first, t_last; /* ms of the first and last record */
	/* the record section */
	struct audit_result audit;     /* the chain */
	int audit_ok;		       /* audit_verify ran */
	struct buf audit_note;	       /* checkpoints: verified, or why not */
	long checkpoints;	       /* lines in checkpoints.jsonl */
	int checkpoint_final;	       /* the last one is final (log closed) */
	struct buf diffs;	       /* git log --patch of base..branch */
	struct buf diff_note;	       /* why there is no diff, when there is none */
	size_t whole_head, whole_tail; /* the window (runlog_load_window) */
	off_t line_at, line_end;       /* the line being read */
	size_t gates_max;	       /* the most gates a round ran */
};
#define RUNLOG_INIT                                                                      \
	{                                                                                \
		.audit_note = BUF_INIT, .diffs = BUF_INIT, .diff_note = BUF_INIT         \
	}

/* Every round whole. */
int runlog_load(struct runlog *rl, const char *dir, struct buf *err);
/* The first head rounds (its[] order) and the last tail whole, the others
 * slim (see above). */
int runlog_load_window(struct runlog *rl, const char *dir, size_t head, size_t tail,
		       struct buf *err);
void runlog_release(struct runlog *rl);

/* A slim round whole again, read back from events.jsonl (only its own
 * records, between the offsets the load noted), into *w; release it with
 * runlog_iter_release.  A page can so show any number of rounds whole
 * while holding one at a time:
 *
 *   runlog_load_window(&rl, dir, 0, 0, &err);      every round slim
 *   runlog_iter_whole(&rl, &rl.its[i], &w); ... runlog_iter_release(&w);
 */
void runlog_iter_whole(const struct runlog *rl, const struct runlog_iter *it,
		       struct runlog_iter *w);
void runlog_iter_release(struct runlog_iter *it);

/* A slim round holds its json fields (gates, marks, model, end, commit) as
 * compact JSON text, not as objects (packed, non-NULL; the fields NULL):
 * read any round's fields through a view, released with
 * runlog_iter_release.  A round not slim is viewed as it is (references).
 *
 *   struct runlog_iter v;
 *   runlog_iter_view(&rl.its[i], &v); ... v.gates ... runlog_iter_release(&v);
 */
void runlog_iter_view(const struct runlog_iter *it, struct runlog_iter *v);

/* The text of key in o, or dflt. */
const char *runlog_str(const json_t *o, const char *key, const char *dflt);
/* The number at key in o (integer or real), or dflt. */
double runlog_num(const json_t *o, const char *key, double dflt);
/* "2026-12-05T00:09:43.912Z" as ms since the epoch; -1 when malformed. */
double runlog_ts_ms(const char *ts);

#endif
