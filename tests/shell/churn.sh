#!/bin/bash
# Connection churn: 3000 dial/close cycles in a row to one host server (the server closes
# first, as HTTP/1.0 servers do), then 3000 the other way round; every connect must
# succeed and nothing may be left behind.  A failure names the local port and when that
# port was last used: a port reused while slirp still holds the old connection in
# TIME_WAIT is refused by slirp unless the stack avoids such reuse (as Linux does).
. "$(dirname "$0")/lib.sh"

netfs_start
free_port port
timeout 240 "$PY" - "$NET" "$port" <<'PY' || fail "connection churn (see above)"
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
pass "6000 dial/close cycles to one host server, none refused"
