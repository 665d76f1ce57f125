#!/bin/sh
# Model calls over https through loopgate's own HTTP client (actor/http_wire.c):
# a run against a fake TLS server whose CA is made here converges without
# loading libcurl; a server the CAs do not vouch for, or one whose
# certificate names another host, is refused with a clear TLS error and
# nothing lost; a proxy variable or LOOPGATE_HTTP=curl brings libcurl back.
. "$(dirname "$0")/lib.sh"

cd "$TRASH"

# A CA; a server certificate it signed for localhost and 127.0.0.1, one for
# another name; and a self-signed one no CA vouches for.
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
	-subj "/CN=loopgate test CA" 2>/dev/null
signed_cert() {	# NAME SUBJECT_ALT_NAME
	openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" \
		-subj "/CN=$1" 2>/dev/null &&
	printf "subjectAltName=%s\n" "$2" >"$1.ext" &&
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
		-out "$1.pem" -days 2 -extfile "$1.ext" 2>/dev/null
}
signed_cert good "DNS:localhost,IP:127.0.0.1"
signed_cert other "DNS:other.example"
openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 \
	-subj "/CN=rogue" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null

# two replies, kept alive: a wrong one, then the fix
python3 -c "
import json,os
r = lambda t: {\"content\": t, \"keepalive\": True}
print(json.dumps({\"replies\": [r(os.environ[\"REPLY_WRONG\"]), r(os.environ[\"REPLY_FIX_AFTER_WRONG\"])]}))" >two.json
python3 -c "import json,os; print(json.dumps({\"replies\": [{\"content\": os.environ[\"REPLY_FIX\"]}]}))" >fix.json

# no_libcurl DIR: no process of the run loaded libcurl; libssl was loaded
no_libcurl() {
	! grep -q "file=[^ ]*libcurl" "$1"/* && grep -q "file=[^ ]*libssl" "$1"/*
}

test_expect_success 'https to localhost: converges over one TLS connection, no libcurl loaded' '
	make_repo tl &&
	url=$(start_fake_tls tl two.json good.pem good.key localhost) &&
	mkdir ld &&
	SSL_CERT_FILE=$TRASH/ca.pem LD_DEBUG=files LD_DEBUG_OUTPUT=$TRASH/ld/out \
		expect_code 0 $LOOPGATE run --no-sandbox --dir tl --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --json >s.json 2>err &&
	test "$(summary_field s.json status)" = converged &&
	test "$(summary_field s.json iterations)" = 2 &&
	no_libcurl ld &&
	python3 -c "
import json,sys
peers = [json.loads(l)[\"peer\"] for l in open(sys.argv[1])]
assert len(peers) == 2 and len(set(peers)) == 1, peers" "$TRASH/tl.log"
'

test_expect_success 'https to an IP address: its certificate is checked against the address' '
	make_repo ip &&
	url=$(start_fake_tls ip fix.json good.pem good.key 127.0.0.1) &&
	SSL_CERT_FILE=$TRASH/ca.pem ANTHROPIC_API_KEY=sk-ant-test-ip expect_code 0 $LOOPGATE run \
		--dir ip --goal g --gate "sh test.sh" --model anthropic/claude-test \
		--base-url "$url" --json >s.json 2>err &&
	test "$(summary_field s.json status)" = converged
'

test_expect_success 'a server no trusted CA vouches for: a TLS error, exit 3, nothing lost' '
	make_repo un &&
	url=$(start_fake_tls un fix.json rogue.pem rogue.key 127.0.0.1) &&
	before=$(git -C un rev-parse HEAD) &&
	SSL_CERT_FILE=$TRASH/ca.pem expect_code 3 $LOOPGATE run --dir un --goal g \
		--gate "sh test.sh" --model openai/m --base-url "$url" --json >s.json 2>err &&
	cat err &&
	grep -q "could not verify TLS for https://127.0.0.1:[0-9]*/v1" err &&
	grep -q "certificate did not verify: self.signed certificate" err &&
	test ! -s un.log &&
	test "$(git -C un rev-parse HEAD)" = "$before" &&
	test -z "$(git -C un status --porcelain)" &&
	run_dir=$(summary_field s.json run_dir) &&
	grep -q "\"outcome\":\"connect_failed\"" "$run_dir/events.jsonl" &&
	grep -q run_end "$run_dir/events.jsonl"
'

test_expect_success 'a certificate for another host name is refused' '
	make_repo wh &&
	url=$(start_fake_tls wh fix.json other.pem other.key localhost) &&
	SSL_CERT_FILE=$TRASH/ca.pem expect_code 3 $LOOPGATE run --dir wh --goal g \
		--gate "sh test.sh" --model openai/m --base-url "$url" 2>err &&
	cat err &&
	grep -q "certificate did not verify: hostname mismatch" err &&
	test ! -s wh.log
'

test_expect_success 'LOOPGATE_HTTP=curl carries a model run through libcurl' '
	make_repo cu &&
	url=$(start_fake cu fix.json) &&
	mkdir ld &&
	LOOPGATE_HTTP=curl LD_DEBUG=files LD_DEBUG_OUTPUT=$TRASH/ld/out expect_code 0 \
		$LOOPGATE run --no-sandbox --dir cu --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --json >s.json 2>err &&
	test "$(summary_field s.json status)" = converged &&
	grep -q "file=[^ ]*libcurl" ld/*
'

test_expect_success 'a proxy variable sends model calls through libcurl (it reads them)' '
	make_repo px &&
	url=$(start_fake px fix.json) &&
	mkdir ld &&
	https_proxy=http://127.0.0.1:9 no_proxy=127.0.0.1 LD_DEBUG=files \
		LD_DEBUG_OUTPUT=$TRASH/ld/out expect_code 0 $LOOPGATE run --no-sandbox \
		--dir px --goal g --gate "sh test.sh" --model openai/m --base-url "$url" \
		--json >s.json 2>err &&
	test "$(summary_field s.json status)" = converged &&
	grep -q "file=[^ ]*libcurl" ld/*
'

test_done
