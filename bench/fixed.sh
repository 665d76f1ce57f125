#!/bin/sh
# bench/fixed.sh: a run's fixed cost and the processes of one iteration
# (issue 16 items 3 and 4), with a verdict each.  Called by bench/run.sh
# (BENCH_FIXED=0 skips it); LOOPGATE_BIN names the binary.
#
# Fixed cost: `loopgate run --gate true --agent-cmd true` on a fresh
# repository ends at the baseline (already satisfied): setup, the baseline
# gate, the end (summary, checkpoint, handoff.md).  Its wall time minus the
# baseline gate's own (gate_start to gate_end in events.jsonl) is the fixed
# cost; median of BENCH_FIXED_REPEATS (7) runs.
#
# Processes per iteration: with strace(1), two command-actor runs (gate
# `false`, sandbox on) of 1 and 11 iterations; the difference of their
# successful execve calls (and failed ones: PATH searches), divided by 10.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
LOOPGATE=${LOOPGATE_BIN:-$ROOT/loopgate}
N=${BENCH_FIXED_REPEATS:-7}
TARGET_FIXED_MS=50  # "within a few tens of milliseconds"
TARGET_GIT=4        # diff-files, add -A -v, commit, ls-files: nothing git was asked before
die() { echo "bench: $*" >&2; exit 1; }
case $N in '' | *[!0-9]*) die "BENCH_FIXED_REPEATS must be a number" ;; esac
[ "$N" -ge 1 ] || die "BENCH_FIXED_REPEATS must be at least 1"

W=$(mktemp -d "${TMPDIR:-/tmp}/loopgate-fixed.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
. "$BENCH_DIR/env.sh"

repo() {
	rm -rf "$1" && mkdir -p "$1" && (cd "$1" && git init -q -b main . &&
		echo 0 >counter.txt && git add counter.txt && git commit -q -m initial) ||
		die "cannot create the repository $1"
}

# Wall clock in ms (GNU date: sh has no sub-second clock; the start-up of
# date itself, about 1 ms, falls on both stamps alike).
now_ms() { date +%s%N | sed 's/......$//'; }

i=0
: >"$W/fixed"
while [ $i -lt "$N" ]; do
	i=$((i + 1))
	repo "$W/r"
	t0=$(now_ms)
	(cd "$W/r" && "$LOOPGATE" run --goal bench --gate true --agent-cmd true --json \
		>"$W/sum.json" 2>"$W/err")
	rc=$?
	t1=$(now_ms)
	[ $rc -eq 0 ] || { cat "$W/err" >&2; die "the fixed-cost run exited $rc, expected 0"; }
	python3 - "$t0" "$t1" "$W/sum.json" >>"$W/fixed" <<'PY' || die "cannot read the run's events"
import json, sys
from datetime import datetime
t0, t1, s = float(sys.argv[1]), float(sys.argv[2]), json.load(open(sys.argv[3]))
ev = [json.loads(l) for l in open(s["run_dir"] + "/events.jsonl")]
ts = lambda e: datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000
gs = [ts(e) for e in ev if e["kind"] == "gate_start"][0]
ge = [ts(e) for e in ev if e["kind"] == "gate_end"][0]
print("%.1f" % (t1 - t0 - (ge - gs)))
PY
done

procs=
if command -v strace >/dev/null; then
	count() { # count N: "ok failed git" execve of an N-iteration run
		repo "$W/p"
		(cd "$W/p" && strace -f -qq -o "$W/st" -e trace=execve "$LOOPGATE" run --goal bench \
			--gate false --agent-cmd 'echo $LOOPGATE_ITERATION >counter.txt' \
			--max-iterations "$1" --stall-after 100000 --json >/dev/null 2>"$W/err")
		[ $? -eq 1 ] || { cat "$W/err" >&2; die "the process-count run did not end by its budget"; }
		ok=$(grep 'execve(' "$W/st" | grep -vc ' = -1 ')
		bad=$(grep 'execve(' "$W/st" | grep -c ' = -1 ')
		git=$(grep 'execve(' "$W/st" | grep -v ' = -1 ' | grep -c 'execve("[^"]*/git", \["git"')
		echo "$ok $bad $git"
	}
	procs="$(count 1) $(count 11)"
fi

python3 - "$W/fixed" "$TARGET_FIXED_MS" "$TARGET_GIT" $procs <<'PY'
import statistics, sys
xs = sorted(float(l) for l in open(sys.argv[1]) if l.strip())
target, tgit = float(sys.argv[2]), int(sys.argv[3])
med = statistics.median(xs)
print("a run's fixed cost (setup and end, baseline gate excluded; %d runs): median %.1f ms (min %.1f, max %.1f)"
      % (len(xs), med, xs[0], xs[-1]))
p = [int(v) for v in sys.argv[4:]]
if p:
    ok, bad, git = ((p[3] - p[0]) / 10.0, (p[4] - p[1]) / 10.0, (p[5] - p[2]) / 10.0)
    print("processes per iteration (strace, command actor, sandbox on): %.1f execs (%.1f git, "
          "the rest bwrap and its command for the actor and the gate), %.1f failed execve"
          % (ok, git, bad))
print("verdict: fixed cost < %.0f ms: %s (median %.1f ms)" % (target, "MET" if med < target else "NOT MET", med))
if p:
    good = git <= tgit and bad == 0
    print("verdict: at most %d git processes and no PATH search per iteration: %s (%.1f git, %.1f failed execve)"
          % (tgit, "MET" if good else "NOT MET", git, bad))
else:
    print("processes per iteration: not measured (no strace)")
PY
