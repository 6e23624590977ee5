#!/bin/bash
# 16 MiB each way at the same time over a dialled conversation, byte-exact (sha256).
. "$(dirname "$0")/lib.sh"

SIZE=$((16 << 20))
netfs_start
make_file "$WORK/up" $SIZE
make_file "$WORK/down" $SIZE
free_port port
peer_serve "$port" --send "$WORK/down" --out "$WORK/peer-got" --recv-bytes $SIZE

exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "connect 10.0.2.2!$port" >&3 || fail "connect"
start=$(now_ms)
cat "$WORK/up" >"$NET/tcp/$n/data" &
writer=$!
track $writer
cat "$NET/tcp/$n/data" >"$WORK/got" &   # EOF once the peer has both sent and received all
reader=$!
track $reader

wait_exit $writer 240 || fail "writing 16 MiB did not finish in 240 s"
expect_eq "$WAIT_STATUS" 0 "writer exit status"
wait_exit $reader 240 || fail "reading 16 MiB did not finish in 240 s ($(stat -c %s "$WORK/got") bytes so far)"
expect_eq "$WAIT_STATUS" 0 "reader exit status"
ms=$(( $(now_ms) - start ))
wait_exit "$PEER_PID" 10 || fail "peer did not finish"
expect_eq "$WAIT_STATUS" 0 "peer status: $(cat "$WORK/peer-$port.log")"
expect_eq "$(stat -c %s "$WORK/got")" "$SIZE" "bytes received"
expect_eq "$(sha "$WORK/got")" "$(sha "$WORK/down")" "sha256 host -> namespace"
expect_eq "$(sha "$WORK/peer-got")" "$(sha "$WORK/up")" "sha256 namespace -> host"
exec 3>&-
wait_no_conversations 10

pass "16 MiB each way byte-exact over a dialled conversation (${ms} ms, not a benchmark)"
