#!/usr/bin/env python3
"""File semantics of /net/tcp that need exact errnos, poll or a host peer that misbehaves.

  semantics.py NET PORT...     (NET: the mount; PORTs: free host ports, at least 8)

Each check prints one line; the exit status is the number of failed checks (capped).  Host
peers are plain sockets on 127.0.0.1; 10.0.2.2 inside the namespace reaches them.
"""
import errno
import os
import select
import socket
import struct
import sys
import time
import traceback

NET = sys.argv[1]
PORTS = [int(p) for p in sys.argv[2:]]
failures = []


def path(n, f):
    return "%s/tcp/%s/%s" % (NET, n, f)


def text(n, f):
    with open(path(n, f)) as fh:
        return fh.read()


def ename(e):
    return errno.errorcode.get(e, str(e))


def check(ok, what):
    print("%s %s" % ("ok  " if ok else "FAIL", what), flush=True)
    if not ok:
        failures.append(what)


def expect_errno(want, what, fn, *args):
    try:
        r = fn(*args)
    except OSError as e:
        check(e.errno == want, "%s: %s (want %s)" % (what, ename(e.errno), ename(want)))
        return
    check(False, "%s: returned %r (want %s)" % (what, r, ename(want)))


def clone():
    fd = os.open(NET + "/tcp/clone", os.O_RDWR)
    return fd, os.pread(fd, 32, 0).decode()


def ctl(fd, cmd):
    return os.write(fd, cmd.encode())


def host_listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    s.settimeout(10)
    return s


def dial(port):
    """A conversation connected to a fresh host listener: (ctl fd, n, host side socket)."""
    ls = host_listener(port)
    fd, n = clone()
    ctl(fd, "connect 10.0.2.2!%d" % port)
    peer, _ = ls.accept()
    ls.close()
    peer.settimeout(10)
    return fd, n, peer


def wait_until(cond, secs=10):
    deadline = time.monotonic() + secs
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def readable(fd, secs):
    p = select.poll()
    p.register(fd, select.POLLIN)
    return p.poll(secs * 1000)


def state(n):
    return text(n, "status").split(" ", 1)[0].strip()


# --- connect / announce in the wrong state ---------------------------------------------------
def test_in_use():
    fd, n, peer = dial(PORTS[0])
    expect_errno(errno.EISCONN, "second connect on a connected conversation",
                 ctl, fd, "connect 10.0.2.2!%d" % PORTS[0])
    expect_errno(errno.EISCONN, "announce on a connected conversation", ctl, fd, "announce %d" % PORTS[1])
    check("in use" in text(n, "err"), "err after EISCONN: %r" % text(n, "err"))
    check(state(n) == "Established", "still Established after the refused commands")
    peer.close()
    os.close(fd)

    a, an = clone()
    ctl(a, "announce %d" % PORTS[1])
    expect_errno(errno.EISCONN, "connect on an announced conversation", ctl, a, "connect 10.0.2.2!%d" % PORTS[0])
    b, bn = clone()
    expect_errno(errno.EADDRINUSE, "announce of a port already announced", ctl, b, "announce %d" % PORTS[1])
    check("address in use" in text(bn, "err"), "err after EADDRINUSE: %r" % text(bn, "err"))
    os.close(b)
    os.close(a)

    # A host program already owns the port: the host forward cannot be made.
    hs = host_listener(PORTS[2])
    c, cn = clone()
    expect_errno(errno.EADDRINUSE, "announce of a port a host program listens on", ctl, c, "announce %d" % PORTS[2])
    os.close(c)
    hs.close()


# --- the peer ends the connection ------------------------------------------------------------
def test_peer_fin():
    fd, n, peer = dial(PORTS[3])
    peer.sendall(b"last words")
    peer.shutdown(socket.SHUT_WR)
    d = os.open(path(n, "data"), os.O_RDWR)
    got = b""
    while True:
        chunk = os.read(d, 100)
        if not chunk:
            break
        got += chunk
    check(got == b"last words", "data before the peer's FIN: %r" % got)
    check(os.read(d, 100) == b"" and os.read(d, 100) == b"", "EOF again on every read after FIN")
    check(wait_until(lambda: state(n) == "Close_wait"), "Close_wait after the peer's FIN (%s)" % state(n))
    check(bool(readable(d, 1)), "poll: POLLIN at EOF")
    # Half-closed: we can still send, the peer still reads.
    check(os.write(d, b"reply") == 5, "write after the peer's FIN")
    check(peer.recv(100) == b"reply", "peer receives our data after its FIN")
    os.close(d)
    os.close(fd)
    check(peer.recv(100) == b"", "peer sees our FIN after the last close")
    peer.close()


def test_peer_reset():
    fd, n, peer = dial(PORTS[4])
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()        # RST
    d = os.open(path(n, "data"), os.O_RDWR)
    check(wait_until(lambda: readable(d, 0) != []), "poll: data readable after a reset")
    expect_errno(errno.ECONNRESET, "read after the peer's reset", os.read, d, 100)
    expect_errno(errno.EPIPE, "write after the peer's reset", os.write, d, b"x")
    os.close(d)
    os.close(fd)


# --- our side ends the connection ------------------------------------------------------------
def loop_pair(port):
    """Two connected conversations inside the namespace (127.0.0.1, no slirp in between: a
    host peer cannot see our resets, slirp turns them into a plain close of its socket).
    Returns (dialler ctl, dialler n, accepted ctl, accepted n)."""
    a, an = clone()
    ctl(a, "announce 127.0.0.1!%d" % port)
    c, cn = clone()
    ctl(c, "connect 127.0.0.1!%d" % port)
    m = os.open(path(an, "listen"), os.O_RDWR)
    mn = os.pread(m, 32, 0).decode()
    os.close(a)
    return c, cn, m, mn


def test_hangup():
    c, cn, m, mn = loop_pair(PORTS[5])
    md = os.open(path(mn, "data"), os.O_RDWR)
    ctl(c, "hangup")
    check(wait_until(lambda: readable(md, 0) != []), "the other end becomes readable after hangup")
    expect_errno(errno.ECONNRESET, "read at the other end after hangup", os.read, md, 100)
    d = os.open(path(cn, "data"), os.O_RDWR)
    try:
        os.write(d, b"x")
        check(False, "write after hangup succeeded")
    except OSError as e:
        check(e.errno in (errno.EPIPE, errno.ECONNRESET), "write after hangup: %s" % ename(e.errno))
    check(os.path.isdir("%s/tcp/%s" % (NET, cn)), "conversation stays until its last close")
    for f in (d, c, md, m):
        os.close(f)


def test_close_and_shutdown():
    fd, n, peer = dial(PORTS[6])
    d = os.open(path(n, "data"), os.O_RDWR)
    ctl(fd, "shutdown wr")
    check(peer.recv(100) == b"", "peer sees EOF after shutdown wr")
    expect_errno(errno.EPIPE, "write after shutdown wr", os.write, d, b"x")
    peer.sendall(b"still open")
    check(os.read(d, 100) == b"still open", "read still works after shutdown wr")
    peer.close()
    os.close(d)
    os.close(fd)

    fd, n, peer = dial(PORTS[6])
    d = os.open(path(n, "data"), os.O_RDWR)
    ctl(fd, "close")
    check(peer.recv(100) == b"", "peer sees FIN after the close command")
    expect_errno(errno.EPIPE, "write after the close command", os.write, d, b"x")
    peer.close()
    os.close(d)
    os.close(fd)


def test_unread_data_resets():
    c, cn, m, mn = loop_pair(PORTS[7])
    d = os.open(path(cn, "data"), os.O_RDWR)
    os.write(d, b"never read")
    md = os.open(path(mn, "data"), os.O_RDWR)
    check(wait_until(lambda: readable(md, 0) != []), "data arrives")
    os.close(md)
    os.close(m)            # last close of the receiver with 10 unread bytes
    check(wait_until(lambda: readable(d, 0) != []), "the sender becomes readable")
    expect_errno(errno.ECONNRESET, "read at the sender after the receiver closed with unread data (as Linux)",
                 os.read, d, 100)
    os.close(d)
    os.close(c)


def test_close_delivers_queued_data():
    """The last close sends what is still queued, then FIN (the peer reads only afterwards)."""
    fd, n, peer = dial(PORTS[4])
    d = os.open(path(n, "data"), os.O_RDWR | os.O_NONBLOCK)
    queued = bytearray()
    block = os.urandom(1 << 16)
    while len(queued) < (64 << 20):
        try:
            w = os.write(d, block)
        except BlockingIOError:
            break
        queued += block[:w]
    check(len(queued) > 0, "a peer that does not read still lets %d bytes be queued" % len(queued))
    os.close(d)
    os.close(fd)
    got = bytearray()
    peer.settimeout(20)
    try:
        while True:
            b = peer.recv(1 << 20)
            if not b:
                break
            got += b
    except OSError as e:
        check(False, "peer reading after our close: %s after %d bytes" % (e, len(got)))
    check(got == queued, "queued data delivered after the last close: %d of %d bytes, then EOF"
          % (len(got), len(queued)))
    peer.close()


def test_lifetime():
    """ctl, data, err keep a conversation; local, remote, status do not."""
    fd, n = clone()
    st = os.open(path(n, "status"), os.O_RDONLY)
    os.close(fd)
    check(wait_until(lambda: not os.path.exists("%s/tcp/%s" % (NET, n))),
          "an open status file does not keep conversation %s" % n)
    os.close(st)
    for keeper in ("err", "data"):
        fd, n = clone()
        k = os.open(path(n, keeper), os.O_RDONLY)
        os.close(fd)
        time.sleep(0.2)     # give a wrong release the time to happen (nothing to wait for)
        check(os.path.isdir("%s/tcp/%s" % (NET, n)), "an open %s keeps conversation %s" % (keeper, n))
        os.close(k)
        check(wait_until(lambda: not os.path.exists("%s/tcp/%s" % (NET, n))),
              "conversation %s gone once its %s is closed" % (n, keeper))


# --- data file -------------------------------------------------------------------------------
def test_data_file():
    fd, n, peer = dial(PORTS[0])
    d = os.open(path(n, "data"), os.O_RDWR | os.O_NONBLOCK)
    expect_errno(errno.EAGAIN, "O_NONBLOCK read with nothing buffered", os.read, d, 10)
    expect_errno(errno.ESPIPE, "lseek on data", os.lseek, d, 0, os.SEEK_SET)
    check(readable(d, 0) == [], "poll: no POLLIN with nothing buffered")
    peer.sendall(b"wake")
    check(bool(readable(d, 10)), "poll: POLLIN when data arrives")
    check(os.read(d, 10) == b"wake", "the data that woke poll")
    p = select.poll()
    p.register(d, select.POLLOUT)
    check(bool(p.poll(1000)), "poll: POLLOUT on an idle connection")
    peek = os.open(path(n, "peek"), os.O_RDONLY) if os.path.exists(path(n, "peek")) else None
    if peek is not None:
        peer.sendall(b"twice")
        check(wait_until(lambda: readable(d, 0) != []), "data arrives for peek")
        check(os.read(peek, 10) == b"twice", "peek returns the buffered bytes")
        check(os.read(d, 10) == b"twice", "data returns them again after peek")
        os.close(peek)
        peek = os.open(path(n, "peek"), os.O_RDWR | os.O_NONBLOCK)
        expect_errno(errno.EAGAIN, "O_NONBLOCK read of peek with nothing buffered", os.read, peek, 10)
        expect_errno(errno.EINVAL, "write to peek", os.write, peek, b"x")
        os.close(peek)
    os.close(d)
    os.close(fd)
    peer.close()

    fd, n = clone()
    d = os.open(path(n, "data"), os.O_RDWR | os.O_NONBLOCK)
    try:
        os.read(d, 10)
        check(False, "read of data on a fresh conversation succeeded")
    except OSError as e:
        check(e.errno in (errno.ENOTCONN, errno.EAGAIN, errno.EINVAL),
              "read of data on a fresh conversation: %s" % ename(e.errno))
    os.close(d)
    os.close(fd)


def test_nonblocking_connect():
    ls = host_listener(PORTS[1])
    fd, n = clone()
    os.set_blocking(fd, False)
    expect_errno(errno.EINPROGRESS, "connect on an O_NONBLOCK ctl", ctl, fd, "connect 10.0.2.2!%d" % PORTS[1])
    d = os.open(path(n, "data"), os.O_RDWR)
    p = select.poll()
    p.register(d, select.POLLOUT)
    ev = p.poll(10000)
    check(bool(ev) and ev[0][1] & select.POLLOUT and not ev[0][1] & select.POLLERR,
          "poll: POLLOUT once the connect completes (%r)" % ev)
    check(state(n) == "Established", "Established after POLLOUT")
    peer, _ = ls.accept()
    peer.close()
    ls.close()
    os.close(d)
    os.close(fd)

    # refused, non-blocking: POLLERR and the text in err
    fd, n = clone()
    os.set_blocking(fd, False)
    expect_errno(errno.EINPROGRESS, "non-blocking connect to a closed port", ctl, fd,
                 "connect 10.0.2.2!%d" % PORTS[1])
    d = os.open(path(n, "data"), os.O_RDWR)
    p = select.poll()
    p.register(d, select.POLLOUT)
    ev = p.poll(10000)
    check(bool(ev) and ev[0][1] & select.POLLERR, "poll: POLLERR when the connect is refused (%r)" % ev)
    check("connection refused" in text(n, "err"), "err after a refused non-blocking connect")
    os.close(d)
    os.close(fd)


def test_listen_poll():
    a, an = clone()
    ctl(a, "announce 0")
    local = text(an, "local").strip()
    port = int(local.split("!")[1])
    check(port != 0, "announce 0 picks a port (local %s)" % local)
    d = os.open(path(an, "data"), os.O_RDONLY | os.O_NONBLOCK)
    check(readable(d, 0) == [], "poll on an announced data: nothing waiting")
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    check(bool(readable(d, 10)), "poll on an announced data: POLLIN when a call waits")
    m = os.open(path(an, "listen"), os.O_RDWR | os.O_NONBLOCK)
    mn = os.pread(m, 32, 0).decode()
    check(mn.isdigit() and mn != an, "the waiting call is accepted (%s)" % mn)
    c.sendall(b"via announce 0")
    md = os.open(path(mn, "data"), os.O_RDWR)
    check(os.read(md, 100) == b"via announce 0", "data over a port picked by announce 0")
    for f in (md, m, d, a):
        os.close(f)
    c.close()


def test_commands():
    """The other ctl commands: a local port for connect, bind, options, clearerr."""
    ls = host_listener(PORTS[2])
    fd, n = clone()
    lport = PORTS[3]
    check(ctl(fd, "connect 10.0.2.2!%d %d\n" % (PORTS[2], lport)) > 0, "connect with a local port")
    check(text(n, "local") == "10.0.2.15!%d\n" % lport, "local after 'connect ... lport': %r" % text(n, "local"))
    peer, _ = ls.accept()
    for cmd in ("nodelay on", "nodelay off", "keepalive 1000", "keepalive", "keepalive 0",
                "ttl 64", "tos 16", "backlog 5"):
        try:
            check(ctl(fd, cmd) == len(cmd), "%r accepted" % cmd)
        except OSError as e:
            check(False, "%r: %s" % (cmd, ename(e.errno)))
    os.close(fd)
    peer.close()

    # (not lport again: the connection just closed may hold it in TIME_WAIT, and a bind
    # then fails with EADDRINUSE as on Linux)
    bport = PORTS[6]
    fd, n = clone()
    ctl(fd, "bind %d" % bport)
    check(text(n, "local").endswith("!%d\n" % bport), "local after bind: %r" % text(n, "local"))
    expect_errno(errno.EINVAL, "bind twice", ctl, fd, "bind %d" % PORTS[7])
    ctl(fd, "connect 10.0.2.2!%d" % PORTS[2])
    check(text(n, "local") == "10.0.2.15!%d\n" % bport, "connect keeps the bound port: %r" % text(n, "local"))
    os.close(fd)
    ls.accept()[0].close()
    ls.close()

    fd, n = clone()
    expect_errno(errno.ECONNREFUSED, "connect to a closed port", ctl, fd, "connect 10.0.2.2!%d" % PORTS[2])
    ctl(fd, "clearerr")
    check(text(n, "err") == "", "err empty after clearerr: %r" % text(n, "err"))
    check("errno" not in text(n, "status") or " errno 0" in text(n, "status"),
          "status errno 0 after clearerr: %r" % text(n, "status"))
    os.close(fd)


# --- the tree --------------------------------------------------------------------------------
def test_tree():
    fds = [clone() for _ in range(3)]
    nums = [n for _, n in fds]
    check(len(set(nums)) == 3, "three clones, three numbers %r" % nums)
    os.close(fds[0][0])
    check(wait_until(lambda: not os.path.exists("%s/tcp/%s" % (NET, nums[0]))), "closed conversation vanishes")
    again = clone()
    check(again[1] == nums[0], "lowest free number reused: %s after freeing %s" % (again[1], nums[0]))
    for fd, _ in fds[1:] + [again]:
        os.close(fd)
    expect_errno(errno.ENOENT, "a conversation that does not exist", os.stat, NET + "/tcp/9999/ctl")
    fd, n = clone()
    expect_errno(errno.ENOENT, "an unknown file in a conversation", os.open, path(n, "bogus"), os.O_RDONLY)
    expect_errno(errno.EACCES, "status opened for writing", os.open, path(n, "status"), os.O_WRONLY)
    expect_errno(errno.EACCES, "stats opened for writing", os.open, NET + "/tcp/stats", os.O_WRONLY)
    os.close(fd)
    many = [clone() for _ in range(200)]
    check(len({n for _, n in many}) == 200, "200 conversations at once, all distinct")
    for fd, _ in many:
        os.close(fd)
    check(wait_until(lambda: sorted(os.listdir(NET + "/tcp")) == ["clone", "stats"]),
          "all 200 gone after their last close")


for t in (test_in_use, test_peer_fin, test_peer_reset, test_hangup, test_close_and_shutdown,
          test_unread_data_resets, test_close_delivers_queued_data, test_lifetime, test_commands,
          test_data_file, test_nonblocking_connect, test_listen_poll,
          test_tree):
    try:
        t()
    except Exception as e:          # an unexpected error is a failed check, not a crash
        where = traceback.extract_tb(e.__traceback__)[-1]
        check(False, "%s raised %s: %s (line %d: %s)" % (t.__name__, type(e).__name__, e,
                                                         where.lineno, where.line))
sys.exit(min(len(failures), 100))
