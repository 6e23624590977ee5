#!/bin/bash
# The dial recipe from a shell, against python's http.server on host loopback:
#   exec 3<>clone; read n <&3; echo connect 10.0.2.2!PORT >&3; GET over N/data
# plus: local/remote/status/err while connected, the conversation directory vanishing after
# the last close, and one data fd shared by a blocked reader and a writer.
. "$(dirname "$0")/lib.sh"

netfs_start
free_port port
mkdir "$WORK/www"
make_file "$WORK/www/page.bin" 100000
http_server "$WORK/www" "$port"

exec 3<>"$NET/tcp/clone" || fail "open tcp/clone"
read -r n <&3
expect_match "$n" '^[0-9]+$' "ctl read after clone"
[ -d "$NET/tcp/$n" ] || fail "tcp/$n does not exist after clone"

echo "connect 10.0.2.2!$port" >&3 || fail "connect 10.0.2.2!$port failed"
expect_eq "$(cat "$NET/tcp/$n/remote")" "10.0.2.2!$port" "remote"
expect_match "$(cat "$NET/tcp/$n/local")" '^10\.0\.2\.15![0-9]+$' "local"
lport=$(cut -d'!' -f2 "$NET/tcp/$n/local")
[ "$lport" -gt 0 ] && [ "$lport" -lt 65536 ] || fail "local port $lport out of range"
status=$(cat "$NET/tcp/$n/status")
expect_eq "${status%% *}" "Established" "first word of status while connected"
expect_eq "$(cat "$NET/tcp/$n/err")" "" "err after a good connect"

exec 4<>"$NET/tcp/$n/data" || fail "open tcp/$n/data"
printf 'GET /page.bin HTTP/1.0\r\nHost: x\r\n\r\n' >&4 || fail "write GET to data"
timeout 20 cat <&4 >"$WORK/response" || fail "reading the response did not end with EOF (status $?)"
http_body "$WORK/response" "$WORK/body" || fail "bad HTTP response"
expect_eq "$(sha "$WORK/body")" "$(sha "$WORK/www/page.bin")" "body served vs body received"

exec 3>&- 4>&-
wait_for "[ ! -e '$NET/tcp/$n' ]" 10 || fail "tcp/$n still exists 10 s after the last close"
expect_eq "$(ls "$NET/tcp" | tr '\n' ' ')" "clone stats " "ls tcp after hang-up"

# `cat <&4 & printf ... >&4`: the reader is blocked in read(data) on the same open file
# when the writer writes; the write must go through (the peer answers only after it).
free_port port2
peer_serve "$port2" --out "$WORK/shared-in" --recv-bytes 6 --after-recv --send "$WORK/www/page.bin"
exec 3<>"$NET/tcp/clone"
read -r n <&3
echo "connect 10.0.2.2!$port2" >&3 || fail "connect to the peer"
exec 4<>"$NET/tcp/$n/data"
cat <&4 >"$WORK/shared-out" &
reader=$!
track $reader
wait_blocked $reader
printf hello! >&4 &     # in the background: a writer stuck behind the reader is unkillable
writer=$!
track $writer
wait_exit $writer 10 || fail "a write on a data fd shared with a blocked reader did not complete"
expect_eq "$WAIT_STATUS" 0 "writer exit status"
wait_exit $reader 20 || fail "the reader saw no EOF"
expect_eq "$WAIT_STATUS" 0 "reader exit status"
expect_eq "$(sha "$WORK/shared-out")" "$(sha "$WORK/www/page.bin")" "bytes read through the shared fd"
wait_exit "$PEER_PID" 10 || fail "the peer did not finish"
expect_eq "$WAIT_STATUS" 0 "peer exit status ($(cat "$WORK/peer-$port2.log"))"
expect_eq "$(cat "$WORK/shared-in")" "hello!" "bytes written through the shared fd"
exec 3>&- 4>&-
wait_no_conversations 10

pass "dial + GET of 100000 bytes byte-exact, local/remote/status/err, shared fd, hang-up"
