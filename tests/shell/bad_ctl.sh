#!/bin/bash
# Malformed ctl writes fail with EINVAL, leave a text in err, and the daemon keeps serving.
. "$(dirname "$0")/lib.sh"

netfs_start

timeout 60 "$PY" - "$NET" <<'PY' || fail "malformed ctl commands (see above)"
import errno, os, sys
net = sys.argv[1]
bad = [b"garbage", b"connect", b"connect 1.2.3!80", b"connect 10.0.2.2!99999",
       b"connect 10.0.2.2!-1", b"connect 10.0.2.2!0", b"connect 10.0.2.2!http!x", b"connect 300.0.2.2!80",
       b"connect 10.0.2.2", b"announce x", b"announce 99999", b"backlog -1",
       b"backlog x", b"bind 1.2.3.4.5!80", b"shutdown sideways", b"\n", b" ",
       b"\n\n", b"connect 10.0.2.2!80 x y", b"\x00\xff\xfe", b"connect " + b"9" * 5000,
       b"x" * 100000, b"announce 1!2!3!4"]
problems = []
for cmd in bad:
    fd = os.open(net + "/tcp/clone", os.O_RDWR)
    n = os.read(fd, 32).decode()
    try:
        r = os.write(fd, cmd)
        problems.append("%r: write returned %d, want EINVAL" % (cmd, r))
    except OSError as e:
        if e.errno != errno.EINVAL:
            problems.append("%r: %s, want EINVAL" % (cmd, errno.errorcode.get(e.errno, e.errno)))
    err = open("%s/tcp/%s/err" % (net, n)).read()
    if not err.strip():
        problems.append("%r: err is empty" % cmd)
    status = open("%s/tcp/%s/status" % (net, n)).read()
    if not status.startswith("Closed"):
        problems.append("%r: status afterwards %r, want Closed" % (cmd, status[:40]))
    os.close(fd)
    print("%-28.28r -> err %r" % (cmd, err.strip()))
# Several bad commands on one conversation, then a good one still works on it.
fd = os.open(net + "/tcp/clone", os.O_RDWR)
for cmd in bad[:5]:
    try:
        os.write(fd, cmd)
    except OSError:
        pass
try:
    os.write(fd, b"announce 0")
    n = os.pread(fd, 32, 0).decode()
    local = open("%s/tcp/%s/local" % (net, n)).read()
    if not local.rstrip("\n").split("!")[-1].isdigit() or local.endswith("!0\n"):
        problems.append("announce 0 after bad commands: local %r" % local)
except OSError as e:
    problems.append("announce 0 after bad commands failed: %s" % e)
os.close(fd)
if problems:
    sys.exit("\n".join(problems))
PY
wait_no_conversations 10

# Healthy: a fresh dial works.
free_port port
mkdir "$WORK/www" && echo "served" >"$WORK/www/x"
http_server "$WORK/www" "$port"
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "connect 10.0.2.2!$port" >&3 || fail "dial after malformed commands"
exec 4<>"$NET/tcp/$n/data"
printf 'GET /x HTTP/1.0\r\n\r\n' >&4
timeout 20 cat <&4 >"$WORK/resp" || fail "GET after malformed commands"
grep -q served "$WORK/resp" || fail "wrong response: $(head -c 200 "$WORK/resp")"
exec 3>&- 4>&-
wait_no_conversations 10

pass "malformed ctl commands: EINVAL + err text; the daemon serves the next dial"
