#!/bin/sh
# More of "bad input loses nothing": a full disk after the gate ran, a NUL in
# the model's reply, a refused edit on a Latin-1 file, invalid UTF-8 in the
# goal.  (Each failed before the fixes in actor.c, loop.c and the providers.)
. "$(dirname "$0")/lib.sh"


# actor.c: a failed write of system.md/prompt.md/response.md returns the
# -ENOSPC of the full disk, which loop.c's actor_failed() reads as "the
# call would not fit the budget": today exit 1 budget_exhausted.
test_expect_success 'a full disk after the gate ran: exit 3, told why, log intact' '
	small_disk "$TRASH/disk2" &&
	make_repo disk2/repo &&
	one_reply full3 "No edit this time." &&
	url=$(start_fake full3 full3.json) &&
	expect_code 3 $LOOPGATE run $TRASH_WRITABLE --dir disk2/repo --goal g \
		--gate "sh test.sh; rc=\$?; head -c 1M /dev/zero >$TRASH/disk2/filler; exit \$rc" \
		--model openai/m --base-url "$url" --json >full3.sum 2>full3.err &&
	cat full3.err &&
	grep -q "No space left on device" full3.err &&
	test "$(summary_field full3.sum status)" = error &&
	run_dir=$(summary_field full3.sum run_dir) &&
	events_ok "$run_dir"
'

# provider_openai.c / provider_anthropic.c: "\u0000" is valid JSON, but
# json_loadb without JSON_ALLOW_NUL refuses it ("not a JSON object"), the
# call is retried and paid 5 times, and the run ends with exit 3 telling the
# user to check that the server is up.  Today: exit 3, 5 requests.
test_expect_success 'a NUL in the reply: the run goes on and converges' '
	make_repo nul &&
	python3 -c "import json,os; print(json.dumps({\"replies\":[{\"content\":\"Here\u0000is a NUL.\n\n\"+os.environ[\"REPLY_FIX\"]}]}))" >nul.json &&
	url=$(start_fake nul nul.json) &&
	expect_code 0 $LOOPGATE run --dir nul --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-iterations 2 --json >nul.sum 2>nul.err &&
	test "$(req_count nul.log)" = 1 &&
	run_dir=$(summary_field nul.sum run_dir) &&
	grep -q "is a NUL" "$run_dir/iter-001/response.md" &&
	events_ok "$run_dir"
'

# actor.c edit_items(): json_pack("{s:s,...}", "message", e->message) is
# NULL when the message quotes a file line that is not UTF-8 (the "most
# similar lines"), and json_array_append_new(a, NULL) drops the item: today
# "items": [] with "refused": 1.
test_expect_success 'a refused edit on a Latin-1 file keeps its item in the edits event' '
	make_repo lat &&
	printf "caf\351 = 1\n" >lat/latin.txt &&
	git -C lat add latin.txt && git -C lat commit -qm latin &&
	one_reply lat "latin.txt
<<<<<<< SEARCH
cafe = 1
=======
cafe = 2
>>>>>>> REPLACE
" &&
	url=$(start_fake lat lat.json) &&
	expect_code 1 $LOOPGATE run --dir lat --goal g --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-iterations 1 --json >lat.sum 2>lat.err &&
	run_dir=$(summary_field lat.sum run_dir) &&
	event_bodies "$run_dir" edits >ed.json &&
	python3 -c "
import json
e=json.load(open(\"ed.json\"))[0]
assert e[\"refused\"]==1 and len(e[\"items\"])==1, e
assert \"caf\ufffd\" in e[\"items\"][0][\"message\"], e"
'

# prompt.c / actor.c / provider_openai.c: a prompt holding invalid UTF-8
# (goal, edit feedback quoting a Latin-1 file, a file name in the list)
# makes json_pack of the user message fail in provider_openai.c's request
# builder, and json_array_append_new(msgs, NULL) drops it: the model gets
# the system prompt only.  Today: messages == [system].
test_expect_success 'invalid UTF-8 in the goal: the model still gets the prompt' '
	make_repo ug &&
	one_reply ug "No edit." &&
	url=$(start_fake ug ug.json) &&
	expect_code 1 $LOOPGATE run --dir ug --goal "$(printf "fix \\377 add")" \
		--gate "sh test.sh" --model openai/m --base-url "$url" \
		--max-iterations 1 --json >ug.sum 2>ug.err &&
	test "$(req_field ug.log 1 "[m[\"role\"] for m in b[\"messages\"]] == [\"system\", \"user\"]")" = True &&
	test "$(req_field ug.log 1 "\"fix \\ufffd add\" in b[\"messages\"][1][\"content\"]")" = True
'

test_expect_success 'a gate whose program is not installed: stopped at the baseline with the name, no turn spent' '
	make_repo ni &&
	expect_code 3 $LOOPGATE run --dir ni --goal "make add() add" --gate "nosuchtool-lg --check" \
		--agent-cmd "touch $TRASH/acted" $TRASH_WRITABLE --json >ni.json 2>ni.err &&
	test "$(summary_field ni.json status)" = error &&
	summary_field ni.json reason | grep -q "gate 1 .nosuchtool-lg --check. cannot run: .nosuchtool-lg. is not installed" &&
	grep -q "baseline: gate 1 .nosuchtool-lg --check. cannot run: nosuchtool-lg is not installed (exit 127)" ni.err &&
	test ! -e acted &&
	# a program in the tree that the actor is to write is no such case
	make_repo mk &&
	expect_code 0 $LOOPGATE run --dir mk --goal "write check.sh" --gate "./check.sh" \
		--agent-cmd "printf \"#!/bin/sh\\nexit 0\\n\" >check.sh && chmod +x check.sh" --json >mk.json 2>mk.err &&
	test "$(summary_field mk.json status)" = converged &&
	# python -m of a module that is not there: maybe the goal, so a warning
	# and the run goes on
	expect_code 1 $LOOPGATE run --dir mk --goal "write lgmod" --gate "python3 -m lg_no_such_mod" \
		--agent-cmd true --max-iterations 1 --json >pm.json 2>pm.err &&
	grep -q "warning: gate 1: Python has no module lg_no_such_mod" pm.err &&
	test "$(summary_field pm.json iterations)" = 1
'

test_done
