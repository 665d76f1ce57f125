#!/bin/sh
# bench/skills.sh: the Agent Skills index (src/store/skills.c) with 960 and
# with 100,000 generated skills (BENCH_SKILLS_NS): index build time, a
# re-index with nothing changed, query latency p50/p99 and recall at 5 on
# labelled queries; verdicts against the targets (p99 under 1 ms at 960,
# under 20 ms at 100,000).  See bench/README.md.
set -u
BIN=${BENCH_SKILLS_BIN:?set BENCH_SKILLS_BIN (make bench does)}
NS=${BENCH_SKILLS_NS:-960 100000}
W=$(mktemp -d "${TMPDIR:-/tmp}/loopgate-bench-skills.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
echo "skills (SQLite FTS5, BM25; generated libraries):"
rc=0
for n in $NS; do
	mkdir -p "$W/$n"
	"$BIN" "$n" "$W/$n" >"$W/$n.json" || { echo "bench skills: $n failed" >&2; exit 1; }
	python3 - "$W/$n.json" <<-\PY || rc=1
	import json, sys
	d = json.load(open(sys.argv[1]))
	target = 1.0 if d["n"] <= 1000 else 20.0
	print("  %6d skills: index %.0f ms (re-index unchanged %.0f ms); query p50 %.3f ms, "
	      "p99 %.3f ms; recall@5 %.2f" % (d["n"], d["index_ms"], d["reindex_ms"],
	      d["p50_ms"], d["p99_ms"], d["recall_at_5"]))
	ok = d["p99_ms"] < target
	print("  verdict: p99 under %g ms at %d skills: %s" % (target, d["n"], "PASS" if ok else "FAIL"))
	sys.exit(0 if ok else 1)
	PY
done
exit $rc
