#!/bin/bash
# Two processes blocked in open(listen) on one announced conversation; two host clients
# connect one after the other; each waiter gets exactly one call, first come first served,
# with distinct conversation numbers, and the data of each call reaches the right one.
. "$(dirname "$0")/lib.sh"
need socat

netfs_start
free_port port
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "announce $port" >&3 || fail "announce $port"

waiter() {    # waiter NAME: accept one call, record its number and the first 2 bytes
	exec 4<>"$NET/tcp/$n/listen" || exit 10
	read -r m <&4
	echo "$m" >"$WORK/m-$1"
	head -c 2 "$NET/tcp/$m/data" >"$WORK/got-$1" || exit 11
	echo done >"$WORK/done-$1"
	wait_for "[ -e '$WORK/release' ]" 30   # keep the call until both are checked
}
waiter a &
wa=$!
track $wa
wait_blocked $wa        # a waits first, so it is owed the first call
waiter b &
wb=$!
track $wb
wait_blocked $wb

printf c1 | socat -u STDIN "TCP:127.0.0.1:$port" &
track $!
wait_for "[ -e '$WORK/done-a' ] || [ -e '$WORK/done-b' ]" 10 || fail "no waiter got the first call"
printf c2 | socat -u STDIN "TCP:127.0.0.1:$port" &
track $!
wait_for "[ -e '$WORK/done-a' ] && [ -e '$WORK/done-b' ]" 10 ||
	fail "only one waiter got a call: a=$(cat "$WORK/m-a" 2>/dev/null) b=$(cat "$WORK/m-b" 2>/dev/null)"
ma=$(cat "$WORK/m-a")
mb=$(cat "$WORK/m-b")
expect_match "$ma" '^[0-9]+$' "waiter a"
expect_match "$mb" '^[0-9]+$' "waiter b"
[ "$ma" != "$mb" ] || fail "both waiters got conversation $ma"
[ "$ma" != "$n" ] && [ "$mb" != "$n" ] || fail "a waiter got the announcer's number"
expect_eq "$(cat "$WORK/got-a")" "c1" "the first call goes to the first waiter (FIFO)"
expect_eq "$(cat "$WORK/got-b")" "c2" "the second call goes to the second waiter"
[ -d "$NET/tcp/$ma" ] && [ -d "$NET/tcp/$mb" ] || fail "accepted conversations not listed"

touch "$WORK/release"
wait_exit $wa 10 && wait_exit $wb 10 || fail "waiters did not finish"
exec 3>&-
wait_no_conversations 10

pass "two blocked listeners got one call each: $ma and $mb"
