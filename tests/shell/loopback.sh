#!/bin/bash
# Inside the namespace: announce PORT, then dial 127.0.0.1!PORT and 10.0.2.15!PORT from
# another conversation (delivered inside the stack, not through slirp); data both ways,
# addresses of both ends agree.
. "$(dirname "$0")/lib.sh"

netfs_start
free_port port
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "announce $port" >&3 || fail "announce $port"

serve_one() {   # serve_one TAG: accept, record addresses, read 5 bytes, answer "pong"
	exec 4<>"$NET/tcp/$n/listen" || exit 10
	read -r m <&4
	cat "$NET/tcp/$m/local" >"$WORK/$1-m-local"
	cat "$NET/tcp/$m/remote" >"$WORK/$1-m-remote"
	head -c 5 "$NET/tcp/$m/data" >"$WORK/$1-got" || exit 11
	echo pong >"$NET/tcp/$m/data" || exit 12
	wait_for "[ -e '$WORK/$1-release' ]" 30
}

for dst in 127.0.0.1 10.0.2.15; do
	serve_one "$dst" &
	server=$!
	track $server
	wait_blocked $server
	exec 5<>"$NET/tcp/clone"
	read -r c <&5
	echo "connect $dst!$port" >&5 || fail "connect $dst!$port"
	expect_eq "$(cat "$NET/tcp/$c/remote")" "$dst!$port" "remote of the dialler ($dst)"
	clocal=$(cat "$NET/tcp/$c/local")
	expect_match "$clocal" "^$dst![0-9]+\$" "local of the dialler ($dst)"
	exec 6<>"$NET/tcp/$c/data"
	printf 'ping!' >&6 || fail "write ping to $dst"
	reply=$(timeout 10 head -c 5 <&6) || fail "no reply over $dst (status $?)"
	expect_eq "$reply" "pong" "reply over $dst"
	expect_eq "$(cat "$WORK/$dst-got")" "ping!" "bytes received by the server over $dst"
	expect_eq "$(cat "$WORK/$dst-m-local")" "$dst!$port" "local of the accepted call ($dst)"
	expect_eq "$(cat "$WORK/$dst-m-remote")" "$clocal" "remote of the accepted call ($dst)"
	touch "$WORK/$dst-release"
	wait_exit $server 10 || fail "server for $dst did not finish"
	expect_eq "$WAIT_STATUS" 0 "server exit status ($dst)"
	exec 5>&- 6>&-
done
exec 3>&-
wait_no_conversations 10

pass "namespace-internal connections to 127.0.0.1 and 10.0.2.15, data both ways"
