#!/bin/sh
# The progress lines on stderr.  The engine never prints: each line comes
# from the run's event records through the CLI's observer (cli/ui.c), so
# these cases pin the lines' wording and order, run by run.
. "$(dirname "$0")/lib.sh"

# lines FILE: the stderr lines, ids and timings made generic.
lines() {
	sed -E -e 's/[0-9]{8}-[0-9]{6}-[0-9a-f]+/ID/g' \
		-e 's/\([0-9]+ in \/ [0-9]+ out tokens, \$[0-9.]+\)/(T)/' "$1"
}

test_expect_success 'a converging model run: setup, baseline, each iteration' '
	make_repo conv &&
	reply_script wrong-then-fix >conv.json &&
	url=$(start_fake conv conv.json) &&
	expect_code 0 $LOOPGATE run --dir conv --goal "make add() add" \
		--gate "sh test.sh" --model openai/test-model --base-url "$url" \
		--max-iterations 5 2>conv.err &&
	lines conv.err >got &&
	run_dir=$(cd conv && pwd)/.loopgate/runs &&
	cat >want <<-EOF &&
	loopgate: run ID: branch loopgate/ID, run directory $run_dir/ID
	loopgate: baseline: gate 1 \`sh test.sh\` fails (exit 1), as expected
	loopgate: iteration 1: model replied (T); 1 edit block(s): 1 applied, 0 refused
	loopgate: iteration 1: committed; gate 1 \`sh test.sh\` failed: exit 1
	loopgate: iteration 2: model replied (T); 1 edit block(s): 1 applied, 0 refused
	loopgate: iteration 2: gates passed in its tree; re-verifying the commit in a clean checkout
	loopgate: iteration 2: every gate passed
	loopgate: converged: all 1 gates exit 0 after iteration 2
	loopgate: run directory $run_dir/ID
	loopgate: the result is on branch loopgate/ID
	loopgate: report $run_dir/ID/report.html
	EOF
	diff want got
'

test_expect_success 'a tree that already passes says so' '
	make_repo done &&
	expect_code 0 $LOOPGATE run --dir done --goal g --gate true \
		--agent-cmd true 2>done.err &&
	grep -qx "loopgate: baseline: every gate already passes; nothing to do" done.err
'

test_expect_success 'a confirmed pass names the confirmation runs' '
	make_repo conf &&
	expect_code 0 $LOOPGATE run --dir conf --goal g --gate "sh test.sh" \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --confirm 2 \
		--max-iterations 2 2>conf.err &&
	grep -qx "loopgate: iteration 1: every gate passed; confirming 2 more time(s)" conf.err &&
	grep -qx "loopgate: iteration 1: every gate passed" conf.err
'

test_expect_success 'a reverted protected change and a no-op round are shown' '
	make_repo prot &&
	expect_code 1 $LOOPGATE run --dir prot --goal g --gate "sh test.sh" \
		--agent-cmd "echo exit 0 >>test.sh" --max-iterations 1 2>prot.err &&
	grep -qx "loopgate: iteration 1: reverted 1 change(s) to protected files" prot.err &&
	grep -qx "loopgate: iteration 1: no change; gate 1 \`sh test.sh\` failed: exit 1" prot.err
'

test_expect_success 'a retried model call is shown with its wait' '
	make_repo retry &&
	printf "http:\n  retry_base: 10ms\n  retry_max: 50ms\n" >retry/loopgate.yaml &&
	git -C retry add loopgate.yaml && git -C retry commit -qm config &&
	python3 -c "import json,os; print(json.dumps({\"replies\":[{\"status\":500},{\"content\":os.environ[\"REPLY_FIX\"]}]}))" >retry.json &&
	url=$(start_fake retry retry.json) &&
	expect_code 0 $LOOPGATE run --dir retry --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-iterations 2 2>retry.err &&
	grep -q "^loopgate: iteration 1: model call attempt 1: .*; retrying in [0-9.]*s$" retry.err
'

test_done
