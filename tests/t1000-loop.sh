#!/bin/sh
# The core loop against the fake OpenAI and Anthropic servers: convergence
# over several iterations, raw gate output byte for byte in the next
# request, the run directory, the user's tree untouched.
. "$(dirname "$0")/lib.sh"

# The OpenAI run that cases 1-6 look at (lib.sh use_setup: made once, by
# whichever of them runs first).
openai_run() {
	make_repo repo &&
	reply_script wrong-then-fix >s.json &&
	url=$(start_fake oa s.json) &&
	git -C repo rev-parse HEAD >head_before &&
	expect_code 0 $LOOPGATE run --dir repo --goal "make add() add" \
		--gate "sh test.sh" --model openai/test-model --base-url "$url" \
		--max-iterations 5 --json >sum.json 2>err
}

# The Anthropic run that cases 7-8 look at.
anthropic_run() {
	make_repo arepo &&
	reply_script fix >a.json &&
	url=$(start_fake an a.json) &&
	ANTHROPIC_API_KEY=sk-ant-test-secret expect_code 0 $LOOPGATE run --dir arepo \
		--goal "make add() add" --gate "sh test.sh" \
		--model anthropic/claude-test --base-url "$url" --json >asum.json 2>err
}

test_expect_success 'openai (SSE): converges on the second iteration' '
	use_setup oa openai_run &&
	head_before=$(cat head_before) &&
	test "$(summary_field sum.json status)" = converged &&
	test "$(summary_field sum.json iterations)" = 2 &&
	test "$(req_count oa.log)" = 2 &&
	run_dir=$(summary_field sum.json run_dir) &&
	branch=$(summary_field sum.json branch) &&
	test -f "$run_dir/events.jsonl" &&
	test -f "$run_dir/iter-001/prompt.md" && test -f "$run_dir/iter-001/response.md" &&
	test -f "$run_dir/baseline/gate-1.out" && test -f "$run_dir/iter-002/gate-1.out" &&
	test ! -f "$run_dir/handoff.md" &&
	git -C repo show "$branch:calc.py" | grep -q "return a + b" &&
	test "$(git -C repo rev-list --count $head_before..$branch)" = 2 &&
	echo "$branch" | grep -q "^loopgate/"
'

test_expect_success 'the user tree and branch are untouched' '
	use_setup oa openai_run &&
	grep -q "return a - b" repo/calc.py &&
	test "$(git -C repo symbolic-ref --short HEAD)" = main &&
	test -z "$(git -C repo status --porcelain)" &&
	test "$(git -C repo rev-list --count main)" = 1
'

test_expect_success 'the failing gate output reaches the next request byte for byte' '
	use_setup oa openai_run &&
	run_dir=$(summary_field sum.json run_dir) &&
	req_field oa.log 2 "b[\"messages\"][1][\"content\"]" >req2.txt &&
	python3 -c "
import sys
out=open(sys.argv[1]).read(); req=open(sys.argv[2]).read()
assert out in req, (out, req[:2000])
assert \"returned 6, expected 5\" in out, out
" "$run_dir/iter-001/gate-1.out" req2.txt &&
	req_field oa.log 1 "b[\"messages\"][1][\"content\"]" >req1.txt &&
	grep -q "returned -1, expected 5" req1.txt
'

test_expect_success 'the request is real Chat Completions with streaming usage' '
	use_setup oa openai_run &&
	test "$(req_field oa.log 1 "b[\"model\"]")" = test-model &&
	test "$(req_field oa.log 1 "b[\"stream\"]")" = True &&
	test "$(req_field oa.log 1 "b[\"messages\"][0][\"role\"]")" = system &&
	req_field oa.log 1 "b[\"messages\"][0][\"content\"]" | grep -q "<<<<<<< SEARCH" &&
	test "$(req_field oa.log 1 "h.get(\"authorization\")")" = None
'

test_expect_success 'events record every step in order' '
	use_setup oa openai_run &&
	run_dir=$(summary_field sum.json run_dir) &&
	events_kinds "$run_dir" >kinds &&
	head -n 1 kinds | grep -qx header &&
	sed -n 2p kinds | grep -qx run_start &&
	tail -n 1 kinds | grep -qx run_end &&
	grep -qx baseline kinds && grep -qx model_request kinds &&
	grep -qx model_response kinds && grep -qx edits kinds &&
	grep -qx commit kinds && grep -qx gate_end kinds && grep -qx budget kinds &&
	test "$(grep -cx model_response kinds)" = 2 &&
	python3 -c "
import json,sys
ev=[json.loads(l) for l in open(sys.argv[1]+\"/events.jsonl\")]
assert [e[\"seq\"] for e in ev]==list(range(0,len(ev)))
resp=[e[\"body\"] for e in ev if e[\"kind\"]==\"model_response\"]
assert all(r[\"tokens_in\"]>0 and r[\"tokens_out\"]>0 for r in resp), resp
ends=[e[\"body\"] for e in ev if e[\"kind\"]==\"gate_end\"]
assert ends[0][\"exit_code\"]==1 and ends[-1][\"exit_code\"]==0, ends
" "$run_dir"
'

test_expect_success 'token totals in the summary match the server usage' '
	use_setup oa openai_run &&
	python3 -c "
import json,sys
s=json.load(open(sys.argv[1]))
reqs=[json.loads(l) for l in open(sys.argv[2])]
exp_in=sum(len(r[\"raw\"])//4 for r in reqs)
assert s[\"tokens_in\"]==exp_in, (s[\"tokens_in\"], exp_in)
" sum.json oa.log
'

test_expect_success 'anthropic (SSE): converges, real Messages request' '
	use_setup an anthropic_run &&
	test "$(summary_field asum.json status)" = converged &&
	test "$(req_field an.log 1 "r[\"path\"]")" = /v1/messages &&
	test "$(req_field an.log 1 "h[\"x-api-key\"]")" = sk-ant-test-secret &&
	test "$(req_field an.log 1 "h[\"anthropic-version\"]")" = 2023-06-01 &&
	req_field an.log 1 "b[\"system\"]" | grep -q "SEARCH" &&
	test "$(req_field an.log 1 "b[\"messages\"][0][\"role\"]")" = user
'

test_expect_success 'the API key is in no file of the run' '
	use_setup an anthropic_run &&
	run_dir=$(summary_field asum.json run_dir) &&
	! grep -r "sk-ant-test-secret" "$run_dir" arepo/.loopgate
'

test_expect_success 'non-streaming replies work too (--no-stream)' '
	make_repo nrepo &&
	reply_script fix >n.json &&
	url=$(start_fake ns n.json) &&
	expect_code 0 $LOOPGATE run --dir nrepo --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --no-stream --json >nsum.json 2>err &&
	test "$(summary_field nsum.json status)" = converged &&
	test "$(req_field ns.log 1 "b[\"stream\"]")" = False
'

test_expect_success 'an already satisfied baseline makes no model call' '
	make_repo srepo &&
	reply_script fix >sat.json &&
	url=$(start_fake sat sat.json) &&
	expect_code 0 $LOOPGATE run --dir srepo --goal g --gate true \
		--model openai/m --base-url "$url" --json >ssum.json 2>err &&
	test "$(summary_field ssum.json status)" = already_satisfied &&
	test "$(summary_field ssum.json iterations)" = 0 &&
	test "$(req_count sat.log)" = 0
'

test_expect_success 'the baseline runs every gate; iterations stop at the first failure' '
	make_repo grepo &&
	reply_script fix >g.json &&
	url=$(start_fake gg g.json) &&
	expect_code 0 $LOOPGATE run $TRASH_WRITABLE --dir grepo --goal g \
		--gate "echo first >>$TRASH/gates.log" --gate "sh test.sh" \
		--gate "echo third >>$TRASH/gates.log" \
		--model openai/m --base-url "$url" --json >gsum.json 2>err &&
	# baseline, iteration 1, then the re-verification in a clean checkout
	test "$(cat gates.log | tr "\n" " ")" = "first third first third first third "
'

test_expect_success 'a replayed transcript drives the loop offline' '
	make_repo prepo &&
	python3 -c "import json,os; print(json.dumps({\"content\": os.environ[\"REPLY_FIX\"], \"tokens_in\": 10, \"tokens_out\": 5}))" >t.jsonl &&
	expect_code 0 $LOOPGATE run --dir prepo --goal g --gate "sh test.sh" \
		--model "replay:$TRASH/t.jsonl" --json >psum.json 2>err &&
	test "$(summary_field psum.json status)" = converged &&
	test "$(summary_field psum.json tokens_in)" = 10
'

test_expect_success '--record writes a transcript that replays to the same result' '
	make_repo rec1 && make_repo rec2 &&
	reply_script wrong-then-fix >rec.json &&
	url=$(start_fake rec rec.json) &&
	expect_code 0 $LOOPGATE run --dir rec1 --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --record "$TRASH/rec.jsonl" 2>err &&
	test "$(grep -c . rec.jsonl)" = 2 &&
	expect_code 0 $LOOPGATE run --dir rec2 --goal g --gate "sh test.sh" \
		--model "replay:$TRASH/rec.jsonl" --json >rsum.json 2>err &&
	test "$(summary_field rsum.json iterations)" = 2
'

test_expect_success '--allow-dirty carries tracked changes into the run, leaves the tree alone' '
	make_repo dirty &&
	printf "def add(a, b):\n    return a * b\n" >dirty/calc.py &&
	python3 -c "import json,os; print(json.dumps({\"content\": os.environ[\"REPLY_FIX_AFTER_WRONG\"]}))" >d.jsonl &&
	expect_code 0 $LOOPGATE run --dir dirty --goal g --gate "sh test.sh" \
		--model "replay:$TRASH/d.jsonl" --allow-dirty --json >dsum.json 2>err &&
	run_dir=$(summary_field dsum.json run_dir) &&
	grep -q "returned 6, expected 5" "$run_dir/baseline/gate-1.out" &&
	test -s "$run_dir/carried.patch" &&
	branch=$(summary_field dsum.json branch) &&
	git -C dirty log --format=%s "$branch" | grep -q "uncommitted changes carried" &&
	grep -q "return a \* b" dirty/calc.py &&
	test "$(git -C dirty status --porcelain)" = " M calc.py"
'

test_expect_success 'edits escaping the tree are refused, fed back, and write nothing outside' '
	make_repo esc &&
	python3 -c "
import json,os
bad = chr(10).join([\"<<<<<<< FILE ../escaped.txt\", \"pwned\", \">>>>>>> END\",
  \"<<<<<<< FILE /tmp/loopgate-escaped-abs.txt\", \"pwned\", \">>>>>>> END\",
  \"<<<<<<< FILE .git/config\", \"pwned\", \">>>>>>> END\", \"\"])
print(json.dumps({\"replies\":[{\"content\":bad},{\"content\":os.environ[\"REPLY_FIX\"]}]}))" >esc.json &&
	url=$(start_fake esc esc.json) &&
	rm -f /tmp/loopgate-escaped-abs.txt &&
	expect_code 0 $LOOPGATE run --dir esc --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --json >esum.json 2>err &&
	run_dir=$(summary_field esum.json run_dir) &&
	test ! -e "$run_dir/escaped.txt" && test ! -e esc/.loopgate/runs/escaped.txt &&
	test ! -e /tmp/loopgate-escaped-abs.txt &&
	! grep -q pwned esc/.git/config &&
	req_field esc.log 2 "b[\"messages\"][1][\"content\"]" >p2 &&
	grep -q "\.\./escaped.txt" p2 && grep -q "loopgate-escaped-abs.txt" p2 &&
	grep -q "\.git/config" p2 &&
	grep -q "\"refused\":3" "$run_dir/events.jsonl"
'

test_expect_success 'model calls go over one kept-alive connection when the server keeps it (real APIs do)' '
	make_repo ka &&
	python3 -c "
import json,os
r = lambda t: {\"content\": t, \"keepalive\": True}
print(json.dumps({\"replies\": [r(os.environ[\"REPLY_WRONG\"]), r(os.environ[\"REPLY_FIX_AFTER_WRONG\"])]}))" >ka.json &&
	url=$(start_fake ka ka.json) &&
	expect_code 0 $LOOPGATE run --dir ka --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --json >kasum.json 2>err &&
	test "$(summary_field kasum.json iterations)" = 2 &&
	python3 -c "
import json,sys
peers = [json.loads(l)[\"peer\"] for l in open(sys.argv[1])]
print(peers)
assert len(peers) == 2 and len(set(peers)) == 1, peers" "$TRASH/ka.log" &&
	make_repo ka2 &&
	url=$(start_fake ka2 ka.json) &&
	ANTHROPIC_API_KEY=sk-ant-test-ka expect_code 0 $LOOPGATE run --dir ka2 --goal g \
		--gate "sh test.sh" --model anthropic/claude-test --base-url "$url" \
		--json >ka2sum.json 2>err2 &&
	python3 -c "
import json,sys
peers = [json.loads(l)[\"peer\"] for l in open(sys.argv[1])]
print(peers)
assert len(peers) == 2 and len(set(peers)) == 1, peers" "$TRASH/ka2.log"
'

test_done
