#!/bin/sh
# Hostile loopgate.yaml files: each is refused with exit 2 and one clear
# message (the file, the line where there is one, and what is wrong) before
# any run directory exists; none crashes or hangs.  The table is
# tests/fixtures/hostile-config/cases.py (file name, expected message part).
. "$(dirname "$0")/lib.sh"

cases=$TEST_DIR/fixtures/hostile-config/cases.py

test_expect_success 'every hostile config is refused with exit 2 and its message' '
	make_repo repo &&
	mkdir cfg &&
	python3 "$cases" write cfg &&
	printf "{\"content\": \"x\"}\n" >reply.jsonl &&
	python3 "$cases" list >list &&
	n=0 &&
	while IFS="	" read -r name want; do
		n=$((n + 1))
		rc=0
		(cd repo && timeout 30 "$LOOPGATE" run --config "../cfg/$name.yaml" \
			--goal g --gate false --model "replay:../reply.jsonl" \
			--max-iterations 1 >../out 2>../err) || rc=$?
		if [ "$rc" -ne 2 ]; then
			echo "$name: exit $rc, expected 2"; cat err; exit 1
		fi
		grep -q "^loopgate: error: \.\./cfg/$name\.yaml" err ||
			{ echo "$name: message does not name the file:"; cat err; exit 1; }
		grep -qF -- "$want" err ||
			{ echo "$name: expected \"$want\" in:"; cat err; exit 1; }
		[ "$(wc -l <err)" -le 3 ] || { echo "$name: message too long"; cat err; exit 1; }
		[ ! -d repo/.loopgate/runs ] || [ -z "$(ls repo/.loopgate/runs)" ] ||
			{ echo "$name: a run directory was created"; exit 1; }
	done <list &&
	test "$n" -ge 20
'

test_expect_success 'a CR/LF in --base-url is refused before a run exists' '
	make_repo repo2 &&
	rc=0 &&
	(cd repo2 && "$LOOPGATE" run --goal g --gate false --model openai/x \
		--base-url "$(printf "http://127.0.0.1:1/v1\r\nX-Evil: 1")" 2>../err) || rc=$? &&
	test "$rc" -eq 2 &&
	grep -q "no spaces or control characters" err &&
	test ! -d repo2/.loopgate/runs
'

test_expect_success 'an audit key path that is a directory is named as such' '
	make_repo repo3 &&
	printf "{\"content\": \"x\"}\n" >reply.jsonl &&
	rc=0 &&
	(cd repo3 && LOOPGATE_AUDIT_KEY=$TRASH "$LOOPGATE" run --goal g --gate false \
		--model replay:../reply.jsonl --max-iterations 1 2>../err) || rc=$? &&
	test "$rc" -eq 3 &&
	grep -q "is a directory, not a key file" err &&
	! grep -q "chmod 600" err
'

test_done
