#!/bin/sh
# The budget of a model turn with tools (docs/design/tools.md): the first
# request's estimate counts the tool definitions it carries, as the later
# ones do, so a --max-tokens ceiling holds from the first request; and
# --tools on does not fall back to edit blocks when the server refuses tools.
. "$(dirname "$0")/lib.sh"

# extra_bytes RUN_DIR: prints prompt_bytes of iteration 1's model_request
# minus the system and user text it was sent with (what else the request
# carried), its token estimate, and the size of that text
extra_bytes() {
	python3 - "$1" <<-\PY
	import json, os, sys
	rd = sys.argv[1]
	req = [json.loads(l)["body"] for l in open(rd + "/events.jsonl")]
	req = [b for b in req if "prompt_bytes" in b and b.get("iteration") == 1][0]
	text = os.path.getsize(rd + "/system.md") + os.path.getsize(rd + "/iter-001/prompt.md")
	print(req["prompt_bytes"] - text, req["estimate_tokens_in"], text)
	PY
}

# on_run: a run with tools on; what its first request carried besides the
# text in x-on (extra_bytes).  Cases 1 and 2 look at it (made once, lib.sh
# use_setup).
on_run() {
	make_repo on && one_reply on "$REPLY_FIX" &&
	url=$(start_fake on on.json) &&
	expect_code 0 $LOOPGATE run --dir on --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --json >on-sum.json 2>err &&
	extra_bytes "$(summary_field on-sum.json run_dir)" >x-on
}

test_expect_success 'the first request counts the tool definitions; --tools off counts none' '
	use_setup on on_run &&
	test "$(cut -d" " -f1 x-on)" -gt 1500 &&
	make_repo off && one_reply off "$REPLY_FIX" &&
	url=$(start_fake off off.json) &&
	expect_code 0 $LOOPGATE run --dir off --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --tools off --json >sum.json 2>err &&
	extra_bytes "$(summary_field sum.json run_dir)" >x-off &&
	test "$(cut -d" " -f1 x-off)" = 0
'

# The text alone is about text/3 tokens (the first estimate's 3 bytes a
# token); the definitions add 500 more: a ceiling 200 tokens above the text's
# worst case, far enough for the prompt's small differences, must stop it.
test_expect_success 'a --max-tokens ceiling the text alone fits but the tool definitions do not stops the first request unsent' '
	use_setup on on_run &&
	est=$(cut -d" " -f2 x-on) text=$(cut -d" " -f3 x-on) &&
	make_repo tight && one_reply tight "$REPLY_FIX" &&
	url=$(start_fake tight tight.json) &&
	expect_code 1 $LOOPGATE run --dir tight --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-output-tokens 100 \
		--max-tokens $(( (text + 2) / 3 + 100 + 200 )) --json >sum.json 2>err &&
	test "$(summary_field sum.json status)" = budget_exhausted &&
	test "$(req_count "$TRASH/tight.log")" = 0 &&
	# the same ceiling plus one token lets it go
	make_repo fits && one_reply fits "$REPLY_FIX" &&
	url=$(start_fake fits fits.json) &&
	expect_code 0 $LOOPGATE run --dir fits --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-output-tokens 100 \
		--max-tokens $((est + 100)) --json >sum.json 2>err &&
	test "$(req_count "$TRASH/fits.log")" = 1
'

test_expect_success '--tools on: a server that refuses tools is an error, not a fallback' '
	make_repo ton &&
	python3 -c "import json; print(json.dumps({\"replies\": [
		{\"status\": 400, \"error_message\": \"tools are not supported by this model\", \"error_type\": \"invalid_request_error\"}],
		\"repeat_last\": True}))" >ton.json &&
	url=$(start_fake ton ton.json) &&
	expect_code 3 $LOOPGATE run --dir ton --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --tools on --max-iterations 1 --json >sum.json 2>err &&
	test "$(summary_field sum.json status)" = error &&
	test "$(req_count "$TRASH/ton.log")" = 1 &&
	req_field "$TRASH/ton.log" 1 "\"tools\" in b" >t1 && test "$(cat t1)" = True &&
	grep -q "HTTP 400 (tools are not supported by this model)" err &&
	json_get sum.json "d[\"reason\"]" | grep -q "tools are not supported"
'

test_done
