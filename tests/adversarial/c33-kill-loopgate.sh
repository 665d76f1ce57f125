# CASE: a gate kills everything it can see (kill -9 -1, its parent, every loopgate pid): the run goes on
# NEEDS-SANDBOX
adv_repo
adv_attack k.sh <<'SH'
for p in $(pgrep -x loopgate); do kill -9 $p && echo "KILLED loopgate $p"; done
kill -9 $PPID && echo "KILLED parent $PPID"
kill -9 -1
echo survived
SH
adv_gate "sh attack/k.sh"
test "$CODE" -eq 1 || { cat run.err >&2; false; }
adv_event run_end 'b["status"] == "budget_exhausted"'
adv_out_lacks "$(adv_gate_output)" "KILLED loopgate"
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
