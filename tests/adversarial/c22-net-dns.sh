# CASE: a DNS query (UDP datagram to a 127.0.0.1 "resolver" outside) and a name lookup, network off
adv_repo
adv_listener
adv_attack n.sh <<SH
python3 - <<'PY'
import socket
q = bytes.fromhex("abcd01000001000000000000") + b"\x08loopgate\x07invalid\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
try:
    s.sendto(q, ("127.0.0.1", $UDP_PORT))
    print("SENT")
except OSError as e:
    print("send failed:", e)
PY
echo tried
SH
adv_gate "sh attack/n.sh"
f=$(adv_gate_output)
grep -q tried "$f"
# sendto on a fresh loopback may "succeed" locally: what counts is that
# nothing reached the listener outside
adv_nothing_reached
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
