#!/bin/bash
# socat unmodified under netfs-run as a relay: it listens inside the namespace (forked child
# per connection) and dials the host's 127.0.0.1 as 10.0.2.2.  A host client sends a file
# through it to a host sink and gets an echo back; bytes compared.
. "$(dirname "$0")/lib.sh"
need socat
netfs_start
free_port RELAY
free_port SINK
random_file "$WORK/payload" 500000

# host side: an echo server on 127.0.0.1:SINK
socat TCP4-LISTEN:"$SINK",bind=127.0.0.1,reuseaddr,fork EXEC:cat >"$WORK/echo.log" 2>&1 &
track $!
wait_listening "$SINK"
"${NETFS_CMD[@]}" socat TCP4-LISTEN:"$RELAY",reuseaddr,fork TCP4:10.0.2.2:"$SINK" \
	>"$WORK/relay.log" 2>&1 &
relay=$!
track $relay
wait_listening "$RELAY"
port_is_netfsd "$RELAY" || fail "host port $RELAY is not netfsd's forward"
uses_netfs $relay || fail "the relay holds no netfs fd"
for i in 1 2; do
	# after its stdin ends the client half-closes and waits (-t) for the rest of the echo
	timeout 40 socat -t 30 STDIO TCP4:127.0.0.1:"$RELAY" <"$WORK/payload" \
		>"$WORK/echoed" 2>"$WORK/client.log" || fail "client $i exited with $?"
	same_file "$WORK/payload" "$WORK/echoed" "host -> socat relay inside -> host echo -> back ($i)"
done
pass "500000 bytes through the socat relay inside and back, twice (one forked relay child each), identical"
