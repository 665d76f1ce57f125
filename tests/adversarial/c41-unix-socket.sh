# CASE: connecting to host unix sockets (a filesystem socket outside the tree, an abstract one) with network off
# KNOWN HOLE (sandbox, reported 2026-11-24): the abstract socket is out of
# reach (the network namespace), but a filesystem unix socket outside the
# tree is connectable through the read-only root (read-only does not stop
# connect()): docker.sock, D-Bus or an agent socket would be too.  The
# sandbox could mask /run and /var/run and refuse AF_UNIX connects outside
# the tree.  This case fails until it does.
adv_repo
out=$(adv_outside)
name=loopgate-adv-$$
adv_listener "$out/host.sock" "$name"
adv_attack u.sh <<SH
python3 - <<'PY'
import socket
for addr in ("$out/host.sock", "\\0$name"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(addr)
        print("CONNECTED", repr(addr))
    except OSError as e:
        print("refused", repr(addr), e)
PY
echo tried
SH
adv_gate "sh attack/u.sh"
f=$(adv_gate_output)
grep -q tried "$f"
adv_out_lacks "$f" CONNECTED
adv_nothing_reached
adv_event gate_end 'b["output_file"] == "baseline/gate-1.out"'
adv_audited
