# CASE: with network: [127.0.0.1:9] only, reach another 127.0.0.1 port past the proxy (direct, CONNECT, userinfo, numeric host, Host header)
adv_repo
adv_listener
printf 'policy:\n  network: ["127.0.0.1:9"]\n' >repo/loopgate.yaml
git -C repo add loopgate.yaml
git -C repo commit -qm "allow-list"
adv_attack n.sh <<SH
t=$TCP_PORT
curl -sSf -m 5 http://127.0.0.1:\$t/ && echo CONNECTED
curl -sSf -m 5 --noproxy '*' http://127.0.0.1:\$t/ && echo CONNECTED
curl -sSf -m 5 -p http://127.0.0.1:\$t/ && echo CONNECTED
curl -sSf -m 5 "http://127.0.0.1:9@127.0.0.1:\$t/" && echo CONNECTED
curl -sSf -m 5 http://2130706433:\$t/ && echo CONNECTED
python3 - "\$t" "\${http_proxy#http://127.0.0.1:}" <<'PY'
import socket, sys
t, p = sys.argv[1], int(sys.argv[2])
for req in ("CONNECT 127.0.0.1:%s HTTP/1.1\r\n\r\n" % t,
            "CONNECT 2130706433:%s HTTP/1.1\r\n\r\n" % t,
            "CONNECT 127.0.0.1:9@127.0.0.1:%s HTTP/1.1\r\n\r\n" % t,
            "GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n" % t,
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n" % t):
    s = socket.create_connection(("127.0.0.1", p), 5)
    s.sendall(req.encode())
    print(s.recv(200).split(b"\r\n")[0].decode())
PY
echo tried
SH
adv_gate "sh attack/n.sh"
f=$(adv_gate_output)
grep -q tried "$f"
adv_out_lacks "$f" CONNECTED
grep -q "HTTP/1.1 403 Forbidden" "$f"
grep -q "error: 403" "$f"
adv_nothing_reached
adv_event policy 'b["subject"] == "network" and b["decision"] == "deny" and b["port"] == '"$TCP_PORT"
adv_event policy 'b["subject"] == "network" and b["rule"] == "userinfo in the address"'
adv_event sandbox 'b["network"] == "hosts"'
adv_audited
