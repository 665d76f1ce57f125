# CASE: a gate writes in /tmp, then moves the file outside the tree; /tmp does not outlive the gate
adv_repo
rm -f /tmp/loopgate-adv-stage /tmp/loopgate-adv-leftover
out=$(adv_outside)
adv_attack w.sh <<SH
echo pwned >/tmp/loopgate-adv-stage && mv /tmp/loopgate-adv-stage $out/moved-marker && echo MOVED
cp /tmp/loopgate-adv-stage $out/copied-marker 2>/dev/null && echo COPIED
echo pwned >/tmp/loopgate-adv-leftover
SH
adv_gate "sh attack/w.sh"
adv_assert_absent "$out/moved-marker"
adv_assert_absent "$out/copied-marker"
adv_assert_absent /tmp/loopgate-adv-stage
adv_assert_absent /tmp/loopgate-adv-leftover
adv_out_lacks "$(adv_gate_output)" MOVED
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
