#!/bin/bash
# Signals on blocked ctl and data calls: a connect that waits for a host server whose accept
# queue is full gets EINTR from SIGALRM and the attempt carries on (Syn_sent, then
# Established once the server drains its queue); a write blocked on a peer that does not
# read returns the count already taken or EINTR, and the connection stays usable; a read
# blocked on an idle connection gets EINTR and loses nothing.
. "$(dirname "$0")/lib.sh"

netfs_start
free_port port
free_port port2
timeout 90 "$PY" - "$NET" "$port" "$port2" <<'PY' || fail "interrupted calls (see above)"
import ctypes, errno, os, select, signal, socket, sys, threading, time
net, port, port2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
signal.signal(signal.SIGALRM, lambda *a: None)

def state(n):
    return open("%s/tcp/%s/status" % (net, n)).read().split(" ", 1)[0]

def c_write(fd, data):
    """write(2) without Python's EINTR retry: (result, errno)."""
    r = libc.write(fd, data, len(data))
    return r, ctypes.get_errno()

# A host server with backlog 0 and one unaccepted connection: Linux drops further SYNs, so
# slirp's connect toward it (and so ours) waits.
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(0)
filler = socket.socket()
filler.settimeout(5)
filler.connect(("127.0.0.1", port))
fd = os.open(net + "/tcp/clone", os.O_RDWR)
n = os.pread(fd, 32, 0).decode()
signal.setitimer(signal.ITIMER_REAL, 1.0)
t = time.monotonic()
r, e = c_write(fd, b"connect 10.0.2.2!%d" % port)
took = time.monotonic() - t
if r >= 0:
    sys.exit("connect to a server with a full queue returned %d (state %s)" % (r, state(n)))
if e != errno.EINTR:
    sys.exit("connect hit by SIGALRM: %s, want EINTR" % errno.errorcode.get(e, e))
print("connect interrupted after %.2f s, state %s" % (took, state(n)))
if state(n) != "Syn_sent":
    sys.exit("after EINTR the attempt should carry on in Syn_sent, state is %s" % state(n))
ls.accept()[0].close()          # drain: slirp's retried SYN now completes
data = os.open("%s/tcp/%s/data" % (net, n), os.O_RDWR)
p = select.poll()
p.register(data, select.POLLOUT)
deadline = time.monotonic() + 30
while state(n) != "Established":
    if time.monotonic() > deadline:
        sys.exit("the interrupted connect never completed (state %s, err %r)"
                 % (state(n), open("%s/tcp/%s/err" % (net, n)).read()))
    p.poll(200)
peer = ls.accept()[0]
os.write(data, b"after EINTR")
peer.settimeout(10)
got = peer.recv(100)
if got != b"after EINTR":
    sys.exit("data after the interrupted connect: %r" % got)
print("interrupted connect completed and carries data")
for s in (peer, filler, ls):
    s.close()
os.close(data)
os.close(fd)

# A write blocked because the peer reads nothing.
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port2))
ls.listen(1)
fd = os.open(net + "/tcp/clone", os.O_RDWR)
n = os.pread(fd, 32, 0).decode()
os.write(fd, b"connect 10.0.2.2!%d" % port2)
peer = ls.accept()[0]
data = os.open("%s/tcp/%s/data" % (net, n), os.O_RDWR)
chunk = b"z" * (8 << 20)
sent = 0
signal.setitimer(signal.ITIMER_REAL, 1.0)
r, e = c_write(data, chunk)
if r < 0 and e != errno.EINTR:
    sys.exit("write blocked on a stalled peer, hit by SIGALRM: %s, want a count or EINTR"
             % errno.errorcode.get(e, e))
if r == len(chunk):
    sys.exit("an 8 MiB write to a peer that reads nothing completed: nothing ever blocked")
sent = max(r, 0)
print("blocked write interrupted: %s" % ("EINTR" if r < 0 else "%d bytes taken" % r))
# The connection is intact: the peer now reads exactly what was taken, then a marker.
got = []
def drain():
    peer.settimeout(20)
    buf = b""
    while not buf.endswith(b"END"):
        b = peer.recv(1 << 20)
        if not b:
            break
        buf += b
    got.append(buf)
reader = threading.Thread(target=drain)
reader.start()
os.write(data, b"END")
reader.join(30)
total = got[0] if got else b""
if total != b"z" * sent + b"END":
    sys.exit("after the interrupted write the peer got %d bytes (want %d + END)" % (len(total), sent))
print("peer got the %d bytes taken and the marker" % sent)

# A read blocked on an idle connection: SIGALRM -> EINTR, and bytes that come later are
# not lost to the interrupted read.
buf = ctypes.create_string_buffer(64)
signal.setitimer(signal.ITIMER_REAL, 0.5)
r = libc.read(data, buf, 64)
e = ctypes.get_errno()
if r >= 0 or e != errno.EINTR:
    sys.exit("blocked read hit by SIGALRM: %d/%s, want -1/EINTR" % (r, errno.errorcode.get(e, e)))
peer.sendall(b"later")
got = os.read(data, 64)
if got != b"later":
    sys.exit("read after the interrupted read got %r, want b'later'" % got)
print("interrupted read: EINTR, the next read gets the bytes")
PY
wait_no_conversations 10
pass "EINTR on a waiting connect (attempt carries on), a blocked write (count kept), a blocked read (nothing lost)"
