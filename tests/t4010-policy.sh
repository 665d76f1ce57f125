#!/bin/sh
# The policy (issue 5, item 1): commands, env, limits; every decision an
# audit event, a denied gate a configuration error, a denied actor fed back.
. "$(dirname "$0")/lib.sh"

# commit_config DIR: commits DIR/loopgate.yaml (written by the caller)
commit_config() {
	git -C "$1" add loopgate.yaml && git -C "$1" commit -qm cfg
}

test_expect_success 'a gate the policy denies is a configuration error (exit 2), nothing created' '
	make_repo dg &&
	printf "policy:\n  commands:\n    deny: [\"curl*\", \"rm -rf *\"]\n" >dg/loopgate.yaml &&
	commit_config dg &&
	expect_code 2 $LOOPGATE run --dir dg --goal g --gate "sh test.sh" \
		--gate "curl -s http://example.com" --agent-cmd true 2>err &&
	grep -q "gate 2 \`curl -s http://example.com\` is denied by the policy (commands.deny '"'curl\*'"')" err &&
	test ! -d dg/.loopgate/runs
'

test_expect_success 'a non-empty allow list denies what it does not name' '
	make_repo al &&
	printf "policy:\n  commands:\n    allow: [sh, make]\n" >al/loopgate.yaml &&
	commit_config al &&
	expect_code 2 $LOOPGATE run --dir al --goal g --gate "python3 -c 1" --agent-cmd true 2>err &&
	grep -q "not in commands.allow" err &&
	expect_code 1 $LOOPGATE run --dir al --goal g --gate "sh test.sh" --agent-cmd "sh -c true" \
		--max-iterations 1 --json >al.sum 2>err2 &&
	run_dir=$(summary_field al.sum run_dir) &&
	event_bodies "$run_dir" policy >p.json &&
	json_get p.json "[(b[\"subject\"], b[\"decision\"], b[\"rule\"]) for b in d]" >got &&
	cat got &&
	test "$(cat got)" = "[('"'gate'"', '"'allow'"', \"commands.allow '"'sh'"'\"), ('"'actor'"', '"'allow'"', \"commands.allow '"'sh'"'\")]"
'

test_expect_success 'a denied command actor is not run; the reason is fed back and recorded' '
	make_repo da &&
	printf "commands:\n  deny: [\"*agent*\"]\n" >deny.yaml &&
	cat >"$TRASH/da.agent" <<-\SH &&
	#!/bin/sh
	echo ran >>"$0.ran"
	SH
	chmod +x "$TRASH/da.agent" &&
	expect_code 1 $LOOPGATE run --dir da --goal g --gate "sh test.sh" --policy deny.yaml \
		--agent-cmd "$TRASH/da.agent" --max-iterations 2 --json >da.sum 2>err &&
	test ! -e "$TRASH/da.agent.ran" &&
	run_dir=$(summary_field da.sum run_dir) &&
	event_bodies "$run_dir" policy >p.json &&
	json_get p.json "[(b[\"subject\"], b[\"decision\"], b.get(\"iteration\")) for b in d if b[\"subject\"] == \"actor\"]" >got &&
	test "$(cat got)" = "[('"'actor'"', '"'deny'"', 1), ('"'actor'"', '"'deny'"', 2)]" &&
	json_get p.json "[b[\"rule\"] for b in d if b[\"subject\"] == \"actor\"][0]" >rule &&
	test "$(cat rule)" = "commands.deny '"'*agent*'"'" &&
	! grep -q "\"kind\":\"actor_start\"" "$run_dir/events.jsonl" &&
	grep -qxF "The agent command was not run: the policy denies it (commands.deny '"'*agent*'"')." \
		"$run_dir/iter-001/actor.out"
'

test_expect_success 'policy keys are checked: did-you-mean, ranges, network host lists' '
	make_repo bad &&
	printf "policy:\n  netwrok: on\n" >bad/loopgate.yaml &&
	expect_code 2 $LOOPGATE run --dir bad --goal g --gate true --agent-cmd true 2>err1 &&
	grep -q "loopgate.yaml:2: key '"'policy.netwrok'"': unknown key; did you mean '"'network'"'?" err1 &&
	printf "policy:\n  limits:\n    memory_mb: 1\n" >bad/loopgate.yaml &&
	expect_code 2 $LOOPGATE run --dir bad --goal g --gate true --agent-cmd true 2>err2 &&
	grep -q "loopgate.yaml:3: key '"'policy.limits.memory_mb'"': expected an integer from 16" err2 &&
	printf "policy:\n  network: [\"http://pypi.org/\"]\n" >bad/loopgate.yaml &&
	expect_code 2 $LOOPGATE run --dir bad --goal g --gate true --agent-cmd true 2>err3 &&
	grep -q "policy.network: '"'http://pypi.org/'"': not a host name or an IP address" err3 &&
	printf "policy:\n  network: [pypi.org]\n" >bad/loopgate.yaml &&
	expect_code 2 $LOOPGATE run --dir bad --goal g --gate true --agent-cmd true \
		--no-sandbox 2>err3b &&
	grep -q "cannot be enforced with --no-sandbox" err3b &&
	printf "policy:\n  env: [not-a-name]\n" >bad/loopgate.yaml &&
	expect_code 2 $LOOPGATE run --dir bad --goal g --gate true --agent-cmd true 2>err4 &&
	grep -q "is not an environment variable name" err4 &&
	printf "netwrk: on\n" >badpol.yaml &&
	rm bad/loopgate.yaml &&
	expect_code 2 $LOOPGATE run --dir bad --goal g --gate true --agent-cmd true --policy badpol.yaml 2>err5 &&
	grep -q "badpol.yaml:1: key '"'policy.netwrk'"': unknown key; did you mean '"'network'"'?" err5
'

test_expect_success 'env reaches gates and the actor; actor_env only the actor' '
	make_repo ev &&
	printf "policy:\n  env: [GATE_VISIBLE]\n  actor_env: [ACTOR_ONLY]\n" >ev/loopgate.yaml &&
	commit_config ev &&
	GATE_VISIBLE=gv-1 ACTOR_ONLY=ao-2 expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir ev --goal g \
		--gate "env >$TRASH/ev.gate-env; sh test.sh" --agent-cmd "env >$TRASH/ev.actor-env" \
		--max-iterations 1 --json >ev.sum 2>err &&
	grep -qx "GATE_VISIBLE=gv-1" ev.gate-env &&
	! grep -q "ao-2" ev.gate-env &&
	grep -qx "GATE_VISIBLE=gv-1" ev.actor-env &&
	grep -qx "ACTOR_ONLY=ao-2" ev.actor-env
'

test_expect_success 'a fork bomb is stopped; the describe text names the processes limit' '
	make_repo fb &&
	printf "limits: { processes: 32 }\n" >fb.yaml &&
	expect_code 1 $LOOPGATE run --dir fb --goal g --policy fb.yaml --gate-timeout 20s \
		--gate "for i in \$(seq 200); do sleep 60 & done; wait" \
		--agent-cmd true --max-iterations 1 --json >fb.sum 2>err &&
	run_dir=$(summary_field fb.sum run_dir) &&
	event_bodies "$run_dir" gate_end >ge.json &&
	json_get ge.json "d[0][\"describe\"]" >desc && cat desc &&
	grep -q "exceeded policy.limits.processes (32)" desc
'

test_expect_success 'memory, file size and output limits: killed, and the describe says which' '
	make_repo lim &&
	printf "limits: { memory_mb: 64, file_size_mb: 1, output_bytes: 100000 }\n" >lim.yaml &&
	expect_code 1 $LOOPGATE run --dir lim --goal g --policy lim.yaml \
		--gate "python3 -c \"x = bytearray(400 << 20)\"" --agent-cmd true \
		--max-iterations 1 --json >m.sum 2>err &&
	event_bodies "$(summary_field m.sum run_dir)" gate_end >m.json &&
	json_get m.json "d[0][\"describe\"]" | grep -q "exceeded policy.limits.memory_mb (64)" &&
	expect_code 1 $LOOPGATE run --dir lim --goal g --policy lim.yaml \
		--gate "head -c 3M /dev/zero >big" --agent-cmd true \
		--max-iterations 1 --json >f.sum 2>err &&
	event_bodies "$(summary_field f.sum run_dir)" gate_end >f.json &&
	json_get f.json "d[0][\"describe\"]" | grep -q "exceeded policy.limits.file_size_mb (1)" &&
	expect_code 1 $LOOPGATE run --dir lim --goal g --policy lim.yaml \
		--gate "yes" --agent-cmd true --max-iterations 1 --json >o.sum 2>err &&
	run_dir=$(summary_field o.sum run_dir) &&
	event_bodies "$run_dir" gate_end >o.json &&
	json_get o.json "d[0][\"describe\"]" | grep -q "exceeded policy.limits.output_bytes (100000)" &&
	tail -n 1 "$run_dir/baseline/gate-1.out" | grep -qx "\[loopgate: output cut at 100000 bytes\]" &&
	test "$(wc -c <"$run_dir/baseline/gate-1.out")" -lt 100100
'

test_expect_success 'cpu and wall-clock limits: the describe text names them' '
	make_repo cw &&
	printf "limits: { cpu_seconds: 1, wall_seconds: 2 }\n" >cw.yaml &&
	# the CPU limit with a wall clock it cannot reach first on a busy machine
	printf "limits: { cpu_seconds: 1, wall_seconds: 60 }\n" >cpu.yaml &&
	expect_code 1 $LOOPGATE run --dir cw --goal g --policy cpu.yaml \
		--gate "while :; do :; done" --agent-cmd true --max-iterations 1 --json >c.sum 2>err &&
	event_bodies "$(summary_field c.sum run_dir)" gate_end >c.json &&
	json_get c.json "d[0][\"describe\"]" >cdesc && cat cdesc &&
	grep -q "exceeded policy.limits.cpu_seconds (1)" cdesc &&
	expect_code 1 $LOOPGATE run --dir cw --goal g --policy cw.yaml \
		--gate "sleep 30" --agent-cmd true --max-iterations 1 --json >w.sum 2>err &&
	event_bodies "$(summary_field w.sum run_dir)" gate_end >w.json &&
	json_get w.json "d[0][\"describe\"]" >wdesc && cat wdesc &&
	grep -qx "timed out after 2.0s and was killed: it exceeded policy.limits.wall_seconds (2)" wdesc
'

test_expect_success 'a policy.write path that does not exist is named in the sandbox event' '
	make_repo wm &&
	printf "write: [/nonexistent/cache]\n" >wm.yaml &&
	expect_code 1 $LOOPGATE run --dir wm --goal g --policy wm.yaml --gate "sh test.sh" \
		--agent-cmd true --max-iterations 1 --json >wm.sum 2>err &&
	event_bodies "$(summary_field wm.sum run_dir)" sandbox >wm.json &&
	test "$(json_get wm.json "d[0][\"writable_missing\"]")" = "['"'/nonexistent/cache'"']"
'

test_expect_success '--policy overrides the config key by key' '
	make_repo ov &&
	printf "policy:\n  commands:\n    deny: [\"python3*\"]\n  limits: { processes: 64 }\n" >ov/loopgate.yaml &&
	commit_config ov &&
	printf "commands:\n  deny: [\"perl*\"]\n" >ov.yaml &&
	expect_code 1 $LOOPGATE run --dir ov --goal g --gate "python3 -c 1; sh test.sh" --policy ov.yaml \
		--agent-cmd true --max-iterations 1 --json >ov.sum 2>err &&
	run_dir=$(summary_field ov.sum run_dir) &&
	event_bodies "$run_dir" sandbox >s.json &&
	test "$(json_get s.json "d[0][\"limits\"][\"processes\"]")" = 64
'

test_done
