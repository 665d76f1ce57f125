#!/bin/sh
# loopgate audit verify: a real run's event log verifies, and an edited one
# is caught at the first record that was touched.
. "$(dirname "$0")/lib.sh"

# tamper HOW FILE [N]: flip a bit in the middle byte of a body value of line N
# (HOW=flip), delete line N (del) or swap lines N and N+1 (swap).
tamper() {
	python3 - "$@" <<-'PY'
	import sys
	how, path = sys.argv[1], sys.argv[2]
	n = int(sys.argv[3]) - 1
	lines = open(path, "rb").read().split(b"\n")[:-1]
	if how == "flip":
	    line = bytearray(lines[n])
	    # a byte inside the body, well away from the chain fields
	    i = line.index(b'"body":{') + 8 + 3
	    line[i] ^= 0x01
	    lines[n] = bytes(line)
	elif how == "del":
	    del lines[n]
	elif how == "swap":
	    lines[n], lines[n + 1] = lines[n + 1], lines[n]
	open(path, "wb").write(b"".join(l + b"\n" for l in lines))
	PY
}

test_expect_success 'a real run: its event log verifies by run id' '
	make_repo repo &&
	expect_code 0 $LOOPGATE run --dir repo --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --json >s.json 2>err &&
	run_id=$(summary_field s.json run_id) &&
	run_dir=$(summary_field s.json run_dir) &&
	events_ok "$run_dir" &&
	expect_code 0 $LOOPGATE audit verify "$run_id" --dir repo >out &&
	n=$(wc -l <"$run_dir/events.jsonl") &&
	grep -qx "ok: $n records, head $((n - 1)) [0-9a-f]\{64\}" out &&
	cp "$run_dir/events.jsonl" pristine.jsonl
'

test_expect_success 'the run directory, the file and --json name the same log' '
	run_dir=$(summary_field s.json run_dir) &&
	expect_code 0 $LOOPGATE audit verify "$run_dir" >o1 &&
	expect_code 0 $LOOPGATE audit verify "$run_dir/events.jsonl" >o2 &&
	cmp out o1 && cmp out o2 &&
	(cd repo && expect_code 0 $LOOPGATE audit verify "$(summary_field ../s.json run_id)" --json >../j.json) &&
	test "$(summary_field j.json status)" = intact &&
	test "$(summary_field j.json run_id)" = "$(summary_field s.json run_id)"
'

test_expect_success 'a flipped byte in the middle: exit 1, the line named' '
	run_dir=$(summary_field s.json run_dir) &&
	cp pristine.jsonl "$run_dir/events.jsonl" &&
	n=$(wc -l <pristine.jsonl) && mid=$((n / 2)) &&
	tamper flip "$run_dir/events.jsonl" $mid &&
	expect_code 1 $LOOPGATE audit verify "$(summary_field s.json run_id)" --dir repo >out 2>err &&
	grep "^tampered: line $mid " out &&
	grep -q "line $mid (seq $((mid - 1))): bad hash" out
'

test_expect_success 'a deleted line: exit 1, prev does not match' '
	run_dir=$(summary_field s.json run_dir) &&
	cp pristine.jsonl "$run_dir/events.jsonl" &&
	tamper del "$run_dir/events.jsonl" 3 &&
	expect_code 1 $LOOPGATE audit verify "$(summary_field s.json run_id)" --dir repo >out &&
	grep -q "^tampered: line 3 (seq 3): prev does not match" out
'

test_expect_success 'two swapped lines: exit 1, --json names the line' '
	run_dir=$(summary_field s.json run_dir) &&
	cp pristine.jsonl "$run_dir/events.jsonl" &&
	tamper swap "$run_dir/events.jsonl" 4 &&
	expect_code 1 $LOOPGATE audit verify "$(summary_field s.json run_id)" --dir repo --json >j.json &&
	test "$(summary_field j.json status)" = tampered &&
	test "$(summary_field j.json bad_line)" = 4 &&
	test "$(summary_field j.json reason)" = "prev does not match"
'

test_expect_success 'a torn last line is told apart from tampering' '
	run_dir=$(summary_field s.json run_dir) &&
	head -c -5 pristine.jsonl >"$run_dir/events.jsonl" &&
	expect_code 1 $LOOPGATE audit verify "$run_dir" >out &&
	grep -q "^torn: line $(wc -l <pristine.jsonl): torn tail (a crash mid-write)" out
'

test_expect_success 'usage and unreadable logs' '
	expect_code 2 $LOOPGATE audit verify &&
	expect_code 2 $LOOPGATE audit frobnicate &&
	expect_code 2 $LOOPGATE audit verify a b &&
	expect_code 0 $LOOPGATE audit verify --help >h && grep -q "Exit status" h &&
	expect_code 3 $LOOPGATE audit verify no-such-run --dir repo 2>err &&
	grep -q "no run .no-such-run." err &&
	expect_code 3 $LOOPGATE audit verify ./missing.jsonl 2>err &&
	grep -q "cannot open the event log" err
'

test_done
