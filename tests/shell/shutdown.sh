#!/bin/bash
# Stopping the daemon while a reader is blocked in read(data) and a listener in
# open(listen): both get ECONNABORTED promptly, the mount goes away, netfsd exits 0, nothing is
# left running.  Then: unmounting an idle mount ends the daemon by itself.
. "$(dirname "$0")/lib.sh"

for sig in TERM INT HUP; do
	netfs_start
	free_port port
	peer_serve "$port" --hold
	exec 3<>"$NET/tcp/clone"
	read -r n <&3
	echo "connect 10.0.2.2!$port" >&3 || fail "connect"
	cat "$NET/tcp/$n/data" >/dev/null 2>"$WORK/reader.err" &
	reader=$!
	track $reader
	free_port lport
	exec 5<>"$NET/tcp/clone"
	read -r a <&5
	echo "announce $lport" >&5 || fail "announce"
	cat "$NET/tcp/$a/listen" >/dev/null 2>"$WORK/listener.err" &
	listener=$!
	track $listener
	wait_blocked $reader
	wait_blocked $listener
	exec 3>&- 5>&-

	pid=$NETFSD_PID
	NETFSD_PID=""
	kill -"$sig" "$pid"
	wait_exit $reader 10 || fail "SIG$sig: reader still blocked 10 s later"
	[ "$WAIT_STATUS" -ne 0 ] || fail "SIG$sig: the blocked reader saw a clean EOF, want an error"
	grep -q "Software caused connection abort" "$WORK/reader.err" ||
		fail "SIG$sig: reader error '$(cat "$WORK/reader.err")', want ECONNABORTED (netfsd(8))"
	wait_exit $listener 10 || fail "SIG$sig: listener still blocked 10 s later"
	[ "$WAIT_STATUS" -ne 0 ] || fail "SIG$sig: the blocked listen open succeeded"
	grep -q "Software caused connection abort" "$WORK/listener.err" ||
		fail "SIG$sig: listener error '$(cat "$WORK/listener.err")', want ECONNABORTED (netfsd(8))"
	wait_exit "$pid" 10 || fail "SIG$sig: netfsd still running 10 s later"
	expect_eq "$WAIT_STATUS" 0 "SIG$sig: netfsd exit status"
	check_daemon_log || exit 1
	wait_for "! mounted" 5 || fail "SIG$sig: $MNT still mounted after netfsd exited"
	wait_exit "$PEER_PID" 10 || fail "SIG$sig: the host peer's connection was never closed"
	wait_for "! port_listening $lport" 5 || fail "SIG$sig: host port $lport still listening"
	rmdir "$MNT"
	MNT=""
done

# umount of an idle mount: the daemon notices and exits 0 by itself.
netfs_start
pid=$NETFSD_PID
NETFSD_PID=""
umount "$MNT" || fail "umount of an idle mount"
wait_exit "$pid" 10 || fail "netfsd still running 10 s after its mount was unmounted"
expect_eq "$WAIT_STATUS" 0 "netfsd exit status after umount"
check_daemon_log || exit 1

pass "SIGTERM/SIGINT/SIGHUP with blocked reader and listener, and umount: ECONNABORTED, clean exit"
