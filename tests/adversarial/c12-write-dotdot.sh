# CASE: a gate writes outside the tree through ../ (into the repository and the run directory)
adv_repo
adv_attack w.sh <<'SH'
echo pwned >../../../../dotdot-marker && echo WROTE-REPO
echo pwned >../handoff.md && echo WROTE-RUNDIR
echo pwned >../../../../calc.py && echo WROTE-USER-TREE
SH
adv_gate "sh attack/w.sh"
adv_assert_absent repo/dotdot-marker
adv_out_lacks "$(adv_gate_output)" WROTE-
grep -q 'a - b' repo/calc.py
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
