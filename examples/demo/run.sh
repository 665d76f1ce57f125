#!/bin/sh
# The offline demo: copies a small Python project with two failing tests into
# build/demo, makes it a git repository, and lets loopgate fix it with the
# replay provider (a recorded transcript: no network, no API key).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${LOOPGATE_BIN:-$root/loopgate}
demo=$root/build/demo
rm -rf "$demo"
mkdir -p "$demo"
cp -R "$root/examples/demo/project/." "$demo/"
(
	cd "$demo"
	git init -q -b main .
	git add -A
	git -c user.name=demo -c user.email=demo@example.com commit -q -m "demo project: two failing tests"
)
cat <<MSG

== loopgate demo ==
Project: $demo (textstats.py; 'python3 -m unittest' fails twice)
Actor:   replay of examples/demo/transcript.jsonl: its first proposal fixes one
         bug and fails the gate; the second is written against the raw failure.

MSG
set +e
"$bin" run --dir "$demo" \
	--goal-file "$root/examples/demo/goal.md" \
	--gate "python3 -m unittest -v" \
	--model "replay:$root/examples/demo/transcript.jsonl" \
	--max-iterations 5 --json >"$root/build/demo-summary.json"
status=$?
set -e
run_dir=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_dir"])' "$root/build/demo-summary.json")
branch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["branch"])' "$root/build/demo-summary.json")
echo
echo "== summary (--json) =="
cat "$root/build/demo-summary.json"
run_id=$(basename "$run_dir")
echo
echo "== the record: loopgate audit verify $run_id =="
"$bin" audit verify "$run_id" --dir "$demo" || status=3
echo
echo "== the run store: loopgate runs; loopgate show $run_id =="
"$bin" runs --dir "$demo" --limit 3 || status=3
"$bin" show "$run_id" --dir "$demo" || status=3
cat <<MSG

== what it left ==
  $run_dir/report.html           the run at a glance: open it in a browser (no network, no script)
  $run_dir/events.jsonl          every step, one JSON line each
  $run_dir/iter-001/prompt.md    what the model saw (goal, gate, raw output)
  $run_dir/iter-001/response.md  what it replied
  $run_dir/iter-002/prompt.md    the second prompt holds the exact traceback
  $run_dir/iter-00N/gate-1.out   full gate output per iteration
  git -C $demo log --oneline $branch
  git -C $demo diff main $branch

Your tree and branch are untouched: 'git -C $demo status' is clean.

== with a real model ==
  export OPENAI_API_KEY=...   loopgate run --model openai/gpt-4o-mini --goal "..." --gate "make test"
  Ollama (local):             loopgate run --model openai/llama3.1 --base-url http://localhost:11434/v1 ...
  Anthropic:                  export ANTHROPIC_API_KEY=...; loopgate run --model anthropic/claude-sonnet-4-5 ...
  An agent CLI:               loopgate run --agent-cmd 'claude -p --permission-mode acceptEdits' ...
See docs/manual.md.
MSG
exit $status
