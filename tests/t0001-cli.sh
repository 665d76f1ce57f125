#!/bin/sh
# The command line: help, version, usage and configuration errors (exit 2).
. "$(dirname "$0")/lib.sh"

test_expect_success '--help and --version' '
	$LOOPGATE --help >out && grep -q "loopgate <command>" out &&
	$LOOPGATE run --help >out && grep -q -- "--max-cost USD" out &&
	$LOOPGATE --version >out && grep -q "^loopgate [0-9]" out
'

test_expect_success 'unknown command and option are usage errors' '
	expect_code 2 $LOOPGATE frobnicate 2>err && grep -q "unknown command" err &&
	expect_code 2 $LOOPGATE run --bogus 2>err && grep -q "bogus" err
'

test_expect_success 'missing goal, gate or actor are named' '
	make_repo r1 &&
	expect_code 2 $LOOPGATE run --dir r1 --gate true --model replay:x 2>err &&
	grep -qi "goal" err &&
	expect_code 2 $LOOPGATE run --dir r1 --goal g --model replay:x 2>err &&
	grep -qi "gate" err &&
	expect_code 2 $LOOPGATE run --dir r1 --goal g --gate true 2>err &&
	grep -q -- "--model" err
'

test_expect_success 'model and agent command together are refused' '
	make_repo r2 &&
	expect_code 2 $LOOPGATE run --dir r2 --goal g --gate true --model replay:x --agent-cmd true 2>err
'

test_expect_success 'bad numbers and durations are refused' '
	make_repo r3 &&
	expect_code 2 $LOOPGATE run --dir r3 --goal g --gate true --model replay:x --max-iterations zero 2>err &&
	grep -q -- "--max-iterations" err &&
	expect_code 2 $LOOPGATE run --dir r3 --goal g --gate true --model replay:x --deadline 5parsecs 2>err &&
	grep -q -- "--deadline" err
'

test_expect_success 'a cost ceiling for a model without a price is a configuration error' '
	make_repo r4 &&
	expect_code 2 $LOOPGATE run --dir r4 --goal g --gate "sh test.sh" --model openai/gpt-unpriced --base-url http://127.0.0.1:9/v1 --max-cost 1 2>err &&
	grep -q "gpt-unpriced" err && grep -q "price" err &&
	test ! -d r4/.loopgate/runs
'

test_expect_success 'a bad config file names the file, line and key' '
	make_repo r5 &&
	printf "goal: fix it\ngates:\n  - sh test.sh\nmax_iteratons: 3\n" >r5/loopgate.yaml &&
	expect_code 2 $LOOPGATE run --dir r5 --model replay:x 2>err &&
	grep -q "loopgate.yaml:4" err && grep -q "max_iteratons" err
'

test_expect_success 'outside a git repository: exit 2 with a hint' '
	mkdir -p plain &&
	expect_code 2 $LOOPGATE run --dir plain --goal g --gate true --model replay:x 2>err &&
	grep -q "git" err
'

test_expect_success 'uncommitted changes are refused unless --allow-dirty' '
	make_repo r6 &&
	echo "# local edit" >>r6/calc.py &&
	expect_code 2 $LOOPGATE run --dir r6 --goal g --gate "sh test.sh" --model replay:x 2>err &&
	grep -q -- "--allow-dirty" err &&
	git -C r6 diff --quiet && false || true &&
	grep -q "local edit" r6/calc.py
'

test_expect_success '--json on a usage error still prints one JSON object' '
	make_repo r7 &&
	expect_code 2 $LOOPGATE run --dir r7 --goal g --model replay:x --json >out 2>err &&
	test "$(summary_field out status)" = error
'

test_done
