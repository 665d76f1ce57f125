# CASE: a raw TCP connect (nc, or a python socket where nc is absent) with network off
adv_repo
adv_listener
adv_attack n.sh <<SH
if command -v nc >/dev/null; then nc -z -w 3 127.0.0.1 $TCP_PORT && echo CONNECTED; fi
python3 -c 'import socket; socket.create_connection(("127.0.0.1", $TCP_PORT), 3); print("CONNECTED")'
echo tried
SH
adv_gate "sh attack/n.sh"
f=$(adv_gate_output)
grep -q tried "$f"
adv_out_lacks "$f" CONNECTED
adv_nothing_reached
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
