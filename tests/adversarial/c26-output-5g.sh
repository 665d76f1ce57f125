# CASE: 5 GB of output from a gate is cut at the limit, with a marker; memory stays bounded
# NEEDS-SANDBOX
adv_repo
printf 'policy:\n  limits:\n    output_bytes: 1048576\n' >repo/loopgate.yaml
git -C repo add loopgate.yaml && git -C repo commit -qm policy
adv_attack out.sh <<'SH'
yes 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' | head -c 5G
SH
adv_gate "sh attack/out.sh" --gate-timeout 60s
f=$(adv_gate_output)
size=$(stat -c %s "$f")
test "$size" -lt 2000000 || { echo "output file is $size bytes" >&2; false; }
grep -q 'output cut' "$f"
adv_event gate_end 'b["iteration"] == 0 and not b["passed"]'
adv_audited
