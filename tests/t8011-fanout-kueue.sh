#!/bin/sh
# executor: kueue in `loopgate run` (issue 14): a fan-out's workers as
# Kubernetes Jobs that Kueue admits under a 2-CPU quota.  The fake API
# server (tests/fake/fake_kube.py --run-pods) is also the kubelet: an
# admitted Job's pod really runs, as a local process of the image's
# entrypoint (tools/loopgate-worker) with the manifest's args and env and
# the Secret's key, in a directory of its own: it clones the repository from
# the git remote, runs the worker, and pushes its branch and signed log
# back.  Nothing is shared with the coordinator but that remote.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/kube_lib.sh"

KEY_VALUE=sk-pod-key-never-in-a-manifest-5e1d
mkdir -p "$TRASH/pods"
printf '{"loopgate-model": {"OPENAI_API_KEY": "%s"}}\n' "$KEY_VALUE" >"$TRASH/secrets.json"
kube_start --run-pods "$TEST_DIR/../tools/loopgate-worker" --pod-path "$(dirname "$LOOPGATE")" \
	--pod-dir "$TRASH/pods" --secrets "$TRASH/secrets.json"
kubeconfig kc.yaml '{token: tok-good}'

cat >fix.sh <<'SH'
sed -i 's/a - b/a + b/' calc.py
SH
cat >wrong.sh <<'SH'
echo "# still wrong" >>calc.py
SH
# waits (bounded) for a file that never comes: a worker still running when
# another wins
cat >slow.sh <<SH
i=0; while [ ! -e $TRASH/never ] && [ \$i -lt 1200 ]; do i=\$((i+1)); sleep 0.05; done
SH

# waits (bounded) for $TRASH/go, then fixes calc.py: a worker the test can
# preempt while it runs
cat >gated.sh <<SH
i=0; while [ ! -e $TRASH/go ] && [ \$i -lt 1200 ]; do i=\$((i+1)); sleep 0.05; done
sed -i "s/a - b/a + b/" calc.py
SH

# kube_repo DIR: make_repo's calc.py, loopgate.yaml from stdin, pushed to
# the bare remote DIR.git (its origin)
kube_repo() {
	make_repo "$1" && git init -q --bare "$1.git" && (
		cd "$1" && cat >loopgate.yaml && git add loopgate.yaml &&
		git commit -q -m "loopgate.yaml" && git remote add origin "$TRASH/$1.git" &&
		git push -q origin main
	)
}
# kube_converges DIR: the fan-out of DIR's loopgate.yaml converges; id is
# its run (summary in s.json, stderr in err)
kube_converges() {
	expect_code 0 $LOOPGATE run --dir "$1" --goal "make add() add" --gate "sh test.sh" \
		--json >s.json 2>err &&
	test "$(summary_field s.json status)" = converged &&
	id=$(summary_field s.json run_id)
}
KUBE="executor: kueue
kubeconfig: $TRASH/kc.yaml
kube_queue: loopgate
kube_image: loopgate:test
kube_secret: loopgate-model"

test_expect_success 'best of three as Kueue Jobs: queued on the quota, run as pods, fetched back, re-verified, the right one wins' '
	kube_repo b3 <<-YAML &&
	$KUBE
	select: best
	max_iterations: 6
	workers:
	  - agent_cmd: sh $TRASH/wrong.sh
	  - agent_cmd: sh $TRASH/fix.sh
	  - agent_cmd: sh $TRASH/wrong.sh
	YAML
	kube_converges b3 &&
	git -C b3 show "loopgate/$id:calc.py" | grep -q "return a + b" &&
	event_bodies "b3/.loopgate/runs/$id" worker_start >ws.json &&
	json_get ws.json "sorted((w[\"worker\"], w[\"executor\"], w[\"handle\"]) for w in d)" >handles &&
	grep -q "(.w1., .kueue., .lg-$id-w1.)" handles &&
	event_bodies "b3/.loopgate/runs/$id" candidate >c.json &&
	test "$(json_get c.json "[(x[\"worker\"], x[\"verified\"]) for x in d]")" = "[('"'"'w2'"'"', True)]" &&
	event_bodies "b3/.loopgate/runs/$id" selected >sel.json &&
	json_get sel.json "d[0][\"worker\"]" | grep -x w2 &&
	# what the pods pushed: each worker branch, its log, the bases
	git -C b3.git for-each-ref --format="%(refname)" >refs &&
	grep -x "refs/heads/loopgate/$id/w2" refs && grep -x "refs/loopgate/$id/w2/log" refs &&
	grep -x "refs/loopgate/$id/w1/base" refs &&
	# fetched back where a local worker leaves them
	test "$(summary_field "b3/.loopgate/runs/$id-w2/summary.json" status)" = converged &&
	test "$(summary_field "b3/.loopgate/runs/$id-w2/summary.json" sandbox)" = False &&
	# the pod signed its log with a key made in the pod; the coordinator'"'"'s
	# signed worker_end names that key and the log'"'"'s final checkpoint
	expect_code 0 $LOOPGATE audit verify --dir b3 "$id-w2" >av.out &&
	grep -q "signed by the worker.s own key .* which run $id.s verified log, seq [0-9]* names" av.out &&
	# the same for the log named by its file, from its own directory
	(cd "b3/.loopgate/runs/$id-w2" && $LOOPGATE audit verify events.jsonl) >av1.out &&
	grep -q "signed by the worker.s own key" av1.out &&
	# a pub swapped for another key is no longer the key vouched for
	cp -r "b3/.loopgate/runs/$id-w2" "b3/.loopgate/runs/$id-w2.orig" &&
	python3 - "b3/.loopgate/runs/$id-w2/checkpoints.jsonl" <<-\PY &&
	import json, sys
	p = sys.argv[1]
	lines = [json.loads(l) for l in open(p)]
	for c in lines:
	    c["pub"] = "11" * 32
	open(p, "w").write("".join(json.dumps(c, sort_keys=True, separators=(",", ":")) + "\n" for c in lines))
	PY
	expect_code 1 $LOOPGATE audit verify --dir b3 "$id-w2" >av2.out &&
	grep -q "signed by another key\|nothing here vouches" av2.out &&
	rm -rf "b3/.loopgate/runs/$id-w2" && mv "b3/.loopgate/runs/$id-w2.orig" "b3/.loopgate/runs/$id-w2" &&
	test "$(summary_field "b3/.loopgate/runs/$id-w1/summary.json" status)" != converged &&
	grep -q "\"kind\":\"run_end\"" "b3/.loopgate/runs/$id-w2/events.jsonl" &&
	# the third waited for quota, said so, then ran
	event_bodies "b3/.loopgate/runs/$id" worker_state >st.json &&
	json_get st.json "[(x[\"worker\"], x[\"state\"], x[\"native\"]) for x in d]" >states &&
	grep -q "(.w3., .queued., .Pending.)" states && grep -q "(.w3., .running., .Admitted.)" states &&
	grep -q "insufficient unused quota for cpu" st.json &&
	grep -q "worker w3: job lg-$id-w3 queued: Pending: couldn.t assign flavors" err &&
	# and where it stood in line (Kueue'"'"'s visibility API)
	json_get st.json "[(x[\"position\"], x[\"waiting\"]) for x in d if x[\"state\"] == \"queued\"]" >pos &&
	grep -q "(1, 1)" pos &&
	grep -q "worker w3: job lg-$id-w3 queued: .*; position 1 of 1 in LocalQueue loopgate" err &&
	# the budget: two iterations each (six over three), reserved in the ledger
	python3 - <<-PY
	import json
	posts = [json.loads(l) for l in open("kube.log") if json.loads(l)["method"] == "POST"]
	jobs = [p["body"] for p in posts if p["body"].get("kind") == "Job"]
	assert len(jobs) == 3, len(jobs)
	for j in jobs:
	    c = j["spec"]["template"]["spec"]["containers"][0]
	    env = {e["name"]: e for e in c["env"]}
	    cfg = json.loads(env["LOOPGATE_WORKER_CONFIG"]["value"])
	    assert cfg["max_iterations"] == 2 and cfg["dir"] == ".", cfg
	    # bubblewrap needs user namespaces a pod seldom has: the pod is the jail
	    assert cfg["sandbox"] is False and cfg["kube_sandbox"] is False, cfg
	    assert env["LOOPGATE_REPO"]["value"].endswith("/b3.git"), env
	    assert c["args"][:3] == ["loopgate", "__worker", "--start"], c["args"]
	    assert j["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "loopgate"
	    assert j["spec"]["suspend"] is True
	PY
'

test_expect_success 'a model worker in a pod: the API key comes from the Secret, never in a manifest, a request or the log' '
	reply_script fix >fix.json &&
	url=$(start_fake oa fix.json) &&
	kube_repo m1 <<-YAML &&
	$KUBE
	max_cost: 1.00
	models:
	  openai/test-model: {price_in: 1.0, price_out: 2.0}
	workers:
	  - model: openai/test-model
	    base_url: $url
	YAML
	kube_converges m1 &&
	# the pod called the model with the key the Secret holds
	req_field oa.log 1 "h.get(\"authorization\")" | grep -qx "Bearer $KEY_VALUE" &&
	! grep -rq "$KEY_VALUE" kube.log m1/.loopgate err s.json &&
	python3 - <<-PY
	import json
	jobs = [json.loads(l)["body"] for l in open("kube.log") if json.loads(l)["method"] == "POST"]
	env = {e["name"]: e for e in jobs[-1]["spec"]["template"]["spec"]["containers"][0]["env"]}
	assert env["OPENAI_API_KEY"] == {"name": "OPENAI_API_KEY", "valueFrom": {"secretKeyRef": {"name": "loopgate-model", "key": "OPENAI_API_KEY"}}}, env
	cfg = json.loads(env["LOOPGATE_WORKER_CONFIG"]["value"])
	assert cfg["max_cost"] == 1.0, cfg
	PY
'

test_expect_success 'select first: the loser still running is cancelled (its Job deleted, its pod killed), reported, and charged its slice' '
	kube_repo f2 <<-YAML &&
	$KUBE
	max_tokens: 10000
	workers:
	  - agent_cmd: sh $TRASH/slow.sh
	  - agent_cmd: sh $TRASH/fix.sh
	YAML
	kube_converges f2 &&
	event_bodies "f2/.loopgate/runs/$id" selected >sel.json &&
	json_get sel.json "d[0][\"worker\"]" | grep -x w2 &&
	grep "\"method\": \"DELETE\"" kube.log | grep -q "lg-.*-w1" &&
	event_bodies "f2/.loopgate/runs/$id" worker_end >we.json &&
	json_get we.json "[(x[\"worker\"], x[\"status\"], x[\"spend\"][\"tokens_in\"]) for x in d if x[\"worker\"] == \"w1\"]" >w1 &&
	# nothing came back from it: lost, charged the 5000 tokens reserved for it
	grep -q "(.w1., .lost., 5000)" w1 &&
	test "$(summary_field s.json tokens_in)" -ge 5000 &&
	# and its pod is gone: no worker process is left running
	! pgrep -f "slow.sh" >/dev/null
'

test_expect_success 'executor: kueue without a remote, a queue or an image: clear errors before anything starts' '
	make_repo nr &&
	expect_code 2 $LOOPGATE run --dir nr --goal g --gate "sh test.sh" --agent-cmd true --workers 2 --executor kueue \
		--kube-queue loopgate 2>e1 &&
	grep -q "executor: kueue needs the LocalQueue (kube_queue:, --kube-queue) and the loopgate image" e1 &&
	expect_code 3 $LOOPGATE run --dir nr --goal g --gate "sh test.sh" --agent-cmd true --workers 2 --executor kueue \
		--kube-queue loopgate --kube-image loopgate:test --kubeconfig "$TRASH/kc.yaml" 2>e2 &&
	grep -q "has no origin: name one with remote: (--remote URL)" e2 &&
	! grep -q "\"kind\": \"Job\"" kube.log.nr 2>/dev/null
'

test_expect_success 'the coordinator SIGKILLed after submitting: resume re-attaches to its Jobs by name, submits none twice' '
	kube_repo k1 <<-YAML &&
	$KUBE
	select: best
	workers:
	  - agent_cmd: sh $TRASH/fix.sh
	  - agent_cmd: sh $TRASH/wrong.sh
	YAML
	LOOPGATE_FAULT=kill:event.worker_start@2 expect_code 137 $LOOPGATE run --dir k1 \
		--goal "make add() add" --gate "sh test.sh" >/dev/null 2>killed.err &&
	id=$(ls k1/.loopgate/runs | grep -v -- "-w") &&
	expect_code 0 $LOOPGATE resume "$id" --dir k1 --json >r.json 2>resumed.err &&
	test "$(summary_field r.json status)" = converged &&
	python3 - r.json "k1/.loopgate/runs/$id/events.jsonl" "$id" <<-\PY
	import json, sys
	s = json.load(open(sys.argv[1]))
	recs = [json.loads(l) for l in open(sys.argv[2])]
	starts = [r["body"]["worker"] for r in recs if r["kind"] == "worker_start"]
	assert sorted(starts) == ["w1", "w2"], starts
	posts = [json.loads(l) for l in open("kube.log")]
	jobs = [p["body"]["metadata"]["name"] for p in posts if p["method"] == "POST"
	        and p["body"].get("kind") == "Job" and sys.argv[3] in p["body"]["metadata"]["name"]]
	assert sorted(jobs) == ["lg-%s-w1" % sys.argv[3], "lg-%s-w2" % sys.argv[3]], jobs
	assert [x["worker"] for x in s["workers"] if x["winner"]] == ["w1"], s["workers"]
	PY
'

test_expect_success 'a worker preempted by Kueue is requeued and readmitted, and its lost attempt is charged its whole slice' '
	kube_repo p1 <<-YAML &&
	$KUBE
	max_tokens: 8000
	workers:
	  - agent_cmd: sh $TRASH/gated.sh
	YAML
	n0=$(ls pods | wc -l) &&
	{ $LOOPGATE run --dir p1 --goal "make add() add" --gate "sh test.sh" --json >s.json 2>err & } &&
	# until its pod runs (a pod directory per attempt)
	i=0 && while [ "$(ls pods | wc -l)" -lt $((n0 + 1)) ] && [ $i -lt 1500 ]; do i=$((i+1)); sleep 0.02; done &&
	id=$(ls p1/.loopgate/runs | grep -v -- "-w") &&
	ctl "preempt?job=lg-$id-w1" &&
	# readmitted only once the coordinator saw the eviction
	i=0 && while ! grep -q "\"state\":\"preempted\"" "p1/.loopgate/runs/$id/events.jsonl" &&
		[ $i -lt 1500 ]; do i=$((i+1)); sleep 0.02; done &&
	ctl unblock &&
	i=0 && while [ "$(ls pods | wc -l)" -lt $((n0 + 2)) ] && [ $i -lt 1500 ]; do i=$((i+1)); sleep 0.02; done &&
	touch go && wait $! &&
	test "$(summary_field s.json status)" = converged &&
	event_bodies "p1/.loopgate/runs/$id" worker_state >ps.json &&
	json_get ps.json "[x[\"state\"] for x in d]" | grep -q "preempted.*running" &&
	grep -q "worker w1: job lg-$id-w1 preempted: Preempted: Preempted to accommodate" err &&
	event_bodies "p1/.loopgate/runs/$id" worker_end >we.json &&
	# the first attempt: its slice (all 8000 tokens), on top of what the second spent
	test "$(json_get we.json "d[0][\"spend\"][\"tokens_in\"]")" -ge 8000
'

# fixed_by_one_pod DIR [YAML-LINE]: a run of one worker (fix.sh) in a pod
# converges; id
fixed_by_one_pod() {
	printf "%s\n%s\nworkers:\n  - agent_cmd: sh %s/fix.sh\n" "$KUBE" "${2:-}" "$TRASH" |
		kube_repo "$1" &&
	kube_converges "$1"
}

test_expect_success 'loopgate rm: the Jobs deleted on the cluster and the refs the pods pushed gone from the remote, then the run' '
	# (kube_sandbox: the pod runs its gates under bubblewrap too)
	fixed_by_one_pod rm1 "kube_sandbox: true" &&
	test "$(summary_field "rm1/.loopgate/runs/$id-w1/summary.json" sandbox)" = True &&
	test -n "$(git -C rm1.git for-each-ref "refs/loopgate/$id/" "refs/heads/loopgate/$id/")" &&
	expect_code 0 $LOOPGATE rm --dir rm1 "$id" >rm.out &&
	grep -q "deleted kueue job lg-$id-w1" rm.out &&
	grep -q "deleted 3 ref(s) the workers pushed to $TRASH/rm1.git" rm.out &&
	grep "\"method\": \"DELETE\"" kube.log | grep -q "/jobs/lg-$id-w1\"" &&
	test -z "$(git -C rm1.git for-each-ref "refs/loopgate/$id/" "refs/heads/loopgate/$id/")" &&
	test -z "$(git -C rm1 for-each-ref refs/heads/loopgate/ refs/loopgate/)" &&
	test ! -e "rm1/.loopgate/runs/$id" && test ! -e "rm1/.loopgate/runs/$id-w1" &&
	test "$(git -C rm1 worktree list | wc -l)" = 1
'

test_expect_success 'loopgate rm of a run whose cluster does not answer: refused and kept, unless --force' '
	fixed_by_one_pod rm2 &&
	# the kubeconfig the run names ($KUBE: the script'"'"'s, not the case'"'"'s link)
	cp "$TRASH_ROOT/kc.yaml" kc.good &&
	sed -i "s|server: https://127.0.0.1:[0-9]*/|server: https://127.0.0.1:9/|" "$TRASH_ROOT/kc.yaml" &&
	expect_code 1 $LOOPGATE rm --dir rm2 "$id" >rm.out 2>rm.err &&
	grep -q "run $id: its workers. jobs cannot be deleted: .*nothing was removed" rm.err &&
	test -d "rm2/.loopgate/runs/$id" && test -d "rm2/.loopgate/runs/$id-w1" &&
	git -C rm2 rev-parse -q --verify "loopgate/$id" >/dev/null &&
	expect_code 0 $LOOPGATE rm --dir rm2 --force "$id" >rm.out 2>rm.err &&
	grep -q "its jobs are left where they run (kueue)" rm.out &&
	test ! -e "rm2/.loopgate/runs/$id" &&
	cp kc.good "$TRASH_ROOT/kc.yaml"
'

test_done
