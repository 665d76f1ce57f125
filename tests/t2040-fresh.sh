#!/bin/sh
# Fresh judgment: a gate round never runs bytecode or build products made
# from an earlier state of a file the actor changed, whatever the edit's
# size and timing (docs/design/judge-fresh.md).
. "$(dirname "$0")/lib.sh"

# The actor's edits keep the file's size and put its mtime back where it
# was: to every timestamp cache, the file looks untouched (the extreme case
# of a same-size edit within the same second).
cat >"$TRASH/sneaky.sh" <<'SH'
#!/bin/sh
f=$1 from=$2 to=$3
m=$(stat -c %y "$f")
sed -i "s/$from/$to/" "$f"
touch -d "$m" "$f"
SH
chmod +x "$TRASH/sneaky.sh"

# make_pyrepo DIR: calc.py returns a + b + 1011; a unittest wants 5.
make_pyrepo() {
	mkdir -p "$1" && (
		cd "$1" && git init -q -b main . &&
		printf 'def add(a, b):\n    return a + b + 1011\n' >calc.py &&
		mkdir tests &&
		printf 'import unittest\nimport calc\n\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(calc.add(2, 3), 5)\n' >tests/test_calc.py &&
		touch tests/__init__.py &&
		git add . && git commit -qm initial
	)
}

# The python run that cases 1 and 2 look at, made once (lib.sh use_setup).
py_run() {
	make_pyrepo py &&
	cat >agent.sh <<-EOF &&
	#!/bin/sh
	if [ "\$LOOPGATE_ITERATION" = 1 ]; then $TRASH/sneaky.sh calc.py 1011 2011
	else $TRASH/sneaky.sh calc.py "+ 2011" "+ 0000"; fi
	EOF
	chmod +x agent.sh &&
	expect_code 0 $LOOPGATE run --dir py --goal "add" --stall-after 5 \
		--gate "python3 -m unittest -q 2>&1" --agent-cmd "$TRASH/agent.sh" \
		--json >py.json 2>err
}

test_expect_success 'python: a same-size edit within the same second is judged fresh' '
	use_setup py py_run &&
	test "$(summary_field py.json status)" = converged &&
	d=$(summary_field py.json run_dir) &&
	grep -q "1016 != 5" "$d/baseline/gate-1.out" &&
	grep -q "2016 != 5" "$d/iter-001/gate-1.out" &&
	! grep -q "1016" "$d/iter-001/gate-1.out"
'

test_expect_success 'the stale bytecode of changed files is removed, and said so' '
	use_setup py py_run &&
	d=$(summary_field py.json run_dir) &&
	event_bodies "$d" fresh >fresh.json &&
	python3 -c "
import json,sys
f=json.load(open(\"fresh.json\"))
assert len(f)==2, f
assert f[0][\"stamped\"]==1, f
assert any(p.startswith(\"__pycache__/calc.cpython\") for p in f[0][\"bytecode_removed\"]), f
assert f[1][\"mtime_ns\"] // 10**9 > f[0][\"mtime_ns\"] // 10**9, f
"
'

# The agent compiles a version of calc.py it does not keep, with the
# final file's size and mtime, then puts the original back: git sees no
# change, and the bytecode left behind passes the gate unless a touched
# file's bytecode is dropped.  (It also writes notes.txt: a tree that did
# not change would get the cached verdict, which is right anyway.)
cat >"$TRASH/ghost.sh" <<'SH'
#!/bin/sh
m=$(stat -c %y calc.py)
sed -i "s/a - b/a + b/" calc.py
touch -d "$m" calc.py
rm -rf __pycache__
python3 -c "import calc"
sed -i "s/a + b/a - b/" calc.py
touch -d "$m" calc.py
echo "tried" >notes.txt
SH
chmod +x "$TRASH/ghost.sh"

test_expect_success 'bytecode of a version the agent did not keep never passes the gate' '
	make_repo gh &&
	{
		expect_code 1 $LOOPGATE run --dir gh --goal "fix add" --max-iterations 2 \
			--gate "python3 -c \"import calc; assert calc.add(2, 3) == 5, calc.add(2, 3)\"" \
			--agent-cmd "$TRASH/ghost.sh" --json >gh.json 2>err &&
		test "$(summary_field gh.json status)" != converged &&
		d=$(summary_field gh.json run_dir) &&
		grep -q "AssertionError: -1" "$d/iter-001/gate-1.out" &&
		event_bodies "$d" fresh | grep -q "__pycache__/calc"
	} || {
		echo "--- summary"; cat gh.json; echo "--- err"; tail -n 12 err
		d=$(summary_field gh.json run_dir)
		echo "--- iter-001/gate-1.out"; cat "$d/iter-001/gate-1.out"
		echo "--- fresh and gate records"
		grep -E "\"kind\":\"(fresh|gate_end|gate_cached|commit)\"" "$d/events.jsonl" | cut -c 1-400
		false
	}
'

test_expect_success 'make: an edit that leaves the source no newer than its target is rebuilt' '
	mkdir mk && (
		cd mk && git init -q -b main . &&
		printf "int main(void) { return 1; }\n" >main.c &&
		printf "t: main.c\n\tcc -o t main.c\n" >Makefile &&
		git add . && git commit -qm initial
	) &&
	cat >mkagent.sh <<-EOF &&
	#!/bin/sh
	$TRASH/sneaky.sh main.c "return 1" "return 0"
	EOF
	chmod +x mkagent.sh &&
	expect_code 0 $LOOPGATE run --dir mk --goal "exit 0" \
		--gate "make -s t && ./t" --agent-cmd "$TRASH/mkagent.sh" \
		--json >mk.json 2>err &&
	test "$(summary_field mk.json status)" = converged &&
	test "$(summary_field mk.json iterations)" = 1
'

# git's stat check sees seconds (and with core.checkStat=minimal, which
# users set for network file systems, only mtime and size): a file put back
# with its old mtime and size looks untouched to `git diff-files`, and the
# bytecode of the version in between passed the gate (seen in CI when the
# inode number was reused within the second).  The ctime of every tracked
# file is checked too: nothing the agent runs can set it back.
test_expect_success 'a file rewritten and put back with its mtime and size: touched, whatever git'"'"'s stat check sees' '
	make_repo gm &&
	git -C gm config core.checkStat minimal &&
	{
		expect_code 1 $LOOPGATE run --dir gm --goal "fix add" --max-iterations 1 \
			--gate "python3 -c \"import calc; assert calc.add(2, 3) == 5, calc.add(2, 3)\"" \
			--agent-cmd "$TRASH/ghost.sh" --json >gm.json 2>err &&
		d=$(summary_field gm.json run_dir) &&
		grep -q "AssertionError: -1" "$d/iter-001/gate-1.out" &&
		event_bodies "$d" fresh >fr.json &&
		json_get fr.json "d[0][\"bytecode_removed\"]" | grep -q "__pycache__/calc"
	} || { cat err; cat "$d/iter-001/gate-1.out"; cat fr.json; false; }
'

# A model's edit blocks are the only writes of its turn: nothing saw them
# before the stamp, so the stamp need only pass the turn's start.  A model
# that thinks for over a second is not waited for (an agent or a command
# is: it may have run the tests on an intermediate state itself).
test_expect_success 'a model turn of over a second: same-size edit stamped without a wait' '
	make_repo slow &&
	python3 -c "
import json, sys
json.dump({\"replies\": [{\"content\": sys.argv[1], \"delay_ms\": 1100}]}, open(\"slow.json\", \"w\"))
" "$REPLY_FIX" &&
	url=$(start_fake slow slow.json) &&
	expect_code 0 $LOOPGATE run --dir slow --goal "fix add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-iterations 2 --json >slow.sum 2>slow.err &&
	test "$(summary_field slow.sum status)" = converged &&
	d=$(summary_field slow.sum run_dir) &&
	event_bodies "$d" fresh >fresh.json &&
	test "$(json_get fresh.json "d[0][\"stamped\"]")" -ge 1 &&
	test "$(json_get fresh.json "d[0][\"waited_ms\"]")" = 0
'

# What the turn touched is read off the index (tree/git_index.c): no `git
# diff-files` process per iteration, unless the repository's configuration
# changes how git compares stat data (then git is asked).  The fresh stamp
# still lands on the edited file.
test_expect_success 'the touched files come from the index, not a git diff-files process' '
	make_repo ix &&
	mkdir -p gitlog &&
	real=$(command -v git) &&
	printf "#!/bin/sh\necho \"\$*\" >>$TRASH/gitlog/\$\$.log\nexec %s \"\$@\"\n" \
		"$real" >gitlog/git &&
	chmod +x gitlog/git &&
	replies_json "$REPLY_WRONG" "$REPLY_FIX_AFTER_WRONG" >ix.json &&
	url=$(start_fake ix ix.json) &&
	PATH=$TRASH/gitlog:$PATH expect_code 0 $LOOPGATE run --dir ix --goal "fix add" \
		--gate "sh test.sh" --model openai/m --base-url "$url" --max-iterations 3 \
		--json >ix.sum 2>ix.err &&
	test "$(summary_field ix.sum status)" = converged &&
	cat gitlog/*.log >calls.txt &&
	grep -q " commit -a" calls.txt &&
	! grep -q " diff-files" calls.txt &&
	d=$(summary_field ix.sum run_dir) &&
	event_bodies "$d" fresh >ixf.json &&
	test "$(json_get ixf.json "len(d)")" = 2 &&
	test "$(json_get ixf.json "d[1][\"stamped\"]")" = 1 &&
	git -C ix config core.trustctime false &&
	rm -f gitlog/*.log &&
	url=$(start_fake ix2 ix.json) &&
	PATH=$TRASH/gitlog:$PATH expect_code 0 $LOOPGATE run --dir ix --goal "fix add" \
		--gate "sh test.sh" --model openai/m --base-url "$url" --max-iterations 3 \
		--json >ix2.sum 2>ix2.err &&
	cat gitlog/*.log | grep -c " diff-files" >n.txt &&
	test "$(cat n.txt)" = 2
'

test_done
