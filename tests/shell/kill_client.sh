#!/bin/bash
# kill -9 a client blocked in read(data), write(data) or open(listen): it dies at once (no D state),
# its conversation disappears, and the announced port can be announced again.
. "$(dirname "$0")/lib.sh"

netfs_start

# killed_gone PID WHAT: the process must be gone within 5 s, never stuck in D.
killed_gone() {
	kill -KILL "$1"
	wait_exit "$1" 5 || fail "$2: process $1 still there 5 s after kill -9 (state $(proc_state "$1"), wchan $(cat /proc/$1/wchan 2>/dev/null))"
	expect_eq "$WAIT_STATUS" 137 "$2: exit status after kill -9"
}

# 1. One process holds ctl and data and is blocked in read(data): the peer sends nothing.
free_port port
peer_serve "$port" --hold
bash -c 'exec 3<>"$1/tcp/clone"; read -r n <&3; echo "$n" >"$2"
	echo "connect 10.0.2.2!$3" >&3 || exit 1; exec cat "$1/tcp/$n/data"' \
	_ "$NET" "$WORK/n1" "$port" &
client=$!
track $client
wait_for "[ -s '$WORK/n1' ]" 10 || fail "client did not start"
wait_blocked $client
killed_gone $client "blocked read(data)"
wait_no_conversations 10
wait_exit "$PEER_PID" 10 || fail "the host peer never saw the connection end"

# 2. Blocked in write(data): the peer never reads, so windows and buffers fill up.
free_port port
peer_serve "$port" --stall
bash -c 'exec 3<>"$1/tcp/clone"; read -r n <&3; echo "$n" >"$2"
	echo "connect 10.0.2.2!$3" >&3 || exit 1; exec cat /dev/zero >"$1/tcp/$n/data"' \
	_ "$NET" "$WORK/n3" "$port" &
client=$!
track $client
wait_for "[ -s '$WORK/n3' ]" 10 || fail "writing client did not start"
wait_blocked $client 30
killed_gone $client "blocked write(data)"
wait_no_conversations 10

# 3. One process holds the announcer and is blocked in open(listen).
free_port port
bash -c 'exec 3<>"$1/tcp/clone"; read -r n <&3; echo "$n" >"$2"
	echo "announce $3" >&3 || exit 1; exec 4<>"$1/tcp/$n/listen"; exit 2' \
	_ "$NET" "$WORK/n2" "$port" &
client=$!
track $client
wait_for "[ -s '$WORK/n2' ]" 10 || fail "announcing client did not start"
wait_blocked $client
killed_gone $client "blocked open(listen)"
wait_no_conversations 10
wait_for "! port_listening $port" 10 || fail "host port $port still forwarded after the announcer died"
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "announce $port" >&3 || fail "announce $port again after the announcer was killed: $(cat "$NET/tcp/$n/err")"
exec 3>&-
wait_no_conversations 10

pass "kill -9 in read(data), write(data) and open(listen): no D state, no conversation left, port free again"
