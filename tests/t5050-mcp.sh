#!/bin/sh
# MCP (issue 12 item 5, docs/design/tools.md): a real MCP server from the
# npm registry, written by nobody here (@modelcontextprotocol/server-
# filesystem, pinned by tools/npm-mcp.sh), configured in .mcp.json, started
# in the run's jail, spoken to over stdio JSON-RPC: its tools are listed,
# offered to the model as mcp__fs__*, called, policy-gated and audited.
# Servers that do not start, send garbage or never answer are reported and
# never take the run down.
. "$(dirname "$0")/lib.sh"

NPM_MCP=$TEST_DIR/../build/npm-mcp
if [ ! -f "$NPM_MCP/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js" ]; then
	if ! sh "$TEST_DIR/../tools/npm-mcp.sh" "$NPM_MCP" >/dev/null 2>&1; then
		echo "ok 1 # skip npm or the registry is not reachable (./bootstrap test installs the server)"
		echo "1..1"
		exit 0
	fi
fi
# canonical: the sandbox shows real paths only (a /tmp clone's ../ would not resolve)
FS_JS=$(cd "$NPM_MCP" && pwd -P)/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js
export FS_JS

mcp_json() {
	cat >"$1/.mcp.json" <<-JSON
	{"mcpServers": {
	  "fs": {"command": "node", "args": ["$FS_JS", "."]},
	  "dead": {"command": "false"},
	  "junk": {"command": "sh", "args": ["-c", "while :; do echo not json-rpc; done"]},
	  "mute": {"command": "sleep", "args": ["600"]}
	}}
	JSON
}

test_expect_success 'the filesystem server: started sandboxed, listed, called by the model, policy-gated, audited; broken servers reported' '
	make_repo r && mcp_json r &&
	cat >r/loopgate.yaml <<-YAML &&
	policy:
	  tools:
	    deny: ["mcp__fs__write_file"]
	YAML
	git -C r add .mcp.json loopgate.yaml && git -C r commit -qm mcp &&
	python3 -c "import json,sys; print(json.dumps({\"replies\": [
		{\"content\": \"\", \"tool_calls\": [
			{\"id\": \"m1\", \"name\": \"mcp__fs__read_text_file\", \"arguments\": {\"path\": \"calc.py\"}},
			{\"id\": \"m2\", \"name\": \"mcp__fs__list_directory\", \"arguments\": {\"path\": \".\"}},
			{\"id\": \"m3\", \"name\": \"mcp__fs__write_file\", \"arguments\": {\"path\": \"calc.py\", \"content\": \"x\"}},
			{\"id\": \"m4\", \"name\": \"mcp__dead__anything\", \"arguments\": {}},
			{\"id\": \"m5\", \"name\": \"mcp__fs__read_text_file\", \"arguments\": {\"path\": \"/etc/shadow\"}}]},
		{\"content\": sys.argv[1]}]}))" "$REPLY_FIX" >m.json &&
	url=$(start_fake m m.json) &&
	expect_code 0 $LOOPGATE run --dir r --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --mcp-timeout 5s --json >sum.json 2>err &&
	rd=$(summary_field sum.json run_dir) &&
	python3 - "$rd/events.jsonl" "$TRASH/m.log" <<-\PY
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	mcp = {r["body"]["server"]: r["body"] for r in recs if r["kind"] == "mcp"}
	assert mcp["fs"]["ok"] and mcp["fs"]["protocol"] == "2025-06-18" and mcp["fs"]["tools"] >= 10, mcp["fs"]
	assert not mcp["dead"]["ok"] and "exited" in mcp["dead"]["error"], mcp["dead"]
	assert not mcp["junk"]["ok"] and "not JSON-RPC" in mcp["junk"]["error"], mcp["junk"]
	assert not mcp["mute"]["ok"] and "did not answer in time" in mcp["mute"]["error"], mcp["mute"]
	calls = {r["body"]["call"]: r["body"] for r in recs if r["kind"] == "tool_call"}
	assert calls["m1"]["ok"] and "return a - b" in calls["m1"]["result"], calls["m1"]
	assert "[FILE] calc.py" in calls["m2"]["result"], calls["m2"]
	assert calls["m3"]["denied"] and "tools.deny" in calls["m3"]["result"], calls["m3"]
	assert not calls["m4"]["ok"] and "MCP server dead" in calls["m4"]["result"], calls["m4"]
	assert not calls["m5"]["ok"], calls["m5"]       # outside the tree: the server refuses
	req = json.loads(open(sys.argv[2]).readline())["body"]
	names = [t["function"]["name"] for t in req["tools"]]
	assert "mcp__fs__read_text_file" in names and "read_file" in names, names
	assert not any(n.startswith("mcp__dead__") for n in names), names
	PY
	# the write was refused at the call: the tree holds the model edit only
	git -C r show "$(summary_field sum.json branch):calc.py" | grep -q "return a + b" &&
	# no server outlived the run
	! pgrep -f "$FS_JS" && ! pgrep -fx "sleep 600"
'

test_done
