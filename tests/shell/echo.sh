#!/bin/bash
# One O_NONBLOCK data fd driven by poll(2) against a host echo server: writes and reads of
# random sizes (1 byte to 3 MiB) interleaved, 32 MiB through; poll must agree with what
# read and write then do, partial writes must account for every byte, and the echoed
# stream must come back byte-exact.
. "$(dirname "$0")/lib.sh"

netfs_start
free_port port
timeout 240 "$PY" - "$NET" "$port" <<'PY' || fail "non-blocking echo (see above)"
import os, random, select, socket, sys, threading
net, port = sys.argv[1], int(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(1)

def echo():
    c, _ = ls.accept()
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        c.sendall(b)
    c.close()

threading.Thread(target=echo, daemon=True).start()
fd = os.open(net + "/tcp/clone", os.O_RDWR)
n = os.pread(fd, 32, 0).decode()
os.write(fd, b"connect 10.0.2.2!%d" % port)
d = os.open("%s/tcp/%s/data" % (net, n), os.O_RDWR | os.O_NONBLOCK)
rng = random.Random(20)
total = 32 << 20
src = rng.randbytes(total)
sent = got = partial = 0
p = select.poll()
p.register(d, select.POLLIN | select.POLLOUT)
while got < total:
    ev = p.poll(20000)
    if not ev:
        sys.exit("poll: nothing for 20 s, %d sent, %d echoed back" % (sent, got))
    e = ev[0][1]
    if e & (select.POLLERR | select.POLLHUP):
        sys.exit("poll: error/hangup %#x after %d sent, %d back" % (e, sent, got))
    if e & select.POLLOUT and sent < total:
        k = min(rng.choice([1, 7, 1460, 4096, 65535, 65536, 100000, 1 << 20, 3 << 20]), total - sent)
        try:
            w = os.write(d, src[sent:sent + k])
        except BlockingIOError:
            sys.exit("poll said POLLOUT, write(%d) then failed with EAGAIN" % k)
        if w <= 0:
            sys.exit("write(%d) returned %d" % (k, w))
        partial += w < k
        sent += w
        if sent == total:
            p.modify(d, select.POLLIN)
    if e & select.POLLIN:
        try:
            b = os.read(d, rng.choice([1, 10, 4096, 65536, 1 << 20]))
        except BlockingIOError:
            sys.exit("poll said POLLIN, read then failed with EAGAIN")
        if not b:
            sys.exit("EOF after %d of %d bytes" % (got, total))
        if b != src[got:got + len(b)]:
            sys.exit("echoed stream differs at byte %d" % got)
        got += len(b)
print("32 MiB echoed byte-exact; %d partial writes" % partial)
os.close(d)
os.close(fd)
PY
wait_no_conversations 10
pass "O_NONBLOCK + poll, random sizes, 32 MiB echoed byte-exact"
