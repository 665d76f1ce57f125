#!/bin/sh
# The audit log's durability, secrets and signing key, end to end: a failing
# fdatasync stops the run with exit 3 and the log still verifies; an API key
# echoed back by the server never reaches the log, stderr or the reports; the
# run refuses to start without its signing key.
. "$(dirname "$0")/lib.sh"

KEY=sk-loopgate-test-SECRET-0123456789
FIXCMD="sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py"

test_expect_success 'a failing fdatasync, at several points: exit 3, told why, the log verifies' '
	make_repo repo &&
	for n in 2 5 7; do
		expect_code 3 env LOOPGATE_FAULT=fail:fdatasync@$n $LOOPGATE run --dir repo \
			--goal "fix add" --gate "sh test.sh" --agent-cmd "$FIXCMD" \
			--json >s$n.json 2>err$n &&
		grep -q "writing the event log failed (fdatasync: Input/output error)" err$n &&
		run_dir=$(summary_field s$n.json run_dir) &&
		events_ok "$run_dir" &&
		expect_code 0 $LOOPGATE audit verify "$run_dir" >v$n &&
		grep -q "^ok: " v$n &&
		! grep -q "run_end" "$run_dir/events.jsonl" || return 1
	done
'

# One group commit per action (docs/design/durability.md): an iteration's
# last records (iteration_end, budget) are made durable by the next action's
# barrier, not by a sync of their own.  Three iterations of a command actor
# that changes a file: header, setup, baseline gate, then per iteration the
# actor, the commit and the gate, and the seal: 13 fdatasyncs (16 when each
# iteration ended with a sync of its own).  The 13th failing is the seal's.
test_expect_success 'a 3-iteration run makes 13 fdatasyncs: the iteration end shares the next barrier' '
	make_repo rs &&
	actor="echo \$LOOPGATE_ITERATION >n.txt" &&
	expect_code 1 env LOOPGATE_FAULT=fail:fdatasync@14 $LOOPGATE run --dir rs \
		--goal "fix add" --gate "sh test.sh" --agent-cmd "$actor" --max-iterations 3 \
		--stall-after 100 --json >rs14.json 2>err14 &&
	test "$(summary_field rs14.json status)" = budget_exhausted &&
	expect_code 3 env LOOPGATE_FAULT=fail:fdatasync@13 $LOOPGATE run --dir rs \
		--goal "fix add" --gate "sh test.sh" --agent-cmd "$actor" --max-iterations 3 \
		--stall-after 100 --json >rs13.json 2>err13 &&
	grep -q "writing the event log failed (fdatasync: Input/output error)" err13 &&
	run_dir=$(summary_field rs13.json run_dir) &&
	grep -q "run_end" "$run_dir/events.jsonl"
'

# The request is on record before it is sent, or it is not sent: the 4th
# fdatasync (header, setup, baseline gate, then the request's barrier)
# failing stops the run before the model is asked.
test_expect_success 'a failing fdatasync before a model request: the request is not sent' '
	make_repo rq &&
	one_reply rq "$REPLY_FIX" &&
	url=$(start_fake rq rq.json) &&
	expect_code 3 env LOOPGATE_FAULT=fail:fdatasync@4 $LOOPGATE run --dir rq \
		--goal "fix add" --gate "sh test.sh" --model openai/m --base-url "$url" \
		--json >rq.sum 2>rq.err &&
	grep -q "writing the event log failed (fdatasync: Input/output error)" rq.err &&
	test "$(req_count "$TRASH/rq.log")" = 0 &&
	run_dir=$(summary_field rq.sum run_dir) &&
	grep -q "model_request" "$run_dir/events.jsonl" &&
	expect_code 0 $LOOPGATE audit verify "$run_dir" >/dev/null
'

# Every action visible outside the process is on record first, or it does
# not happen (docs/design/durability.md): the 4th fdatasync is the barrier
# before the first actor turn (header, setup, baseline gate, then the turn)
# and the 5th, in a model run, the one before the reply's edits are applied.
test_expect_success 'a failing fdatasync before an actor turn: the command does not run' '
	make_repo ra &&
	expect_code 3 env LOOPGATE_FAULT=fail:fdatasync@4 $LOOPGATE run --dir ra \
		--no-sandbox --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "touch \"$TRASH/actor-ran\"" --json >ra.sum 2>ra.err &&
	grep -q "writing the event log failed (fdatasync: Input/output error)" ra.err &&
	! test -e "$TRASH/actor-ran" &&
	run_dir=$(summary_field ra.sum run_dir) &&
	grep -q "actor_start" "$run_dir/events.jsonl" &&
	expect_code 0 $LOOPGATE audit verify "$run_dir" >/dev/null &&
	expect_code 1 $LOOPGATE run --dir ra --no-sandbox --goal "fix add" \
		--gate "sh test.sh" --agent-cmd "touch \"$TRASH/actor-ran\"" \
		--max-iterations 1 >/dev/null 2>&1 &&
	test -e "$TRASH/actor-ran"
'

test_expect_success 'a failing fdatasync before the baseline gate: the gate does not run' '
	make_repo rg &&
	expect_code 3 env LOOPGATE_FAULT=fail:fdatasync@3 $LOOPGATE run --dir rg \
		--no-sandbox --goal "fix add" --gate "touch \"$TRASH/gate-ran\"; sh test.sh" \
		--agent-cmd "$FIXCMD" --json >rg.sum 2>rg.err &&
	grep -q "writing the event log failed (fdatasync: Input/output error)" rg.err &&
	! test -e "$TRASH/gate-ran" &&
	run_dir=$(summary_field rg.sum run_dir) &&
	grep -q "gate_start" "$run_dir/events.jsonl" &&
	expect_code 0 $LOOPGATE audit verify "$run_dir" >/dev/null
'

test_expect_success 'a failing fdatasync before a reply is applied: the tree is not changed' '
	make_repo re &&
	one_reply re "$REPLY_FIX" &&
	url=$(start_fake re re.json) &&
	expect_code 3 env LOOPGATE_FAULT=fail:fdatasync@5 $LOOPGATE run --dir re \
		--goal "fix add" --gate "sh test.sh" --model openai/m --base-url "$url" \
		--json >re.sum 2>re.err &&
	grep -q "writing the event log failed (fdatasync: Input/output error)" re.err &&
	test "$(req_count "$TRASH/re.log")" = 1 &&
	run_dir=$(summary_field re.sum run_dir) &&
	grep -q "model_response" "$run_dir/events.jsonl" &&
	! grep -q "\"edits\"" "$run_dir/events.jsonl" &&
	grep -q "a - b" "$run_dir/tree/calc.py" &&
	expect_code 0 $LOOPGATE audit verify "$run_dir" >/dev/null
'

test_expect_success 'the first fdatasync (the header) failing: exit 3 before anything runs' '
	make_repo repo &&
	expect_code 3 env LOOPGATE_FAULT=fail:fdatasync@1 $LOOPGATE run --dir repo \
		--goal "fix add" --gate "sh test.sh" --agent-cmd "$FIXCMD" 2>err &&
	grep -q "writing the event log failed (fdatasync: Input/output error)" err &&
	test "$(git -C repo rev-parse HEAD)" = "$(git -C repo rev-parse main)"
'

test_expect_success 'without the fault the same run converges and its log is sealed' '
	make_repo repo &&
	expect_code 0 $LOOPGATE run --dir repo --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "$FIXCMD" --json >ok.json 2>err &&
	run_dir=$(summary_field ok.json run_dir) &&
	expect_code 0 $LOOPGATE audit verify "$run_dir" >v &&
	grep -q "signed up to seq $(($(wc -l <"$run_dir/events.jsonl") - 1)) (final)" v
'

test_expect_success 'a run killed after a record: no final checkpoint, the log verifies with a note' '
	make_repo rkill &&
	expect_code 137 env LOOPGATE_FAULT=kill:event.gate_end@2 $LOOPGATE run --dir rkill \
		--goal "fix add" --gate "sh test.sh" --agent-cmd "$FIXCMD" 2>kerr &&
	run_dir=$(ls -d rkill/.loopgate/runs/*) &&
	test "$(events_kinds "$run_dir" | tail -n 1)" = gate_end &&
	! grep -q "\"final\":true" "$run_dir/checkpoints.jsonl" &&
	expect_code 0 $LOOPGATE audit verify "$run_dir" >v &&
	grep -q "^ok: " v &&
	grep -q "note: the last [0-9]* records (seq 1\.\." v
'

test_expect_success 'an API key echoed by the server never reaches the log, stderr or reports' '
	make_repo rk &&
	python3 -c "import json,sys; k=sys.argv[1]; print(json.dumps({\"replies\": [
		{\"status\": 401, \"body\": json.dumps({\"error\": {\"message\": \"bad key \" + k,
		 \"type\": \"invalid_request_error\"}})}]}))" "$KEY" >bad.json &&
	url=$(start_fake bad bad.json) &&
	expect_code 3 env OPENAI_API_KEY=$KEY $LOOPGATE run --dir rk --goal "fix add" \
		--gate "sh test.sh" --model openai/m --base-url "$url" --json >bad.sum 2>bad.err &&
	test "$(req_field bad.log 1 "h[\"authorization\"]")" = "Bearer $KEY" &&
	run_dir=$(summary_field bad.sum run_dir) &&
	grep -q "REDACTED\|redacted" "$run_dir/events.jsonl" &&
	! grep -rq "$KEY" "$run_dir" bad.err bad.sum &&
	test -f "$run_dir/summary.json" && test -f "$run_dir/events.jsonl"
'

# The reply itself is kept verbatim in iter-N/response.md (the model's side
# of the record); what loopgate writes about it is redacted.  Here the reply
# makes loopgate quote the key: it creates a file named after it.
test_expect_success 'a reply that makes loopgate quote the key: redacted in the log, handoff.md, summary.json' '
	make_repo rq &&
	python3 -c "import json,sys; k=sys.argv[1]; print(json.dumps({\"replies\":
		[{\"content\": \"Noting your key.\\n\\n<<<<<<< FILE notes-\" + k +
		  \".txt\\n\" + k + \"\\n>>>>>>> END\\n\"}],
		\"repeat_last\": True}))" "$KEY" >quote.json &&
	url=$(start_fake quote quote.json) &&
	expect_code 1 env OPENAI_API_KEY=$KEY $LOOPGATE run --dir rq --goal "fix add" \
		--gate "sh test.sh" --model openai/m --base-url "$url" --max-iterations 2 \
		--json >q.sum 2>q.err &&
	run_dir=$(summary_field q.sum run_dir) &&
	git -C "$run_dir/tree" ls-files | grep -q "^notes-$KEY.txt$" &&
	grep -q "notes-\[REDACTED\].txt" "$run_dir/events.jsonl" &&
	for f in events.jsonl handoff.md summary.json checkpoints.jsonl; do
		test -f "$run_dir/$f" && ! grep -q "$KEY" "$run_dir/$f" || return 1
	done &&
	! grep -q "$KEY" q.err q.sum &&
	expect_code 0 $LOOPGATE audit verify "$run_dir"
'

test_expect_success 'a command actor handed a key through agent_env: the key is redacted too' '
	make_repo ra &&
	expect_code 1 env ANTHROPIC_API_KEY=$KEY $LOOPGATE run --dir ra --goal "fix add" \
		--gate "sh test.sh" --agent-env ANTHROPIC_API_KEY --max-iterations 1 \
		--agent-cmd "echo \$ANTHROPIC_API_KEY >notes-\$ANTHROPIC_API_KEY.txt" \
		--json >a.sum 2>a.err &&
	run_dir=$(summary_field a.sum run_dir) &&
	git -C "$run_dir/tree" ls-files | grep -q "^notes-$KEY.txt$" &&
	grep -q "notes-\[REDACTED\].txt" "$run_dir/events.jsonl" &&
	for f in events.jsonl handoff.md summary.json; do
		! grep -q "$KEY" "$run_dir/$f" || return 1
	done &&
	! grep -q "$KEY" a.err a.sum
'

# default_key_run: a run with the default signing key, which makes the key
# in the case's HOME (~/.config/loopgate/audit-key.pem).
default_key_run() {
	make_repo keyrepo &&
	expect_code 0 $LOOPGATE run --dir keyrepo --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "$FIXCMD" >/dev/null 2>&1
}

test_expect_success 'the signing key is created 0600 in a 0700 directory, outside the repo' '
	default_key_run &&
	test "$(stat -c %a "$HOME/.config/loopgate")" = 700 &&
	test "$(stat -c %a "$HOME/.config/loopgate/audit-key.pem")" = 600 &&
	grep -q "BEGIN PRIVATE KEY" "$HOME/.config/loopgate/audit-key.pem"
'

test_expect_success 'no usable key: the run refuses to start (exit 3), naming the path and audit_key' '
	default_key_run &&
	make_repo rr &&
	expect_code 3 env LOOPGATE_AUDIT_KEY="$PWD/rr/key.pem" $LOOPGATE run --dir rr \
		--goal g --gate "sh test.sh" --agent-cmd true 2>err1 &&
	grep -q "audit signing key .*rr/key.pem is inside the repository" err1 &&
	grep -q "audit_key:" err1 &&
	test ! -e rr/key.pem && test ! -e rr/.loopgate/runs &&
	echo junk >notkey.pem && chmod 600 notkey.pem &&
	expect_code 3 env LOOPGATE_AUDIT_KEY="$PWD/notkey.pem" $LOOPGATE run --dir rr \
		--goal g --gate "sh test.sh" --agent-cmd true 2>err2 &&
	grep -q "notkey.pem is not an Ed25519 private key" err2 &&
	: >afile &&
	expect_code 3 env LOOPGATE_AUDIT_KEY="$PWD/afile/key.pem" $LOOPGATE run --dir rr \
		--goal g --gate "sh test.sh" --agent-cmd true 2>err3 &&
	grep -q "audit signing key .*afile/key.pem: Not a directory" err3 &&
	cp "$HOME/.config/loopgate/audit-key.pem" open.pem && chmod 644 open.pem &&
	expect_code 3 env LOOPGATE_AUDIT_KEY="$PWD/open.pem" $LOOPGATE run --dir rr \
		--goal g --gate "sh test.sh" --agent-cmd true 2>err4 &&
	grep -q "open.pem can be read by others (mode 0644).*chmod 600" err4 &&
	test ! -e rr/.loopgate/runs
'

test_expect_success 'audit_key: in loopgate.yaml names the key; $LOOPGATE_AUDIT_KEY wins over it' '
	default_key_run &&
	make_repo rc &&
	printf "audit_key: %s\n" "$PWD/cfg-key.pem" >rc/loopgate.yaml &&
	git -C rc add loopgate.yaml && git -C rc commit -qm cfg &&
	expect_code 1 $LOOPGATE run --dir rc --goal g --gate "sh test.sh" \
		--agent-cmd true --max-iterations 1 --json >c.sum 2>/dev/null &&
	test -f cfg-key.pem &&
	run_dir=$(summary_field c.sum run_dir) &&
	expect_code 1 $LOOPGATE audit verify "$run_dir" >out &&
	grep -q "was signed by key" out &&
	expect_code 0 $LOOPGATE audit verify "$run_dir" --key cfg-key.pem &&
	expect_code 0 $LOOPGATE audit verify "$(summary_field c.sum run_id)" --dir rc &&
	(cd rc && expect_code 0 $LOOPGATE audit verify "$(summary_field ../c.sum run_id)") &&
	expect_code 0 env LOOPGATE_AUDIT_KEY="$PWD/cfg-key.pem" $LOOPGATE audit verify "$run_dir" &&
	expect_code 1 env LOOPGATE_AUDIT_KEY="$PWD/env-key.pem" $LOOPGATE run --dir rc \
		--goal g --gate "sh test.sh" --agent-cmd true --max-iterations 1 >/dev/null 2>&1 &&
	test -f env-key.pem
'

test_done
