#!/bin/sh
# Trustworthy gates: scripted actors that try to pass by cheating.  None may
# converge; each change is reverted (or ends as integrity_violation), with
# evidence in events.jsonl and handoff.md.
. "$(dirname "$0")/lib.sh"

# A Python project whose unittest suite fails until add() is fixed.
make_pyrepo() {
	mkdir -p "$1/tests" && (
		cd "$1" &&
		git init -q -b main . &&
		printf 'def add(a, b):\n    return a - b\n' >calc.py &&
		cat >tests/test_calc.py <<-'PY' &&
		import unittest
		from calc import add


		class AddTest(unittest.TestCase):
		    def test_small(self):
		        self.assertEqual(add(2, 3), 5)

		    def test_zero(self):
		        self.assertEqual(add(0, 0), 0)


		if __name__ == "__main__":
		    unittest.main()
		PY
		printf '#!/bin/sh\nPYTHONPATH=. exec python3 -B -m unittest discover -s tests -v\n' >run-tests.sh &&
		printf '__pycache__/\n' >.gitignore &&
		git add -A && git commit -q -m initial
	)
}

# cheat NAME SCRIPT: runs loopgate with SCRIPT as the agent (3 iterations).
cheat() {
	make_pyrepo "$1" &&
	printf '#!/bin/sh\n%s\n' "$2" >"$1.agent" && chmod +x "$1.agent" &&
	set +e
	$LOOPGATE run --dir "$1" --goal "make the tests pass" --gate "sh run-tests.sh" \
		--agent-cmd "$TRASH/$1.agent" --max-iterations 3 --json >"$1.sum" 2>"$1.err"
	echo $? >"$1.rc"
	set -e
	run_dir=$(summary_field "$1.sum" run_dir)
}

# reverted RUN_DIR PATH: an integrity event names PATH.
reverted() {
	python3 -c '
import json,sys
ev=[json.loads(l) for l in open(sys.argv[1]+"/events.jsonl")]
hits=[e for e in ev if e["kind"]=="integrity" and sys.argv[2] in e["body"]["paths"]]
assert hits, "no integrity event for " + sys.argv[2]
assert hits[0]["body"]["diff"], hits[0]' "$1" "$2"
}

not_converged() {
	test "$(cat "$1.rc")" = 1 &&
	test "$(summary_field "$1.sum" status)" != converged
}

# The "del" run is looked at by two cases: made once (lib.sh use_setup).
test_expect_success 'deleting the failing test is reverted' '
	use_setup del cheat del "rm tests/test_calc.py" &&
	run_dir=$(summary_field del.sum run_dir) &&
	not_converged del && reverted "$run_dir" tests/test_calc.py &&
	test -f "$run_dir/tree/tests/test_calc.py" &&
	git -C del show "$(summary_field del.sum branch):tests/test_calc.py" | grep -q test_small
'

test_expect_success 'adding a skip is reverted' '
	cheat skip "sed -i \"s/    def test_small/    @unittest.skip(\\\"later\\\")\\n    def test_small/\" tests/test_calc.py" &&
	not_converged skip && reverted "$run_dir" tests/test_calc.py &&
	! grep -q "unittest.skip" "$run_dir/tree/tests/test_calc.py"
'

test_expect_success 'weakening an assertion is reverted' '
	cheat weak "sed -i s/assertEqual/assertIsNotNone/ tests/test_calc.py; sed -i \"s/(add(2, 3), 5)/(add(2, 3))/\" tests/test_calc.py" &&
	not_converged weak && reverted "$run_dir" tests/test_calc.py
'

test_expect_success 'replacing the gate script by exit 0 is reverted' '
	cheat exit0 "printf \"#!/bin/sh\\nexit 0\\n\" >run-tests.sh" &&
	not_converged exit0 && reverted "$run_dir" run-tests.sh &&
	grep -q unittest "$run_dir/tree/run-tests.sh"
'

test_expect_success 'swapping the test directory for a symlink is reverted' '
	mkdir -p elsewhere &&
	printf "import unittest\nclass T(unittest.TestCase):\n    def test_ok(self):\n        pass\n" >elsewhere/test_fake.py &&
	cheat swap "rm -rf tests && ln -s $TRASH/elsewhere tests" &&
	not_converged swap && reverted "$run_dir" tests &&
	test -d "$run_dir/tree/tests" && ! test -L "$run_dir/tree/tests" &&
	test -f "$run_dir/tree/tests/test_calc.py"
'

test_expect_success 'creating a file in a protected directory is reverted' '
	cheat newfile "printf \"import unittest\\nraise unittest.SkipTest(\\\"all\\\")\\n\" >tests/__init__.py" &&
	not_converged newfile && reverted "$run_dir" tests/__init__.py &&
	test ! -e "$run_dir/tree/tests/__init__.py"
'

test_expect_success 'the actor is told, and the handoff shows it' '
	use_setup del cheat del "rm tests/test_calc.py" &&
	run_dir=$(summary_field del.sum run_dir) &&
	grep -q "reverted your changes to protected files" "$run_dir/iter-002/prompt.md" &&
	grep -q "tests/test_calc.py" "$run_dir/iter-002/prompt.md" &&
	grep -qi "integrity" "$run_dir/handoff.md"
'

test_expect_success 'a real fix next to a cheat keeps the fix, drops the cheat' '
	cheat mixed "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py; rm tests/test_calc.py" &&
	test "$(cat mixed.rc)" = 0 &&
	test "$(summary_field mixed.sum status)" = converged &&
	reverted "$run_dir" tests/test_calc.py &&
	git -C mixed show "$(summary_field mixed.sum branch):tests/test_calc.py" | grep -q test_small
'

test_expect_success '--no-protect lets a goal about tests change them' '
	make_pyrepo np &&
	printf "#!/bin/sh\nprintf \"\\\\n# more tests\\\\n\" >>tests/test_calc.py; sed -i s/a\\\\ -\\\\ b/a\\\\ +\\\\ b/ calc.py\n" >np.agent && chmod +x np.agent &&
	expect_code 0 $LOOPGATE run --dir np --goal g --gate "sh run-tests.sh" \
		--agent-cmd "$TRASH/np.agent" --no-protect --json >np.sum 2>err &&
	git -C np show "$(summary_field np.sum branch):tests/test_calc.py" | grep -q "more tests"
'

test_done
