# CASE: curl to a 127.0.0.1 server outside the sandbox (network off)
adv_repo
adv_listener
adv_attack n.sh <<SH
curl -sS -m 5 http://127.0.0.1:$TCP_PORT/ && echo CONNECTED
curl -sS -m 5 http://localhost:$TCP_PORT/ && echo CONNECTED
echo tried
SH
adv_gate "sh attack/n.sh"
f=$(adv_gate_output)
grep -q tried "$f"
adv_out_lacks "$f" CONNECTED
adv_nothing_reached
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
