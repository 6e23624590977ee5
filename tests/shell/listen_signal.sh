#!/bin/bash
# A signal ends a blocked open(listen): `timeout -s INT 1 cat listen` returns promptly, a
# C-level open() sees EINTR, and the next listen still gets the call that arrives next.
. "$(dirname "$0")/lib.sh"
need socat

netfs_start
free_port port
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "announce $port" >&3 || fail "announce $port"

start=$(now_ms)
timeout -s INT 1 cat "$NET/tcp/$n/listen" >/dev/null 2>"$WORK/cat.err" &
t=$!
track $t
wait_exit $t 10 || fail "cat listen still blocked 10 s after SIGINT at 1 s"
expect_eq "$WAIT_STATUS" 124 "exit status of timeout -s INT 1 cat listen ($(cat "$WORK/cat.err"))"
log "cat listen interrupted after $(( $(now_ms) - start )) ms"

timeout 20 "$PY" - "$NET/tcp/$n/listen" <<'PY' || fail "EINTR check (see above)"
import ctypes, errno, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
signal.signal(signal.SIGALRM, lambda *a: None)
signal.setitimer(signal.ITIMER_REAL, 0.5)
fd = libc.open(sys.argv[1].encode(), os.O_RDWR)
e = ctypes.get_errno()
if fd >= 0:
    sys.exit("open(listen) returned fd %d without a call" % fd)
if e != errno.EINTR:
    sys.exit("open(listen) hit by SIGALRM: %s, want EINTR" % errno.errorcode.get(e, e))
PY

# Interrupted waiters must not have consumed anything: the next call goes to the next opener.
{
	exec 4<>"$NET/tcp/$n/listen" || exit 10
	read -r m <&4
	echo "$m" >"$WORK/m"
	head -c 3 "$NET/tcp/$m/data" >"$WORK/got" || exit 11
} &
listener=$!
track $listener
wait_blocked $listener
printf abc | socat -u STDIN "TCP:127.0.0.1:$port" &
track $!
wait_exit $listener 10 || fail "the listener after the interrupted ones got no call"
expect_eq "$WAIT_STATUS" 0 "listener exit status"
expect_eq "$(cat "$WORK/got")" "abc" "data of the call"
exec 3>&-
wait_no_conversations 10

pass "SIGINT and SIGALRM end a blocked open(listen) with EINTR; the next listen gets the next call"
