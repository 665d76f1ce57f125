#!/bin/sh
# A run with voting verifiers or an escalation, SIGKILLed and resumed: the
# votes' spend is counted once (from their records), an escalation taken
# before the kill still hands the next turn over, and the roles add up.
. "$(dirname "$0")/lib.sh"
GEN=$TEST_DIR/fixtures/verifiers/script.py
PANEL=$TEST_DIR/fixtures/verifiers/panel.yaml

models() {
	python3 -c 'import json,sys; print(" ".join(json.loads(l)["body"]["model"] for l in open(sys.argv[1])))' "$1"
}

lg_resume() {
	$LOOPGATE resume "$(ls "$1/.loopgate/runs")" --dir "$1" --json
}

# spend_ok SUMMARY EVENTS: the totals are the log's attempts, votes and
# resume charges, once; the roles add up to the totals.
spend_ok() {
	python3 - "$1" "$2" <<-\PY
	import json, sys
	s = json.load(open(sys.argv[1]))
	recs = [json.loads(l) for l in open(sys.argv[2])]
	att = [r["body"] for r in recs if r["kind"] == "model_attempt"]
	votes = [r["body"] for r in recs if r["kind"] == "vote"]
	chg = [r["body"]["charged"] for r in recs if r["kind"] == "resume" and r["body"]["charged"]]
	tin = sum(a["tokens_in"] for a in att + votes + chg)
	assert s["tokens_in"] == tin, (s["tokens_in"], tin)
	assert s["calls"] == len(att) + sum(v["calls"] for v in votes) + len(chg), s
	cost = sum(a["cost_usd"] for a in att + votes + chg)
	assert abs(s["cost_usd"] - cost) < 1e-9, (s["cost_usd"], cost)
	r = s["roles"]
	for k in ("tokens_in", "tokens_out", "calls"):
	    assert sum(r[x][k] for x in r) == s[k], (k, r, s)
	assert abs(sum(r[x]["cost_usd"] for x in r) - s["cost_usd"]) < 1e-9, r
	assert r["verifier"]["calls"] == sum(v["calls"] for v in votes), r
	print(json.dumps(r))
	PY
}

test_expect_success 'killed after a rejected vote: resumed, the votes counted once' '
	make_repo repo &&
	python3 "$GEN" gamed >g.json &&
	url=$(start_fake g g.json) &&
	LOOPGATE_FAULT=kill:event.iteration_end@1 expect_code 137 $LOOPGATE run --dir repo \
		--config "$PANEL" --goal "make add() add" --gate "sh test.sh" \
		--model openai/worker --base-url "$url" --max-iterations 4 --json >/dev/null 2>k.err &&
	expect_code 0 lg_resume repo >r.json 2>r.err &&
	test "$(summary_field r.json status)" = converged &&
	test "$(summary_field r.json iterations)" = 2 &&
	test "$(models g.log)" = "worker v-goal v-gaming v-lenient worker v-goal v-gaming v-lenient" &&
	run_dir=$(summary_field r.json run_dir) &&
	spend_ok r.json "$run_dir/events.jsonl" >roles.json &&
	grep -q "\"verifier\": {\"calls\": 6" roles.json &&
	$LOOPGATE audit verify "$run_dir" >/dev/null
'

test_expect_success 'killed after an escalation: the resumed run hands the turn over' '
	rm -rf repo && make_repo repo &&
	cat >roles.yaml <<-EOF &&
	roles:
	  worker: openai/cheap
	  escalation: openai/strong
	models:
	  cheap: {provider: openai, price_in: 1, price_out: 2}
	  strong: {provider: openai, price_in: 10, price_out: 30}
	EOF
	python3 "$GEN" escalation >e.json &&
	url=$(start_fake e e.json) &&
	LOOPGATE_FAULT=kill:event.escalation@1 expect_code 137 $LOOPGATE run --dir repo \
		--config roles.yaml --goal "make add() add" --gate "sh test.sh" \
		--base-url "$url" --max-iterations 8 --max-cost 1 --json >/dev/null 2>k2.err &&
	{ expect_code 0 lg_resume repo >r2.json 2>r2.err || {
		# it failed once under a loaded full suite, exit 2, no message
		cat r2.json; tail -n 8 repo/.loopgate/runs/*/events.jsonl | cut -c1-400
		false
	}; } &&
	test "$(summary_field r2.json status)" = converged &&
	test "$(models e.log)" = "cheap cheap strong" &&
	run_dir=$(summary_field r2.json run_dir) &&
	spend_ok r2.json "$run_dir/events.jsonl" >roles2.json &&
	python3 -c "
import json,sys
r=json.load(open(sys.argv[1])); e=r[\"escalation\"]
assert e[\"calls\"]==1 and r[\"worker\"][\"calls\"]==2, r
assert abs(e[\"cost_usd\"]-(e[\"tokens_in\"]*10+e[\"tokens_out\"]*30)/1e6)<1e-12, e
" roles2.json
'

test_done
