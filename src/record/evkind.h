/*
 * evkind: the names of the event kinds, in one place.
 *
 * Every record of a run's events.jsonl has a "kind".  Writers pass these
 * to events_append (record/events.h) and readers (engine/resume, the
 * store's ingest table, report/runlog and the HTML page, cli/ui, show,
 * review, gate check) compare against the same names, so a kind is
 * spelled once.  A new kind: a constant here (and a builder in
 * record/evbody.h when its body is built in more than one place), its
 * writer, and its readers; docs/manual.md documents the log's records.
 * The strings are the on-disk format: never rename one (old logs, resume
 * and audit verification read them).
 */
#ifndef LOOPGATE_EVKIND_H
#define LOOPGATE_EVKIND_H

/* a run */
#define EV_RUN_START	   "run_start"
#define EV_RUN_END	   "run_end"
#define EV_RESUME	   "resume"
#define EV_RESUME_FAILED   "resume_failed"
#define EV_SANDBOX	   "sandbox"
#define EV_POLICY	   "policy"
#define EV_PREFLIGHT	   "preflight"
#define EV_FRESH	   "fresh"
#define EV_CARRIED_CHANGES "carried_changes"
#define EV_BASELINE	   "baseline"
#define EV_BUDGET	   "budget"
/* an iteration */
#define EV_ITERATION_START "iteration_start"
#define EV_ITERATION_END   "iteration_end"
#define EV_ACTOR_START	   "actor_start"
#define EV_ACTOR_END	   "actor_end"
#define EV_MODEL_REQUEST   "model_request"
#define EV_MODEL_ATTEMPT   "model_attempt"
#define EV_MODEL_RESPONSE  "model_response"
#define EV_EDITS	   "edits"
#define EV_TOOL_CALL	   "tool_call"
#define EV_SKILLS	   "skills"
#define EV_MCP		   "mcp"
#define EV_DIFF		   "diff"
#define EV_COMMIT	   "commit"
#define EV_INTEGRITY	   "integrity"
/* the judge */
#define EV_GATE_START	  "gate_start"
#define EV_GATE_END	  "gate_end"
#define EV_GATE_CACHED	  "gate_cached"
#define EV_FINGERPRINT	  "fingerprint"
#define EV_FLAKY	  "flaky"
#define EV_TEST_FLOOR	  "test_floor"
#define EV_ESCALATION	  "escalation"
#define EV_REVERIFY_START "reverify_start"
#define EV_REVERIFY_END	  "reverify_end"
#define EV_VOTE		  "vote"    /* one verifier call: engine/verify.h */
#define EV_VERDICT	  "verdict" /* the panel's tally */
/* fan-out (engine/fanout.h) */
#define EV_FANOUT_START "fanout_start"
#define EV_WORKER_START "worker_start"
#define EV_WORKER_END	"worker_end"
#define EV_WORKER_STATE "worker_state" /* a cluster job's state changed */
#define EV_CANDIDATE	"candidate"
#define EV_SELECTED	"selected"
#define EV_TASK_MERGE	"task_merge"
/* after the run, and the log itself */
#define EV_REVIEW	    "review"
#define EV_REVIEW_REQUESTED "review_requested"
#define EV_RECOVERED_TAIL   "recovered_tail"

#endif
