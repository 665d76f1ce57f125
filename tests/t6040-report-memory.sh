#!/bin/sh
# The report of a long run is rendered in memory that does not grow with the
# rounds it shows whole (issue 16, docs/design/heap.md "Session 11"): the
# first 20 and the last 80 rounds are read back from events.jsonl one at a
# time as the page is written, so `loopgate report` of 1,000 rounds of ~25 KB
# of records each peaks within a few MB of the same report of 10 rounds.
# Before, the 100 rounds shown whole were held at once (+20 MB here).
. "$(dirname "$0")/lib.sh"

RSS="python3 $TEST_DIR/../bench/rss.py"
# Under AddressSanitizer (make check) the heap is the sanitizer's, and its
# leak check cannot run under bench/rss.py's ptrace: the reports are still
# rendered and checked, without the wrapper, and the margin is not.
asan() {
	grep -q __asan_init "$LOOPGATE"
}
within_4mb() {
	asan || test $(($2 - $1)) -lt 4096
}

# gen DIR N: a run directory of N rounds, each with an edits record of 100
# items (what a round shown whole holds), one gate, tokens.
gen() {
	python3 - "$1" "$2" <<-\EOF
	import json, os, sys
	d, n = sys.argv[1], int(sys.argv[2])
	os.makedirs(d)
	items = [{"path": "src/file%03d.c" % k, "kind": "search_replace",
	          "status": "applied"} for k in range(100)]
	with open(d + "/events.jsonl", "w") as f:
	    seq = 0
	    def rec(kind, body):
	        global seq
	        seq += 1
	        ts = "2026-12-06T06:%02d:%02d.%03dZ" % (seq // 60000 % 60, seq // 1000 % 60, seq % 1000)
	        f.write(json.dumps({"seq": seq, "ts": ts, "kind": kind, "body": body},
	                           separators=(",", ":")) + "\n")
	    rec("run_start", {"run_id": "mem", "goal": "g",
	                      "config": {"gates": ["make test"], "max_iterations": n}})
	    for i in range(1, n + 1):
	        rec("iteration_start", {"iteration": i})
	        rec("model_response", {"iteration": i, "tokens_in": 4000, "tokens_out": 300,
	                               "cost_usd": 0.003})
	        rec("edits", {"iteration": i, "applied": 100, "refused": 0, "items": items})
	        rec("gate_end", {"iteration": i, "gate": 1, "command": "make test",
	                         "passed": i == n, "describe": "exit %d" % (i % 3),
	                         "duration_ms": 2000.0})
	        if i % 7 == 0:
	            rec("flaky", {"iteration": i, "gate": 1, "note": "n%d" % i})
	        rec("iteration_end", {"iteration": i, "tokens_in": 4000, "tokens_out": 300,
	                              "cost_usd": 0.003, "status": "failed"})
	    rec("run_end", {"status": "converged", "reason": "r", "iterations": n})
	EOF
}

# hwm DIR: renders DIR/report.html; prints the VmHWM of `loopgate report`.
hwm() {
	if asan; then
		$LOOPGATE report "$1" >/dev/null 2>"$1.err" && echo 0
		return
	fi
	$RSS "$1.json" -- $LOOPGATE report "$1" >/dev/null 2>"$1.err" &&
		python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["hwm_kb"])' "$1.json"
}

test_expect_success '1,000 rounds: report peak within 4 MB of 10 rounds, rounds shown whole' '
	gen r10 10 && gen r1000 1000 &&
	a=$(hwm r10) && b=$(hwm r1000) &&
	echo "VmHWM: 10 rounds $a KiB, 1000 rounds $b KiB" &&
	test "$(grep -c "<details class=\"iter\"" r1000/report.html)" = 1001 &&
	test "$(grep -c "src/file099.c" r1000/report.html)" = 99 &&
	grep -q "id=\"it-0-1000\" data-n=\"1000\" open" r1000/report.html &&
	test "$(grep -o "<span class=\"tag\">flaky</span>" r1000/report.html | wc -l)" = 142 &&
	within_4mb $a $b
'

test_done
