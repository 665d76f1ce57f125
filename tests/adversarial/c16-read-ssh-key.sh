# CASE: a gate reads ~/.ssh/id_rsa and ~/.aws/credentials (a fake HOME with fake keys)
adv_repo
out=$(adv_outside)
export HOME=$out/home
mkdir -p "$HOME/.ssh" "$HOME/.aws"
echo "FAKE-PRIVATE-KEY-5f1c9" >"$HOME/.ssh/id_rsa"
echo "aws_secret_access_key = FAKE-AWS-SECRET-77a2" >"$HOME/.aws/credentials"
chmod 600 "$HOME/.ssh/id_rsa"
adv_attack r.sh <<'SH'
cat ~/.ssh/id_rsa ~/.ssh/id_* ~/.aws/credentials
grep -r FAKE- ~ 2>/dev/null
SH
adv_gate "sh attack/r.sh"
f=$(adv_gate_output)
adv_out_lacks "$f" FAKE-PRIVATE-KEY
adv_out_lacks "$f" FAKE-AWS-SECRET
! grep -rq "FAKE-PRIVATE-KEY\|FAKE-AWS-SECRET" "$RUN"
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
