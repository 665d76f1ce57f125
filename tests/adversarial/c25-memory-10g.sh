# CASE: a 10 GB allocation in a gate is refused or killed (memory limit)
# NEEDS-SANDBOX
adv_repo
printf 'policy:\n  limits:\n    memory_mb: 256\n' >repo/loopgate.yaml
git -C repo add loopgate.yaml && git -C repo commit -qm policy
adv_attack mem.sh <<'SH'
python3 -c 'b = bytearray(10 << 30); print("ALLOCATED", len(b))'
SH
adv_gate "sh attack/mem.sh"
adv_out_lacks "$(adv_gate_output)" ALLOCATED
adv_event gate_end 'b["iteration"] == 0 and not b["passed"]'
adv_audited
