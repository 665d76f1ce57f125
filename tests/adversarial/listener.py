#!/usr/bin/env python3
"""A TCP and UDP listener on 127.0.0.1 for the adversarial suite: every
accepted connection or received datagram appends a line to the log, so a
case can assert that nothing inside the sandbox reached it.

    listener.py PORTFILE LOG [UNIX...]
                                 writes "TCPPORT UDPPORT" to PORTFILE; also
                                 listens on each UNIX socket: a path, or
                                 @NAME for an abstract socket
"""
import select
import socket
import sys

portfile, log = sys.argv[1], sys.argv[2]
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 0))
t.listen(16)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
socks = [t, u]
names = {}
if len(sys.argv) > 3:
    for arg in sys.argv[3:]:
        addr = "\0" + arg[1:] if arg.startswith("@") else arg
        x = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        x.bind(addr)
        x.listen(16)
        socks.append(x)
        names[x] = "unix " + repr(addr)
with open(portfile + ".tmp", "w") as f:
    f.write("%d %d\n" % (t.getsockname()[1], u.getsockname()[1]))
import os
os.rename(portfile + ".tmp", portfile)
while True:
    r, _, _ = select.select(socks, [], [])
    for s in r:
        with open(log, "a") as f:
            if s is t:
                c, addr = t.accept()
                f.write("tcp connection from %s\n" % (addr,))
                c.close()
            elif s in names:
                c, _ = s.accept()
                f.write("%s connection\n" % names[s])
                c.close()
            else:
                data, addr = u.recvfrom(4096)
                f.write("udp datagram from %s (%d bytes)\n" % (addr, len(data)))
