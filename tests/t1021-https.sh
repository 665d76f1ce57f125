#!/bin/sh
# Model calls over https through loopgate's own HTTP client (actor/http_wire.c):
# a run against a fake TLS server whose CA is made here converges without
# loading libcurl; a server the CAs do not vouch for, or one whose
# certificate names another host, is refused with a clear TLS error and
# nothing lost; a proxy variable or LOOPGATE_HTTP=curl brings libcurl back.
# The CAs (actor/ssl_cas.h): a hashed directory that vouches is enough and
# the bundle file is then never read; a CA only in the bundle (appended by
# hand, no hash link) is still trusted; neither makes a rogue server pass.
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

# A hashed CA directory as c_rehash / update-ca-certificates make it (the
# test CA and its HASH.0 link), another with an unrelated CA only, and a
# bundle file with both CAs, the test CA appended by hand.
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 \
	-subj "/CN=loopgate other CA" 2>/dev/null
hash_dir() {	# DIR CA.pem
	mkdir -p "$1" && cp "$2" "$1/" &&
	ln -s "$(basename "$2")" "$1/$(openssl x509 -hash -noout -in "$2").0"
}
hash_dir cadir ca.pem
hash_dir otherdir other-ca.pem
cat other-ca.pem ca.pem >bundle.pem

# traced FILE CMD...: CMD under strace (its opens into FILE), or CMD alone
# (FILE empty) on a machine without strace.  A sanitizer build's leak
# check cannot run under ptrace: it is off for the traced command only.
traced() {
	out=$1
	shift
	: >"$out"
	if command -v strace >/dev/null; then
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			strace -f -qq -e trace=open,openat -o "$out" "$@"
	else
		"$@"
	fi
}

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

test_expect_success 'a CA the hashed directory holds: trusted, the bundle file never read' '
	make_repo hd &&
	url=$(start_fake_tls hd fix.json good.pem good.key localhost) &&
	SSL_CERT_DIR=$TRASH/cadir SSL_CERT_FILE=$TRASH/bundle.pem expect_code 0 traced opens \
		$LOOPGATE run --no-sandbox --dir hd --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --json >s.json 2>err &&
	test "$(summary_field s.json status)" = converged &&
	if test -s opens; then
		grep -q "cadir/[0-9a-f]*\.0\"" opens &&
		! grep -q "bundle\.pem" opens
	fi
'

test_expect_success 'a CA only in the bundle file, no hash link: still trusted' '
	make_repo bf &&
	url=$(start_fake_tls bf fix.json good.pem good.key localhost) &&
	SSL_CERT_DIR=$TRASH/otherdir SSL_CERT_FILE=$TRASH/bundle.pem expect_code 0 traced opens \
		$LOOPGATE run --no-sandbox --dir bf --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --json >s.json 2>err &&
	test "$(summary_field s.json status)" = converged &&
	if test -s opens; then grep -q "bundle\.pem" opens; fi
'

test_expect_success 'neither the directory nor the bundle makes a rogue or misnamed server pass' '
	make_repo rd &&
	url=$(start_fake_tls rd fix.json rogue.pem rogue.key 127.0.0.1) &&
	SSL_CERT_DIR=$TRASH/cadir SSL_CERT_FILE=$TRASH/bundle.pem expect_code 3 $LOOPGATE run \
		--dir rd --goal g --gate "sh test.sh" --model openai/m --base-url "$url" 2>err &&
	grep -q "certificate did not verify: self.signed certificate" err &&
	test ! -s rd.log &&
	make_repo md &&
	url=$(start_fake_tls md fix.json other.pem other.key localhost) &&
	SSL_CERT_DIR=$TRASH/cadir SSL_CERT_FILE=$TRASH/bundle.pem expect_code 3 $LOOPGATE run \
		--dir md --goal g --gate "sh test.sh" --model openai/m --base-url "$url" 2>err &&
	grep -q "certificate did not verify: hostname mismatch" err &&
	test ! -s md.log
'

test_expect_success 'a TLS failure that is not the certificate is named by OpenSSL (libssl strings)' '
	make_repo pl &&
	cat >pl/loopgate.yaml <<-YAML &&
	http:
	  retries: 0
	YAML
	git -C pl add loopgate.yaml && git -C pl commit -qm config &&
	url=$(start_fake pl fix.json) &&
	url=$(echo "$url" | sed "s/^http:/https:/") &&
	expect_code 3 $LOOPGATE run --dir pl --goal g --gate "sh test.sh" --model openai/m \
		--base-url "$url" 2>err &&
	grep -q "the TLS handshake failed (error:[0-9A-F]*:SSL routines::wrong version number)" err
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
