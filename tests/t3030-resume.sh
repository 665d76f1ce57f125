#!/bin/sh
# loopgate resume: SIGKILL `loopgate run` at many distinct points, resume
# each, and compare with an uninterrupted run of the same fake replies: the
# same status, iteration count and final tree on the run branch; spend that
# equals the log's model_attempt records plus any resume charge (and the
# uninterrupted run's spend where no call was cut off); a verifying log.
. "$(dirname "$0")/lib.sh"

# Priced, so that cost is counted (and could be counted twice).
cat >"$TRASH/lg.yaml" <<'EOF'
models:
  m:
    provider: openai
    price_in: 1000
    price_out: 2000
EOF

# The scenario: a wrong fix (gate fails), then the right one (gate passes).
two_replies() {
	reply_script wrong-then-fix
}

# lg_run REPO URL [GATE]: the run under test, --json summary on stdout.
lg_run() {
	$LOOPGATE run --dir "$1" --goal "make add() add" --gate "${3:-sh test.sh}" \
		--model openai/m --base-url "$2" --config "$TRASH/lg.yaml" $TRASH_WRITABLE --json
}

# lg_exec: lg_run for a background job whose $! must be loopgate itself.
lg_exec() {
	exec $LOOPGATE run --dir "$1" --goal "make add() add" --gate "${3:-sh test.sh}" \
		--model openai/m --base-url "$2" --config "$TRASH/lg.yaml" $TRASH_WRITABLE --json
}

lg_resume() {
	$LOOPGATE resume "$(ls "$1/.loopgate/runs")" --dir "$1" --json
}

# killed_at REPO FAULT: a run SIGKILLed by LOOPGATE_FAULT=FAULT, then
# resumed (no fault) into resumed.json.
# With a third argument "again", the first reply is scripted twice: the
# killed call consumed one and the resumed run asks again.
killed_at() {
	if [ "${3:-}" = again ]; then
		replies_json "$REPLY_WRONG" "$REPLY_WRONG" "$REPLY_FIX_AFTER_WRONG" >s.json
	else
		two_replies >s.json
	fi
	make_repo "$1"
	url=$(start_fake "$1" s.json)
	LOOPGATE_FAULT=$2 expect_code 137 lg_run "$1" "$url" >/dev/null 2>killed.err
	test "$(ls "$1/.loopgate/runs" | wc -l)" = 1
	! grep -q '"run_end"' "$1"/.loopgate/runs/*/events.jsonl
	lg_resume "$1" >resumed.json 2>resumed.err || { cat resumed.err >&2; return 1; }
}

# check_resumed REPO MODE [REF]: the resumed run ended as the reference
# run REF (default ref) did.  MODE same_spend: and spent what it spent;
# charged: a resume record charged a call cut off; else the log's sum only.
check_resumed() {
	sum=resumed.json ref=${3:-ref}
	refdir=$(ref_path "$ref") || return 1
	id=$(summary_field $sum run_id)
	test "$(summary_field $sum status)" = "$(summary_field "$refdir/$ref.json" status)"
	test "$(summary_field $sum exit_code)" = 0
	test "$(summary_field $sum iterations)" = "$(summary_field "$refdir/$ref.json" iterations)"
	test "$(summary_field $sum resumed)" -ge 1
	test "$(git -C "$1" rev-parse "loopgate/$id^{tree}")" = "$(cat "$refdir/$ref.tree")"
	# the spend is the log's: every attempt and every resume charge, once
	python3 - "$1/.loopgate/runs/$id/events.jsonl" $sum <<-'PY'
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	s = json.load(open(sys.argv[2]))
	att = [r["body"] for r in recs if r["kind"] == "model_attempt"]
	chg = [r["body"]["charged"] for r in recs if r["kind"] == "resume" and r["body"]["charged"]]
	tin = sum(a["tokens_in"] for a in att) + sum(c["tokens_in"] for c in chg)
	tout = sum(a["tokens_out"] for a in att) + sum(c["tokens_out"] for c in chg)
	cost = sum(a["cost_usd"] for a in att) + sum(c["cost_usd"] for c in chg)
	assert (s["tokens_in"], s["tokens_out"]) == (tin, tout), (s, tin, tout)
	assert abs(s["cost_usd"] - cost) < 1e-9, (s["cost_usd"], cost)
	assert s["calls"] == len(att) + len(chg), (s["calls"], len(att), len(chg))
	end = [r for r in recs if r["kind"] == "run_end"]
	assert len(end) == 1 and recs[-1]["kind"] == "run_end", "one run_end, last"
	PY
	n=$(event_bodies "$1/.loopgate/runs/$id" resume |
		python3 -c "import json,sys; print(sum(1 for b in json.load(sys.stdin) if b[\"charged\"]))")
	if [ "$2" = charged ]; then test "$n" -ge 1; else test "$n" = 0; fi
	if [ "$2" = same_spend ]; then
		for k in tokens_in tokens_out cost_usd calls; do
			test "$(summary_field $sum $k)" = "$(summary_field "$refdir/$ref.json" $k)" ||
				{ echo "$k differs from the uninterrupted run" >&2; return 1; }
		done
	fi
	$LOOPGATE audit verify "$id" --dir "$1"
}

# The uninterrupted run the resumed ones are compared with (made once:
# lib.sh shared_setup); ref_path REF: the directory holding REF.json and
# REF.tree (the holding-gate reference refh is made in each case that
# needs it: its gate command names the case's directory, and so its prompts
# do).
reference_run() {
	two_replies >s.json &&
	make_repo ref &&
	url=$(start_fake ref s.json) &&
	lg_run ref "$url" >ref.json &&
	git -C ref rev-parse "loopgate/$(summary_field ref.json run_id)^{tree}" >ref.tree
}
ref_path() {
	if [ "$1" = ref ]; then shared_setup ref reference_run; else echo "$TRASH"; fi
}

test_expect_success 'the uninterrupted run (reference)' '
	use_setup ref reference_run &&
	test "$(summary_field ref.json status)" = converged &&
	test "$(summary_field ref.json iterations)" = 2 &&
	test "$(summary_field ref.json resumed)" = 0 &&
	id=$(summary_field ref.json run_id) &&
	test "$(git -C ref rev-parse "loopgate/$id^{tree}")" = "$(cat ref.tree)" &&
	test -s ref.tree
'

for point in run_start gate_start@1 baseline fingerprint@1 iteration_start@1 \
	model_response@1 edits@1 commit@1 gate_start@2 gate_end@2 fingerprint@2 \
	iteration_end@1 budget@1 iteration_start@2 commit@2 test_floor@1 \
	iteration_end@2; do
	test_expect_success "SIGKILL after the record $point, then resume" "
		killed_at r-$point kill:event.$point &&
		check_resumed r-$point same_spend
	"
done

# Killed after the request was recorded, before any attempt was: whether
# the request left, the log cannot tell; its estimate is charged.
test_expect_success 'SIGKILL after the record model_request@1: charged at its estimate' '
	killed_at r-req kill:event.model_request@1 &&
	check_resumed r-req charged
'

# The call was answered and charged, but the reply was not saved yet: the
# call is made again, and both are counted (both were made).
test_expect_success 'SIGKILL after the record model_attempt@1: asked again, both charged' '
	killed_at r-att kill:event.model_attempt@1 again &&
	check_resumed r-att logsum &&
	test "$(req_count r-att.log)" = 3
'

for point in model_request@1 model_response@1 commit@1 gate_end@2 iteration_end@1; do
	test_expect_success "SIGKILL in the middle of writing $point, then resume" "
		killed_at t-$point kill:torn.$point &&
		check_resumed t-$point \$([ $point = model_request@1 ] && echo logsum || echo same_spend) &&
		grep -q '\"kind\":\"recovered_tail\"' t-$point/.loopgate/runs/*/events.jsonl
	"
done

# The attempt's record was cut: as a call in flight, charged at its estimate.
test_expect_success 'SIGKILL in the middle of writing model_attempt@1: charged at its estimate' '
	killed_at t-att kill:torn.model_attempt@1 again &&
	check_resumed t-att charged
'

test_expect_success 'SIGKILL while the model reply streams: the call is made again, charged once' '
	python3 -c "import json,sys; print(json.dumps({\"replies\":[
		{\"content\":sys.argv[1],\"fault\":\"stall\",\"delay_ms\":60000,\"chunk_size\":4},
		{\"content\":sys.argv[1]},{\"content\":sys.argv[2]}]}))" \
		"$REPLY_WRONG" "$REPLY_FIX_AFTER_WRONG" >st.json &&
	make_repo stream &&
	url=$(start_fake stream st.json) &&
	{ lg_exec stream "$url" >/dev/null 2>stream.err & } &&
	lg=$! &&
	i=0 &&
	while [ "$(req_count stream.log)" -lt 1 ] && [ $i -lt 3000 ]; do i=$((i + 1)); sleep 0.01; done &&
	test "$(req_count stream.log)" = 1 &&
	kill -9 $lg &&
	{ wait $lg || true; } &&
	lg_resume stream >resumed.json 2>resumed.err &&
	check_resumed stream charged &&
	test "$(req_count stream.log)" = 3 &&
	id=$(summary_field resumed.json run_id) &&
	python3 - stream/.loopgate/runs/$id/events.jsonl resumed.json "$(ref_path ref)/ref.json" <<-\PY
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	s, ref = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
	res = [r["body"] for r in recs if r["kind"] == "resume"]
	req = [r["body"] for r in recs if r["kind"] == "model_request"]
	assert len(res) == 1 and res[0]["phase"] == "actor", res
	c = res[0]["charged"]
	# the cut-off call is charged at its request estimate, input only
	assert c["tokens_in"] == req[0]["estimate_tokens_in"] > 0 and c["tokens_out"] == 0, c
	assert s["tokens_in"] == ref["tokens_in"] + c["tokens_in"], (s, ref, c)
	assert s["tokens_out"] == ref["tokens_out"], (s, ref)
	PY
'

# A gate that holds on its Nth run (never, with 0): marks that it started,
# then waits for a release file (bounded), so the test can kill loopgate
# mid-gate.  The command is always `sh $TRASH/hold.sh`, so the reference
# run with it sees the same prompts.
hold_gate() {
	rm -f "$TRASH/gate.count" "$TRASH/gate.marker" "$TRASH/gate.release"
	cat >"$TRASH/hold.sh" <<-EOF
	n=\$(cat "$TRASH/gate.count" 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >"$TRASH/gate.count"
	if [ "\$n" = "$1" ]; then
		echo \$\$ >"$TRASH/gate.marker"
		i=0; while [ ! -f "$TRASH/gate.release" ] && [ \$i -lt 600 ]; do i=\$((i + 1)); sleep 0.1; done
	fi
	sh test.sh
	EOF
}

# refh_run: the uninterrupted run with the holding gate, in the case's own
# directory (the gate command, and so the prompts, name it).
refh_run() {
	hold_gate 0 &&
	two_replies >s.json &&
	make_repo refh &&
	url=$(start_fake refh s.json) &&
	lg_run refh "$url" "sh $TRASH/hold.sh" >refh.json &&
	git -C refh rev-parse "loopgate/$(summary_field refh.json run_id)^{tree}" >refh.tree
}

test_expect_success 'the uninterrupted run with the holding gate (reference)' '
	refh_run &&
	test "$(summary_field refh.json status)" = converged &&
	test -s refh.tree
'

for n in 1 2; do
	test_expect_success "SIGKILL while gate run $n is running (baseline, iteration 1)" "
		refh_run &&
		hold_gate $n &&
		two_replies >s.json &&
		make_repo g$n &&
		url=\$(start_fake g$n s.json) &&
		{ lg_exec g$n \"\$url\" \"sh \$TRASH/hold.sh\" >/dev/null 2>g.err & } &&
		lg=\$! &&
		i=0 &&
		while [ ! -s gate.marker ] && [ \$i -lt 3000 ]; do i=\$((i + 1)); sleep 0.01; done &&
		test -s gate.marker &&
		kill -9 \$lg &&
		{ wait \$lg || true; } &&
		touch gate.release &&
		$LOOPGATE resume \$(ls g$n/.loopgate/runs) --dir g$n --json >resumed.json 2>resumed.err &&
		check_resumed g$n same_spend refh &&
		test \"\$(cat gate.count)\" -gt $n
	"
done

test_expect_success 'killed twice in a row (after the reply, then in the resume), resumed' '
	two_replies >s.json &&
	make_repo twice &&
	url=$(start_fake twice s.json) &&
	LOOPGATE_FAULT=kill:event.model_response@1 expect_code 137 lg_run twice "$url" >/dev/null 2>&1 &&
	LOOPGATE_FAULT=kill:event.gate_start@1 expect_code 137 lg_resume twice >/dev/null 2>&1 &&
	LOOPGATE_FAULT=kill:event.resume@1 expect_code 137 lg_resume twice >/dev/null 2>&1 &&
	lg_resume twice >resumed.json &&
	check_resumed twice same_spend &&
	test "$(summary_field resumed.json resumed)" = 3 &&
	test "$(req_count twice.log)" = 2
'

test_expect_success 'a replayed transcript resumes with the reply it would have got next' '
	two_replies >s.json &&
	make_repo rec &&
	url=$(start_fake rec s.json) &&
	$LOOPGATE run --dir rec --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --config "$TRASH/lg.yaml" \
		--record "$TRASH/turns.jsonl" --json >rec.json &&
	test "$(summary_field rec.json iterations)" = 2 &&
	make_repo rp &&
	LOOPGATE_FAULT=kill:event.commit@1 expect_code 137 $LOOPGATE run --dir rp \
		--goal "make add() add" --gate "sh test.sh" \
		--model "replay:$TRASH/turns.jsonl" --json >/dev/null 2>&1 &&
	$LOOPGATE resume "$(ls rp/.loopgate/runs)" --dir rp --json >rp.json &&
	test "$(summary_field rp.json status)" = converged &&
	test "$(summary_field rp.json iterations)" = 2 &&
	test "$(summary_field rp.json calls)" = 2 &&
	test "$(git -C rp rev-parse "loopgate/$(summary_field rp.json run_id)^{tree}")" = \
		"$(git -C rec rev-parse "loopgate/$(summary_field rec.json run_id)^{tree}")"
'

# The scan after an iteration's gates runs during the next model call and is
# waited for at its first attempt: killed before that, the resume scans
# before its rollback, so the file the gate round made stays (excluded, as
# in a run not killed) instead of being cleaned.  Each round makes a new one.
test_expect_success 'SIGKILL during the call after a gate round that made a file: the file stays, never committed' '
	two_replies >s.json &&
	make_repo gm &&
	url=$(start_fake gm s.json) &&
	gate="sh test.sh; s=\$?; touch made-\$(date +%s%N); exit \$s" &&
	LOOPGATE_FAULT=kill:event.model_request@2 expect_code 137 lg_run gm "$url" "$gate" \
		>/dev/null 2>killed.err &&
	tree=$(ls -d gm/.loopgate/runs/*/tree) &&
	test "$(ls "$tree" | grep -c "^made-")" = 2 &&
	lg_resume gm >resumed.json 2>resumed.err &&
	test "$(summary_field resumed.json status)" = converged &&
	test "$(ls "$tree" | grep -c "^made-")" = 3 &&
	test "$(grep -c "^/made-" gm/.loopgate/runs/*/gate-artifacts.exclude)" = 3 &&
	id=$(summary_field resumed.json run_id) &&
	! git -C gm log --name-only --format= "loopgate/$id" | grep made-
'

# The same for the baseline's scan: it too runs on while the first turn
# starts; killed before the first attempt, the resume scans before its
# rollback, and the baseline gate's file stays, never committed.
test_expect_success 'SIGKILL before the first call, the baseline gate made a file: it stays' '
	two_replies >s.json &&
	make_repo bm &&
	url=$(start_fake bm s.json) &&
	gate="sh test.sh; s=\$?; [ -e base-made ] || date +%s%N >base-made; exit \$s" &&
	LOOPGATE_FAULT=kill:event.iteration_start@1 expect_code 137 lg_run bm "$url" "$gate" \
		>/dev/null 2>killed.err &&
	tree=$(ls -d bm/.loopgate/runs/*/tree) &&
	cp "$tree/base-made" made-at-baseline &&
	lg_resume bm >resumed.json 2>resumed.err &&
	test "$(summary_field resumed.json status)" = converged &&
	cmp -s made-at-baseline "$tree/base-made" &&
	grep -q "^/base-made$" bm/.loopgate/runs/*/gate-artifacts.exclude &&
	id=$(summary_field resumed.json run_id) &&
	! git -C bm log --name-only --format= "loopgate/$id" | grep base-made
'

test_expect_success 'resume of an ended run, of no run, of an ambiguous prefix: exit 2' '
	reference_run &&
	id=$(summary_field ref.json run_id) &&
	expect_code 2 $LOOPGATE resume "$id" --dir ref 2>err &&
	grep -q "run $id already ended (status converged)" err &&
	expect_code 2 $LOOPGATE resume nosuchrun --dir ref 2>err &&
	grep -q "no run matches" err &&
	mkdir -p ref/.loopgate/runs/${id%??}xx &&
	expect_code 2 $LOOPGATE resume "${id%??}" --dir ref 2>err &&
	grep -q "matches 2 runs" err &&
	rmdir ref/.loopgate/runs/${id%??}xx &&
	expect_code 2 $LOOPGATE resume --dir ref 2>err
'

test_expect_success 'a live run is locked: a second resume is refused, naming the pid' '
	hold_gate 2 &&
	two_replies >s.json &&
	make_repo lock &&
	url=$(start_fake lock s.json) &&
	{ lg_exec lock "$url" "sh $TRASH/hold.sh" >lock.json 2>lock.err & } &&
	lg=$! &&
	i=0 &&
	while [ ! -s gate.marker ] && [ $i -lt 3000 ]; do i=$((i + 1)); sleep 0.01; done &&
	test -s gate.marker &&
	id=$(ls lock/.loopgate/runs) &&
	test "$(cat lock/.loopgate/runs/$id/lock)" = $lg &&
	expect_code 2 $LOOPGATE resume "$id" --dir lock 2>err &&
	grep -q "pid $lg" err &&
	# the gate (a child, in the sandbox: found by its command line) does
	# not hold the lock: it is the run only
	gates=$(pgrep -f "^(/bin/sh -c )?sh $TRASH/hold.sh") &&
	test -n "$gates" &&
	for p in $gates; do
		ls -l /proc/$p/fd >fds &&
		grep -q "hold.sh\|pipe:\|null" fds &&
		! grep -q "/lock\$" fds || exit 1
	done &&
	touch gate.release &&
	wait $lg &&
	test "$(summary_field lock.json status)" = converged
'

test_expect_success 'a run killed before its log began: nothing to resume, and it says so (exit 2)' '
	make_repo early &&
	mkdir -p early/.loopgate/runs/20261205-000000-abcdef &&
	expect_code 2 $LOOPGATE resume 20261205-000000-abcdef --dir early 2>err &&
	grep -q "died before its event log began: nothing to resume; start a new run" err &&
	grep -q "can be removed" err
'

test_expect_success 'a run killed before it recorded its start: nothing to resume (exit 2)' '
	make_repo early2 &&
	mkdir -p early2/.loopgate/runs/20261205-000000-abcdef &&
	: >early2/.loopgate/runs/20261205-000000-abcdef/events.jsonl &&
	expect_code 2 $LOOPGATE resume 20261205-000000-abcdef --dir early2 2>err &&
	grep -q "died before it recorded its start: nothing to resume; start a new run" err
'

test_done
