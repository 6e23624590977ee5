#!/bin/bash
# Many conversations at once through the one-threaded daemon: 16 shell dials fetching
# different files in parallel; 8 host clients sending to one announced port, accepted by a
# shell loop; and `backlog 2` with 6 clients arriving before anyone accepts (the dropped
# handshakes are retried, every call is accepted in the end).
. "$(dirname "$0")/lib.sh"
need socat

netfs_start

# 16 parallel dials
free_port port
mkdir "$WORK/www"
for i in $(seq 16); do make_file "$WORK/www/f$i" $((256 * 1024 + i)); done
http_server "$WORK/www" "$port"
fetch() {    # fetch I: GET /fI over its own conversation
	exec 3<>"$NET/tcp/clone" || exit 10
	read -r n <&3
	echo "connect 10.0.2.2!$port" >&3 || exit 11
	exec 4<>"$NET/tcp/$n/data"
	printf 'GET /f%s HTTP/1.0\r\n\r\n' "$1" >&4 || exit 12
	cat <&4 >"$WORK/resp$1" || exit 13
	http_body "$WORK/resp$1" "$WORK/body$1" || exit 14
}
pids=()
for i in $(seq 16); do
	fetch "$i" &
	pids+=($!)
	track $!
done
for i in $(seq 16); do
	wait_exit "${pids[$((i - 1))]}" 60 || fail "fetch $i did not finish"
	expect_eq "$WAIT_STATUS" 0 "fetch $i status"
	expect_eq "$(sha "$WORK/body$i")" "$(sha "$WORK/www/f$i")" "body of fetch $i"
done
wait_no_conversations 10

# 8 host clients, one announced port, a shell accept loop
free_port port
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "announce $port" >&3 || fail "announce"
{
	for i in $(seq 8); do
		exec 4<>"$NET/tcp/$n/listen" || exit 10
		read -r m <&4
		cat "$NET/tcp/$m/data" >"$WORK/acc-$i" &    # inherits fd 4: keeps M alive
		exec 4>&-
	done
	wait
} &
acceptor=$!
track $acceptor
for i in $(seq 8); do
	make_file "$WORK/send$i" $((128 * 1024 + i))
	socat -u "FILE:$WORK/send$i" "TCP:127.0.0.1:$port" &
	track $!
done
wait_exit $acceptor 60 || fail "the accept loop did not get and finish 8 calls"
expect_eq "$WAIT_STATUS" 0 "accept loop status"
expect_eq "$(for i in $(seq 8); do sha "$WORK/acc-$i"; done | sort | tr '\n' ' ')" \
	"$(for i in $(seq 8); do sha "$WORK/send$i"; done | sort | tr '\n' ' ')" "the 8 streams received"
exec 3>&-
wait_no_conversations 10

# backlog 2, 6 clients before the first accept
free_port port
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "backlog 2" >&3 || fail "backlog 2"
echo "announce $port" >&3 || fail "announce"
callers=()
for i in $(seq 6); do
	printf 'c%s' "$i" | socat -u STDIN "TCP:127.0.0.1:$port" &
	callers+=($!)
	track $!
done
# slirp takes each host connection at once, so the callers finish before any accept: all
# 6 handshakes toward the namespace are then pending on an accept queue of 2.
for pid in "${callers[@]}"; do
	wait_exit "$pid" 10 || fail "a caller did not finish"
done
{
	for i in $(seq 6); do
		exec 4<>"$NET/tcp/$n/listen" || exit 10
		read -r m <&4
		timeout 10 cat "$NET/tcp/$m/data" >"$WORK/bl-$i" || exit 11
		exec 4>&-
	done
} &
acceptor=$!
track $acceptor
wait_exit $acceptor 90 ||
	fail "only $(cat "$WORK"/bl-* 2>/dev/null | wc -c | awk '{print $1/2}') of 6 calls came (backlog 2: dropped handshakes must be retried)"
expect_eq "$WAIT_STATUS" 0 "backlog accept loop status"
got=$(for i in $(seq 6); do cat "$WORK/bl-$i"; echo; done)
expect_eq "$(sort <<<"$got" | tr -d '\n')" "c1c2c3c4c5c6" "data of the 6 calls"
exec 3>&-
wait_no_conversations 10

pass "16 parallel dials, 8 parallel accepted streams, backlog 2 with 6 callers"
