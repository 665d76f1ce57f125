#!/bin/sh
# Agent presets (issue 10, items 1-4): each of the five agent CLIs, installed
# from npm at its pinned version (tools/agent-clis.txt), driven end to end
# with only its preset and the sandbox on, against tests/fake/fake_agent_api.py
# speaking its wire format with the tools it edits with: the run converges,
# the spend its own report gives is recorded, nothing it writes outside the
# tree survives the turn.  The same with a CLI installed under /tmp; a hung
# CLI killed at its limit; the configuration errors and the pre-flight.
. "$(dirname "$0")/lib.sh"

NPM_DIR=${LOOPGATE_NPM_DIR:-$TEST_DIR/../build/npm}
# canonical (no "..": a symlink made to it, as the hung-CLI case makes, must
# resolve inside the sandbox, which does not show a clone under /tmp)
mkdir -p "$NPM_DIR" && NPM_DIR=$(cd "$NPM_DIR" && pwd -P)
NPM_BIN=$NPM_DIR/node_modules/.bin
FAKE_AGENT=$TEST_DIR/fake/fake_agent_api.py
PIN_QWEN=$(awk '$1 == "qwen" {print $2 "@" $3}' "$TEST_DIR/../tools/agent-clis.txt")
export NPM_DIR NPM_BIN FAKE_AGENT PIN_QWEN

# (their --version writes state into HOME: not into the one checked below)
mkdir -p "$TRASH/npm-home"
HOME=$TRASH/npm-home sh "$TEST_DIR/../tools/npm-clis.sh" "$NPM_DIR" >"$TRASH/npm.log" 2>&1
npm_rc=$?
if [ $npm_rc = 77 ]; then
	echo "ok 1 # skip npm is not available: the agent CLIs cannot be installed"
	echo "1..1"
	exit 0
fi

# start_agent_fake NAME SCENARIO: the fake API; prints http://127.0.0.1:PORT
start_agent_fake() {
	rm -f "$TRASH/$1.port"
	python3 "$FAKE_AGENT" --scenario "$2" --log "$TRASH/$1.log" \
		--port-file "$TRASH/$1.port" >"$TRASH/$1.stdout" 2>"$TRASH/$1.err" &
	echo $! >"$TRASH/$1.fakepid"
	i=0
	while [ ! -s "$TRASH/$1.port" ]; do
		i=$((i + 1))
		[ $i -gt 500 ] && { cat "$TRASH/$1.err" >&2; return 1; }
		sleep 0.01
	done
	echo "http://127.0.0.1:$(cat "$TRASH/$1.port")"
}

# scenario FILE [EXTRA_JSON_FIELDS]: calc.py's add() fixed by one edit
scenario() {
	cat >"$1" <<EOF
{"file": "calc.py", "old": "return a - b", "new": "return a + b",
 "old_line": "    return a - b", "new_line": "    return a + b",
 "answer": "Fixed add().", "usage": {"in": 1000, "out": 50}${2:-}}
EOF
}

# run_agent NAME MODEL BASE KEYVAR [loopgate args]: one run, summary in out.json
run_agent() {
	name=$1 model=$2 base=$3 keyvar=$4
	shift 4
	env "$keyvar=sk-test-$name-0123456789abcdef" PATH="$NPM_BIN:$PATH" \
		"$LOOPGATE" run --goal "make add() return the sum" --gate "sh test.sh" \
		--agent "$name" --model "$model" --base-url "$base" --max-iterations 2 \
		--json "$@" >out.json 2>err.txt
}

# check_run NAME TOOL: converged, the CLI's reported spend recorded, its edit
# made with its own tool, nothing new in the real HOME, no key in the record
check_run() {
	cat err.txt
	test "$(json_get out.json "d['status']")" = converged
	run_dir=$(json_get out.json "d['run_dir']")
	python3 - "$run_dir/events.jsonl" out.json <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
summary = json.load(open(sys.argv[2]))
ends = [e["body"] for e in ev if e["kind"] == "actor_end"]
assert ends and all(e["usage"]["reported"] for e in ends), ends
# three model turns of 1000 in / 50 out each, as the fake reports them
assert summary["tokens_in"] >= 3000 and summary["tokens_out"] >= 150, summary
assert summary["tokens_in"] == sum(e["usage"]["tokens_in"] for e in ends)
assert summary["tokens_out"] == sum(e["usage"]["tokens_out"] for e in ends)
sb = [e["body"] for e in ev if e["kind"] == "sandbox" and e["body"].get("actor")]
assert sb and sb[0]["enabled"] and sb[0]["home"] == "/tmp/loopgate-home", sb
PY
	grep -q "\"tool\": \"$2\"" "$TRASH/f-$1.log"
	home_list >"$TRASH/home.after"
	cmp "$TRASH/home.before" "$TRASH/home.after"
	! grep -rq "sk-test-$1-0123456789abcdef" "$run_dir"
	git -C "$run_dir/tree" diff HEAD~1 --stat | grep -q calc.py
}

test_expect_success 'the agent CLIs are installed at their pinned versions' '
	cat "$TRASH/npm.log" &&
	test $npm_rc = 0 &&
	while read -r bin pkg ver; do
		case $bin in "#"* | "") continue ;; esac
		HOME=$TRASH/npm-home "$NPM_BIN/$bin" --version | grep -F "$ver" || exit 1
	done <"$TEST_DIR/../tools/agent-clis.txt"
'

# what is under the real HOME, but loopgate's own audit key (made on the
# first run): an agent's state must never land there
home_list() {
	# loopgate's own: its config and key, its cache (bwrap --version)
	find "$HOME" -mindepth 1 | grep -v -e "^$HOME/.config\$" -e "^$HOME/.config/loopgate" \
		-e "^$HOME/.cache\$" -e "^$HOME/.cache/loopgate" | sort
}
home_list >"$TRASH/home.before"

test_expect_success 'claude: converges sandboxed with only its preset; its cost is recorded' '
	make_repo r-claude && cd r-claude &&
	scenario "$TRASH/s-claude.json" &&
	url=$(start_agent_fake f-claude "$TRASH/s-claude.json") &&
	run_agent claude claude-sonnet-4-5 "$url" ANTHROPIC_API_KEY --max-cost 0.5 &&
	check_run claude Edit &&
	test "$(json_get out.json "d[\"cost_usd\"]")" = 0.01125 &&
	grep "\"kind\":\"actor_start\"" "$run_dir/events.jsonl" | grep -q "\"budget_left_usd\":0.5"
'

test_expect_success 'codex: converges; what it writes to its HOME and /tmp does not survive' '
	make_repo r-codex && cd r-codex &&
	scenario "$TRASH/s-codex.json" ", \"shell_extra\": \"echo x >\\\"\$HOME/escape-marker\\\"; echo notify=1 >>\\\"\$HOME/.codex/config.toml\\\"; echo x >/tmp/escape-marker; \"" &&
	url=$(start_agent_fake f-codex "$TRASH/s-codex.json") &&
	run_agent codex gpt-test "$url/v1" OPENAI_API_KEY &&
	check_run codex exec_command &&
	grep -q escape-marker "$TRASH/f-codex.log" &&
	test ! -e "$HOME/.codex" && test ! -e /tmp/escape-marker &&
	test ! -e "$HOME/escape-marker"
'

test_expect_success 'gemini: converges sandboxed with only its preset' '
	make_repo r-gemini && cd r-gemini &&
	scenario "$TRASH/s-gemini.json" &&
	url=$(start_agent_fake f-gemini "$TRASH/s-gemini.json") &&
	run_agent gemini gemini-2.5-flash "$url" GEMINI_API_KEY &&
	check_run gemini replace
'

test_expect_success 'qwen: converges sandboxed with only its preset' '
	make_repo r-qwen && cd r-qwen &&
	scenario "$TRASH/s-qwen.json" &&
	url=$(start_agent_fake f-qwen "$TRASH/s-qwen.json") &&
	run_agent qwen qwen-test "$url/v1" OPENAI_API_KEY &&
	check_run qwen edit
'

test_expect_success 'opencode: converges sandboxed with only its preset' '
	make_repo r-opencode && cd r-opencode &&
	scenario "$TRASH/s-opencode.json" &&
	url=$(start_agent_fake f-opencode "$TRASH/s-opencode.json") &&
	run_agent opencode oc-test "$url/v1" OPENAI_API_KEY &&
	check_run opencode edit
'

# Its PATH entry goes through a directory the sandbox does not show (its
# /tmp is private), as a PATH like /tmp/co/tests/../build/npm/.bin does: the
# program and its install are bound by their canonical paths.
test_expect_success 'a CLI installed under /tmp is found on PATH and runs sandboxed' '
	tmpnpm=$(mktemp -d /tmp/loopgate-npm-XXXXXX) &&
	echo "$tmpnpm" >"$TRASH/tmpnpm" &&
	{ npm install --prefix "$tmpnpm" --cache "$NPM_DIR/cache" --offline \
		--no-audit --no-fund --loglevel=error "$PIN_QWEN" ||
	  { mkdir -p "$tmpnpm/node_modules/.bin" &&
	    cp -a "$NPM_DIR/node_modules/@qwen-code" "$tmpnpm/node_modules/" &&
	    ln -s ../@qwen-code/qwen-code/cli.js "$tmpnpm/node_modules/.bin/qwen"; }; } &&
	mkdir "$tmpnpm/elsewhere" &&
	make_repo r-tmp && cd r-tmp &&
	scenario "$TRASH/s-tmp.json" &&
	url=$(start_agent_fake f-tmp "$TRASH/s-tmp.json") &&
	OPENAI_API_KEY=sk-test-tmp-0123456789abcdef PATH="$tmpnpm/elsewhere/../node_modules/.bin:/usr/local/bin:/usr/bin:/bin" \
		"$LOOPGATE" run --goal "make add() return the sum" --gate "sh test.sh" \
		--agent qwen --model qwen-test --base-url "$url/v1" --max-iterations 2 \
		--json >out.json 2>err.txt &&
	cat err.txt &&
	test "$(json_get out.json "d[\"status\"]")" = converged &&
	grep "\"kind\":\"sandbox\"" "$(json_get out.json "d[\"run_dir\"]")/events.jsonl" |
		grep -q "\"program\":\"$tmpnpm/node_modules/.bin/qwen\"" &&
	rm -rf "$tmpnpm"
'
[ -f "$TRASH/tmpnpm" ] && rm -rf "$(cat "$TRASH/tmpnpm")"

test_expect_success 'a hung CLI is killed at --actor-timeout, its whole process tree with it' '
	make_repo r-hang && cd r-hang &&
	scenario "$TRASH/s-hang.json" ", \"hang\": true" &&
	url=$(start_agent_fake f-hang "$TRASH/s-hang.json") &&
	mkdir -p "$TRASH/bin" && ln -sf "$NPM_BIN/claude" "$TRASH/bin/claude" &&
	start=$(date +%s) &&
	expect_code 1 env ANTHROPIC_API_KEY=sk-test-hang-0123456789abcdef "$LOOPGATE" run \
		--goal "make add() return the sum" --gate "sh test.sh" --agent claude \
		--agent-bin "$TRASH/bin/claude" --base-url "$url" --actor-timeout 3s \
		--max-iterations 1 --json >out.json 2>err.txt &&
	cat err.txt &&
	test $(($(date +%s) - start)) -lt 60 &&
	test "$(json_get out.json "d[\"status\"]")" = budget_exhausted &&
	grep "\"kind\":\"actor_end\"" "$(json_get out.json "d[\"run_dir\"]")/events.jsonl" >end.json &&
	grep -q "\"status\":\"timed_out\"" end.json &&
	grep -q "\"reported\":false" end.json &&
	! pgrep -f "$TRASH/bin/claude"
'

test_expect_success 'a cost ceiling needs a readable cost: tokens-only presets need a price' '
	make_repo r-cost && cd r-cost &&
	expect_code 2 env OPENAI_API_KEY=x PATH="$NPM_BIN:$PATH" "$LOOPGATE" run --goal g \
		--gate "sh test.sh" --agent codex --model gpt-test --max-cost 1 2>err.txt &&
	grep -q "cannot be enforced with --agent codex" err.txt &&
	! test -d .loopgate/runs
'

test_expect_success 'with a price in models:, a tokens-only preset is charged at it' '
	make_repo r-price && cd r-price &&
	printf "models:\n  gpt-test:\n    price_in: 2\n    price_out: 8\n" >loopgate.yaml &&
	git add loopgate.yaml && git commit -q -m cfg &&
	scenario "$TRASH/s-price.json" &&
	url=$(start_agent_fake f-price "$TRASH/s-price.json") &&
	run_agent codex gpt-test "$url/v1" OPENAI_API_KEY --max-cost 1 &&
	cat err.txt &&
	test "$(json_get out.json "d[\"status\"]")" = converged &&
	test "$(json_get out.json "round(d[\"cost_usd\"], 6)")" = 0.0072
'

test_expect_success 'configuration errors say what to do (exit 2)' '
	make_repo r-err && cd r-err &&
	expect_code 2 "$LOOPGATE" run --goal g --gate "sh test.sh" --agent nope 2>e1 &&
	grep -q "unknown agent .nope.: the presets are claude, codex, gemini, qwen, opencode, aider" e1 &&
	expect_code 2 env PATH=/usr/bin:/bin "$LOOPGATE" run --goal g --gate "sh test.sh" --agent claude 2>e2 &&
	grep -q "not on PATH: install it (npm install -g @anthropic-ai/claude-code) or name it with --agent-bin" e2 &&
	expect_code 2 env PATH="$NPM_BIN:$PATH" "$LOOPGATE" run --goal g --gate "sh test.sh" --agent opencode 2>e3 &&
	grep -q "needs --model" e3 &&
	expect_code 2 "$LOOPGATE" run --goal g --gate "sh test.sh" --agent claude --agent-cmd true 2>e4 &&
	grep -q "choose one" e4
'

test_expect_success 'pre-flight: an unset --agent-env, no key, an unreachable host (exit 2, before the baseline)' '
	make_repo r-pre && cd r-pre &&
	unset LOOPGATE_NOT_SET &&
	expect_code 2 env ANTHROPIC_API_KEY=sk-x PATH="$NPM_BIN:$PATH" "$LOOPGATE" run --goal g \
		--gate "sh test.sh" --agent claude --agent-env LOOPGATE_NOT_SET 2>e1 &&
	grep -q "agent-env LOOPGATE_NOT_SET: .LOOPGATE_NOT_SET is not set" e1 &&
	expect_code 2 env PATH="$NPM_BIN:$PATH" "$LOOPGATE" run --goal g --gate "sh test.sh" \
		--agent claude 2>e2 &&
	grep -q "has no credentials: set .ANTHROPIC_API_KEY" e2 &&
	expect_code 2 env ANTHROPIC_API_KEY=sk-x PATH="$NPM_BIN:$PATH" "$LOOPGATE" run --goal g \
		--gate "sh test.sh" --agent claude --base-url http://127.0.0.1:1 --json >out.json 2>e3 &&
	grep -q "cannot be reached through the sandbox.s proxy" e3 &&
	! grep -q "\"kind\":\"baseline\"" "$(json_get out.json "d[\"run_dir\"]")/events.jsonl"
'

test_expect_success 'loopgate agent check: the pre-flight and one trial turn with its spend' '
	scenario "$TRASH/s-check.json" &&
	url=$(start_agent_fake f-check "$TRASH/s-check.json") &&
	ANTHROPIC_API_KEY=sk-x PATH="$NPM_BIN:$PATH" "$LOOPGATE" agent check --agent claude \
		--model claude-sonnet-4-5 --base-url "$url" >out.txt &&
	cat out.txt &&
	grep -q "^ok: it starts inside the sandbox" out.txt &&
	grep -q "^ok: 127.0.0.1:[0-9]* reachable through the sandbox.s proxy" out.txt &&
	grep -q "^ok: trial turn: exit 0 in .*; 3000 in / 150 out tokens, \$0.0112 by its own report" out.txt &&
	expect_code 2 env ANTHROPIC_API_KEY=sk-x PATH="$NPM_BIN:$PATH" "$LOOPGATE" agent check \
		--agent claude --base-url http://127.0.0.1:1 >out2.txt &&
	grep -q "^failed: 127.0.0.1:1, the API host" out2.txt
'

test_expect_success 'loopgate once --agent: one sandboxed turn, its spend recorded' '
	make_repo r-once && cd r-once &&
	scenario "$TRASH/s-once.json" &&
	url=$(start_agent_fake f-once "$TRASH/s-once.json") &&
	ANTHROPIC_API_KEY=sk-x PATH="$NPM_BIN:$PATH" "$LOOPGATE" once --goal "fix add" \
		--agent claude --base-url "$url" --json >out.json 2>err.txt &&
	cat err.txt out.json &&
	test "$(json_get out.json "d[\"tokens_in\"]")" = 3000 &&
	git -C "$(json_get out.json "d[\"run_dir\"]")/tree" log -p -1 | grep -q "^+    return a + b"
'

test_done
