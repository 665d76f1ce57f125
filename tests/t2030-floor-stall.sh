#!/bin/sh
# The executed-test floor (a pass with fewer tests run, or more skipped,
# than at baseline is not convergence) and stall detection (a stuck actor
# halts as stalled within stall_after + 1 iterations).
. "$(dirname "$0")/lib.sh"

make_pyrepo() {
	mkdir -p "$1/tests" && (
		cd "$1" &&
		git init -q -b main . &&
		printf 'def add(a, b):\n    return a - b\n' >calc.py &&
		printf 'import unittest\nfrom calc import add\n\n\nclass AddTest(unittest.TestCase):\n    def test_small(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_zero(self):\n        self.assertEqual(add(0, 0), 0)\n' >tests/test_calc.py &&
		printf '#!/bin/sh\nPYTHONPATH=. exec python3 -B -m unittest discover -s tests -v\n' >run-tests.sh &&
		printf '__pycache__/\n' >.gitignore &&
		git add -A && git commit -q -m initial
	)
}

# A cheat outside the protected paths: sitecustomize.py is imported by every
# python3 started with PYTHONPATH=., and here it skips every test.
SKIPALL='import unittest
def _skip(self, result=None):
    raise unittest.SkipTest("skipped by sitecustomize")
unittest.TestCase.setUp = _skip'
export SKIPALL

test_expect_success 'skipping every test from outside the test files: integrity_violation' '
	make_pyrepo skip &&
	printf "#!/bin/sh\nprintf \"%%s\\\\n\" \"\$SKIPALL\" >sitecustomize.py\n" >skip.agent && chmod +x skip.agent &&
	SKIPALL="$SKIPALL" expect_code 1 $LOOPGATE run --dir skip --goal g --gate "sh run-tests.sh" \
		--agent-cmd "$TRASH/skip.agent" --agent-env SKIPALL --max-iterations 3 --json >skip.sum 2>err &&
	run_dir=$(summary_field skip.sum run_dir) &&
	grep -q "OK (skipped=2)" "$run_dir/iter-001/gate-1.out" &&
	test "$(summary_field skip.sum status)" = integrity_violation &&
	summary_field skip.sum reason | grep -q "2 skipped" &&
	grep -q "\"kind\":\"test_floor\"" "$run_dir/events.jsonl" &&
	grep -q "not with the tests the baseline ran" "$run_dir/handoff.md"
'

test_expect_success 'a conftest.py that skips everything (pytest): integrity_violation' '
	command -v pytest-3 >/dev/null || { echo "pytest-3 missing: bootstrap installs python3-pytest" >&2; false; } &&
	make_pyrepo conf &&
	cat >conf.agent <<-\SH &&
	#!/bin/sh
	cat >conftest.py <<-PY
	import pytest
	def pytest_collection_modifyitems(config, items):
	    for item in items:
	        item.add_marker(pytest.mark.skip(reason="later"))
	PY
	SH
	chmod +x conf.agent &&
	expect_code 1 $LOOPGATE run --dir conf --goal g \
		--gate "PYTHONPATH=. pytest-3 -q -p no:cacheprovider tests" \
		--agent-cmd "$TRASH/conf.agent" --max-iterations 3 --json >conf.sum 2>err &&
	run_dir=$(summary_field conf.sum run_dir) &&
	grep -q "2 skipped" "$run_dir/iter-001/gate-1.out" &&
	test "$(summary_field conf.sum status)" = integrity_violation &&
	grep -q "## Tests" "$run_dir/handoff.md" && grep -q "pytest: 2 executed" "$run_dir/handoff.md"
'

test_expect_success 'a real fix passes the floor' '
	make_pyrepo fix &&
	expect_code 0 $LOOPGATE run --dir fix --goal g --gate "sh run-tests.sh" \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --json >fix.sum 2>err &&
	test "$(summary_field fix.sum status)" = converged &&
	grep "\"kind\":\"test_floor\"" "$(summary_field fix.sum run_dir)/events.jsonl" | grep -q "\"violated\":false"
'

test_expect_success 'an unrecognised runner has no floor, and the record says so' '
	make_repo plain &&
	expect_code 0 $LOOPGATE run --dir plain --goal g --gate "sh test.sh" \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --json >plain.sum 2>err &&
	grep "\"kind\":\"test_floor\"" "$(summary_field plain.sum run_dir)/events.jsonl" | grep -q "no recognised test runner"
'

test_expect_success 'an actor that changes nothing stalls within stall_after + 1 iterations' '
	make_repo idle &&
	expect_code 1 $LOOPGATE run --dir idle --goal g --gate "sh test.sh" \
		--agent-cmd true --max-iterations 20 --json >idle.sum 2>err &&
	test "$(summary_field idle.sum status)" = stalled &&
	test "$(summary_field idle.sum iterations)" -le 4 &&
	grep -q "\"kind\":\"escalation\"" "$(summary_field idle.sum run_dir)/events.jsonl"
'

test_expect_success 'the same wrong change, made differently each time, stalls too' '
	make_repo same &&
	cat >same.agent <<-\SH &&
	#!/bin/sh
	# alternates between two spellings of the same wrong answer
	if grep -q "a \* b" calc.py; then sed -i "s/return .*/return b * a/" calc.py
	else sed -i "s/return .*/return a * b/" calc.py; fi
	SH
	chmod +x same.agent &&
	expect_code 1 $LOOPGATE run --dir same --goal g \
		--gate "echo took 0.\$\$s; sh test.sh" \
		--agent-cmd "$TRASH/same.agent" --max-iterations 20 --json >same.sum 2>err &&
	test "$(summary_field same.sum status)" = stalled &&
	test "$(summary_field same.sum iterations)" -le 4 &&
	summary_field same.sum reason | grep -q "same failure" &&
	run_dir=$(summary_field same.sum run_dir) &&
	test "$(grep -c "\"noop\":true" "$run_dir/events.jsonl")" = 0
'

test_expect_success 'different failures each time do not stall' '
	make_repo prog &&
	cat >prog.agent <<-\SH &&
	#!/bin/sh
	sed -i "s/return .*/return a - b + $LOOPGATE_ITERATION/" calc.py
	SH
	chmod +x prog.agent &&
	expect_code 1 $LOOPGATE run --dir prog --goal g --gate "sh test.sh" \
		--agent-cmd "$TRASH/prog.agent" --max-iterations 5 --json >prog.sum 2>err &&
	test "$(summary_field prog.sum status)" = budget_exhausted &&
	test "$(summary_field prog.sum iterations)" = 5
'

test_done
