#!/bin/bash
# Connection churn: 3000 dial/close cycles in a row to one host server (the server closes
# first, as HTTP/1.0 servers do), then 3000 the other way round, then 4000 host clients
# accepted on one announced port; every connect and exchange must succeed and nothing may
# be left behind.  A failure names the local port and when that
# port was last used: a port reused while slirp still holds the old connection in
# TIME_WAIT is refused by slirp unless the stack avoids such reuse (as Linux does).
. "$(dirname "$0")/lib.sh"

netfs_start
free_port port
problems=""
timeout 240 "$PY" - "$NET" "$port" <<'PY' || problems+="dial churn failed; "
import os, socket, sys, time
net, port = sys.argv[1], int(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(128)
ls.settimeout(10)
last_use = {}
failures = []
for order in ("server closes first", "client closes first"):
    for i in range(3000):
        fd = os.open(net + "/tcp/clone", os.O_RDWR)
        n = os.pread(fd, 32, 0).decode()
        try:
            os.write(fd, b"connect 10.0.2.2!%d" % port)
            peer, _ = ls.accept()
            if order == "server closes first":
                peer.close()
        except OSError as e:
            peer = None
            lport = int(open("%s/tcp/%s/local" % (net, n)).read().split("!")[1])
            prev = last_use.get(lport)
            failures.append("%s, cycle %d: %s; local port %d %s" % (
                order, i, e, lport, "last used %.2f s before" % (time.monotonic() - prev)
                if prev else "not used before in this run"))
        lport = int(open("%s/tcp/%s/local" % (net, n)).read().split("!")[1])
        last_use[lport] = time.monotonic()
        os.close(fd)
        if peer and order == "client closes first":
            peer.close()
if failures:
    print("\n".join(failures[:10]))
    sys.exit("%d of 6000 connects failed" % len(failures))
PY
wait_no_conversations 10

# The other direction: 2000 + 2000 host clients, each accepted, one exchange, closed.
free_port port
timeout 240 "$PY" - "$NET" "$port" <<'PY' || problems+="accept churn failed; "
import os, socket, sys
net, port = sys.argv[1], int(sys.argv[2])
a = os.open(net + "/tcp/clone", os.O_RDWR)
an = os.pread(a, 32, 0).decode()
os.write(a, b"announce %d" % port)
failures = []
for order in ("host closes first", "namespace closes first"):
    for i in range(2000):
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            c.settimeout(10)
            c.sendall(b"hi")
            m = os.open("%s/tcp/%s/listen" % (net, an), os.O_RDWR)
            d = os.open("%s/tcp/%s/data" % (net, os.pread(m, 32, 0).decode()), os.O_RDWR)
            got = os.read(d, 2)
            os.write(d, b"yo")
            reply = c.recv(2)
            if (got, reply) != (b"hi", b"yo"):
                failures.append("%s, cycle %d: got %r, reply %r" % (order, i, got, reply))
            if order == "host closes first":
                c.close()
            os.close(d)
            os.close(m)
            c.close()
        except OSError as e:
            failures.append("%s, cycle %d: %s" % (order, i, e))
os.close(a)
if failures:
    print("\n".join(failures[:10]))
    sys.exit("%d of 4000 accepted calls failed" % len(failures))
PY
wait_no_conversations 10
[ -z "$problems" ] || fail "$problems(see above)"
pass "6000 dial/close cycles to one host server and 4000 accepted calls, none failed"
