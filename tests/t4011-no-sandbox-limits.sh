#!/bin/sh
# The policy's limits with --no-sandbox (docs/design/sandbox.md, "Limits"
# and "Cost"): each spawn in a cgroup of its own, with the limits whole for
# its own process tree, however its command process got there (made ahead
# of the spawn, exec/standby.h, or joined by the command itself).
. "$(dirname "$0")/lib.sh"

# The cgroup kind a --no-sandbox run records ("none": limits are rlimits).
CG=$(cd "$TRASH" && make_repo kind >/dev/null 2>&1 &&
	$LOOPGATE run --dir kind --no-sandbox --goal g --gate true --agent-cmd true \
		--json >kind.sum 2>/dev/null &&
	event_bodies "$(summary_field kind.sum run_dir)" sandbox >kind.json &&
	json_get kind.json 'd[0]["cgroup"]')

if [ "$CG" != none ]; then
test_expect_success 'processes: the command tree has all of them, one more is refused (--no-sandbox)' '
	make_repo pr &&
	printf "limits: { processes: 8 }\n" >pr.yaml &&
	# sh and seven sleeps: eight, none refused, several spawns in a row
	expect_code 1 $LOOPGATE run --dir pr --no-sandbox --goal g --policy pr.yaml \
		--gate "for i in 1 2 3 4 5 6 7; do sleep 30 & done; echo started" --gate false \
		--agent-cmd "echo \$LOOPGATE_ITERATION >f; for i in 1 2 3 4 5 6 7; do sleep 30 & done" \
		--max-iterations 3 --stall-after 10 --json >pr.sum 2>err &&
	run_dir=$(summary_field pr.sum run_dir) &&
	event_bodies "$run_dir" gate_end >pr.json &&
	test "$(json_get pr.json "[g[\"gate\"] for g in d if g[\"exit_code\"] == 0]")" = "[1, 1, 1, 1]" &&
	event_bodies "$run_dir" actor_end >pa.json &&
	test "$(json_get pa.json "[a[\"exit_code\"] for a in d]")" = "[0, 0, 0]" &&
	# sh and eight sleeps: the eighth fork is refused, and the limit named
	expect_code 1 $LOOPGATE run --dir pr --no-sandbox --goal g --policy pr.yaml \
		--gate "for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; echo started" \
		--agent-cmd true --max-iterations 1 --json >pr2.sum 2>err &&
	event_bodies "$(summary_field pr2.sum run_dir)" gate_end >pr2.json &&
	json_get pr2.json "d[0][\"describe\"]" >desc && cat desc &&
	grep -q "exceeded policy.limits.processes (8)" desc
'

test_expect_success 'memory: a spawn is bounded alone, not with what an earlier one left (--no-sandbox)' '
	make_repo mem &&
	shm=/dev/shm/loopgate-t4011-$$ &&
	printf "limits: { memory_mb: 64 }\n" >mem.yaml &&
	# 40 MB left in a tmpfs by gate 1 stays charged to its cgroup; gate 2
	# needs about 50 of its own: over 64 only if the two were counted together
	set +e
	$LOOPGATE run --dir mem --no-sandbox --goal g --policy mem.yaml \
		--gate "head -c 40M /dev/zero >$shm" \
		--gate "python3 -c \"x = bytearray(40 << 20); x[::4096] = b\\\"y\\\" * len(x[::4096])\"" \
		--agent-cmd true --json >mem.sum 2>err
	rc=$?
	set -e
	rm -f "$shm" &&
	test $rc = 0 &&
	# and past the limit alone: killed, the limit named
	expect_code 1 $LOOPGATE run --dir mem --no-sandbox --goal g --policy mem.yaml \
		--gate "python3 -c \"x = bytearray(400 << 20)\"" --agent-cmd true \
		--max-iterations 1 --json >m2.sum 2>err &&
	event_bodies "$(summary_field m2.sum run_dir)" gate_end >m2.json &&
	json_get m2.json "d[0][\"describe\"]" | grep -q "exceeded policy.limits.memory_mb (64)"
'
else
	echo "# skipped the cgroup limits: --no-sandbox has no usable cgroup here"
fi

test_expect_success 'cpu: the limit is named (--no-sandbox)' '
	make_repo cpu &&
	printf "limits: { cpu_seconds: 1 }\n" >cpu.yaml &&
	expect_code 1 $LOOPGATE run --dir cpu --no-sandbox --goal g --policy cpu.yaml \
		--gate "while :; do :; done" --agent-cmd true --max-iterations 1 \
		--json >c.sum 2>err &&
	event_bodies "$(summary_field c.sum run_dir)" gate_end >c.json &&
	json_get c.json "d[0][\"describe\"]" >cdesc && cat cdesc &&
	grep -q "exceeded policy.limits.cpu_seconds (1)" cdesc
'

test_done
