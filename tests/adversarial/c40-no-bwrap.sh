# CASE: bubblewrap missing: loopgate refuses to run (exit 3, naming --no-sandbox); --no-sandbox runs and is on record
adv_repo
out=$(adv_outside)
printf 'bwrap: /nonexistent/bwrap\n' >repo/loopgate.yaml
git -C repo add loopgate.yaml && git -C repo commit -qm cfg
set +e
"$LOOPGATE" run --dir repo --goal g --gate "touch $out/gate-ran; sh test.sh" --agent-cmd true \
	--max-iterations 1 >refused.out 2>refused.err
code=$?
set -e
test "$code" -eq 3 || { echo "exit $code" >&2; cat refused.err >&2; false; }
grep -q -- --no-sandbox refused.err
adv_assert_absent "$out/gate-ran"
# the refusal is on record too
RUN=$(ls -d "$CASE_DIR"/repo/.loopgate/runs/*/ | head -n 1)
RUN=${RUN%/}
EV=$RUN/events.jsonl
adv_event sandbox
adv_event run_end 'b["status"] == "error"'
adv_audited
refused=$RUN
_adv_run --gate "touch $out/gate-ran; sh test.sh" --agent-cmd true --max-iterations 1 --no-sandbox
test "$RUN" != "$refused"
test -e "$out/gate-ran"
adv_event sandbox 'b["enabled"] is False'
grep -qi "sandbox" "$RUN/handoff.md"
adv_audited
