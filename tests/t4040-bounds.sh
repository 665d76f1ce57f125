#!/bin/sh
# Every input bounded, every number checked, every secret redacted after
# every transformation: /dev/zero and FIFOs as inputs, a missing transcript,
# an absurd deadline, a server reporting INT64_MAX tokens or a number past
# 64 bits, a key echoed across the cut of an error message, credentials in
# --base-url.
. "$(dirname "$0")/lib.sh"

test_expect_success '/dev/zero as goal, config, policy or transcript: refused at once' '
	make_repo zr &&
	expect_code 2 timeout 20 $LOOPGATE run --dir zr --goal-file /dev/zero --gate true --agent-cmd true 2>e1 &&
	grep -q "goal file ./dev/zero. is a device, not a file" e1 &&
	expect_code 2 timeout 20 $LOOPGATE run --dir zr --goal g --config /dev/zero --gate true --agent-cmd true 2>e2 &&
	grep -q "config file ./dev/zero. is a device" e2 &&
	expect_code 2 timeout 20 $LOOPGATE run --dir zr --goal g --policy /dev/zero --gate true --agent-cmd true 2>e3 &&
	grep -q "policy file ./dev/zero. is a device" e3 &&
	expect_code 2 timeout 20 $LOOPGATE run --dir zr --goal g --model replay:/dev/zero --gate false 2>e4 &&
	grep -q "transcript ./dev/zero. is a device" e4 &&
	test ! -d zr/.loopgate/runs
'

test_expect_success 'a FIFO nobody writes as the goal file: no hang' '
	make_repo fr &&
	mkfifo goal.fifo &&
	expect_code 2 timeout 20 $LOOPGATE run --dir fr --goal-file goal.fifo --gate true --agent-cmd true 2>e &&
	grep -qi "goal" e
'

test_expect_success 'a huge goal file: the limit is named' '
	make_repo hr &&
	head -c 2000000 /dev/zero | tr "\0" a >big.txt &&
	expect_code 2 timeout 20 $LOOPGATE run --dir hr --goal-file big.txt --gate true --agent-cmd true 2>e &&
	grep -q "larger than the limit of [0-9]* bytes" e
'

test_expect_success 'replay:/nonexistent leaves no run directory and no branch' '
	make_repo nr &&
	expect_code 2 $LOOPGATE run --dir nr --goal g --model replay:/nonexistent --gate false 2>e &&
	grep -q "cannot read transcript ./nonexistent." e &&
	test ! -d nr/.loopgate/runs &&
	test "$(git -C nr branch --list "loopgate/*")" = ""
'

test_expect_success '--deadline past the maximum is refused, naming it' '
	make_repo dl &&
	expect_code 2 $LOOPGATE run --dir dl --goal g --gate true --agent-cmd true \
		--deadline 9223372036854775807ms 2>e &&
	grep -q "deadline .9223372036854775807ms. is too long: the maximum is 365d" e &&
	expect_code 2 $LOOPGATE run --dir dl --goal g --gate true --agent-cmd true --deadline 366d 2>e &&
	grep -q "the maximum is 365d" e
'

test_expect_success 'a server reporting INT64_MAX tokens: totals saturate, --max-tokens stops' '
	make_repo ux &&
	cat >ux.json <<-EOF &&
	{"replies": [{"content": "nothing useful", "usage": {"in": 9223372036854775807, "out": 9223372036854775807}}], "repeat_last": true}
	EOF
	url=$(start_fake ux ux.json) &&
	# the Anthropic wire: no total_tokens, which would pass 64 bits itself
	expect_code 1 $LOOPGATE run --dir ux --goal g --gate "sh test.sh" --model anthropic/m \
		--base-url "$url" --max-tokens 100000 --max-iterations 5 --json >s.json 2>e &&
	test "$(summary_field s.json status)" = budget_exhausted &&
	test "$(summary_field s.json tokens_in)" = 9223372036854775807 &&
	test "$(summary_field s.json tokens_out)" = 9223372036854775807 &&
	test "$(req_count $TRASH/ux.log)" = 1
'

test_expect_success '--max-output-tokens near INT64_MAX does not wrap the estimate' '
	make_repo mo &&
	reply_script fix >mo.json &&
	url=$(start_fake mo mo.json) &&
	expect_code 1 $LOOPGATE run --dir mo --goal g --gate "sh test.sh" --model openai/m \
		--base-url "$url" --max-tokens 100000 --max-output-tokens 9223372036854775800 \
		--json >s.json 2>e &&
	test "$(summary_field s.json status)" = budget_exhausted &&
	grep -q "could use up to 9223372036854775807 tokens" e &&
	test "$(req_count $TRASH/mo.log)" = 0
'

test_expect_success 'a usage number past 64 bits is named, not "not a JSON object"' '
	make_repo big &&
	cat >big.json <<-EOF &&
	{"replies": [{"content": "x", "usage": {"in": 99999999999999999999, "out": 1}}], "repeat_last": true}
	EOF
	url=$(start_fake big big.json) &&
	printf "http:\n  retries: 0\nstream: false\n" >big/loopgate.yaml &&
	git -C big add -A && git -C big commit -qm cfg &&
	expect_code 3 $LOOPGATE run --dir big --goal g --gate "sh test.sh" --model openai/m \
		--base-url "$url" 2>e &&
	grep -q "a number too large for 64 bits" e
'

KEY=sk-test-0123456789abcdefSECRET
test_expect_success 'a key echoed across the 240-byte cut: redacted, then cut' '
	make_repo rc &&
	pad=$(python3 -c "print(\"x\" * 230)") &&
	python3 -c "import json,sys; print(json.dumps({\"replies\": [{\"status\": 400, \"error_message\": sys.argv[1] + \" \" + sys.argv[2] + \" tail\"}]}))" "$pad" "$KEY" >rc.json &&
	url=$(start_fake rc rc.json) &&
	OPENAI_API_KEY=$KEY expect_code 3 $LOOPGATE run --dir rc --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --json >s.json 2>e &&
	grep -q "HTTP 400" e &&
	! grep -rqa "sk-tes" e s.json rc/.loopgate &&
	grep -q "xxxx \[redacted" e
'

test_expect_success '--base-url credentials and query secrets: redacted everywhere' '
	make_repo bu &&
	cat >bu.json <<-EOF &&
	{"replies": [{"status": 500, "error_message": "down"}], "repeat_last": true}
	EOF
	url=$(start_fake bu bu.json) &&
	port=${url#http://127.0.0.1:} && port=${port%%/*} &&
	printf "http:\n  retries: 1\n  retry_base: 10ms\n  retry_max: 20ms\n" >bu/loopgate.yaml &&
	git -C bu add -A && git -C bu commit -qm cfg &&
	expect_code 3 $LOOPGATE run --dir bu --goal g --gate "sh test.sh" --model openai/m \
		--base-url "http://alice:pw-Hunter2xyz@127.0.0.1:$port/v1" --json >s.json 2>e &&
	grep -q "REDACTED@127.0.0.1" e &&
	! grep -rqa "Hunter2xyz\|alice:" e s.json bu/.loopgate &&
	expect_code 3 $LOOPGATE run --dir bu --goal g --gate "sh test.sh" --model openai/m \
		--base-url "http://127.0.0.1:$port/v1?api_key=qk-Query99zz&x=1" --json >s2.json 2>e2 &&
	! grep -rqa "qk-Query99zz" e2 s2.json bu/.loopgate
'

test_expect_success 'an endless SSE stream with no --deadline ends at the reply cap' '
	make_repo es &&
	echo "{\"replies\": [{\"content\": \"x\", \"fault\": \"endless\"}]}" >es.json &&
	url=$(start_fake es es.json) &&
	printf "http:\n  retries: 0\n" >es/loopgate.yaml &&
	git -C es add -A && git -C es commit -qm cfg &&
	expect_code 3 timeout 60 $LOOPGATE run --dir es --goal g --gate "sh test.sh" --model openai/m \
		--base-url "$url" 2>e &&
	grep -q "a reply larger than allowed" e
'

test_expect_success 'a retry-after of a day is capped at retry_max; no false deadline' '
	make_repo ra &&
	python3 -c "import json,sys; print(json.dumps({\"replies\": [{\"status\": 429, \"headers\": {\"retry-after\": \"86400\"}}, {\"content\": sys.argv[1]}]}))" "$REPLY_FIX" >ra.json &&
	url=$(start_fake ra ra.json) &&
	printf "http:\n  retries: 2\n  retry_base: 10ms\n  retry_max: 50ms\n" >ra/loopgate.yaml &&
	git -C ra add -A && git -C ra commit -qm cfg &&
	expect_code 0 timeout 60 $LOOPGATE run --dir ra --goal g --gate "sh test.sh" --model openai/m \
		--base-url "$url" --deadline 10m --json >s.json 2>e &&
	test "$(summary_field s.json status)" = converged &&
	grep -q "\"wait_ms\":50[,}]" "$(summary_field s.json run_dir)/events.jsonl"
'

test_expect_success 'an HTTP/0.9 reply is a protocol error, retried; not a bad URL' '
	make_repo h9 &&
	python3 -c "import json,sys; print(json.dumps({\"replies\": [{\"fault\": \"http09\"}, {\"content\": sys.argv[1]}]}))" "$REPLY_FIX" >h9.json &&
	url=$(start_fake h9 h9.json) &&
	printf "http:\n  retries: 1\n  retry_base: 10ms\n  retry_max: 20ms\n" >h9/loopgate.yaml &&
	git -C h9 add -A && git -C h9 commit -qm cfg &&
	expect_code 0 timeout 60 $LOOPGATE run --dir h9 --goal g --gate "sh test.sh" --model openai/m \
		--base-url "$url" 2>e &&
	grep -q "without an HTTP status line" e &&
	! grep -q "base URL as" e
'

test_expect_success 'headers trickling in: a clear message, within read_timeout' '
	make_repo th &&
	echo "{\"replies\": [{\"fault\": \"trickle_headers\", \"delay_ms\": 100}]}" >th.json &&
	url=$(start_fake th th.json) &&
	printf "http:\n  retries: 0\n  read_timeout: 1s\n" >th/loopgate.yaml &&
	git -C th add -A && git -C th commit -qm cfg &&
	expect_code 3 timeout 60 $LOOPGATE run --dir th --goal g --gate "sh test.sh" --model openai/m \
		--base-url "$url" 2>e &&
	grep -q "reply headers from .* did not complete within 1000 ms" e
'

test_expect_success 'a resume that fails with exit 3 writes a record and stays resumable' '
	make_repo rf &&
	set +e
	$LOOPGATE run $TRASH_WRITABLE --dir rf --goal g --agent-cmd true \
		--gate "touch $TRASH/rf.started; exec sleep 300.$$" >/dev/null 2>&1 &
	lg=$!
	i=0
	while [ ! -f rf.started ] && [ $i -lt 3000 ]; do i=$((i + 1)); sleep 0.01; done
	kill -KILL $lg
	wait $lg
	pkill -f "sleep 300.$$"
	set -e
	rd=$(ls -d rf/.loopgate/runs/*) &&
	# a worktree resume cannot make again (its own junk in the run
	# directory it repairs: tree/git_repair.h): git has no room for it
	rm -rf "$rd/tree" rf/.git/worktrees && echo junk >rf/.git/worktrees &&
	expect_code 3 $LOOPGATE resume --dir rf "$(basename "$rd")" 2>e &&
	tail -n 1 "$rd/events.jsonl" | grep -q "\"kind\":\"resume_failed\"" &&
	tail -n 1 "$rd/events.jsonl" | grep -q "worktree" &&
	$LOOPGATE audit verify "$rd" >/dev/null
'

test_done
