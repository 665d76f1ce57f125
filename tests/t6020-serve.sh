#!/bin/sh
# loopgate serve (issue 13): 127.0.0.1 only, a token on every request (403
# without), 404 for any path that is not a run, and a run in progress
# followed live: a record appended to events.jsonl reaches the event stream
# within a second, and the page then shows the new iteration.
. "$(dirname "$0")/lib.sh"

# http PATH [HOST]: "STATUS\n" then the body, the path sent exactly as given.
http() {
	python3 - "$PORT" "$1" "${2:-127.0.0.1:$PORT}" <<-'PY'
	import http.client, sys
	c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
	c.putrequest("GET", sys.argv[2], skip_host=True, skip_accept_encoding=True)
	c.putheader("Host", sys.argv[3])
	c.endheaders()
	r = c.getresponse()
	print(r.status)
	print("CSP: %s" % r.getheader("Content-Security-Policy"))
	sys.stdout.write(r.read().decode("utf-8", "replace"))
	PY
}

# a_run: the run to look at (repo, sum.json).  start_serve: `loopgate
# serve` on repo, its URL in serve.out, its pid in serve.fakepid.
# serve_run: both, the server the cases query (made once, lib.sh
# use_setup; serve_env then sets PORT and TOKEN from its URL).  The case
# that stops a server starts its own.
a_run() {
	make_repo repo &&
	reply_script wrong-then-fix >s.json &&
	url=$(start_fake oa s.json) &&
	expect_code 0 $LOOPGATE run --dir repo --goal "fix add" --gate "sh test.sh" \
		--model openai/test-model --base-url "$url" --json >sum.json 2>err
}
start_serve() {
	$LOOPGATE serve --dir repo >serve.out 2>serve.err &
	echo $! >serve.fakepid &&
	i=0 && while [ ! -s serve.out ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
}
serve_run() {
	use_setup run a_run && start_serve
}
serve_env() {
	PORT=$(sed "s#http://127.0.0.1:\([0-9]*\)/.*#\1#" serve.out) &&
	TOKEN=$(sed "s#http://127.0.0.1:[0-9]*/\([0-9a-f]*\)/#\1#" serve.out)
}

test_expect_success 'a run to look at' '
	use_setup run a_run
'

test_expect_success 'serve prints a 127.0.0.1 URL with a token and listens there only' '
	use_setup run a_run &&
	start_serve &&
	grep -Eq "^http://127\.0\.0\.1:[0-9]+/[0-9a-f]{32}/$" serve.out &&
	port=$(sed "s#http://127.0.0.1:\([0-9]*\)/.*#\1#" serve.out) &&
	python3 -c "
import sys
port = int(sys.argv[1])
rows = [l.split() for l in open(\"/proc/net/tcp\").readlines()[1:]]
mine = [r for r in rows if int(r[1].split(\":\")[1], 16) == port and r[3] == \"0A\"]
assert mine and all(r[1].split(\":\")[0] == \"0100007F\" for r in mine), mine
" "$port"
'


test_expect_success 'no token, a wrong token or a foreign Host: 403' '
	use_setup serve serve_run && serve_env &&
	id=$(summary_field sum.json run_id) &&
	http / | head -n 1 | grep -qx 403 &&
	http /0123456789abcdef0123456789abcdef/ | head -n 1 | grep -qx 403 &&
	http /0123456789abcdef0123456789abcdef/run/$id | head -n 1 | grep -qx 403 &&
	http /$TOKEN | head -n 1 | grep -qx 403 &&
	http /$TOKEN/ evil.example:$PORT | head -n 1 | grep -qx 403 &&
	http /$TOKEN/ 127.0.0.1:$PORT | head -n 1 | grep -qx 200
'

test_expect_success 'the run list and a run page; path traversal gets 404' '
	use_setup serve serve_run && serve_env &&
	id=$(summary_field sum.json run_id) &&
	http /$TOKEN/ >index && grep -q "href=\"/$TOKEN/run/$id\"" index &&
	http /$TOKEN/run/$id >page && head -n 1 page | grep -qx 200 &&
	grep -q "^CSP: default-src .none.; .*script-src .self." page &&
	grep -q "<script src=\"/$TOKEN/live.js\"" page &&
	grep -q "id=\"convergence\"" page &&
	http /$TOKEN/live.js | grep -q EventSource &&
	for p in "run/../../../../etc/passwd" "run/.." "run/%2e%2e" "run/$id/../../../x" \
		"events/.." "run/..%2f..%2fetc" "../etc/passwd" "run/" "nosuch" "run/.loopgate" \
		"run/$id/events.jsonl"; do
		http "/$TOKEN/$p" >r && head -n 1 r | grep -qx 404 || { echo "$p: $(head -n 1 r)"; exit 1; }
	done
'

test_expect_success 'a run in progress: a new record streams within a second, the page follows' '
	use_setup serve serve_run && serve_env &&
	id=$(summary_field sum.json run_id) &&
	run_dir=$(summary_field sum.json run_dir) &&
	cp -r "$run_dir" "repo/.loopgate/runs/live-1" &&
	python3 - "$PORT" "$TOKEN" "$TRASH/repo/.loopgate/runs/live-1/events.jsonl" <<-EOF
	import json, socket, sys, time
	port, token, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
	s = socket.create_connection(("127.0.0.1", port), timeout=5)
	s.sendall(("GET /%s/events/live-1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (token, port)).encode())
	got = b""
	while b": following" not in got:
	    got += s.recv(4096)
	assert got.startswith(b"HTTP/1.1 200") and b"text/event-stream" in got, got
	rec = {"body": {"iteration": 3}, "h": "x", "kind": "iteration_start", "prev": "y",
	       "seq": 999, "ts": "2026-12-05T00:00:00.000Z"}
	t0 = time.monotonic()
	with open(path, "a") as f:
	    f.write(json.dumps(rec, sort_keys=True) + "\n")
	got = b""
	while b"iteration_start" not in got:
	    chunk = s.recv(4096)
	    assert chunk, "stream closed"
	    got += chunk
	dt = time.monotonic() - t0
	assert dt < 1.0, dt
	assert b"data: {" in got, got
	print("streamed in %.3f s" % dt)
	EOF
	http /$TOKEN/run/live-1 >live && grep -q "id=\"it-0-3\"" live &&
	test "$(grep -c "<details class=\"iter\"" live)" = 4
'

test_expect_success 'in Chromium, the run page shows a new iteration within a second (live.js)' '
	command -v chromium >/dev/null || { echo "chromium is not installed (./bootstrap installs it)"; exit 1; }
	use_setup serve serve_run && serve_env &&
	run_dir=$(summary_field sum.json run_dir) &&
	cp -r "$run_dir" "repo/.loopgate/runs/live-2" &&
	TMPDIR="$TRASH" timeout 60 python3 "$TEST_DIR/browser/live_page.py" "http://127.0.0.1:$PORT/$TOKEN/run/live-2" \
		"$TRASH/repo/.loopgate/runs/live-2/events.jsonl" "$TRASH/chrome" >live.out &&
	cat live.out && grep -q "iterations 3 -> 4" live.out
'

test_expect_success 'serve stops on SIGTERM' '
	use_setup run a_run &&
	start_serve &&
	pid=$(cat serve.fakepid) && kill -TERM "$pid" &&
	i=0 && while ! proc_dead "$pid" && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done &&
	proc_dead "$pid" && rm serve.fakepid
'

test_done
