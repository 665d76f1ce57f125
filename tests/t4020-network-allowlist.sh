#!/bin/sh
# network: [HOST...] (issue 5, item 1): the sandbox reaches the listed hosts
# through loopgate's proxy and nothing else; every decision is a `policy`
# event with subject "network".  Only servers on 127.0.0.1 are contacted.
. "$(dirname "$0")/lib.sh"

# start_http NAME: a plain HTTP server on 127.0.0.1 serving $TRASH/NAME.www
# (holding NAME.txt); prints its port.  Its request log is $TRASH/NAME.log.
start_http() {
	mkdir -p "$TRASH/$1.www" &&
	echo "content of $1" >"$TRASH/$1.www/$1.txt" &&
	python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$TRASH/$1.www" \
		>"$TRASH/$1.log" 2>&1 &
	echo $! >"$TRASH/$1.fakepid"
	i=0
	until grep -q "Serving HTTP on 127.0.0.1 port" "$TRASH/$1.log" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 500 ]; then echo "http server did not start" >&2; return 1; fi
		sleep 0.01
	done
	sed -n 's/.*Serving HTTP on 127.0.0.1 port \([0-9]*\).*/\1/p' "$TRASH/$1.log"
}

# net_repo DIR HOSTS GATE_SCRIPT: a repository whose loopgate.yaml allows
# HOSTS (a YAML flow list) and whose gate is `sh gate.sh` (stdin).
net_repo() {
	make_repo "$1" &&
	printf "policy:\n  network: %s\n" "$2" >"$1/loopgate.yaml" &&
	cat >"$1/gate.sh" &&
	git -C "$1" add loopgate.yaml gate.sh && git -C "$1" commit -qm net
}

# run_gate DIR NAME: one run, the command actor doing nothing, one
# iteration; the summary in NAME.sum, stderr in NAME.err.
run_gate() {
	$LOOPGATE run --dir "$1" --goal g --gate "sh gate.sh" --agent-cmd true \
		--max-iterations 1 --json >"$2.sum" 2>"$2.err"
}

# network_events RUN_DIR: the proxy's decisions, one a line:
# "METHOD HOST PORT DECISION RULE".
network_events() {
	event_bodies "$1" policy >"$TRASH/p.json" &&
	python3 -c 'import json,sys
for b in json.load(open(sys.argv[1])):
    if b["subject"] == "network":
        print(b["method"], b["host"], b["port"], b["decision"], b["rule"])' "$TRASH/p.json"
}

test_expect_success 'a listed host is reached through the proxy (curl, GET and CONNECT), audited' '
	port=$(start_http ok) &&
	net_repo ok "[\"127.0.0.1:$port\"]" <<-SH &&
	curl -sf --max-time 5 http://127.0.0.1:$port/ok.txt || exit 1
	curl -sf --max-time 5 -p http://127.0.0.1:$port/ok.txt || exit 1
	SH
	expect_code 0 run_gate ok ok &&
	run_dir=$(summary_field ok.sum run_dir) &&
	test "$(grep -c "^content of ok" "$run_dir/baseline/gate-1.out")" = 2 &&
	test "$(grep -c "GET /ok.txt" "$TRASH/ok.log")" = 2 &&
	network_events "$run_dir" >got &&
	cat got &&
	printf "%s\n" "GET 127.0.0.1 $port allow 127.0.0.1:$port" \
		"CONNECT 127.0.0.1 $port allow 127.0.0.1:$port" >want &&
	cmp want got &&
	event_bodies "$run_dir" sandbox >sb.json &&
	test "$(json_get sb.json "d[0][\"network\"] + \" \" + \",\".join(d[0][\"hosts\"])")" = "hosts 127.0.0.1:$port" &&
	events_ok "$run_dir"
'

test_expect_success 'a host not on the list gets 403, the gate fails, a deny record names it' '
	port=$(start_http al) &&
	other=$(start_http no) &&
	net_repo deny "[\"127.0.0.1:$port\"]" <<-SH &&
	curl -s --max-time 5 http://127.0.0.1:$other/no.txt
	curl -s --max-time 5 -o /dev/null -w "status %{http_code}\n" http://127.0.0.1:$other/no.txt
	curl -sf --max-time 5 http://not-listed.invalid/x
	SH
	expect_code 1 run_gate deny deny &&
	run_dir=$(summary_field deny.sum run_dir) &&
	out=$run_dir/baseline/gate-1.out &&
	cat "$out" &&
	grep -qxF "loopgate: 127.0.0.1 port $other is not in policy.network" "$out" &&
	grep -qxF "status 403" "$out" &&
	! grep -q "content of no" "$out" &&
	! grep -q "GET /no.txt" "$TRASH/no.log" &&
	network_events "$run_dir" >got &&
	cat got &&
	printf "%s\n" "GET 127.0.0.1 $other deny not in policy.network" \
		"GET 127.0.0.1 $other deny not in policy.network" \
		"GET not-listed.invalid 80 deny not in policy.network" >want &&
	cmp want got
'

test_expect_success 'without the proxy nothing gets out: direct connections and DNS fail' '
	port=$(start_http dir) &&
	net_repo direct "[\"127.0.0.1:$port\"]" <<-SH &&
	curl -s --noproxy "*" --max-time 5 http://127.0.0.1:$port/dir.txt; echo "curl exit \$?"
	python3 -c "import socket; socket.create_connection((\"127.0.0.1\", $port), 5)" 2>&1 | tail -n 1
	python3 -c "import socket; socket.getaddrinfo(\"localhost.localdomain.\", 80)" 2>&1 | tail -n 1
	exit 0
	SH
	expect_code 0 run_gate direct direct &&
	run_dir=$(summary_field direct.sum run_dir) &&
	out=$run_dir/baseline/gate-1.out &&
	cat "$out" &&
	grep -qx "curl exit 7" "$out" &&
	grep -q "Connection refused" "$out" &&
	! grep -q "content of dir" "$out" &&
	! grep -q "GET /dir.txt" "$TRASH/dir.log" &&
	network_events "$run_dir" >got &&
	test ! -s got
'

test_expect_success 'python urllib goes through the proxy: allowed fetch, 403 for the rest' '
	port=$(start_http py) &&
	other=$(start_http pyno) &&
	net_repo py "[\"127.0.0.1:$port\"]" <<-SH &&
	python3 - <<-PY
	import urllib.request, urllib.error
	print(urllib.request.urlopen("http://127.0.0.1:$port/py.txt", timeout=5).read().decode().strip())
	try:
	    urllib.request.urlopen("http://127.0.0.1:$other/pyno.txt", timeout=5)
	    print("REACHED")
	except urllib.error.HTTPError as e:
	    print("denied", e.code)
	PY
	SH
	expect_code 0 run_gate py py &&
	run_dir=$(summary_field py.sum run_dir) &&
	out=$run_dir/baseline/gate-1.out &&
	cat "$out" &&
	grep -qx "content of py" "$out" &&
	grep -qx "denied 403" "$out" &&
	! grep -q "GET /pyno.txt" "$TRASH/pyno.log" &&
	network_events "$run_dir" >got &&
	printf "%s\n" "GET 127.0.0.1 $port allow 127.0.0.1:$port" \
		"GET 127.0.0.1 $other deny not in policy.network" >want &&
	cmp want got
'

test_expect_success 'names are matched as names (the proxy resolves); the port on a rule binds' '
	port=$(start_http nm) &&
	net_repo names "[\"localhost:$port\"]" <<-SH &&
	curl -sf --max-time 5 http://localhost:$port/nm.txt
	curl -s --max-time 5 -o /dev/null -w "by address %{http_code}\n" http://127.0.0.1:$port/nm.txt
	curl -s --max-time 5 -o /dev/null -w "other port %{http_code}\n" http://localhost:1/
	exit 0
	SH
	expect_code 0 run_gate names names &&
	run_dir=$(summary_field names.sum run_dir) &&
	out=$run_dir/baseline/gate-1.out &&
	cat "$out" &&
	grep -qx "content of nm" "$out" &&
	grep -qx "by address 403" "$out" &&
	grep -qx "other port 403" "$out" &&
	test "$(grep -c "GET /nm.txt" "$TRASH/nm.log")" = 1
'

test_expect_success 'NO_PROXY keeps the sandbox loopback local unless the list names a loopback host' '
	net_repo np "[example.invalid]" <<-\SH &&
	echo "no_proxy=$NO_PROXY http_proxy=${http_proxy%:*}"
	SH
	expect_code 0 run_gate np np &&
	run_dir=$(summary_field np.sum run_dir) &&
	grep -qx "no_proxy=localhost,127.0.0.1,::1 http_proxy=http://127.0.0.1" \
		"$run_dir/baseline/gate-1.out" &&
	net_repo np2 "[\"127.0.0.1:9\"]" <<-\SH &&
	echo "no_proxy=${NO_PROXY-unset}"
	SH
	expect_code 0 run_gate np2 np2 &&
	run_dir=$(summary_field np2.sum run_dir) &&
	grep -qx "no_proxy=unset" "$run_dir/baseline/gate-1.out"
'

test_expect_success 'the command actor goes through the proxy too; its decisions are audited' '
	port=$(start_http ac) &&
	net_repo act "[\"127.0.0.1:$port\"]" <<-\SH &&
	exit 1
	SH
	cat >"$TRASH/ac.agent" <<-SH &&
	#!/bin/sh
	curl -sf --max-time 5 http://127.0.0.1:$port/ac.txt
	SH
	chmod +x "$TRASH/ac.agent" &&
	expect_code 1 $LOOPGATE run --dir act --goal g --gate "sh gate.sh" \
		--agent-cmd "$TRASH/ac.agent" --max-iterations 1 --json >act.sum 2>act.err &&
	run_dir=$(summary_field act.sum run_dir) &&
	grep -qx "content of ac" "$run_dir/iter-001/actor.out" &&
	network_events "$run_dir" >got &&
	echo "GET 127.0.0.1 $port allow 127.0.0.1:$port" >want &&
	cmp want got
'

test_expect_success 'the relay passes the exit status and a killing signal on' '
	net_repo st "[\"127.0.0.1:9\"]" <<-\SH &&
	exit 3
	SH
	expect_code 1 $LOOPGATE run --dir st --goal g --gate "sh gate.sh" --gate "kill -TERM \$\$" \
		--agent-cmd true --max-iterations 1 --json >st.sum 2>st.err &&
	run_dir=$(summary_field st.sum run_dir) &&
	event_bodies "$run_dir" gate_end >ge.json &&
	test "$(json_get ge.json "d[0][\"describe\"] + \"|\" + d[1][\"describe\"]")" = \
		"exit 3|killed by signal 15 (Terminated)"
'

test_expect_success 'bad host rules and --no-sandbox with a host list are config errors (exit 2)' '
	net_repo bad "[\"*.ex*.com\"]" <<-\SH &&
	exit 0
	SH
	expect_code 2 $LOOPGATE run --dir bad --goal g --gate "sh gate.sh" --agent-cmd true 2>err1 &&
	grep -q "is only allowed as a leading" err1 &&
	grep -qF "*.ex*.com" err1 &&
	net_repo ns "[\"127.0.0.1:9\"]" <<-\SH &&
	exit 0
	SH
	expect_code 2 $LOOPGATE run --dir ns --goal g --gate "sh gate.sh" --agent-cmd true \
		--no-sandbox 2>err2 &&
	grep -q "cannot be enforced with --no-sandbox" err2 &&
	grep -q "network: on" err2 &&
	test ! -d ns/.loopgate/runs
'

test_done
