#!/bin/bash
# connect to a closed host port: the shell sees "Connection refused", the errno is
# ECONNREFUSED, err says "connection refused", and the daemon serves the next dial.
. "$(dirname "$0")/lib.sh"

netfs_start
free_port closed          # nothing listens there

exec 3<>"$NET/tcp/clone"
read -r n <&3
if { echo "connect 10.0.2.2!$closed" >&3; } 2>"$WORK/sh-err"; then
	fail "connect to closed port $closed succeeded"
fi
grep -q "Connection refused" "$WORK/sh-err" || fail "shell error was: $(cat "$WORK/sh-err")"
expect_eq "$(cat "$NET/tcp/$n/err")" "connection refused" "tcp/$n/err"
exec 3>&-

# The exact errno, and err read through a separate open.
"$PY" - "$NET" "$closed" <<'PY' || fail "errno check (see above)"
import errno, os, sys
net, port = sys.argv[1], sys.argv[2]
ctl = os.open(net + "/tcp/clone", os.O_RDWR)
n = os.read(ctl, 32).decode()
try:
    os.write(ctl, ("connect 10.0.2.2!%s" % port).encode())
    sys.exit("connect succeeded")
except OSError as e:
    if e.errno != errno.ECONNREFUSED:
        sys.exit("connect failed with %s, want ECONNREFUSED" % errno.errorcode.get(e.errno, e.errno))
err = open("%s/tcp/%s/err" % (net, n)).read()
if "connection refused" not in err:
    sys.exit("err = %r" % err)
os.close(ctl)
PY
wait_no_conversations 10

# Still healthy: a good dial right after.
free_port port
mkdir "$WORK/www" && echo "still here" >"$WORK/www/x"
http_server "$WORK/www" "$port"
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "connect 10.0.2.2!$port" >&3 || fail "dial after a refused connect"
exec 4<>"$NET/tcp/$n/data"
printf 'GET /x HTTP/1.0\r\n\r\n' >&4
timeout 20 cat <&4 >"$WORK/resp" || fail "GET after a refused connect"
grep -q "still here" "$WORK/resp" || fail "wrong response: $(head -c 200 "$WORK/resp")"
exec 3>&- 4>&-
wait_no_conversations 10

pass "ECONNREFUSED, 'Connection refused' in the shell, err text, daemon healthy after"
