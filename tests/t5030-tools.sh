#!/bin/sh
# The model actor with function calling (issue 12, docs/design/tools.md):
# within one iteration the model reads a file it was not shown, searches,
# runs a command and sees its raw output, edits, and ends its turn; loopgate's
# own gate round then judges the tree.  Both wire formats, streamed and
# whole; every call governed (bad JSON, unknown tool, policy, protected
# files, the turn cap) and recorded; the budget holds across tool turns.
. "$(dirname "$0")/lib.sh"

# tool_script FILE: a fake-server script from a python list of entries (stdin)
tool_script() {
	python3 -c "import json,sys; print(json.dumps({'replies': eval(sys.stdin.read())}))" >"$1"
}

# The session of the first cases: look, run the test, fix, check, finish.
cat >"$TRASH/session.py" <<'PY'
[{"content": "Let me look.", "tool_calls": [
    {"id": "c1", "name": "list_files", "arguments": {}},
    {"id": "c2", "name": "read_file", "arguments": {"path": "calc.py"}}]},
 {"content": "", "tool_calls": [
    {"id": "c3", "name": "search", "arguments": {"pattern": "return a [-+] b"}},
    {"id": "c4", "name": "run", "arguments": {"command": "sh test.sh"}}]},
 {"content": "", "tool_calls": [
    {"id": "c5", "name": "edit", "arguments": {"path": "calc.py", "search": "return a - b", "replace": "return a + b"}}]},
 {"content": "", "tool_calls": [{"id": "c6", "name": "run_gates", "arguments": {}}]},
 {"content": "Fixed: add() now adds."}]
PY

# session_ok LOG API: the requests the fake server saw carry each tool's
# result back, in the wire's own shape
session_ok() {
	python3 - "$1" "$2" <<-\PY
	import json, sys
	reqs = [json.loads(l)["body"] for l in open(sys.argv[1])]
	api = sys.argv[2]
	assert len(reqs) == 5, len(reqs)
	assert all(r["tools"] for r in reqs), "tools offered"
	names = [t["function"]["name"] if api == "openai" else t["name"] for t in reqs[0]["tools"]]
	assert names == ["read_file", "list_files", "search", "edit", "write_file", "run", "load_skill", "run_gates"], names
	def results(r):
	    out = {}
	    for m in r["messages"]:
	        if api == "openai" and m["role"] == "tool":
	            out[m["tool_call_id"]] = m["content"]
	        if api == "anthropic" and m["role"] == "user" and isinstance(m["content"], list):
	            for b in m["content"]:
	                if b.get("type") == "tool_result":
	                    out[b["tool_use_id"]] = b["content"]
	    return out
	res = results(reqs[4])
	assert "calc.py" in res["c1"] and "test.sh" in res["c1"], res["c1"]
	assert "2:     return a - b" in res["c2"], res["c2"]       # a file it was not shown, numbered
	assert "calc.py:2:     return a - b" in res["c3"], res["c3"]
	assert "exit 1" in res["c4"] and "add(2, 3) returned -1, expected 5" in res["c4"], res["c4"]
	assert res["c5"] == "applied: calc.py, the text at line 2 replaced", res["c5"]
	assert "gate 1 `sh test.sh`: exit 0" in res["c6"], res["c6"]
	# the assistant turns went back as the wire wants them
	last = reqs[4]["messages"]
	if api == "openai":
	    calls = [m for m in last if m["role"] == "assistant"]
	    assert calls[0]["tool_calls"][1]["function"]["name"] == "read_file", calls[0]
	    assert json.loads(calls[2]["tool_calls"][0]["function"]["arguments"])["path"] == "calc.py"
	else:
	    uses = [b for m in last if m["role"] == "assistant" for b in m["content"] if b["type"] == "tool_use"]
	    assert [u["name"] for u in uses] == ["list_files", "read_file", "search", "run", "edit", "run_gates"], uses
	    assert uses[4]["input"]["search"] == "return a - b", uses[4]
	PY
}

for mode in "openai stream" "openai whole" "anthropic stream" "anthropic whole"; do
	set -- $mode
	api=$1 how=$2
	flag=
	[ "$how" = whole ] && flag=--no-stream
	test_expect_success "$api, $how: the model reads, searches, runs, edits through tools and converges" "
		make_repo r-$api-$how &&
		tool_script s-$api-$how.json <\"\$TRASH/session.py\" &&
		url=\$(start_fake f-$api-$how s-$api-$how.json) &&
		expect_code 0 \$LOOPGATE run --dir r-$api-$how --goal 'make add() add' --gate 'sh test.sh' \
			--model $api/m --base-url \"\$url\" $flag --json >sum.json 2>err &&
		test \"\$(summary_field sum.json status)\" = converged &&
		test \"\$(summary_field sum.json iterations)\" = 1 &&
		session_ok \"\$TRASH/f-$api-$how.log\" $api &&
		rd=\$(summary_field sum.json run_dir) &&
		event_bodies \"\$rd\" tool_call >calls.json &&
		json_get calls.json '[(c[\"tool\"], c[\"ok\"]) for c in d]' >cv &&
		test \"\$(cat cv)\" = \"[('list_files', True), ('read_file', True), ('search', True), ('run', False), ('edit', True), ('run_gates', True)]\" &&
		test -f \"\$rd/iter-001/tools.json\"
	"
done

test_expect_success 'bad calls get precise results, on the record: invalid JSON, unknown tool, policy, protected file, paths out of the tree' '
	make_repo g &&
	cat >g/loopgate.yaml <<-YAML &&
	policy:
	  tools:
	    deny: ["run:*rm *"]
	YAML
	git -C g add loopgate.yaml && git -C g commit -qm policy &&
	tool_script g.json <<-\PY &&
	[{"content": "", "tool_calls": [
	    {"id": "b1", "name": "read_file", "arguments": "{\"path\": \"calc.py\""},
	    {"id": "b2", "name": "delete_everything", "arguments": {}},
	    {"id": "b3", "name": "run", "arguments": {"command": "rm -rf ."}},
	    {"id": "b4", "name": "write_file", "arguments": {"path": "test.sh", "content": "exit 0"}},
	    {"id": "b5", "name": "read_file", "arguments": {"path": "../../etc/passwd"}},
	    {"id": "b6", "name": "edit", "arguments": {"path": "calc.py", "search": "no such text", "replace": "x"}}]},
	 {"content": "calc.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n"}]
	PY
	url=$(start_fake g g.json) &&
	expect_code 0 $LOOPGATE run --dir g --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --json >sum.json 2>err &&
	rd=$(summary_field sum.json run_dir) &&
	event_bodies "$rd" tool_call >calls.json &&
	python3 - calls.json <<-\PY
	import json, sys
	c = {x["call"]: x for x in json.load(open(sys.argv[1]))}
	assert "not a JSON object" in c["b1"]["result"] and "call it again with valid JSON" in c["b1"]["result"], c["b1"]
	assert "no tool named \"delete_everything\"" in c["b2"]["result"], c["b2"]
	assert c["b3"]["denied"] and c["b3"]["result"].startswith("denied by rule tools.deny"), c["b3"]
	assert "run:*rm *" in c["b3"]["result"], c["b3"]
	assert c["b4"]["denied"] and "test.sh is protected" in c["b4"]["result"], c["b4"]
	assert not c["b5"]["ok"] and c["b5"]["result"].startswith("refused:"), c["b5"]
	assert not c["b6"]["ok"] and "the search text is not in calc.py" in c["b6"]["result"], c["b6"]
	assert all(not x["ok"] for x in c.values())
	PY
	# nothing the refused calls asked for happened
	test -f g/.loopgate/runs/*/tree/calc.py && grep -q "1 passed" g/test.sh
'

test_expect_success 'the tool-turn cap: calls past it are refused and the turn ends' '
	make_repo cap &&
	python3 -c "import json; print(json.dumps({\"replies\": [{\"content\": \"\", \"tool_calls\": [{\"id\": \"k\", \"name\": \"list_files\", \"arguments\": {}}]}], \"repeat_last\": True}))" >cap.json &&
	url=$(start_fake cap cap.json) &&
	expect_code 1 $LOOPGATE run --dir cap --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-tool-turns 3 --max-iterations 1 \
		--json >sum.json 2>err &&
	rd=$(summary_field sum.json run_dir) &&
	event_bodies "$rd" tool_call >calls.json &&
	json_get calls.json "[c[\"ok\"] for c in d]" >oks &&
	test "$(cat oks)" = "[True, True, True, False]" &&
	json_get calls.json "d[3][\"result\"]" | grep -q "tool turns are used up; end your turn" &&
	test "$(req_count cap.log)" = 5
'

test_expect_success 'the budget holds across tool turns: a --max-tokens ceiling stops the next call' '
	make_repo bt &&
	python3 -c "import json; print(json.dumps({\"replies\": [{\"content\": \"\", \"usage\": {\"in\": 900, \"out\": 50}, \"tool_calls\": [{\"id\": \"k\", \"name\": \"read_file\", \"arguments\": {\"path\": \"calc.py\"}}]}], \"repeat_last\": True}))" >bt.json &&
	url=$(start_fake bt bt.json) &&
	expect_code 1 $LOOPGATE run --dir bt --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-tokens 3000 --max-output-tokens 100 \
		--json >sum.json 2>err &&
	test "$(summary_field sum.json status)" = budget_exhausted &&
	used=$(( $(summary_field sum.json tokens_in) + $(summary_field sum.json tokens_out) )) &&
	test "$used" -le 3000 && test "$(req_count bt.log)" -ge 2
'

test_expect_success 'tools auto: a server that refuses tools gets the request again without, and edit blocks work' '
	make_repo au &&
	python3 -c "import json,sys; print(json.dumps({\"replies\": [
		{\"status\": 400, \"error_message\": \"tools are not supported by this model\", \"error_type\": \"invalid_request_error\"},
		{\"content\": sys.argv[1]}]}))" "$REPLY_FIX" >au.json &&
	url=$(start_fake au au.json) &&
	expect_code 0 $LOOPGATE run --dir au --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --json >sum.json 2>err &&
	req_field "$TRASH/au.log" 1 "\"tools\" in b" >t1 && test "$(cat t1)" = True &&
	req_field "$TRASH/au.log" 2 "\"tools\" in b" >t2 && test "$(cat t2)" = False &&
	# --tools off: never offered
	make_repo off && one_reply off "$REPLY_FIX" &&
	url=$(start_fake off off.json) &&
	expect_code 0 $LOOPGATE run --dir off --goal g --gate "sh test.sh" --model openai/m \
		--base-url "$url" --tools off >/dev/null 2>&1 &&
	req_field "$TRASH/off.log" 1 "\"tools\" in b" >t3 && test "$(cat t3)" = False
'

test_done
