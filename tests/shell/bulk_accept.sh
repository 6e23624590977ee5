#!/bin/bash
# 16 MiB each way at the same time over an accepted conversation (host client -> announced
# port), byte-exact (sha256).
. "$(dirname "$0")/lib.sh"

SIZE=$((16 << 20))
netfs_start
make_file "$WORK/up" $SIZE
make_file "$WORK/down" $SIZE
free_port port

exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "announce $port" >&3 || fail "announce $port"
wait_listening "$port" "$NETFSD_PID"   # the host forward is netfsd's
{
	exec 4<>"$NET/tcp/$n/listen" || exit 10
	read -r m <&4
	cat "$WORK/up" >"$NET/tcp/$m/data" &
	cat "$NET/tcp/$m/data" >"$WORK/got" || exit 11
	wait $! || exit 12
} &
listener=$!
track $listener
wait_blocked $listener

start=$(now_ms)
"$PY" "$TESTS_DIR/peer.py" connect "$port" --send "$WORK/down" --out "$WORK/peer-got" \
	--recv-bytes $SIZE >"$WORK/peer.log" 2>&1 &
client=$!
track $client
wait_exit $client 240 || fail "the host client did not finish in 240 s"
expect_eq "$WAIT_STATUS" 0 "host client status: $(cat "$WORK/peer.log")"
wait_exit $listener 30 || fail "the listener did not finish ($(stat -c %s "$WORK/got") bytes read)"
expect_eq "$WAIT_STATUS" 0 "listener exit status"
ms=$(( $(now_ms) - start ))
expect_eq "$(stat -c %s "$WORK/got")" "$SIZE" "bytes received in the namespace"
expect_eq "$(sha "$WORK/got")" "$(sha "$WORK/down")" "sha256 host -> namespace"
expect_eq "$(sha "$WORK/peer-got")" "$(sha "$WORK/up")" "sha256 namespace -> host"
exec 3>&-
wait_no_conversations 10

pass "16 MiB each way byte-exact over an accepted conversation (${ms} ms, not a benchmark)"
