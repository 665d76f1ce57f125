#!/bin/sh
# Malformed replies and transport faults: each is told to the model or
# retried, never silently dropped; non-retryable errors end with exit 3.
. "$(dirname "$0")/lib.sh"

fast_config() {	# DIR: retries fast, short read timeout
	cat >"$1/loopgate.yaml" <<-YAML
	http:
	  retry_base: 10ms
	  retry_max: 50ms
	  read_timeout: 700ms
	  retries: 2
	YAML
	git -C "$1" add loopgate.yaml && git -C "$1" commit -qm config
}

# run_case NAME SCRIPT_JSON [extra args]: fresh repo, fake server, run.
run_case() {
	name=$1 script=$2
	shift 2
	make_repo "$name" && fast_config "$name" &&
	printf "%s" "$script" >"$name.json" &&
	url=$(start_fake "$name" "$name.json") &&
	set +e
	$LOOPGATE run --dir "$name" --goal "fix add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-iterations 4 --json "$@" \
		>"$name.sum" 2>"$name.err"
	echo $? >"$name.rc"
	set -e
}

attempts_json() {	# RUN_DIR: the model_attempt bodies
	python3 -c 'import json,sys; print(json.dumps([json.loads(l)["body"] for l in open(sys.argv[1]+"/events.jsonl") if json.loads(l)["kind"]=="model_attempt"]))' "$1"
}

fix_json() { python3 -c 'import json,os; print(json.dumps({"content": os.environ["REPLY_FIX"]}))'; }
FIX=$(fix_json)

test_expect_success 'a reply without an edit block is fed back and counts' '
	run_case noedit "{\"replies\":[{\"content\":\"All done, it works now!\"},$FIX]}" &&
	test "$(cat noedit.rc)" = 0 &&
	test "$(summary_field noedit.sum iterations)" = 2 &&
	req_field noedit.log 2 "b[\"messages\"][1][\"content\"]" | grep -q "no edit block"
'

test_expect_success 'an unmatched SEARCH is refused with the nearest lines' '
	python3 -c "import json,os; print(json.dumps({\"replies\":[{\"content\":\"calc.py\n<<<<<<< SEARCH\n    return a / b\n=======\n    return a + b\n>>>>>>> REPLACE\n\"}, {\"content\": os.environ[\"REPLY_FIX\"]}]}))" >nm.script &&
	run_case nomatch "$(cat nm.script)" &&
	test "$(cat nomatch.rc)" = 0 &&
	req_field nomatch.log 2 "b[\"messages\"][1][\"content\"]" >p2 &&
	grep -q "calc.py" p2 && grep -q "return a - b" p2 &&
	grep -qi "no match\|not found\|does not match" p2 &&
	run_dir=$(summary_field nomatch.sum run_dir) &&
	grep -q "\"refused\":1" "$run_dir/events.jsonl"
'

test_expect_success 'invalid JSON from the server is retried' '
	run_case badjson "{\"replies\":[{\"fault\":\"invalid_json\"},$FIX]}" &&
	test "$(cat badjson.rc)" = 0 &&
	test "$(summary_field badjson.sum iterations)" = 1 &&
	test "$(summary_field badjson.sum calls)" = 2
'

test_expect_success 'a truncated stream is discarded whole and retried' '
	run_case trunc "{\"replies\":[{\"fault\":\"truncate\",\"content\":\"PARTIAL-TURN-MARKER and a lot more text that would follow here if the stream had not been cut\"},$FIX]}" &&
	test "$(cat trunc.rc)" = 0 &&
	run_dir=$(summary_field trunc.sum run_dir) &&
	! grep -q PARTIAL-TURN-MARKER "$run_dir/iter-001/response.md" &&
	attempts_json "$run_dir" | grep -q "truncated"
'

test_expect_success 'an error event mid-stream is retried' '
	run_case evt "{\"replies\":[{\"fault\":\"error_event\",\"content\":\"EVENT-PARTIAL and more text to split into chunks for the stream\"},$FIX]}" &&
	test "$(cat evt.rc)" = 0 &&
	run_dir=$(summary_field evt.sum run_dir) &&
	! grep -q EVENT-PARTIAL "$run_dir/iter-001/response.md" &&
	attempts_json "$run_dir" | grep -q "stream_error"
'

test_expect_success '429 with retry-after is honoured, up to retry_max' '
	run_case r429 "{\"replies\":[{\"status\":429,\"headers\":{\"retry-after\":\"1\"}},$FIX]}" &&
	test "$(cat r429.rc)" = 0 &&
	run_dir=$(summary_field r429.sum run_dir) &&
	attempts_json "$run_dir" >a.json &&
	python3 -c "
import json,sys
a=json.load(open(sys.argv[1])); assert a[0][\"http_status\"]==429 and a[0][\"wait_ms\"]==50, a
reqs=[json.loads(l) for l in open(sys.argv[2])]
assert reqs[1][\"t\"]-reqs[0][\"t\"] >= 0.045, reqs
" a.json r429.log
'

test_expect_success '500 is retried' '
	run_case r500 "{\"replies\":[{\"status\":500},$FIX]}" &&
	test "$(cat r500.rc)" = 0 && test "$(req_count r500.log)" = 2
'

test_expect_success 'a connection reset is retried' '
	run_case reset "{\"replies\":[{\"fault\":\"reset\"},$FIX]}" &&
	test "$(cat reset.rc)" = 0 && test "$(req_count reset.log)" = 2 &&
	attempts_json "$(summary_field reset.sum run_dir)" | grep -q "\"http_status\": 0"
'

test_expect_success 'a server slower than the read timeout is retried' '
	run_case slow "{\"replies\":[{\"delay_ms\":5000,\"content\":\"too late\"},$FIX]}" &&
	test "$(cat slow.rc)" = 0 &&
	attempts_json "$(summary_field slow.sum run_dir)" | grep -q "timeout"
'

test_expect_success '529 overloaded from Anthropic is retried' '
	make_repo a529 && fast_config a529 &&
	python3 -c "import json,os; print(json.dumps({\"replies\":[{\"status\":529,\"error_type\":\"overloaded_error\"},{\"content\":os.environ[\"REPLY_FIX\"]}]}))" >a529.json &&
	url=$(start_fake a529 a529.json) &&
	ANTHROPIC_API_KEY=k expect_code 0 $LOOPGATE run --dir a529 --goal g --gate "sh test.sh" \
		--model anthropic/c --base-url "$url" --json >a529.sum 2>err &&
	test "$(req_count a529.log)" = 2
'

test_expect_success '401 is not retried: exit 3 with the reason' '
	run_case r401 "{\"replies\":[{\"status\":401,\"error_type\":\"invalid_request_error\",\"error_code\":\"invalid_api_key\"}],\"repeat_last\":true}" &&
	test "$(cat r401.rc)" = 3 &&
	test "$(req_count r401.log)" = 1 &&
	test "$(summary_field r401.sum status)" = error &&
	grep -q "401" r401.err
'

test_expect_success 'retries run out: exit 3 after retries+1 attempts' '
	run_case r503 "{\"replies\":[{\"status\":503}],\"repeat_last\":true}" &&
	test "$(cat r503.rc)" = 3 &&
	test "$(req_count r503.log)" = 3 &&
	run_dir=$(summary_field r503.sum run_dir) &&
	test "$(summary_field r503.sum calls)" = 3 &&
	grep -q run_end "$run_dir/events.jsonl"
'

test_expect_success 'a libcurl that cannot be loaded: exit 3 before any request, with the fix' '
	# a model run needs libcurl only when it goes through a proxy, or is
	# told to (LOOPGATE_HTTP=curl); it is then checked before the run
	make_repo nolib && printf "%s" "{\"replies\":[$FIX]}" >nolib.json &&
	url=$(start_fake nolib nolib.json) &&
	LOOPGATE_HTTP=curl LOOPGATE_LIBCURL=$TRASH/no-such-libcurl.so.4 expect_code 3 $LOOPGATE run --dir nolib \
		--goal "fix add" --gate "sh test.sh" --model openai/m --base-url "$url" \
		--max-iterations 2 >nolib.out 2>nolib.err &&
	grep -q "LOOPGATE_LIBCURL names a libcurl that could not be loaded" nolib.err &&
	grep -q "no-such-libcurl.so.4" nolib.err &&
	test "$(req_count nolib.log)" = 0
'

test_expect_success 'a command actor never loads libcurl' '
	make_repo cmdonly &&
	cat >maps.sh <<-EOF &&
	#!/bin/sh
	# exec'"'"'d by sh -c, so the parent is the warden, a fork of
	# loopgate: its memory map is loopgate'"'"'s
	cat /proc/\$PPID/maps >"$TRASH/actor-maps"
	cp "$TRASH/fixed.py" calc.py
	EOF
	chmod +x maps.sh &&
	printf "def add(a, b):\n    return a + b\n" >fixed.py &&
	expect_code 0 $LOOPGATE run --no-sandbox --dir cmdonly --goal "fix add" \
		--gate "sh test.sh" --agent-cmd "exec $TRASH/maps.sh" --max-iterations 2 >cmd.out 2>cmd.err &&
	grep -q "/loopgate\$" actor-maps && grep -q "libc[.]so" actor-maps &&
	! grep -q "libcurl" actor-maps
'

test_expect_success 'a model run leaves GnuTLS, a dependency of libcurl, uninitialised' '
	# libcurl.so.4 (OpenSSL) loads libgnutls for RTMP and LDAP, which
	# loopgate never enables; its constructor initialises it unless the
	# program defines _gnutls_global_init_skip (actor/curl_api.c): the
	# dynamic linker must bind libgnutls to loopgate'"'"'s own
	make_repo tls && printf "%s" "{\"replies\":[$FIX]}" >tls.json &&
	url=$(start_fake tls tls.json) && mkdir ld &&
	LOOPGATE_HTTP=curl LD_DEBUG=bindings LD_DEBUG_OUTPUT=$TRASH/ld/out \
		expect_code 0 $LOOPGATE run \
		--no-sandbox --dir tls --goal "fix add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-iterations 2 >tls.out 2>tls.err &&
	f=$(grep -l "binding file [^ ]*libcurl" ld/*) && test -n "$f" &&
	test "$(echo "$f" | wc -l)" = 1 &&
	if grep -q "libgnutls" "$f"; then
		grep "_gnutls_global_init_skip" "$f" >skip.txt &&
		grep -q "libgnutls[^ ]* .0. to [^ ]*/loopgate .0.: normal symbol" skip.txt &&
		! grep -q "to [^ ]*libgnutls" skip.txt
	else
		echo "no libgnutls in this libcurl: nothing to check"
	fi
'

test_expect_success 'a run ends without the libraries'"'"' destructors, its output whole' '
	# cli/main.c: fflush, then _exit (docs/design/heap.md); under a
	# sanitizer the normal exit stays, for its leak check
	make_repo fini && printf "%s" "{\"replies\":[$FIX]}" >fini.json &&
	url=$(start_fake fini fini.json) && mkdir ldf &&
	LOOPGATE_HTTP=curl LD_DEBUG=files LD_DEBUG_OUTPUT=$TRASH/ldf/out \
		expect_code 0 $LOOPGATE run \
		--no-sandbox --dir fini --goal "fix add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-iterations 2 --json \
		>fini.sum 2>fini.err &&
	test "$(summary_field fini.sum status)" = converged &&
	grep -q "loopgate: report " fini.err &&
	f=$(grep -l "file=[^ ]*libcurl" ldf/*) && test -n "$f" &&
	test "$(echo "$f" | wc -l)" = 1 &&
	grep -q "calling init: [^ ]*libcurl" "$f" &&
	if grep -q __asan_init "$LOOPGATE"; then
		echo "sanitizer build: the normal exit stays"
	else
		! grep -q "calling fini" "$f"
	fi
'

test_expect_success 'a libcrypto that cannot be loaded: exit 3 before anything is made' '
	make_repo nocrypto &&
	LOOPGATE_LIBCRYPTO=$TRASH/no-such-libcrypto.so.3 expect_code 3 $LOOPGATE run \
		--dir nocrypto --goal g --gate "sh test.sh" --agent-cmd true \
		--max-iterations 1 >nocrypto.out 2>nocrypto.err &&
	grep -q "libcrypto (libcrypto.so.3) could not be loaded" nocrypto.err &&
	grep -q "LOOPGATE_LIBCRYPTO" nocrypto.err &&
	grep -q "no-such-libcrypto.so.3" nocrypto.err &&
	test ! -e nocrypto/.loopgate
'

test_done
