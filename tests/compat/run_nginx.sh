#!/bin/bash
# nginx unmodified under netfs-run: a master and two workers (the listener crosses fork;
# accept4 SOCK_NONBLOCK, ioctl FIONBIO, epoll, sendfile) serving static files; curl on the
# host fetches them through the forwarded port, bytes compared; a keep-alive connection
# carries several requests.
. "$(dirname "$0")/lib.sh"
need nginx curl
netfs_start
free_port P
mkdir -p "$WORK/www" "$WORK/tmp"
random_file "$WORK/www/blob" 3000000
random_file "$WORK/www/small" 700
cat >"$WORK/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 2;
user root;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log info;
events { worker_connections 64; }
http {
	access_log $WORK/nginx-access.log;
	client_body_temp_path $WORK/tmp;
	proxy_temp_path $WORK/tmp;
	fastcgi_temp_path $WORK/tmp;
	uwsgi_temp_path $WORK/tmp;
	scgi_temp_path $WORK/tmp;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_timeout 30;
	server {
		listen 0.0.0.0:$P;
		root $WORK/www;
	}
}
CONF

"${NETFS_CMD[@]}" nginx -c "$WORK/nginx.conf" -p "$WORK" >"$WORK/nginx-out.log" 2>&1 &
server=$!
track $server
wait_listening "$P" 15
port_is_netfsd "$P" || fail "host port $P is not netfsd's forward"
uses_netfs $server || fail "the nginx master holds no netfs fd"

for f in small blob small blob; do
	timeout 30 curl -sS --fail -o "$WORK/got" "http://127.0.0.1:$P/$f" 2>"$WORK/curl.log" ||
		fail "curl of $f exited with $?: $(cat "$WORK/curl.log")"
	same_file "$WORK/www/$f" "$WORK/got" "nginx inside -> curl on host ($f)"
done
# one keep-alive connection, three requests
timeout 30 curl -sS --fail -o "$WORK/k1" "http://127.0.0.1:$P/blob" -o "$WORK/k2" \
	"http://127.0.0.1:$P/small" -o "$WORK/k3" "http://127.0.0.1:$P/blob" 2>"$WORK/curl.log" ||
	fail "keep-alive curl exited with $?: $(cat "$WORK/curl.log")"
same_file "$WORK/www/blob" "$WORK/k1" "keep-alive request 1"
same_file "$WORK/www/small" "$WORK/k2" "keep-alive request 2"
same_file "$WORK/www/blob" "$WORK/k3" "keep-alive request 3"
timeout 10 curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/missing" >"$WORK/code" 2>/dev/null
[ "$(cat "$WORK/code")" = 404 ] || fail "a missing file answered $(cat "$WORK/code"), not 404"
alive $server || fail "nginx died"
pass "nginx (master + 2 workers) inside served 4 files + 3 on one keep-alive connection to curl on the host, identical; 404 for a missing file"
