#!/bin/sh
# Every budget ends the loop with budget_exhausted, exit 1 and a handoff;
# spend never passes the ceiling.
. "$(dirname "$0")/lib.sh"

# A model that never fixes anything: its SEARCH text never matches.
REPLY_USELESS='Trying something.

calc.py
<<<<<<< SEARCH
    return a ** b
=======
    return a + b
>>>>>>> REPLACE
'
export REPLY_USELESS
never_script() {
	python3 -c 'import json,os,sys; print(json.dumps({"replies":[{"content":os.environ["REPLY_USELESS"], "usage": {"in": int(sys.argv[1]), "out": int(sys.argv[2])}}], "repeat_last": True}))' "$1" "$2"
}

test_expect_success '--max-iterations: halts with a handoff, exit 1' '
	make_repo it &&
	never_script 500 50 >it.json &&
	url=$(start_fake it it.json) &&
	expect_code 1 $LOOPGATE run --stall-after 100 --dir it --goal "fix add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-iterations 3 --json >s.json 2>err &&
	test "$(summary_field s.json status)" = budget_exhausted &&
	test "$(summary_field s.json iterations)" = 3 &&
	test "$(req_count it.log)" = 3 &&
	summary_field s.json reason | grep -q -- "--max-iterations 3" &&
	run_dir=$(summary_field s.json run_dir) &&
	h="$run_dir/handoff.md" &&
	grep -q "budget_exhausted" "$h" && grep -q "## Iterations" "$h" &&
	grep -q "fix add" "$h" && grep -q "sh test.sh" "$h" &&
	grep -q "returned -1, expected 5" "$h" &&
	grep -q "## Cumulative diff" "$h" && grep -q "## How to continue" "$h" &&
	grep -q "loopgate/" "$h"
'

test_expect_success 'the handoff shows the cumulative diff of the run branch' '
	make_repo hd &&
	python3 -c "import json,os; print(json.dumps({\"replies\":[{\"content\":os.environ[\"REPLY_WRONG\"]},{\"content\":os.environ[\"REPLY_USELESS\"]}],\"repeat_last\":True}))" >hd.json &&
	url=$(start_fake hd hd.json) &&
	expect_code 1 $LOOPGATE run --stall-after 100 --dir hd --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-iterations 2 --json >s.json 2>err &&
	h="$(summary_field s.json run_dir)/handoff.md" &&
	grep -q "^-    return a - b" "$h" && grep -q "^+    return a \* b" "$h" &&
	grep -q "calc.py | 2 +-" "$h" && ! grep -q "could not be computed" "$h"
'

test_expect_success '--max-tokens: never exceeded, halts before the call that could pass it' '
	make_repo tok &&
	never_script 900 90 >tok.json &&
	url=$(start_fake tok tok.json) &&
	expect_code 1 $LOOPGATE run --stall-after 100 --dir tok --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-output-tokens 100 \
		--max-tokens 4000 --max-iterations 50 --json >s.json 2>err &&
	test "$(summary_field s.json status)" = budget_exhausted &&
	summary_field s.json reason | grep -q -- "--max-tokens" &&
	used=$(( $(summary_field s.json tokens_in) + $(summary_field s.json tokens_out) )) &&
	test "$used" -le 4000 && test "$(req_count tok.log)" -ge 2 &&
	test -f "$(summary_field s.json run_dir)/handoff.md"
'

test_expect_success '--max-cost: priced in the config, never exceeded' '
	make_repo cost &&
	cat >cost/loopgate.yaml <<-YAML &&
	models:
	  openai/priced:
	    price_in: 1000
	    price_out: 2000
	YAML
	git -C cost add loopgate.yaml && git -C cost commit -qm config &&
	never_script 1000 100 >cost.json &&
	url=$(start_fake cost cost.json) &&
	expect_code 1 $LOOPGATE run --stall-after 100 --dir cost --goal g --gate "sh test.sh" \
		--model openai/priced --base-url "$url" --max-output-tokens 100 \
		--max-cost 5 --max-iterations 50 --json >s.json 2>err &&
	test "$(summary_field s.json status)" = budget_exhausted &&
	summary_field s.json reason | grep -q -- "--max-cost" &&
	python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert 0 < s[\"cost_usd\"] <= 5.0, s" s.json &&
	test "$(req_count cost.log)" -ge 2
'

test_expect_success '--deadline stops a model call in flight' '
	make_repo dl &&
	echo "{\"replies\":[{\"content\":\"late\",\"delay_ms\":60000}]}" >dl.json &&
	url=$(start_fake dl dl.json) &&
	expect_code 1 $LOOPGATE run --stall-after 100 --dir dl --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --deadline 2s --json >s.json 2>err &&
	test "$(summary_field s.json status)" = budget_exhausted &&
	summary_field s.json reason | grep -qi deadline &&
	test -f "$(summary_field s.json run_dir)/handoff.md"
'

test_expect_success '--deadline stops a gate in flight' '
	make_repo dg &&
	reply_script fix >dg.json &&
	url=$(start_fake dg dg.json) &&
	expect_code 1 $LOOPGATE run --stall-after 100 --dir dg --goal g \
		--gate "sh test.sh && sleep 60" \
		--model openai/m --base-url "$url" --deadline 3s --json >s.json 2>err &&
	test "$(summary_field s.json status)" = budget_exhausted &&
	summary_field s.json reason | grep -q "while gate 1 ran"
'

test_expect_success '--gate-timeout kills a hanging gate and says so' '
	make_repo gt &&
	replies_json "$REPLY_USELESS" >gt.json &&
	url=$(start_fake gt gt.json) &&
	expect_code 1 $LOOPGATE run --stall-after 100 --dir gt --goal g \
		--gate "echo gate-started; sleep 60" --gate-timeout 1s \
		--model openai/m --base-url "$url" --max-iterations 1 --json >s.json 2>err &&
	req_field gt.log 1 "b[\"messages\"][1][\"content\"]" >p1 &&
	grep -q "timed out after 1.0s" p1 && grep -q "gate-started" p1
'

test_done
