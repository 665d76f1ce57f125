#!/bin/sh
# The Kueue executor (issue 14, item 2) against tests/fake/fake_kube.py, a
# TLS API server speaking the Kubernetes and Kueue REST API loopgate uses
# and admitting Jobs under a 2-CPU ClusterQueue quota like Kueue.
# `loopgate dispatch` drives the backend by hand here, with a test worker
# command (the fake runs no container; the test ends a worker's pod through
# the fake's control port); t8011 runs a whole fan-out through it.  Every manifest loopgate
# sent or printed is validated against the Kubernetes OpenAPI schema (npm
# kubernetes-models, tools/npm-schemas.sh) and Kueue's v1beta1 objects.
# Its cases are steps of one scenario on one cluster (lib.sh TEST_STEPS):
# the workers submitted in case 1 are preempted, waited for and cancelled by the cases after it.
TEST_STEPS=1
. "$(dirname "$0")/lib.sh"

SCHEMAS=${LOOPGATE_SCHEMAS_DIR:-$TEST_DIR/../build/npm-schemas}
sh "$TEST_DIR/../tools/npm-schemas.sh" "$SCHEMAS" >"$TRASH/npm.log" 2>&1
schemas_rc=$?
K8S_NODE_MODULES=$(cd "$SCHEMAS" 2>/dev/null && pwd)/node_modules
KEY_VALUE=sk-kueue-never-in-a-manifest-93c1
RUN=0a1b2c3d4e5f60718293
export K8S_NODE_MODULES KEY_VALUE RUN

. "$TEST_DIR/kube_lib.sh"
kube_start
kubeconfig kc.yaml '{token: tok-good}'

# kq CMD ARGS...: loopgate dispatch CMD on the fake cluster
kq() {
	sub=$1
	shift
	"$LOOPGATE" dispatch "$sub" --executor kueue --kubeconfig "$TRASH/kc.yaml" "$@"
}
# submit W: a worker job of 1 CPU; prints its handle
submit() {
	OPENAI_API_KEY=$KEY_VALUE kq submit --queue loopgate --image loopgate:test \
		--secret loopgate-model --service-account loopgate --run "$RUN" --worker "$1" \
		--cpus 1 --mem 512 --time 900 --secret-env OPENAI_API_KEY \
		--repo https://git.example/team-a/app.git --base 0123456789abcdef0123456789abcdef01234567 \
		-- loopgate run --max-cost 0.50 >"$1.handle" && json_get "$1.handle" 'd["handle"]'
}
# state H: the job's state word (a fresh process: re-attach by handle)
state() { kq poll "$1" >st.json && json_get st.json 'd["state"]'; }
# watches: how many watch requests the fake got; until_watch N: until more
watches() { grep -c '"watch": \[' kube.log || true; }
until_watch() {
	i=0
	while [ "$(watches)" -le "$1" ]; do
		i=$((i + 1))
		[ $i -lt 500 ] || { echo "no watch after $1" >&2; return 1; }
		sleep 0.02
	done
}

test_expect_success 'three workers queue under a 2-CPU quota: two admitted, one pending with Kueue'"'"'s reason' '
	a=$(submit a) && b=$(submit b) && c=$(submit c) &&
	test "$a" = lg-0a1b2c3d4e5f60718293-a &&
	test "$(state "$a")" = running && test "$(state "$b")" = running &&
	test "$(state "$c")" = queued &&
	json_get st.json "d[\"native\"]" | grep -x Pending &&
	json_get st.json "d[\"reason\"]" | grep "insufficient unused quota for cpu in flavor loopgate-default, 1 more needed; position 1 of 1 in LocalQueue loopgate$" &&
	d=$(submit d) && test "$(state "$d")" = queued &&
	test "$(json_get st.json "(d[\"position\"], d[\"waiting\"])")" = "(2, 2)" &&
	# the visibility API asked in the queue'"'"'s namespace, by LocalQueue
	grep -q "\"path\": \"/apis/visibility.kueue.x-k8s.io/v1beta1/namespaces/[a-z-]*/localqueues/loopgate/pendingworkloads\"" kube.log &&
	# a Kueue without the visibility API: the state as before, no position
	ctl "visibility?on=0" && test "$(state "$d")" = queued &&
	test "$(json_get st.json "d.get(\"position\")")" = None &&
	json_get st.json "d[\"reason\"]" | grep "insufficient unused quota for cpu in flavor loopgate-default, 1 more needed$" &&
	ctl "visibility?on=1" && kq cancel "$d" >/dev/null
'

test_expect_success 'a preempted worker is reported, requeued and readmitted; the queued one takes its quota' '
	ctl "preempt?job=lg-0a1b2c3d4e5f60718293-b" &&
	test "$(state lg-0a1b2c3d4e5f60718293-b)" = preempted &&
	json_get st.json "d[\"reason\"]" | grep "^Preempted: Preempted to accommodate a workload" &&
	ctl "finish?job=lg-0a1b2c3d4e5f60718293-a&exit=0" &&
	test "$(state lg-0a1b2c3d4e5f60718293-c)" = running &&
	test "$(state lg-0a1b2c3d4e5f60718293-b)" = preempted &&
	ctl unblock &&
	test "$(state lg-0a1b2c3d4e5f60718293-b)" = running
'

test_expect_success 'wait follows the Jobs by a watch (not the poll interval): exit codes, log' '
	start=$(date +%s) && n=$(watches) &&
	{ kq wait --interval-ms 20000 lg-0a1b2c3d4e5f60718293-a lg-0a1b2c3d4e5f60718293-b lg-0a1b2c3d4e5f60718293-c >wait.jsonl 2>wait.err & } &&
	wpid=$! && until_watch $n &&
	ctl "log?job=lg-0a1b2c3d4e5f60718293-c" "worker c: 2 iterations, cost 0.12" &&
	ctl "finish?job=lg-0a1b2c3d4e5f60718293-c&exit=3" &&
	ctl "finish?job=lg-0a1b2c3d4e5f60718293-b&exit=0" &&
	wait $wpid &&
	test $(( $(date +%s) - start )) -lt 15 &&
	python3 - <<-PY &&
	import json
	last = {}
	for l in open("wait.jsonl"):
	    d = json.loads(l); last[d["handle"]] = d
	assert last["lg-0a1b2c3d4e5f60718293-a"]["state"] == "succeeded", last
	assert last["lg-0a1b2c3d4e5f60718293-b"]["state"] == "succeeded" and last["lg-0a1b2c3d4e5f60718293-b"]["exit_code"] == 0, last
	c = last["lg-0a1b2c3d4e5f60718293-c"]
	assert c["state"] == "failed" and c["exit_code"] == 3 and c["native"] == "Failed", c
	PY
	kq log lg-0a1b2c3d4e5f60718293-c | grep -x "worker c: 2 iterations, cost 0.12" &&
	# the watch asked for bookmarks from a version it had
	python3 - <<-PY
	import json
	w = [json.loads(l) for l in open("kube.log") if "watch" in json.loads(l)["query"]]
	assert w, "no watch request"
	for r in w:
	    q = r["query"]
	    assert q["allowWatchBookmarks"] == ["true"] and q["resourceVersion"][0].isdigit(), q
	    assert q["labelSelector"] == ["app.kubernetes.io/managed-by=loopgate"], q
	PY
'

test_expect_success 'a watch from a compacted version gets 410 Gone: loopgate lists again and goes on' '
	d=$(submit d) && n=$(watches) &&
	{ kq wait --interval-ms 20000 "$d" >wait.jsonl 2>wait.err & } &&
	wpid=$! &&
	# its first watch is open: expire every version, then change the Job
	# (preempted: not final); the next watch starts from an expired version
	until_watch $n && ctl compact && ctl "preempt?job=$d" &&
	until_watch $((n + 1)) && ctl unblock && ctl "finish?job=$d&exit=0" &&
	wait $wpid &&
	grep "\"preempted\"" wait.jsonl &&
	tail -n 1 wait.jsonl | grep "\"succeeded\"" &&
	python3 - <<-PY
	import json
	reqs = [json.loads(l) for l in open("kube.log")]
	# the second watch got 410; right after it: a list (no watch) of the Jobs
	w = [k for k, r in enumerate(reqs) if "watch" in r["query"]]
	nxt = reqs[w[-2] + 1]
	assert nxt["method"] == "GET" and nxt["path"].endswith("/jobs") and "watch" not in nxt["query"], reqs[w[-2]:]
	PY
'

test_expect_success '409: the same worker submitted again re-attaches; another run'"'"'s Job of that name is refused' '
	test "$(submit a)" = lg-0a1b2c3d4e5f60718293-a &&
	grep -c "\"method\": \"POST\"" kube.log >posts &&
	expect_code 3 env OPENAI_API_KEY=x "$LOOPGATE" dispatch submit --executor kueue \
		--kubeconfig kc.yaml --queue loopgate --image i --run 0A1B2C3D4E5F60718293 \
		--worker a -- true 2>err &&
	grep "a Job named lg-0a1b2c3d4e5f60718293-a already exists in namespace loopgate-team-a and is not run 0A1B2C3D4E5F60718293" err
'

test_expect_success 'cancel deletes the Job with propagationPolicy Background; it is then gone' '
	kq cancel lg-0a1b2c3d4e5f60718293-a &&
	test "$(state lg-0a1b2c3d4e5f60718293-a)" = lost &&
	kq cancel lg-0a1b2c3d4e5f60718293-a &&
	python3 - <<-PY
	import json
	d = [json.loads(l) for l in open("kube.log") if json.loads(l)["method"] == "DELETE"
	     and json.loads(l)["path"].endswith("-a")]
	assert d and d[0]["path"] == "/apis/batch/v1/namespaces/loopgate-team-a/jobs/lg-0a1b2c3d4e5f60718293-a", d
	assert d[0]["body"]["propagationPolicy"] == "Background", d[0]
	PY
'

test_expect_success '401 and 403 are clear errors naming what was refused' '
	kubeconfig k401.yaml "{token: tok-wrong}" &&
	expect_code 3 "$LOOPGATE" dispatch poll --executor kueue --kubeconfig k401.yaml x 2>err &&
	grep "refused the credentials of kubeconfig k401.yaml, context tenant (401 Unauthorized" err &&
	kubeconfig k403.yaml "{token: tok-rbac}" &&
	expect_code 3 "$LOOPGATE" dispatch poll --executor kueue --kubeconfig k403.yaml x 2>err &&
	grep "forbidden (403): jobs.batch is forbidden: User .* cannot get resource \"jobs\"" err &&
	grep "loopgate kueue manifests prints one" err &&
	! grep -r "tok-wrong\|tok-rbac" err
'

test_expect_success 'credentials: client certificate data, CA and token files, the pod'"'"'s service account' '
	kubeconfig kcert.yaml "{client-certificate-data: $(base64 -w0 client.pem), client-key-data: $(base64 -w0 client.key)}" &&
	"$LOOPGATE" dispatch poll --executor kueue --kubeconfig kcert.yaml lg-0a1b2c3d4e5f60718293-b | grep "\"succeeded\"" &&
	printf "tok-good\n" >token &&
	kubeconfig kfile.yaml "{tokenFile: token}" "certificate-authority: ca.pem" &&
	"$LOOPGATE" dispatch poll --executor kueue --kubeconfig kfile.yaml lg-0a1b2c3d4e5f60718293-b | grep "\"succeeded\"" &&
	mkdir -p sa && cp ca.pem sa/ca.crt && echo tok-good >sa/token && echo loopgate-team-a >sa/namespace &&
	env -u KUBECONFIG HOME="$TRASH/nohome" KUBERNETES_SERVICE_HOST=127.0.0.1 \
		KUBERNETES_SERVICE_PORT=$PORT LOOPGATE_KUBE_SA_DIR="$TRASH/sa" \
		"$LOOPGATE" dispatch poll --executor kueue lg-0a1b2c3d4e5f60718293-b | grep "\"succeeded\"" &&
	grep "\"auth\": \"cert\"" kube.log &&
	kubeconfig kinsecure.yaml "{token: tok-good}" "insecure-skip-tls-verify: true" &&
	expect_code 3 "$LOOPGATE" dispatch poll --executor kueue --kubeconfig kinsecure.yaml x 2>err &&
	grep "insecure-skip-tls-verify is set" err &&
	kubeconfig kexec.yaml "{exec: {command: aws}}" &&
	expect_code 3 "$LOOPGATE" dispatch poll --executor kueue --kubeconfig kexec.yaml x 2>err &&
	grep "from a plugin (exec or auth-provider)" err &&
	kubeconfig knoca.yaml "{token: tok-good}" "certificate-authority-data: $(base64 -w0 client.pem)" &&
	expect_code 3 "$LOOPGATE" dispatch poll --executor kueue --kubeconfig knoca.yaml x 2>err &&
	grep -i "tls" err
'

test_expect_success 'the Job: suspended, queue label, requests, image, repo; the API key only by secretKeyRef' '
	! grep "$KEY_VALUE" kube.log &&
	python3 - <<-PY
	import json
	job = [json.loads(l)["body"] for l in open("kube.log") if json.loads(l)["method"] == "POST"][0]
	m, s = job["metadata"], job["spec"]
	assert m["labels"]["kueue.x-k8s.io/queue-name"] == "loopgate", m
	assert m["labels"]["loopgate.dev/worker"] == "a" and m["annotations"]["loopgate.dev/run-id"] == "$RUN", m
	assert s["suspend"] is True and s["backoffLimit"] == 0 and s["activeDeadlineSeconds"] == 900, s
	pod = s["template"]["spec"]
	assert pod["restartPolicy"] == "Never" and pod["serviceAccountName"] == "loopgate", pod
	c = pod["containers"][0]
	assert c["image"] == "loopgate:test" and c["args"][:2] == ["loopgate", "run"], c
	assert c["resources"]["requests"] == {"cpu": "1", "memory": "512Mi"}, c
	# the pod is the jail: not root, no capabilities, the runtime seccomp
	assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}, pod
	assert c["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}, c
	env = {e["name"]: e for e in c["env"]}
	assert env["LOOPGATE_REPO"]["value"] == "https://git.example/team-a/app.git", env
	assert env["LOOPGATE_BASE"]["value"].startswith("0123456789abcdef"), env
	assert env["OPENAI_API_KEY"] == {"name": "OPENAI_API_KEY", "valueFrom": {"secretKeyRef": {"name": "loopgate-model", "key": "OPENAI_API_KEY"}}}, env
	PY
'

if [ $schemas_rc = 77 ]; then
	test_count=$((test_count + 1))
	echo "ok $test_count # skip npm is not available: the manifests cannot be validated"
else
test_expect_success 'every manifest sent or printed is valid (Kubernetes OpenAPI, Kueue v1beta1); broken ones are caught' '
	test $schemas_rc = 0 &&
	python3 -c "import json; [print(json.dumps(json.loads(l)[\"body\"])) for l in open(\"kube.log\") if json.loads(l)[\"method\"] == \"POST\"]" >jobs.jsonl &&
	test "$(wc -l <jobs.jsonl)" -ge 4 &&
	"$LOOPGATE" kueue manifests --tenant team-a --cpu 4 --memory 16Gi --gpu 2 --json >tenant.json &&
	# the fake'"'"'s own Workloads and Pods: the shapes loopgate reads
	python3 - <<-PY &&
	import json, ssl, urllib.request
	ctx = ssl.create_default_context(cafile="ca.pem")
	out = []
	for p in ("/apis/kueue.x-k8s.io/v1beta1/namespaces/loopgate-team-a/workloads", "/api/v1/namespaces/loopgate-team-a/pods"):
	    r = urllib.request.Request("https://127.0.0.1:$PORT" + p, headers={"Authorization": "Bearer tok-good"})
	    out += json.load(urllib.request.urlopen(r, context=ctx))["items"]
	json.dump(out, open("read.json", "w"))
	PY
	node "$TEST_DIR/fake/validate_k8s.mjs" jobs.jsonl tenant.json read.json >valid.out &&
	grep -c "^ok Job " valid.out && grep "^ok ClusterQueue loopgate-team-a" valid.out &&
	grep "^ok Workload " valid.out && grep "^ok RoleBinding loopgate" valid.out &&
	python3 - <<-PY &&
	import json
	job = json.loads(open("jobs.jsonl").readline())
	del job["spec"]["template"]["spec"]["containers"][0]["name"]
	json.dump(job, open("bad-job.json", "w"))
	t = json.load(open("tenant.json"))
	cq = [o for o in t if o["kind"] == "ClusterQueue"][0]
	cq["spec"]["queueingStrategy"] = "Lottery"
	lq = [o for o in t if o["kind"] == "LocalQueue"][0]
	del lq["spec"]["clusterQueue"]
	json.dump([cq, lq], open("bad-kueue.json", "w"))
	PY
	expect_code 1 node "$TEST_DIR/fake/validate_k8s.mjs" bad-job.json >bad.out &&
	grep -E "invalid Job .*must have required property .?name" bad.out &&
	expect_code 1 node "$TEST_DIR/fake/validate_k8s.mjs" bad-kueue.json >bad.out &&
	grep "invalid ClusterQueue .*queueingStrategy must be equal to one of the allowed values" bad.out &&
	grep -E "invalid LocalQueue .*must have required property .?clusterQueue" bad.out
'
fi

test_expect_success 'kueue manifests: one namespace and LocalQueue per tenant, quotas, RBAC for what loopgate asks, base_url' '
	"$LOOPGATE" kueue manifests --tenant team-b --cpu 4 --memory 16Gi --gpu 1 --vllm qwen.models:8000 >b.yaml &&
	grep "^# Model endpoint (OpenAI-compatible vLLM): base_url: http://qwen.models.svc.cluster.local:8000/v1$" b.yaml &&
	"$LOOPGATE" kueue manifests --tenant team-b --cpu 4 --memory 16Gi --gpu 1 --json >b.json &&
	python3 - <<-PY &&
	import json
	objs = {o["kind"]: o for o in json.load(open("b.json"))}
	assert objs["Namespace"]["metadata"]["name"] == "loopgate-team-b"
	cq = objs["ClusterQueue"]["spec"]
	assert cq["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "loopgate-team-b"}}, cq
	rg = cq["resourceGroups"][0]
	assert rg["coveredResources"] == ["cpu", "memory", "nvidia.com/gpu"], rg
	assert [r["nominalQuota"] for r in rg["flavors"][0]["resources"]] == ["4", "16Gi", "1"], rg
	assert objs["LocalQueue"]["metadata"]["namespace"] == "loopgate-team-b"
	assert objs["LocalQueue"]["spec"]["clusterQueue"] == objs["ClusterQueue"]["metadata"]["name"]
	rules = {(r["apiGroups"][0], r["resources"][0]): r["verbs"] for r in objs["Role"]["rules"]}
	assert rules == {("batch", "jobs"): ["create", "get", "list", "watch", "delete"],
	                 ("kueue.x-k8s.io", "workloads"): ["get", "list", "watch"],
	                 ("", "pods"): ["get", "list"], ("", "pods/log"): ["get"],
	                 ("visibility.kueue.x-k8s.io", "localqueues/pendingworkloads"): ["get"]}, rules
	assert objs["RoleBinding"]["subjects"][0]["namespace"] == "loopgate-team-b"
	PY
	expect_code 2 "$LOOPGATE" kueue manifests --tenant Team_B 2>err && grep "tenant name" err &&
	expect_code 2 "$LOOPGATE" kueue manifests --tenant x --cpu lots 2>err && grep "quota" err
'

test_done
