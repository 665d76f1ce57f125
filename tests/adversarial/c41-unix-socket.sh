# CASE: connecting to host unix sockets (under /var/tmp, under /srv, an abstract one) with network off
# The abstract socket is out of reach (the network namespace); every
# pathname socket bound at run start (the kernel's /proc/net/unix, plus a
# walk of /run, /var/run, /var/tmp and HOME) is masked, since a read-only
# mount does not stop connect().  A socket bound after the run started is
# not masked: the listener here exists before the run, as a daemon's would.
adv_repo
out=$(adv_outside)
srv=$(mktemp -d /srv/loopgate-adv.XXXXXX)
trap 'rm -rf "$srv"; cleanup' EXIT
name=loopgate-adv-$$
adv_listener "$out/host.sock" "$srv/host.sock" "@$name"
adv_attack u.sh <<SH
python3 - <<'PY'
import socket
for addr in ("$out/host.sock", "$srv/host.sock", "\\0$name"):
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
