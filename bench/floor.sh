#!/bin/sh
# floor.sh URL BODY REPO N STAMPS: the floor of the benchmark, a plain shell
# loop doing per iteration what loopgate must at least do: the same HTTP
# call (the same request body loopgate sent, to the same fake server), write
# the file the reply asks for, git add + commit, run the gate.
# Run by bash when there is one: $EPOCHREALTIME (a bash builtin, no fork)
# then stamps the three steps of each iteration into STAMPS as
# "i t0 t1 t2 t3"; under another sh nothing is stamped (the per-iteration
# time itself is taken at the fake server, for the floor and loopgate alike).
# shellcheck disable=SC3028 # $EPOCHREALTIME is read only when bash set it
set -u
url=$1 body=$2 repo=$3 n=$4 stamps=$5
cd "$repo" || exit 1
# loopgate runs git with gc.auto=0 and maintenance.auto=false; so does the
# floor (otherwise each commit spawns `git maintenance run --auto`, ~2 ms).
export GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=gc.auto GIT_CONFIG_VALUE_0=0 \
	GIT_CONFIG_KEY_1=maintenance.auto GIT_CONFIG_VALUE_1=false
: >"$stamps"
i=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	t0=${EPOCHREALTIME:-}
	curl -sS --fail --max-time 60 -N -o "$stamps.reply" -H 'content-type: application/json' \
		--data-binary "@$body" "$url/chat/completions" || exit 1
	t1=${EPOCHREALTIME:-}
	if [ $((i % 2)) -eq 1 ]; then echo a >counter.txt; else echo b >counter.txt; fi
	git add -A && git commit -q -m x || exit 1
	t2=${EPOCHREALTIME:-}
	sh -c false
	t3=${EPOCHREALTIME:-}
	[ -n "$t0" ] && echo "$i $t0 $t1 $t2 $t3" >>"$stamps"
done
exit 0
