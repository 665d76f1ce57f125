#!/bin/sh
# loopgate once: one sandboxed, budgeted, audited actor turn for a task
# with no gate, its diff on a run branch; a loop without a gate is still
# refused.
. "$(dirname "$0")/lib.sh"

test_expect_success 'a loop without a gate is refused, and points at once' '
	make_repo r &&
	expect_code 2 $LOOPGATE run --dir r --goal g --agent-cmd true 2>err &&
	grep -q "no gate" err && grep -q "loopgate once" err
'

# The once run that cases 2-4 look at, made once (lib.sh use_setup).
once_run() {
	make_repo o &&
	expect_code 0 $LOOPGATE once --dir o --goal "write a README" \
		--agent-cmd "printf \"# calc\\n\" >README.md; (echo escaped >$TRASH/escaped) 2>/dev/null; true" \
		>out 2>err
}

test_expect_success 'once with a command actor: exit 0, the diff printed and on the branch' '
	use_setup once once_run &&
	grep -q "^+# calc" out && grep -q "README.md" out &&
	grep -q "loopgate: completed:" err &&
	b=$(sed -n "s/.*the result is on branch //p" err) &&
	git -C o show "$b":README.md | grep -q "^# calc" &&
	test "$(git -C o rev-parse HEAD)" = "$(git -C o rev-parse "$b~1")" &&
	! test -f README.md && ! test -f o/README.md
'

test_expect_success 'it was sandboxed: nothing outside the tree was written' '
	use_setup once once_run &&
	! test -e "$(shared_setup once once_run)/escaped"
'

test_expect_success 'the run directory: signed log, summary, diff.patch' '
	use_setup once once_run &&
	d=$(ls -d o/.loopgate/runs/*) && id=$(basename "$d") &&
	test -s "$d/diff.patch" && grep -q "^+# calc" "$d/diff.patch" &&
	events_ok "$d" &&
	events_kinds "$d" >kinds &&
	for k in run_start sandbox iteration_start actor_start actor_end commit diff run_end; do
		grep -qx "$k" kinds || { echo "no $k event" >&2; exit 1; }
	done &&
	! grep -qx gate_start kinds && ! grep -qx baseline kinds &&
	expect_code 0 $LOOPGATE audit verify "$id" --dir o >/dev/null &&
	test "$(json_get "$d/summary.json" "d[\"status\"]")" = completed &&
	test "$(json_get "$d/summary.json" "d[\"mode\"]")" = once
'

test_expect_success 'once with a model: its edit applied, --json on stdout only' '
	make_repo m &&
	url=$(start_fake m "$(script_file m.json <<-EOF
	$(replies_json "$REPLY_FIX")
	EOF
	)") &&
	expect_code 0 $LOOPGATE once --dir m --goal "fix add" --model openai/gpt-4o-mini \
		--base-url "$url" --json >m.json 2>err &&
	test "$(summary_field m.json status)" = completed &&
	test "$(summary_field m.json iterations)" = 1 &&
	test "$(req_count m.log)" = 1 &&
	grep -q "+    return a + b" "$(summary_field m.json run_dir)/diff.patch"
'

test_expect_success 'gates are refused on the command line, ignored from loopgate.yaml' '
	make_repo g &&
	expect_code 2 $LOOPGATE once --dir g --goal g --gate "sh test.sh" --agent-cmd true 2>err &&
	grep -q "loopgate once runs no gate" err &&
	printf "gates:\n  - sh test.sh\n" >g/loopgate.yaml &&
	git -C g add loopgate.yaml && git -C g commit -qm cfg &&
	expect_code 0 $LOOPGATE once --dir g --goal g --agent-cmd "echo n >notes.txt" \
		--json >g.json 2>err &&
	! grep -q gate_start "$(summary_field g.json run_dir)/events.jsonl"
'

test_expect_success 'a failed turn is exit 1, actor_failed, its change still shown' '
	make_repo f &&
	expect_code 1 $LOOPGATE once --dir f --goal g \
		--agent-cmd "echo half >half.txt; echo boom; exit 4" >out 2>err &&
	grep -q "actor_failed" err && grep -q "exit 4" err &&
	grep -q "^+half" out &&
	grep -q "boom" "$(ls -d f/.loopgate/runs/*)/handoff.md"
'

test_expect_success 'the budget holds: a call that cannot fit is not made' '
	make_repo bu &&
	url=$(start_fake bu "$(script_file bu.json <<-EOF
	$(replies_json "$REPLY_FIX")
	EOF
	)") &&
	expect_code 1 $LOOPGATE once --dir bu --goal "fix add" --model openai/gpt-4o-mini \
		--base-url "$url" --max-tokens 10 --json >bu.json 2>err &&
	test "$(summary_field bu.json status)" = budget_exhausted &&
	test "$(req_count bu.log)" = 0
'

test_done
