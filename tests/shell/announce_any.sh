#!/bin/bash
# Announcing on "any address" in every spelling makes the port reachable from the host
# (0.0.0.0 is INADDR_ANY, as `*` is; libnetfs-compat writes what bind(2) was given), a
# port 0 picked by bind or announce is forwarded under the number `local` reports, and a
# listener on the namespace's own loopback is not forwarded at all.
. "$(dirname "$0")/lib.sh"

netfs_start

# reachable CTLCMD...: on a fresh conversation write each ctl command, then check that a
# host client connecting to 127.0.0.1:<local port> is accepted by N/listen.
reachable() {
	local n port m
	exec 3<>"$NET/tcp/clone"
	read -r n <&3
	for cmd in "$@"; do
		echo "$cmd" >&3 || fail "'$cmd' failed"
	done
	port=$(cut -d'!' -f2 "$NET/tcp/$n/local")
	expect_match "$port" '^[0-9]+$' "local port after '$*'"
	[ "$port" -ne 0 ] || fail "'$*' left local port 0"
	wait_listening "$port" "$NETFSD_PID"
	{ exec 4<>"$NET/tcp/$n/listen" && read -r m <&4; echo "$m" >"$WORK/m"; } &
	local listener=$!
	track $listener
	exec 5<>"/dev/tcp/127.0.0.1/$port" || fail "host connect to 127.0.0.1:$port after '$*'"
	wait_exit $listener 10 || fail "listen did not return a call after '$*'"
	expect_match "$(cat "$WORK/m")" '^[0-9]+$' "listen fd read after '$*'"
	exec 5>&- 3>&-
	wait_no_conversations 10
	wait_for "! port_listening $port" 10 || fail "host port $port still forwarded after '$*' was closed"
}

free_port p1; reachable "announce 0.0.0.0!$p1"
free_port p2; reachable "bind 0.0.0.0!$p2" "announce $p2"
free_port p3; reachable "bind 0.0.0.0!$p3" "announce 0.0.0.0!$p3"
reachable "bind *!0" "announce 0"
reachable "bind 0.0.0.0!0" "announce 0.0.0.0!0"
reachable "announce 0"

# A listener bound to the namespace's loopback is reachable only inside: no host forward.
free_port p4
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "bind 127.0.0.1!$p4" >&3 || fail "bind 127.0.0.1!$p4"
echo "announce $p4" >&3 || fail "announce after bind 127.0.0.1"
expect_eq "$(cat "$NET/tcp/$n/local")" "127.0.0.1!$p4" "local of the loopback listener"
! port_listening "$p4" || fail "a listener on the namespace loopback was forwarded to host port $p4"
exec 3>&-

pass
