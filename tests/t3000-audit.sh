#!/bin/sh
# loopgate audit verify: a real run's event log and its signed checkpoints
# verify, and an edited log is caught at the first record that was touched,
# including one cut short and continued with correctly re-chained records.
. "$(dirname "$0")/lib.sh"

# tamper HOW FILE [N]: flip a bit in the middle byte of a body value of line N
# (HOW=flip), delete line N (del), swap lines N and N+1 (swap), insert a copy
# of line N after it (ins), keep lines 1..N and append three records chained
# from line N with SHA-256 as an attacker can (forge), or append half a
# record without newline, as a crash mid-write leaves (torn).
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
	elif how == "ins":
	    lines.insert(n + 1, lines[n])
	elif how in ("forge", "torn"):
	    import hashlib, json
	    lines = lines[:n + 1]
	    last = json.loads(lines[n])
	    prev, seq = last["h"], last["seq"]
	    for i in range(3):
	        seq += 1
	        rec = {"body": {"forged": True}, "kind": "iteration_end",
	               "prev": prev, "seq": seq, "ts": last["ts"]}
	        canon = json.dumps(rec, sort_keys=True, separators=(",", ":"))
	        prev = hashlib.sha256(b"loopgate-event-v1\0" + prev.encode() +
	                              b"\0" + canon.encode()).hexdigest()
	        rec["h"] = prev
	        lines.append(json.dumps(rec, sort_keys=True,
	                                separators=(",", ":")).encode())
	    if how == "torn":
	        tail = lines[n + 1][:40]
	        lines = lines[:n + 1]
	        open(path, "wb").write(b"".join(l + b"\n" for l in lines) + tail)
	        sys.exit(0)
	open(path, "wb").write(b"".join(l + b"\n" for l in lines))
	PY
}

# real_run: a real run in the case's directory (repo, s.json), its log and
# checkpoints kept as pristine.jsonl and pristine-cp.jsonl.  Each case that
# tampers with a log makes its own.
real_run() {
	make_repo repo &&
	expect_code 0 $LOOPGATE run --dir repo --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --json >s.json 2>err &&
	run_dir=$(summary_field s.json run_dir) &&
	cp "$run_dir/events.jsonl" pristine.jsonl &&
	cp "$run_dir/checkpoints.jsonl" pristine-cp.jsonl
}

test_expect_success 'a real run: its event log verifies by run id' '
	real_run &&
	run_id=$(summary_field s.json run_id) &&
	run_dir=$(summary_field s.json run_dir) &&
	events_ok "$run_dir" &&
	expect_code 0 $LOOPGATE audit verify "$run_id" --dir repo >out &&
	n=$(wc -l <"$run_dir/events.jsonl") &&
	grep -qx "ok: $n records, head $((n - 1)) [0-9a-f]\{64\}" out &&
	grep -qx "  2 checkpoints verified, signed up to seq $((n - 1)) (final)" out &&
	cmp "$run_dir/events.jsonl" pristine.jsonl &&
	cmp "$run_dir/checkpoints.jsonl" pristine-cp.jsonl
'

test_expect_success 'the run directory, the file and --json name the same log' '
	real_run &&
	expect_code 0 $LOOPGATE audit verify "$(summary_field s.json run_id)" --dir repo >out &&
	run_dir=$(summary_field s.json run_dir) &&
	expect_code 0 $LOOPGATE audit verify "$run_dir" >o1 &&
	expect_code 0 $LOOPGATE audit verify "$run_dir/events.jsonl" >o2 &&
	cmp out o1 && cmp out o2 &&
	(cd repo && expect_code 0 $LOOPGATE audit verify "$(summary_field ../s.json run_id)" --json >../j.json) &&
	test "$(summary_field j.json status)" = intact &&
	test "$(summary_field j.json run_id)" = "$(summary_field s.json run_id)"
'

test_expect_success 'a flipped byte in the middle: exit 1, the line named' '
	real_run &&
	run_dir=$(summary_field s.json run_dir) &&
	cp pristine.jsonl "$run_dir/events.jsonl" &&
	n=$(wc -l <pristine.jsonl) && mid=$((n / 2)) &&
	tamper flip "$run_dir/events.jsonl" $mid &&
	expect_code 1 $LOOPGATE audit verify "$(summary_field s.json run_id)" --dir repo >out 2>err &&
	grep "^tampered: line $mid " out &&
	grep -q "line $mid (seq $((mid - 1))): bad hash" out
'

test_expect_success 'a deleted line: exit 1, prev does not match' '
	real_run &&
	run_dir=$(summary_field s.json run_dir) &&
	cp pristine.jsonl "$run_dir/events.jsonl" &&
	tamper del "$run_dir/events.jsonl" 3 &&
	expect_code 1 $LOOPGATE audit verify "$(summary_field s.json run_id)" --dir repo >out &&
	grep -q "^tampered: line 3 (seq 3): prev does not match" out
'

test_expect_success 'two swapped lines: exit 1, --json names the line' '
	real_run &&
	run_dir=$(summary_field s.json run_dir) &&
	cp pristine.jsonl "$run_dir/events.jsonl" &&
	tamper swap "$run_dir/events.jsonl" 4 &&
	expect_code 1 $LOOPGATE audit verify "$(summary_field s.json run_id)" --dir repo --json >j.json &&
	test "$(summary_field j.json status)" = tampered &&
	test "$(summary_field j.json bad_line)" = 4 &&
	test "$(summary_field j.json reason)" = "prev does not match"
'

test_expect_success 'an inserted copy of a line: exit 1, the copy named' '
	real_run &&
	run_dir=$(summary_field s.json run_dir) &&
	cp pristine.jsonl "$run_dir/events.jsonl" &&
	tamper ins "$run_dir/events.jsonl" 4 &&
	expect_code 1 $LOOPGATE audit verify "$run_dir" >out &&
	grep -q "^tampered: line 5 (seq 3): prev does not match" out
'

test_expect_success 'cut short and continued with re-chained records: the checkpoint catches it' '
	real_run &&
	run_dir=$(summary_field s.json run_dir) &&
	cp pristine.jsonl "$run_dir/events.jsonl" &&
	n=$(wc -l <pristine.jsonl) && keep=$((n - 3)) &&
	tamper forge "$run_dir/events.jsonl" $keep &&
	test $(wc -l <"$run_dir/events.jsonl") = $((keep + 3)) &&
	last=$((keep + 2)) &&
	expect_code 1 $LOOPGATE audit verify "$run_dir" >out &&
	grep -q "^tampered: line $((last + 1)) (seq $last): checkpoint h mismatch at seq $last" out &&
	expect_code 1 $LOOPGATE audit verify "$run_dir" --json >j.json &&
	test "$(summary_field j.json bad_seq)" = $last &&
	python3 -c "import json,sys; c=json.load(open(\"j.json\"))[\"checkpoints\"]; sys.exit(c[\"error\"] != \"checkpoint h mismatch\")"
'

test_expect_success 'cut short by whole records: truncated, the first missing record named' '
	real_run &&
	run_dir=$(summary_field s.json run_dir) &&
	n=$(wc -l <pristine.jsonl) &&
	head -n $((n - 4)) pristine.jsonl >"$run_dir/events.jsonl" &&
	expect_code 1 $LOOPGATE audit verify "$run_dir" >out &&
	grep -q "^tampered: line $((n - 3)) (seq $((n - 4))): truncated: checkpoint at seq $((n - 1)) but the log ends at $((n - 5))" out
'

test_expect_success 'checkpoints deleted, forged or from another key are caught' '
	real_run &&
	run_dir=$(summary_field s.json run_dir) &&
	cp pristine.jsonl "$run_dir/events.jsonl" &&
	rm "$run_dir/checkpoints.jsonl" &&
	expect_code 1 $LOOPGATE audit verify "$run_dir" >out &&
	grep -q "^tampered: line 1 (seq 0): cannot read the checkpoints .*No such file" out &&
	: >"$run_dir/checkpoints.jsonl" &&
	expect_code 1 $LOOPGATE audit verify "$run_dir" >out &&
	grep -q "no signed checkpoint" out &&
	sed "s/\"sig\":\"./\"sig\":\"X/" pristine-cp.jsonl >"$run_dir/checkpoints.jsonl" &&
	expect_code 1 $LOOPGATE audit verify "$run_dir" >out &&
	grep -q "bad signature on the checkpoint at seq 0" out &&
	cp pristine-cp.jsonl "$run_dir/checkpoints.jsonl" &&
	(export LOOPGATE_AUDIT_KEY="$PWD/other.pem" &&
	 expect_code 0 $LOOPGATE run --dir repo --goal g --gate true \
		--agent-cmd true >/dev/null 2>&1) &&
	test -f other.pem &&
	expect_code 1 $LOOPGATE audit verify "$run_dir" --key other.pem >out &&
	grep -q "^tampered: line 1 (seq 0): the checkpoint at seq 0 was signed by key" out &&
	expect_code 3 $LOOPGATE audit verify "$run_dir" --key missing.pem 2>err &&
	grep -q "cannot read the audit signing key .*missing.pem" err &&
	expect_code 0 $LOOPGATE audit verify "$run_dir"
'

test_expect_success 'a torn last line is told apart from tampering' '
	real_run &&
	run_dir=$(summary_field s.json run_dir) &&
	cp pristine.jsonl "$run_dir/events.jsonl" &&
	n=$(wc -l <pristine.jsonl) &&
	tamper torn "$run_dir/events.jsonl" $n &&
	expect_code 1 $LOOPGATE audit verify "$run_dir" >out &&
	grep -q "^torn: line $((n + 1)): torn tail (a crash mid-write)" out
'

test_expect_success 'usage and unreadable logs' '
	make_repo repo &&
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
