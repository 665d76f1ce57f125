# CASE: raw ICMP, raw IPv6 and packet sockets
adv_repo
adv_attack s.sh <<'SH'
python3 - <<'PY'
import socket
tries = {
    "raw icmp": (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
    "raw ip6": (socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6),
    "packet": (socket.AF_PACKET, socket.SOCK_RAW, 0),
}
for name, a in tries.items():
    try:
        socket.socket(*a).close()
        print(name, "OPENED")
    except OSError as e:
        print(name, "refused:", e)
PY
echo done
SH
adv_gate "sh attack/s.sh"
f=$(adv_gate_output)
grep -q done "$f"
grep -q "raw icmp" "$f"
adv_out_lacks "$f" OPENED
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
