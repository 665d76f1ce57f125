#!/bin/sh
# loopgate gate check: does each gate catch a planted defect?
. "$(dirname "$0")/lib.sh"

# fixed_repo DIR: make_repo with add() fixed and committed, so that
# `sh test.sh` passes on HEAD and fails when the defect comes back.
fixed_repo() {
	make_repo "$1" &&
	printf 'def add(a, b):\n    return a + b\n' >"$1/calc.py" &&
	git -C "$1" commit -qam "fix add"
}

test_expect_success 'a good gate catches the planted defect' '
	fixed_repo good &&
	expect_code 0 $LOOPGATE gate check --dir good --gate "sh test.sh" >out 2>err &&
	cat out &&
	grep -q "gate 1: sh test.sh" out &&
	grep -q "on HEAD:  passed" out &&
	grep -q "planted:  calc.py:2: '"'"' + '"'"' -> '"'"' - '"'"'" out &&
	grep -q "\"return a + b\" -> \"return a - b\": caught (exit 1)" out &&
	grep -q "verdict:  catches a planted defect" out &&
	! grep -q ": suspect" out
'

test_expect_success 'a useless gate is suspect' '
	fixed_repo useless &&
	expect_code 1 $LOOPGATE gate check --dir useless --gate true >out 2>err &&
	cat out &&
	grep -A1 "planted:  calc.py:2:" out | grep -q "missed (exit 0)" &&
	grep -Eq "verdict:  missed [1-5] planted defects?: suspect" out &&
	! grep -q caught out
'

test_expect_success 'each gate gets its own verdict; one suspect makes exit 1' '
	fixed_repo mixed &&
	expect_code 1 $LOOPGATE gate check --dir mixed --gate "sh test.sh" --gate true >out 2>err &&
	cat out &&
	grep -A4 "^gate 1:" out | grep -q "verdict:  catches a planted defect" &&
	grep -A4 "^gate 2:" out | grep -q "verdict:  missed 1 planted defect: suspect"
'

test_expect_success 'a gate failing on HEAD is not checkable' '
	make_repo broken &&
	expect_code 0 $LOOPGATE gate check --dir broken --gate "sh test.sh" >out 2>err &&
	cat out &&
	grep -q "on HEAD:  failed (exit 1" out &&
	grep -q "verdict:  not checkable (fails on HEAD)" out &&
	grep -q "gate 1 fails on HEAD: a defect can.t be told from the baseline failure" out &&
	grep -q "run the check on a tree where the gates pass" out &&
	! grep -q "planted:" out
'

test_expect_success 'the user tree, branch and status are untouched; no worktree is left' '
	fixed_repo mine &&
	git -C mine checkout -q -b work &&
	echo "# local edit" >>mine/calc.py &&
	echo scratch >mine/notes.txt &&
	git -C mine status --porcelain >status.before &&
	cp mine/calc.py calc.before &&
	head=$(git -C mine rev-parse HEAD) &&
	git -C mine branch --list >branches.before &&
	expect_code 1 $LOOPGATE gate check --dir mine --gate "sh test.sh" --gate true >out 2>err &&
	git -C mine status --porcelain >status.after &&
	test_cmp_ok() { cmp "$1" "$2" || { diff "$1" "$2"; false; }; } &&
	test_cmp_ok status.before status.after &&
	test_cmp_ok calc.before mine/calc.py &&
	test "$(git -C mine rev-parse HEAD)" = "$head" &&
	test "$(git -C mine symbolic-ref --short HEAD)" = work &&
	git -C mine branch --list >branches.after &&
	test_cmp_ok branches.before branches.after &&
	test "$(git -C mine worktree list | wc -l)" = 1 &&
	! test -e mine/.loopgate/check/*/tree &&
	test -f mine/.loopgate/check/*/head/gate-1.out &&
	test -f mine/.loopgate/check/*/planted-1/gate-2.out
'

# --no-sandbox: inside the sandbox $PPID is the namespace's init, and loopgate
# cannot be signalled from a gate at all (t4000 checks that).
test_expect_success 'an interrupted check removes its worktree too (exit 3)' '
	fixed_repo stop &&
	# the gate'"'"'s parent is its warden (exec/warden.h); loopgate is the
	# warden'"'"'s parent, field 4 of /proc/PID/stat
	expect_code 3 $LOOPGATE gate check --no-sandbox --dir stop \
		--gate "kill -TERM \$(cut -d\" \" -f4 /proc/\$PPID/stat); true" >out 2>err &&
	grep -q "interrupted" err &&
	test "$(git -C stop worktree list | wc -l)" = 1 &&
	test -z "$(git -C stop status --porcelain)"
'

test_expect_success 'tests, gate scripts and other protected files are never mutated' '
	fixed_repo prot &&
	mkdir -p prot/lib prot/fixtures &&
	printf "X = 1 + 1\n" >prot/lib/aaa.py &&
	printf "import calc\nassert calc.add(1, 2) == 3\n" >prot/test_calc.py &&
	printf "Y = 2 + 2\n" >prot/check.py &&
	printf "Z = 3 + 3\n" >prot/fixtures/data.py &&
	printf "protect:\n  - fixtures/**\n" >prot/loopgate.yaml &&
	git -C prot add lib/aaa.py test_calc.py check.py fixtures/data.py loopgate.yaml &&
	git -C prot commit -qm more &&
	expect_code 1 $LOOPGATE gate check --dir prot --gate "python3 -B check.py" \
		--gate "sh test.sh" --json >s.json 2>err &&
	json_get s.json "[p[\"file\"] for p in d[\"gates\"][0][\"planted\"]]" >files1 &&
	json_get s.json "[p[\"file\"] for p in d[\"gates\"][1][\"planted\"]]" >files2 &&
	cat files1 files2 &&
	test "$(cat files1)" = "[$(printf "%s" "'"'calc.py', 'lib/aaa.py'"'")]" &&
	test "$(cat files2)" = "[$(printf "%s" "'"'calc.py'"'")]"
'

test_expect_success 'a file named by a test file ranks before the rest' '
	fixed_repo rank &&
	printf "X = 1 + 1\n" >rank/aaa.py &&
	printf "import calc\nassert calc.add(1, 2) == 3\n" >rank/test_calc.py &&
	git -C rank add aaa.py test_calc.py && git -C rank commit -qm more &&
	expect_code 0 $LOOPGATE gate check --dir rank --gate "python3 -B test_calc.py" \
		--json >s.json 2>err &&
	test "$(json_get s.json "d[\"gates\"][0][\"planted\"][0][\"file\"]")" = calc.py &&
	test "$(json_get s.json "len(d[\"gates\"][0][\"planted\"])")" = 1
'

test_expect_success 'a gate that never failed in recorded runs is flagged from history' '
	fixed_repo hist &&
	for i in 1 2; do
		expect_code 0 $LOOPGATE run --dir hist --goal "nothing" --gate true \
			--agent-cmd true --json >run$i.json 2>/dev/null &&
		test "$(summary_field run$i.json status)" = already_satisfied || return 1
	done &&
	expect_code 1 $LOOPGATE gate check --dir hist --gate true --gate "sh test.sh" >out 2>err &&
	cat out &&
	grep -A6 "^gate 1: true" out | grep -q "history:  never failed in 2 recorded runs: suspect" &&
	grep -A6 "^gate 2: sh test.sh" out | grep -q "history:  in no recorded run" &&
	expect_code 1 $LOOPGATE gate check --dir hist --gate true --json >s.json 2>err &&
	test "$(json_get s.json "d[\"gates\"][0][\"history\"]")" = \
		"{'"'failures'"': 0, '"'runs'"': 2, '"'suspect'"': True}"
'

test_expect_success 'a gate that failed in a recorded run is not flagged' '
	make_repo hist2 &&
	expect_code 1 $LOOPGATE run --dir hist2 --goal "fix add" --gate "sh test.sh" \
		--agent-cmd true --max-iterations 1 >/dev/null 2>&1 &&
	printf "def add(a, b):\n    return a + b\n" >hist2/calc.py &&
	git -C hist2 commit -qam fix &&
	expect_code 0 $LOOPGATE gate check --dir hist2 --gate "sh test.sh" >out 2>err &&
	grep -q "history:  failed in 1 of 1 recorded runs" out &&
	! grep -q "never failed" out
'

test_expect_success '--json parses and has the fields' '
	fixed_repo js &&
	expect_code 1 $LOOPGATE gate check --dir js --gate "sh test.sh" --gate true \
		--gate false --json >s.json 2>err &&
	test "$(summary_field s.json status)" = suspect &&
	test "$(summary_field s.json exit_code)" = 1 &&
	python3 - s.json <<-\EOF
	import json, sys
	d = json.load(open(sys.argv[1]))
	g = d["gates"]
	assert [x["index"] for x in g] == [1, 2, 3], g
	assert [x["command"] for x in g] == ["sh test.sh", "true", "false"]
	assert [x["verdict"] for x in g] == ["catches", "suspect", "not_checkable"]
	assert g[0]["head"]["passed"] is True and g[0]["head"]["exit_code"] == 0
	assert g[2]["head"]["passed"] is False and g[2]["head"]["exit_code"] == 1
	for x in g:
	    assert x["head"]["output_file"].endswith("/head/gate-%d.out" % x["index"])
	    assert set(x["history"]) >= {"runs", "failures"}
	p = g[0]["planted"][0]
	assert p == dict(p, file="calc.py", line=2, before="return a + b",
	                 after="return a - b", caught=True), p
	assert g[1]["planted"][0]["caught"] is False
	assert g[2]["planted"] == []
	assert g[2]["verdict_text"] == "not checkable (fails on HEAD)"
	EOF
'

test_expect_success 'gates come from loopgate.yaml, which needs no goal or model' '
	fixed_repo cfg &&
	printf "gates:\n  - sh test.sh\ngate_timeout: 30s\n" >cfg/loopgate.yaml &&
	git -C cfg add loopgate.yaml && git -C cfg commit -qm cfg &&
	expect_code 0 $LOOPGATE gate check --dir cfg >out 2>err &&
	grep -q "gate 1: sh test.sh" out &&
	grep -q "verdict:  catches a planted defect" out
'

test_expect_success 'usage and setup errors: exit 2 and 3' '
	fixed_repo errs &&
	expect_code 2 $LOOPGATE gate check --dir errs 2>err &&
	grep -q "no gate" err &&
	expect_code 2 $LOOPGATE gate check --dir errs --gate true --gate-timeout 0 2>err &&
	expect_code 2 $LOOPGATE gate check --dir errs --gate true --bogus 2>err &&
	expect_code 2 $LOOPGATE gate check --dir errs --gate true --config nope.yaml 2>err &&
	expect_code 2 $LOOPGATE gate frobnicate 2>err &&
	mkdir -p plain &&
	expect_code 3 $LOOPGATE gate check --dir plain --gate true --json >s.json 2>err &&
	grep -q "not inside a git work tree" err &&
	test "$(summary_field s.json status)" = error
'

test_expect_success 'help texts' '
	expect_code 0 $LOOPGATE gate --help >out &&
	grep -q "loopgate gate check" out &&
	expect_code 0 $LOOPGATE gate check --help >out &&
	grep -q "Exit status: 0 every checkable gate caught a planted defect" out &&
	expect_code 0 $LOOPGATE --help >out &&
	grep -q "^  gate " out
'

test_done
