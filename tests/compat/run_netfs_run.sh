#!/bin/bash
# netfs-run(1) itself: usage errors, a missing mount, -m versus NETFS_ROOT, an existing
# LD_PRELOAD kept behind the library, and the command's exit status passed through.
. "$(dirname "$0")/lib.sh"
netfs_start
run() { env NETFS_COMPAT_LIB="$PRELOAD" sh "$NETFS_RUN" "$@"; }

run >/dev/null 2>&1; [ $? = 2 ] || fail "no command: status is not 2"
run -x true >/dev/null 2>&1; [ $? = 2 ] || fail "unknown option: status is not 2"
out=$(run -m "$WORK/nothing" true 2>&1); st=$?
[ $st = 1 ] || fail "missing mount: status $st, not 1"
case $out in *"$WORK/nothing/tcp/clone not found"*) ;; *) fail "missing mount: says '$out'" ;; esac
out=$(NETFS_COMPAT_LIB=$WORK/none.so sh "$NETFS_RUN" -m "$MNT" true 2>&1); st=$?
[ $st = 127 ] || fail "missing library: status $st, not 127 ($out)"

# -m wins over NETFS_ROOT, and the program sees the chosen root
seen=$(NETFS_ROOT=/nonexistent run -m "$MNT" sh -c 'echo "$NETFS_ROOT"')
[ "$seen" = "$MNT" ] || fail "-m: the program saw NETFS_ROOT=$seen"
seen=$(NETFS_ROOT=$MNT run sh -c 'echo "$NETFS_ROOT"')
[ "$seen" = "$MNT" ] || fail "NETFS_ROOT: the program saw $seen"
seen=$(LD_PRELOAD=libm.so.6 run -m "$MNT" sh -c 'echo "$LD_PRELOAD"')
case $seen in "$PRELOAD:"*libm.so.6) ;; *) fail "LD_PRELOAD became '$seen'" ;; esac
run -m "$MNT" sh -c 'exit 42'; st=$?
[ $st = 42 ] || fail "the command's status 42 came back as $st"
where=$(run -m "$MNT" "$PY" -c 'import socket, os; s = socket.socket(); print(os.readlink("/proc/self/fd/%d" % s.fileno()))')
case $where in "$MNT"/tcp/*/data) ;; *) fail "a socket under -m is $where" ;; esac
pass "usage 2, missing mount 1, missing library 127, -m over NETFS_ROOT, LD_PRELOAD kept, status passed, sockets on the mount"
