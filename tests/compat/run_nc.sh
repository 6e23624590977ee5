#!/bin/bash
# nc(1) unmodified under netfs-run, both ways, bytes compared in both directions:
#  1. `nc -l` inside the namespace, nc on the host dials its forwarded port;
#  2. nc on the host listens, nc inside dials 10.0.2.2 (the host's loopback).
# Both sides send a file and half-close (-N), so shutdown(2) is exercised too.
. "$(dirname "$0")/lib.sh"
need nc
netfs_start
free_port P1
free_port P2
random_file "$WORK/to_inner" 300000
random_file "$WORK/to_host" 200000

# 1: server inside
"${NETFS_CMD[@]}" nc -4 -N -l "$P1" <"$WORK/to_host" >"$WORK/inner_got" 2>"$WORK/nc-inner.log" &
inner=$!
track $inner
wait_listening "$P1"
port_is_netfsd "$P1" || fail "host port $P1 is not netfsd's forward"
uses_netfs $inner || fail "the inner nc holds no netfs fd"
timeout 30 nc -4 -N 127.0.0.1 "$P1" <"$WORK/to_inner" >"$WORK/host_got" 2>"$WORK/nc-host.log" ||
	fail "host nc failed (status $?)"
wait_for "! alive $inner" 20 || fail "inner nc -l did not finish"
wait $inner || fail "inner nc -l exited with $?"
same_file "$WORK/to_inner" "$WORK/inner_got" "host -> nc -l inside"
same_file "$WORK/to_host" "$WORK/host_got" "nc -l inside -> host"

# 2: server on the host, client inside
nc -4 -N -l 127.0.0.1 "$P2" <"$WORK/to_inner" >"$WORK/host_got2" 2>"$WORK/nc-host2.log" &
host=$!
track $host
wait_listening "$P2"
before=$(awk '/^ActiveOpens:/ { print $2 }' "$MNT/tcp/stats")
timeout 30 "${NETFS_CMD[@]}" nc -4 -N 10.0.2.2 "$P2" \
	<"$WORK/to_host" >"$WORK/inner_got2" 2>"$WORK/nc-inner2.log" || fail "inner nc failed (status $?)"
after=$(awk '/^ActiveOpens:/ { print $2 }' "$MNT/tcp/stats")
[ "$after" -gt "$before" ] || fail "the stack saw no active open ($before -> $after): the inner nc did not dial through netfs"
wait_for "! alive $host" 20 || fail "host nc -l did not finish"
same_file "$WORK/to_host" "$WORK/host_got2" "nc inside -> host"
same_file "$WORK/to_inner" "$WORK/inner_got2" "host -> nc inside"
pass "nc -l inside <-> nc on host, and nc inside -> nc -l on host: 300000 + 200000 bytes each way identical"
