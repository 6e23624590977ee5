#!/bin/bash
# netfsd options: a bad command line exits 2 without mounting; mtu=1500 still moves 4 MiB
# byte-exact; net= moves the namespace (host alias .2, own address .15); hostfwd_addr= puts
# announced ports on another host address; no_host_loopback cuts .2 off from the host;
# without -f the daemon detaches once mounted.
. "$(dirname "$0")/lib.sh"
need socat

for bad in "-o mtu=100" "-o mtu=70000" "-o net=10.0.2.0/30" "-o net=banana" "-o hostfwd_addr=1.2.3" "--no-such-flag" "-o no_such_option"; do
	dir=$(mktemp -d /tmp/netfs-shell-options-bad.XXXXXX)
	# shellcheck disable=SC2086  # $bad is several words on purpose
	timeout 10 "$NETFSD" -f $bad "$dir" >"$WORK/bad.log" 2>&1
	st=$?
	grep -q " $dir fuse" /proc/self/mounts && { umount -l "$dir"; fail "netfsd $bad mounted $dir"; }
	rmdir "$dir"
	expect_eq "$st" 2 "exit status of netfsd $bad ($(head -c 200 "$WORK/bad.log"))"
done
timeout 10 "$NETFSD" >/dev/null 2>&1
expect_eq "$?" 2 "exit status of netfsd without a mount point"

# mtu=1500: many small frames instead of a few big ones.
netfs_start -o mtu=1500
free_port port
make_file "$WORK/down" $((4 << 20))
make_file "$WORK/up" $((4 << 20))
peer_serve "$port" --send "$WORK/down" --out "$WORK/peer-got" --recv-bytes $((4 << 20))
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "connect 10.0.2.2!$port" >&3 || fail "mtu=1500: connect"
cat "$WORK/up" >"$NET/tcp/$n/data" &
writer=$!
track $writer
timeout 120 cat "$NET/tcp/$n/data" >"$WORK/got" || fail "mtu=1500: reading 4 MiB"
wait_exit $writer 60 || fail "mtu=1500: writer"
wait_exit "$PEER_PID" 10 || fail "mtu=1500: peer"
expect_eq "$WAIT_STATUS" 0 "mtu=1500: peer ($(cat "$WORK/peer-$port.log"))"
expect_eq "$(sha "$WORK/got")" "$(sha "$WORK/down")" "mtu=1500: sha256 host -> namespace"
expect_eq "$(sha "$WORK/peer-got")" "$(sha "$WORK/up")" "mtu=1500: sha256 namespace -> host"
exec 3>&-
netfs_stop || fail "mtu=1500: netfsd did not stop cleanly"
rmdir "$MNT"

# net=10.77.5.0/24 and hostfwd_addr=127.0.0.2
netfs_start -o net=10.77.5.0/24,hostfwd_addr=127.0.0.2
free_port port
mkdir -p "$WORK/www" && echo moved >"$WORK/www/x"
http_server "$WORK/www" "$port"
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "connect 10.77.5.2!$port" >&3 || fail "net=: connect to the host alias 10.77.5.2"
expect_match "$(cat "$NET/tcp/$n/local")" '^10\.77\.5\.15![0-9]+$' "net=: local address"
exec 4<>"$NET/tcp/$n/data"
printf 'GET /x HTTP/1.0\r\n\r\n' >&4
timeout 20 cat <&4 | grep -q moved || fail "net=: GET through 10.77.5.2"
exec 3>&- 4>&-
free_port port
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "announce $port" >&3 || fail "hostfwd_addr=: announce"
{
	exec 4<>"$NET/tcp/$n/listen" || exit 10
	read -r m <&4
	head -c 2 "$NET/tcp/$m/data" >"$WORK/fwd-got"
} &
listener=$!
track $listener
wait_blocked $listener
printf ok | socat -u STDIN "TCP:127.0.0.2:$port" || fail "hostfwd_addr=: no listener on 127.0.0.2:$port"
wait_exit $listener 10 || fail "hostfwd_addr=: the call via 127.0.0.2 never arrived"
expect_eq "$(cat "$WORK/fwd-got")" "ok" "hostfwd_addr=: data via 127.0.0.2"
exec 3>&-
netfs_stop || fail "net=: netfsd did not stop cleanly"
rmdir "$MNT"

# no_host_loopback: 10.0.2.2 no longer reaches the host's 127.0.0.1.
netfs_start -o no_host_loopback
free_port port
http_server "$WORK/www" "$port"
if timeout 30 "$PY" - "$NET" "$port" <<'PY'; then
import os, sys
fd = os.open(sys.argv[1] + "/tcp/clone", os.O_RDWR)
try:
    os.write(fd, b"connect 10.0.2.2!%s" % sys.argv[2].encode())
except OSError as e:
    print("connect failed as it should: %s" % e)
    sys.exit(0)
sys.exit("connect to 10.0.2.2 succeeded with no_host_loopback")
PY
	:
else
	fail "no_host_loopback: a connect to 10.0.2.2 got through, or hung for 30 s"
fi
netfs_stop || fail "no_host_loopback: netfsd did not stop cleanly"
rmdir "$MNT"

# Without -f: the command returns once the tree is mounted, the daemon keeps serving.
MNT=$(mktemp -d /tmp/netfs-shell-options-bg.XXXXXX)
timeout 20 "$NETFSD" "$MNT" >"$WORK/netfsd.log" 2>&1 || fail "netfsd without -f exited with $?"
[ -e "$MNT/tcp/clone" ] || fail "netfsd without -f returned before the tree was mounted"
NET=$MNT
expect_match "$(head -n1 "$NET/tcp/stats")" '^[A-Za-z]+: ' "stats of the detached daemon"
bgpid=$(pgrep -f "^$NETFSD $MNT\$" | head -n1)
[ -n "$bgpid" ] || fail "no detached netfsd process for $MNT"
fusermount3 -u "$MNT" || fail "fusermount3 -u"
wait_for "! alive $bgpid" 10 || fail "detached netfsd still running after the unmount"

pass "bad options exit 2; mtu=1500 4 MiB each way; net=; hostfwd_addr=; no_host_loopback; detaching"
