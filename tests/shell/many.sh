#!/bin/bash
# 1000 conversations established at the same time to one host server: each carries its
# own bytes both ways, tcp/stats counts them in CurrEstab, and all are gone after the last
# close.
. "$(dirname "$0")/lib.sh"

netfs_start
free_port port
timeout 120 "$PY" - "$NET" "$port" <<'PY' || fail "1000 simultaneous conversations (see above)"
import os, resource, socket, sys, time
net, port, count = sys.argv[1], int(sys.argv[2]), 1000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < 4 * count:
    sys.exit("needs %d fds, the hard limit is %d" % (4 * count, hard))
resource.setrlimit(resource.RLIMIT_NOFILE, (4 * count, hard))

def stat(name):
    for line in open(net + "/tcp/stats"):
        k, _, v = line.partition(": ")
        if k == name:
            return int(v)

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(1024)
ls.settimeout(10)
convs, peers = [], []
for i in range(count):
    fd = os.open(net + "/tcp/clone", os.O_RDWR)
    n = os.pread(fd, 32, 0).decode()
    os.write(fd, b"connect 10.0.2.2!%d" % port)
    convs.append((fd, os.open("%s/tcp/%s/data" % (net, n), os.O_RDWR)))
    peers.append(ls.accept()[0])
estab = stat("CurrEstab")
if estab is not None and estab < count:
    sys.exit("CurrEstab %d with %d conversations established" % (estab, count))
for i, (_, d) in enumerate(convs):
    os.write(d, b"q%05d" % i)
for i, p in enumerate(peers):
    p.settimeout(10)
    got = p.recv(6)
    if got != b"q%05d" % i:
        sys.exit("host end %d got %r" % (i, got))
    p.sendall(b"a%05d" % i)
for i, (_, d) in enumerate(convs):
    got = os.read(d, 6)
    if got != b"a%05d" % i:
        sys.exit("conversation %d got %r" % (i, got))
for fd, d in convs:
    os.close(d)
    os.close(fd)
for p in peers:
    p.close()
print("%d conversations, CurrEstab %s" % (count, estab))
PY
wait_no_conversations 20
pass "1000 simultaneous conversations, each with its own bytes both ways"
