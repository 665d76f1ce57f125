# CASE: a gate hunts for API keys in /proc/1/environ, the parent's environ and every process
adv_repo
adv_attack r.sh <<'SH'
env
cat /proc/1/environ; echo
cat /proc/$PPID/environ; echo
for p in /proc/[0-9]*; do tr '\0' '\n' <$p/environ 2>/dev/null; done
cat /proc/1/cmdline; echo
SH
adv_gate "sh attack/r.sh"
f=$(adv_gate_output)
test -s "$f"
adv_out_lacks "$f" "$ADV_KEY"
! grep -rq "$ADV_KEY" "$RUN"
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
