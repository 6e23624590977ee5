#!/bin/bash
# The serve recipe from a shell: announce PORT, a background listener blocks in
# open(N/listen), a host client (socat) connects to 127.0.0.1:PORT, the listener reads M and
# talks over M/data both ways.
. "$(dirname "$0")/lib.sh"
need socat

netfs_start
free_port port
free_port cport

exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "announce $port" >&3 || fail "announce $port"
status=$(cat "$NET/tcp/$n/status")
expect_eq "${status%% *}" "Listen" "status of the announced conversation"
expect_match "$(cat "$NET/tcp/$n/local")" "^(0\.0\.0\.0|10\.0\.2\.15)!$port\$" "local of the announcer"
expect_eq "$(cat "$NET/tcp/$n/remote")" "0.0.0.0!0" "remote of the announcer"
wait_listening "$port" "$NETFSD_PID"   # the host forward is netfsd's

# The listener: a small shell service, as one would write it.
{
	exec 4<>"$NET/tcp/$n/listen" || exit 10
	read -r m <&4
	echo "$m" >"$WORK/m"
	cat "$NET/tcp/$m/remote" >"$WORK/m-remote"
	cat "$NET/tcp/$m/local" >"$WORK/m-local"
	echo hello >"$NET/tcp/$m/data" || exit 11
	head -c 6 "$NET/tcp/$m/data" >"$WORK/from-client" || exit 12
} &
listener=$!
track $listener
wait_blocked $listener

mkfifo "$WORK/client-in"
socat "TCP:127.0.0.1:$port,sourceport=$cport,reuseaddr" STDIO <"$WORK/client-in" >"$WORK/client-out" 2>"$WORK/socat.log" &
track $!
exec 7>"$WORK/client-in"

wait_for "grep -qx hello '$WORK/client-out'" 10 ||
	fail "the host client did not receive 'hello' (got '$(cat "$WORK/client-out")', listener alive: $(alive $listener && echo yes || echo no))"
m=$(cat "$WORK/m")
expect_match "$m" '^[0-9]+$' "listen fd read"
[ "$m" != "$n" ] || fail "listen returned the announcer's own number $n"
expect_eq "$(cat "$WORK/m-remote")" "10.0.2.2!$cport" "remote of the accepted call"
expect_eq "$(cat "$WORK/m-local")" "10.0.2.15!$port" "local of the accepted call"

echo world >&7
wait_exit $listener 10 || fail "the listener did not receive 6 bytes from the host client"
expect_eq "$WAIT_STATUS" 0 "listener exit status"
expect_eq "$(cat "$WORK/from-client")" "world" "bytes from the host client"
exec 7>&-

# The announcer keeps the port; the call is gone once the listener's fds are closed.
wait_for "[ ! -e '$NET/tcp/$m' ]" 10 || fail "tcp/$m still exists after its last close"
[ -e "$NET/tcp/$n" ] || fail "the announcer tcp/$n vanished while its ctl is open"
exec 3>&-
wait_no_conversations 10
wait_for "! port_listening $port" 10 || fail "host port $port still forwarded after the announcer closed"

pass "announce/listen/accept from a host client, data both ways, remote 10.0.2.2!$cport"
