# CASE: bash /dev/tcp to a 127.0.0.1 port outside the sandbox
adv_repo
adv_listener
adv_attack n.sh <<SH
bash -c 'echo hello >/dev/tcp/127.0.0.1/$TCP_PORT' && echo CONNECTED
echo tried
SH
adv_gate "sh attack/n.sh"
f=$(adv_gate_output)
grep -q tried "$f"
adv_out_lacks "$f" CONNECTED
adv_nothing_reached
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
