#!/bin/sh
# fuzz.sh DIR SECONDS [NAME...]: runs each libFuzzer harness DIR/fuzz_NAME
# (all of them when no NAME is given) for SECONDS over its seed corpus
# fuzz/corpus/NAME.  New inputs go to DIR/corpus/NAME (the seeds in the
# repository are never written); a crash, leak or timeout stops that
# harness with its input saved in DIR/crashes/.  Ends "fuzz: N harnesses,
# N failed"; exit 1 when any failed.  Copy a crash into fuzz/corpus/NAME to
# keep it as a regression input (tests/t0003-fuzz-corpus.sh replays them).
set -u
dir=$1 secs=$2
shift 2
names=${*:-$(cd fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
mkdir -p "$dir/crashes"
n=0 failed=0
for name in $names; do
	bin=$dir/fuzz_$name
	seeds=fuzz/corpus/$name
	mkdir -p "$dir/corpus/$name" "$seeds"
	n=$((n + 1))
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$dir/crashes/$name-" \
		"$dir/corpus/$name" "$seeds" >"$dir/$name.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$name.log")
		echo "fuzz $name: ok, ${execs:-?} inputs in ${secs}s"
	else
		failed=$((failed + 1))
		echo "fuzz $name: FAILED (log: $dir/$name.log)"
		grep -E 'ERROR|SUMMARY|Test unit written' "$dir/$name.log" | head -5
	fi
done
echo "fuzz: $n harnesses, $failed failed"
[ "$failed" = 0 ]
