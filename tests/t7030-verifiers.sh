#!/bin/sh
# Voting verifiers in the loop (issue 11 item 4): after every gate passes,
# a panel of three briefs votes; a rejection is a failing round whose
# reasons reach the next prompt; a vote never turns a failing gate into a
# pass; every vote is a record; a malformed verdict is an abstention.
. "$(dirname "$0")/lib.sh"
GEN=$TEST_DIR/fixtures/verifiers/script.py
PANEL=$TEST_DIR/fixtures/verifiers/panel.yaml

# run_panel KIND NAME [FLAGS...]: a run of make_repo's repo against script
# KIND on fake server NAME with the three-brief panel; --json into NAME.json.
run_panel() {
	kind=$1 name=$2
	shift 2
	python3 "$GEN" "$kind" >"$name-script.json" &&
	url=$(start_fake "$name" "$name-script.json") &&
	$LOOPGATE run --dir repo --config "$PANEL" --goal "make add() add" \
		--gate "sh test.sh" --model openai/worker --base-url "$url" \
		--json "$@" >"$name.json" 2>"$name.err"
}

# panel_setup CODE KIND NAME ITERATIONS: a fresh repo and run_panel KIND
# NAME, exiting CODE.  The runs several cases look at are made once with it
# (lib.sh use_setup).
panel_setup() {
	make_repo repo &&
	expect_code "$1" run_panel "$2" "$3" --max-iterations "$4"
}

# models LOG: the model of every request, in order, one line.
models() {
	python3 -c 'import json,sys; print(" ".join(json.loads(l)["body"]["model"] for l in open(sys.argv[1])))' "$1"
}

test_expect_success 'a gamed solution passes the gate but the vote rejects it' '
	use_setup g panel_setup 0 gamed g 4 &&
	test "$(summary_field g.json status)" = converged &&
	test "$(summary_field g.json iterations)" = 2 &&
	test "$(models g.log)" = "worker v-goal v-gaming v-lenient worker v-goal v-gaming v-lenient" &&
	run_dir=$(summary_field g.json run_dir) &&
	event_bodies "$run_dir" verdict >verdicts.json &&
	python3 - "$run_dir" verdicts.json <<-\PY &&
	import json, sys
	v = json.load(open(sys.argv[2]))
	assert [x["accepted"] for x in v] == [False, True], v
	assert v[0]["accepts"] == 1 and v[0]["needed"] == 2 and v[0]["of"] == 3, v[0]
	assert v[0]["accepted_by"] == ["lenient"], v[0]
	assert "gaming rejected: add() special-cases" in v[0]["summary"], v[0]
	ev = [json.loads(l) for l in open(sys.argv[1] + "/events.jsonl")]
	votes = [e["body"] for e in ev if e["kind"] == "vote"]
	assert len(votes) == 6, votes
	assert votes[1]["verifier"] == "gaming" and votes[1]["verdict"] == "reject"
	assert votes[1]["reasons"][0] == {"file": "calc.py", "line": 2,
	    "text": "add() special-cases the test'"'"'s input (2, 3)"}, votes[1]
	assert all(v["tokens_in"] > 0 and v["calls"] == 1 for v in votes), votes
	ends = [e["body"] for e in ev if e["kind"] == "iteration_end"]
	assert ends[0]["outcome"] == -1 and ends[0]["gate_failed"] == 0, ends[0]
	assert "vote" in ends[0]["gate_describe"], ends[0]
	PY
	grep -q "verifiers: 1 of 3 accept (2 needed): rejected; goal rejected" "$run_dir/report.html" &&
	grep -q "iteration 1: verifiers: 1 of 3 accept" g.err &&
	git -C repo show "$(summary_field g.json branch):calc.py" >final.py &&
	grep -q "return a + b" final.py && ! grep -q "(2, 3)" final.py
'

test_expect_success 'the rejecting reasons reach the next prompt, with file:line' '
	use_setup g panel_setup 0 gamed g 4 &&
	python3 -c "
import json,sys
reqs=[json.loads(l) for l in open(sys.argv[1])]
w=[r for r in reqs if r[\"body\"][\"model\"]==\"worker\"]
p=w[1][\"body\"][\"messages\"][1][\"content\"]
assert \"verifiers rejected your last commit\" in p, p
assert \"calc.py:2: add() special-cases\" in p, p
assert \"## gaming rejected the change\" in p and \"## goal rejected\" in p, p
assert \"lenient\" not in p, p
v=[r for r in reqs if r[\"body\"][\"model\"]==\"v-gaming\"][0]
s=v[\"body\"][\"messages\"][0][\"content\"]; u=v[\"body\"][\"messages\"][1][\"content\"]
assert \"special cases for the test\" in s and \"exactly one JSON object\" in s, s
assert \"make add() add\" in u and \"+    if (a, b) == (2, 3):\" in u, u
" g.log
'

test_expect_success 'one lenient verifier: the vote decides (2 of 3 accept)' '
	rm -rf repo && make_repo repo &&
	expect_code 0 run_panel lenient-decides d --max-iterations 2 &&
	test "$(summary_field d.json status)" = converged &&
	event_bodies "$(summary_field d.json run_dir)" verdict >dv.json &&
	python3 -c "
import json,sys
v=json.load(open(sys.argv[1]))
assert len(v)==1 and v[0][\"accepted\"] and v[0][\"accepts\"]==2, v
assert v[0][\"accepted_by\"]==[\"goal\",\"lenient\"], v
assert \"gaming rejected\" in v[0][\"summary\"], v
" dv.json
'

test_expect_success 'the lenient verifier alone is outvoted: never converged' '
	use_setup o panel_setup 1 lenient-outvoted o 2 &&
	status=$(summary_field o.json status) &&
	test "$status" = budget_exhausted &&
	test "$(event_bodies "$(summary_field o.json run_dir)" verdict |
		python3 -c "import json,sys; print([v[\"accepted\"] for v in json.load(sys.stdin)])")" = "[False, False]" &&
	! git -C repo show "$(summary_field o.json branch):calc.py" | grep -q "a + b"
'

test_expect_success 'a failing gate never becomes a pass: no verifier is asked' '
	rm -rf repo && make_repo repo &&
	expect_code 1 run_panel failing f --max-iterations 2 &&
	test "$(summary_field f.json status)" = budget_exhausted &&
	test "$(models f.log)" = "worker worker" &&
	events_kinds "$(summary_field f.json run_dir)" >fk &&
	! grep -qx vote fk && ! grep -qx verdict fk
'

test_expect_success 'a malformed verdict is a recorded abstention, not a crash' '
	use_setup m panel_setup 0 malformed m 2 &&
	test "$(summary_field m.json status)" = converged &&
	event_bodies "$(summary_field m.json run_dir)" vote >mv.json &&
	python3 -c "
import json,sys
v={x[\"verifier\"]: x for x in json.load(open(sys.argv[1]))}
g=v[\"gaming\"]
assert g[\"verdict\"]==\"abstain\" and \"not one JSON object\" in g[\"error\"], g
assert v[\"goal\"][\"verdict\"]==\"accept\" and v[\"lenient\"][\"verdict\"]==\"accept\", v
" mv.json &&
	grep -q "gaming abstained" m.err
'

test_expect_success 'per-role spend adds up to the total; verifier calls are charged' '
	use_setup g panel_setup 0 gamed g 4 &&
	use_setup o panel_setup 1 lenient-outvoted o 2 &&
	use_setup m panel_setup 0 malformed m 2 &&
	for f in g.json m.json o.json; do
		python3 -c "
import json,sys
s=json.load(open(sys.argv[1])); r=s[\"roles\"]
for k in (\"tokens_in\",\"tokens_out\",\"calls\"):
    assert sum(r[x][k] for x in r)==s[k], (k, r, s)
assert abs(sum(r[x][\"cost_usd\"] for x in r)-s[\"cost_usd\"])<1e-9, r
assert r[\"verifier\"][\"calls\"]>0 and r[\"worker\"][\"calls\"]>0, r
" $f || return 1
	done &&
	test "$(summary_field g.json calls)" = 8
'

test_expect_success 'verifiers are charged at their own prices against --max-cost' '
	rm -rf repo && make_repo repo &&
	cat >priced.yaml <<-EOF &&
	verifiers:
	  - name: goal
	    brief: Does it meet the goal?
	    model: openai/v-goal
	models:
	  worker: {provider: openai, price_in: 1, price_out: 1}
	  v-goal: {provider: openai, price_in: 1000, price_out: 1000}
	EOF
	python3 -c "import json,os; print(json.dumps({\"replies\":[{\"content\":os.environ[\"REPLY_FIX\"]}],\"models\":{\"v-goal\":{\"replies\":[{\"content\":json.dumps({\"verdict\":\"accept\",\"confidence\":1,\"reasons\":[]})}]}}}))" >p.json &&
	url=$(start_fake pc p.json) &&
	expect_code 1 $LOOPGATE run --dir repo --config priced.yaml --goal "make add() add" \
		--gate "sh test.sh" --model openai/worker --base-url "$url" \
		--max-iterations 3 --max-cost 0.5 --json >pc.json 2>pc.err &&
	test "$(summary_field pc.json status)" = budget_exhausted &&
	summary_field pc.json reason | grep -q "verifiers. vote cannot be paid for" &&
	test "$(req_count pc.log)" = 1
'

test_expect_success 'a verifier model without a price under --max-cost is a usage error' '
	make_repo repo &&
	{ cat "$PANEL" && printf "models:\n  worker: {provider: openai, price_in: 1, price_out: 1}\n"; } >pe.yaml &&
	expect_code 2 $LOOPGATE run --dir repo --config pe.yaml --goal g --gate true \
		--model openai/worker --max-cost 1 2>pe.err &&
	grep -q "verifiers.goal.model: --max-cost needs the price of model .openai/v-goal." pe.err
'

test_done
