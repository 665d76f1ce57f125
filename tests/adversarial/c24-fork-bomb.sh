# CASE: a fork bomb in a gate is contained and the run goes on
# NEEDS-SANDBOX
adv_repo
printf 'policy:\n  limits:\n    processes: 64\n' >repo/loopgate.yaml
git -C repo add loopgate.yaml && git -C repo commit -qm policy
adv_attack bomb.sh <<'SH'
b() { b | b & }
b
sleep 30
SH
adv_gate "sh attack/bomb.sh" --gate-timeout 8s
test "$CODE" -eq 1
adv_event gate_end 'b["iteration"] == 0 and not b["passed"]'
adv_event run_end
test -z "$(pgrep -f 'attack/bomb.sh' || true)"
adv_audited
