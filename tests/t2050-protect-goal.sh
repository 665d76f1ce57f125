#!/bin/sh
# Protection guards the goal without blocking it: the scripts a gate runs
# are protected, a compiler's input and the files a gate only reads are
# not; --unprotect lifts a default; an actor that keeps changing a
# protected file ends the run as integrity_violation, naming the file.
. "$(dirname "$0")/lib.sh"

test_expect_success 'cc -o t main.c && ./t converges: main.c is the code, not the goal' '
	mkdir c && (
		cd c && git init -q -b main . &&
		printf "int main(void) { return 1; }\n" >main.c &&
		git add . && git commit -qm initial
	) &&
	expect_code 0 $LOOPGATE run --dir c --goal "exit 0" \
		--gate "cc -Wall -o t main.c && ./t" \
		--agent-cmd "sed -i s/return.1/return\ 0/ main.c" --json >c.json 2>err &&
	test "$(summary_field c.json status)" = converged &&
	! grep -q protected_change "$(summary_field c.json run_dir)/events.jsonl"
'

test_expect_success 'a file the gate only reads (grep, wc <f) is not protected' '
	make_repo g &&
	expect_code 0 $LOOPGATE run --dir g --goal "fix add" \
		--gate "grep -q \"a + b\" calc.py && n=\$(wc -l <calc.py) && test \$n -ge 2" \
		--agent-cmd "sed -i s/a\ -\ b/a\ +\ b/ calc.py" --json >g.json 2>err &&
	test "$(summary_field g.json status)" = converged
'

# An actor that rewrites the gate script to pass instead of fixing the code.
cat >"$TRASH/cheat.sh" <<'SH'
#!/bin/sh
printf '#!/bin/sh\necho "1 passed, 0 failed"\n' >test.sh
SH
chmod +x "$TRASH/cheat.sh"

test_expect_success 'sh test.sh protects test.sh; changing it again and again is integrity_violation' '
	make_repo s &&
	expect_code 1 $LOOPGATE run --dir s --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "$TRASH/cheat.sh" --max-iterations 8 --json >s.json 2>err &&
	test "$(summary_field s.json status)" = integrity_violation &&
	summary_field s.json reason >reason &&
	grep -q "protected file(s) test.sh in [0-9] iteration(s) in a row" reason &&
	grep -q "unprotect .test.sh." reason &&
	grep -q "integrity_violation" "$(summary_field s.json run_dir)/handoff.md"
'

test_expect_success 'an actor that keeps editing a test file: integrity_violation naming it' '
	make_repo t && (
		cd t && mkdir tests &&
		printf "import calc\nassert calc.add(2, 3) == 5\n" >tests/test_calc.py &&
		touch tests/__init__.py &&
		git add tests && git commit -qm tests
	) &&
	expect_code 1 $LOOPGATE run --dir t --goal "fix add" \
		--gate "python3 -B -m tests.test_calc" \
		--agent-cmd "echo \"# \$LOOPGATE_ITERATION\" >>tests/test_calc.py" \
		--json >t.json 2>err &&
	test "$(summary_field t.json status)" = integrity_violation &&
	summary_field t.json reason >treason &&
	grep -q "tests/test_calc.py in [0-9] iteration(s)" treason &&
	grep -q "default test/CI glob .tests/\*\*." treason &&
	grep -q "\-\-unprotect .tests/test_calc.py." treason
'

# write_fixer: $TRASH/fixer.sh, an agent that fixes add() and rewords the
# (protected by default) test.sh.
write_fixer() {
	cat >"$TRASH/fixer.sh" <<-\SH &&
	#!/bin/sh
	sed -i "s/expected 5/expected five/" test.sh
	sed -i "s/a - b/a + b/" calc.py
	SH
	chmod +x "$TRASH/fixer.sh"
}

test_expect_success '--unprotect lets the actor change a default-protected file' '
	make_repo u &&
	write_fixer &&
	expect_code 0 $LOOPGATE run --dir u --goal "fix add, reword the test" \
		--gate "sh test.sh" --unprotect test.sh \
		--agent-cmd "$TRASH/fixer.sh" --json >u.json 2>err &&
	test "$(summary_field u.json status)" = converged &&
	git -C u show "$(summary_field u.json branch)":test.sh | grep -q "expected five"
'

test_expect_success 'unprotect: in loopgate.yaml works the same' '
	make_repo y && write_fixer &&
	printf "unprotect:\n  - test.sh\n" >y/loopgate.yaml &&
	git -C y add loopgate.yaml && git -C y commit -qm cfg &&
	expect_code 0 $LOOPGATE run --dir y --goal "fix" --gate "sh test.sh" \
		--agent-cmd "$TRASH/fixer.sh" --json >y.json 2>err &&
	test "$(summary_field y.json status)" = converged
'

test_done
