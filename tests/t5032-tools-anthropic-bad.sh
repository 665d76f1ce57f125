#!/bin/sh
# Bad tool calls over the Anthropic wire, streamed (docs/design/tools.md):
# input_json_delta pieces that do not make a JSON object, an unknown tool
# and a denied one each get a precise tool_result block marked is_error,
# and a tool_call record, and an edit whose search text is missing or
# ambiguous is told where, as an edit block would be; the model then ends
# its turn with edit blocks.
. "$(dirname "$0")/lib.sh"

test_expect_success 'anthropic, streamed: invalid input JSON, unknown tool, denied tool, edits that miss: precise is_error results, recorded' '
	make_repo a &&
	cat >a/loopgate.yaml <<-YAML &&
	policy:
	  tools:
	    deny: ["search"]
	YAML
	git -C a add loopgate.yaml && git -C a commit -qm policy &&
	python3 -c "import json,sys; print(json.dumps({\"replies\": [
		{\"content\": \"\", \"chunk_size\": 3, \"tool_calls\": [
			{\"id\": \"u1\", \"name\": \"read_file\", \"arguments\": \"{\\\"path\\\": [\"},
			{\"id\": \"u2\", \"name\": \"rm_tree\", \"arguments\": {}},
			{\"id\": \"u3\", \"name\": \"search\", \"arguments\": {\"pattern\": \"add\"}},
			{\"id\": \"u4\", \"name\": \"edit\", \"arguments\": {\"path\": \"calc.py\", \"search\": \"def add(a, b):\\n    return a-b\\n\", \"replace\": \"x\"}},
			{\"id\": \"u5\", \"name\": \"edit\", \"arguments\": {\"path\": \"calc.py\", \"search\": \"b\", \"replace\": \"c\"}}]},
		{\"content\": sys.argv[1]}]}))" "$REPLY_FIX" >a.json &&
	url=$(start_fake a a.json) &&
	expect_code 0 $LOOPGATE run --dir a --goal "make add() add" --gate "sh test.sh" \
		--model anthropic/m --base-url "$url" --json >sum.json 2>err &&
	test "$(summary_field sum.json status)" = converged &&
	rd=$(summary_field sum.json run_dir) &&
	event_bodies "$rd" tool_call >calls.json &&
	python3 - calls.json "$TRASH/a.log" <<-\PY
	import json, sys
	c = {x["call"]: x for x in json.load(open(sys.argv[1]))}
	assert sorted(c) == ["u1", "u2", "u3", "u4", "u5"], c
	assert c["u1"]["arguments"] == "{\"path\": [", c["u1"]
	assert "the arguments of read_file are not a JSON object" in c["u1"]["result"], c["u1"]
	assert "call it again with valid JSON" in c["u1"]["result"], c["u1"]
	assert "no tool named \"rm_tree\"" in c["u2"]["result"], c["u2"]
	assert c["u3"]["denied"] and c["u3"]["result"] == "denied by rule tools.deny '"'"'search'"'"'", c["u3"]
	# an edit refused as precisely as an edit block: the nearest lines, numbered,
	# and the line that differs; or where the several matches are
	r4 = c["u4"]["result"]
	assert r4.startswith("not applied: the search text is not in calc.py"), r4
	assert "the most similar lines of the file are 1-2:" in r4 and "2 |     return a - b" in r4, r4
	assert "search line 2 differs from file line 2; the search line is:\n    return a-b" in r4, r4
	assert c["u5"]["result"].startswith("not applied: the search text occurs 2 times in calc.py, at lines 1, 2;"), c["u5"]
	assert all(not x["ok"] for x in c.values())
	reqs = [json.loads(l)["body"] for l in open(sys.argv[2])]
	assert len(reqs) == 2, len(reqs)
	blocks = [b for m in reqs[1]["messages"] if m["role"] == "user" and isinstance(m["content"], list)
	          for b in m["content"] if b.get("type") == "tool_result"]
	assert [b["tool_use_id"] for b in blocks] == ["u1", "u2", "u3", "u4", "u5"], blocks
	assert all(b["is_error"] is True for b in blocks), blocks
	assert blocks[2]["content"] == c["u3"]["result"], blocks[2]
	PY
'

test_done
