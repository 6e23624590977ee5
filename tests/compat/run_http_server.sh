#!/bin/bash
# python3 -m http.server unmodified under netfs-run (bound to 0.0.0.0, so its port is
# forwarded to the host); curl on the host fetches files from it, bytes compared.
. "$(dirname "$0")/lib.sh"
need curl
netfs_start
free_port P
mkdir "$WORK/www"
random_file "$WORK/www/blob" 2000000
random_file "$WORK/www/small" 1000

"${NETFS_CMD[@]}" "$PY" -m http.server --bind 0.0.0.0 --directory "$WORK/www" "$P" \
	>"$WORK/http.log" 2>&1 &
server=$!
track $server
wait_listening "$P"
port_is_netfsd "$P" || fail "host port $P is not netfsd's forward"
uses_netfs $server || fail "http.server holds no netfs fd"
for f in blob small blob; do
	timeout 30 curl -sS --fail -o "$WORK/got" "http://127.0.0.1:$P/$f" 2>"$WORK/curl.log" ||
		fail "curl of $f exited with $?: $(cat "$WORK/curl.log")"
	same_file "$WORK/www/$f" "$WORK/got" "http.server inside -> curl on host ($f)"
done
alive $server || fail "http.server died"
pass "http.server inside served 2000000 + 1000 + 2000000 bytes to curl on the host, identical"
