#!/bin/sh
# Routing by role (issue 11 item 5): when the stall detector fires, the
# next turn goes to roles.escalation (up to escalations: times) instead of
# halting; the fake server sees the other model's name; spend is reported
# per role and adds up to the total (summary.json, handoff.md, show).
. "$(dirname "$0")/lib.sh"
GEN=$TEST_DIR/fixtures/verifiers/script.py

models() {
	python3 -c 'import json,sys; print(" ".join(json.loads(l)["body"]["model"] for l in open(sys.argv[1])))' "$1"
}

# The roles every escalating run uses (a fixture: each case sees it).
cat >"$TRASH/roles.yaml" <<-EOF
roles:
  worker: openai/cheap
  escalation: openai/strong
escalations: 1
models:
  cheap: {provider: openai, price_in: 1, price_out: 2}
  strong: {provider: openai, price_in: 10, price_out: 30}
EOF

# The escalating run cases 1-3 look at, made once (lib.sh use_setup).
escalated_run() {
	make_repo repo &&
	python3 "$GEN" escalation >e.json &&
	url=$(start_fake e e.json) &&
	expect_code 0 $LOOPGATE run --dir repo --config roles.yaml --goal "make add() add" \
		--gate "sh test.sh" --base-url "$url" --max-iterations 8 --max-cost 1 \
		--json >s.json 2>err
}

test_expect_success 'a stall hands the next turn to the escalation model, which converges' '
	use_setup esc escalated_run &&
	test "$(summary_field s.json status)" = converged &&
	models e.log >m &&
	test "$(cat m)" = "cheap cheap strong" &&
	grep -q "the next turn goes to the escalation model strong (1 of 1)" err &&
	run_dir=$(summary_field s.json run_dir) &&
	event_bodies "$run_dir" escalation >esc.json &&
	python3 -c "
import json,sys
e=json.load(open(sys.argv[1]))
assert len(e)==1 and e[0][\"available\"] and e[0][\"model\"]==\"strong\", e
assert e[0][\"used\"]==1 and e[0][\"of\"]==1, e
" esc.json
'

test_expect_success 'cost, tokens and calls per role add up to the total' '
	use_setup esc escalated_run &&
	python3 -c "
import json,sys
s=json.load(open(sys.argv[1])); r=s[\"roles\"]
for k in (\"tokens_in\",\"tokens_out\",\"calls\"):
    assert sum(r[x][k] for x in r)==s[k], (k, r, s)
assert abs(sum(r[x][\"cost_usd\"] for x in r)-s[\"cost_usd\"])<1e-12, r
assert r[\"worker\"][\"calls\"]==2 and r[\"escalation\"][\"calls\"]==1, r
assert r[\"verifier\"][\"calls\"]==0, r
e=r[\"escalation\"]
# priced at the strong model rates, not the worker
assert abs(e[\"cost_usd\"]-(e[\"tokens_in\"]*10+e[\"tokens_out\"]*30)/1e6)<1e-12, e
w=r[\"worker\"]
assert abs(w[\"cost_usd\"]-(w[\"tokens_in\"]*1+w[\"tokens_out\"]*2)/1e6)<1e-12, w
assert r[\"escalation\"][\"model\"]==\"openai/strong\", r
" s.json
'

test_expect_success 'the per-role spend is in loopgate show and in handoff.md' '
	use_setup esc escalated_run &&
	run_id=$(summary_field s.json run_id) &&
	$LOOPGATE show --dir repo "$run_id" >show.out &&
	grep -q "^roles:" show.out &&
	grep -q "escalation.*openai/strong.*1 call" show.out &&
	grep -q "worker.*openai/cheap.*2 calls" show.out &&
	test -f "$(summary_field s.json run_dir)/summary.json"
'

test_expect_success 'escalations used up: the next stall halts as stalled' '
	rm -rf repo && make_repo repo &&
	python3 "$GEN" no-idea >w.json &&
	url=$(start_fake w w.json) &&
	expect_code 1 $LOOPGATE run --dir repo --config roles.yaml --goal "make add() add" \
		--gate "sh test.sh" --base-url "$url" --max-iterations 12 \
		--json >w-s.json 2>w-err &&
	test "$(summary_field w-s.json status)" = stalled &&
	models w.log >wm &&
	test "$(cat wm)" = "cheap cheap strong" &&
	run_dir=$(summary_field w-s.json run_dir) &&
	test -f "$run_dir/handoff.md" &&
	grep -qi "escalation" "$run_dir/handoff.md" &&
	grep -q "openai/strong" "$run_dir/handoff.md" &&
	event_bodies "$run_dir" escalation | python3 -c "
import json,sys
e=json.load(sys.stdin)
assert [x[\"available\"] for x in e]==[True, False], e
assert \"every escalation\" in e[1][\"note\"], e
"
'

test_expect_success 'no escalation model: the stall halts on record, as before' '
	rm -rf repo && make_repo repo &&
	reply_script wrong-forever >n-s.json &&
	url=$(start_fake n n-s.json) &&
	expect_code 1 $LOOPGATE run --dir repo --goal "make add() add" \
		--gate "sh test.sh" --model openai/cheap --base-url "$url" --max-iterations 12 \
		--json >n.json 2>n.err &&
	test "$(summary_field n.json status)" = stalled &&
	event_bodies "$(summary_field n.json run_dir)" escalation | grep -q "no escalation model"
'

test_expect_success 'escalations without an escalation model is a usage error' '
	make_repo repo &&
	printf "escalations: 2\n" >bad.yaml &&
	expect_code 2 $LOOPGATE run --dir repo --config bad.yaml --goal g --gate true \
		--model openai/x 2>bad.err &&
	grep -q "no roles.escalation model" bad.err
'

test_done
