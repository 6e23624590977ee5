#!/bin/bash
# open(listen) errors: a conversation that is not announced -> EINVAL; O_NONBLOCK with an
# empty accept queue -> EAGAIN at once; once a host client is queued, an O_NONBLOCK open
# takes it.  Python, for the exact errno.
. "$(dirname "$0")/lib.sh"

netfs_start
free_port port

timeout 30 "$PY" - "$NET" "$port" <<'PY' || fail "listen errno checks (see above)"
import errno, os, socket, sys, time
net, port = sys.argv[1], int(sys.argv[2])

def clone():
    fd = os.open(net + "/tcp/clone", os.O_RDWR)
    return fd, os.read(fd, 32).decode()

def expect_errno(what, want, fn):
    try:
        fn()
    except OSError as e:
        if e.errno == want:
            return
        sys.exit("%s: %s, want %s" % (what, errno.errorcode.get(e.errno, e.errno),
                                      errno.errorcode[want]))
    sys.exit("%s succeeded, want %s" % (what, errno.errorcode[want]))

idle, n = clone()
t = time.monotonic()
expect_errno("open listen of a conversation never announced", errno.EINVAL,
             lambda: os.open("%s/tcp/%s/listen" % (net, n), os.O_RDWR))
ann, a = clone()
os.write(ann, b"announce %d" % port)
listen = "%s/tcp/%s/listen" % (net, a)
expect_errno("O_NONBLOCK|O_RDWR open of listen, nothing queued", errno.EAGAIN,
             lambda: os.open(listen, os.O_RDWR | os.O_NONBLOCK))
expect_errno("O_NONBLOCK|O_RDONLY open of listen, nothing queued", errno.EAGAIN,
             lambda: os.open(listen, os.O_RDONLY | os.O_NONBLOCK))
if time.monotonic() - t > 5:
    sys.exit("the error returns were not immediate")

client = socket.create_connection(("127.0.0.1", port), timeout=10)
deadline = time.monotonic() + 10
while True:
    try:
        m_fd = os.open(listen, os.O_RDWR | os.O_NONBLOCK)
        break
    except BlockingIOError:
        if time.monotonic() > deadline:
            sys.exit("a connected host client never showed up in the accept queue")
        time.sleep(0.02)
m = os.read(m_fd, 32).decode()
if not m.isdigit() or m in (n, a):
    sys.exit("listen fd read %r" % m)
expect_errno("O_NONBLOCK open of listen after the only call was taken", errno.EAGAIN,
             lambda: os.open(listen, os.O_RDWR | os.O_NONBLOCK))
client.close()
for fd in (m_fd, ann, idle):
    os.close(fd)
PY
wait_no_conversations 10
pass "EINVAL on a non-announced listen, EAGAIN with O_NONBLOCK, a queued call taken by O_NONBLOCK open"
