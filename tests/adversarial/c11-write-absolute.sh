# CASE: a gate writes outside the tree by absolute path
adv_repo
out=$(adv_outside)
adv_attack w.sh <<SH
echo pwned >$out/abs-marker && echo WROTE-ABS
echo pwned >\$HOME/home-marker && echo WROTE-HOME
SH
adv_gate "sh attack/w.sh"
adv_assert_absent "$out/abs-marker"
adv_assert_absent "$HOME/home-marker"
adv_out_lacks "$(adv_gate_output)" WROTE-
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
