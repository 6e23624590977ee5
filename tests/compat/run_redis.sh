#!/bin/bash
# redis-server unmodified under netfs-run (epoll, accept4 SOCK_NONBLOCK|SOCK_CLOEXEC,
# TCP_NODELAY, keepalive); redis-cli and redis-benchmark on the host through the forwarded
# port.  A 100 kB random value is stored and read back byte for byte; the benchmark's
# INCR and LPUSH effects must count every request exactly once.
. "$(dirname "$0")/lib.sh"
need redis-server redis-cli redis-benchmark
netfs_start
free_port P

# bind 0.0.0.0 only: redis's default also binds ::, which would be a host (kernel) socket
"${NETFS_CMD[@]}" redis-server --port "$P" --bind 0.0.0.0 --protected-mode no \
	--save '' --appendonly no --daemonize no --dir "$WORK" --logfile "$WORK/redis.log" &
server=$!
track $server
wait_listening "$P" 15
port_is_netfsd "$P" || fail "host port $P is not netfsd's forward"
uses_netfs $server || fail "redis-server holds no netfs fd"

cli() { timeout 20 redis-cli -h 127.0.0.1 -p "$P" "$@"; }
[ "$(cli PING)" = PONG ] || fail "PING did not answer PONG"
head -c 75000 /dev/urandom | base64 -w0 >"$WORK/value"
cli -x SET blob <"$WORK/value" | grep -q OK || fail "SET failed"
cli --raw GET blob | head -c "$(stat -c %s "$WORK/value")" >"$WORK/got"
same_file "$WORK/value" "$WORK/got" "redis SET/GET of a 100 kB value"

# -c 2: libslirp's host forward listens with a backlog of 1, so a burst of more
# simultaneous host connections has handshakes dropped by the host kernel and stalls for
# SYN-ACK retransmissions (seconds to a minute; see /work/findings-compat.md).  Pipelining
# (-P 16) keeps the load high over the two connections.
timeout 120 redis-benchmark -h 127.0.0.1 -p "$P" -c 2 -P 16 -n 20000 -t set,get,incr,lpush -q \
	>"$WORK/bench.out" 2>"$WORK/bench.log" || fail "redis-benchmark exited with $?"
tr '\r' '\n' <"$WORK/bench.out" | grep -E 'requests per second' >"$WORK/bench.lines"
[ "$(wc -l <"$WORK/bench.lines")" = 4 ] || fail "redis-benchmark did not finish 4 tests: $(cat "$WORK/bench.out")"
# every request arrived exactly once: 20000 INCRs of one key, 20000 LPUSHes to one list
count=$(cli --raw GET counter:__rand_int__)
[ "$count" = 20000 ] || fail "after 20000 INCRs the counter is '$count'"
count=$(cli --raw LLEN mylist)
[ "$count" = 20000 ] || fail "after 20000 LPUSHes the list holds '$count'"
alive $server || fail "redis-server died"
pass "redis 100 kB value identical; redis-benchmark 4 x 20000 requests (2 connections, pipelined by 16), counter and list exact: $(tr '\n' ' ' <"$WORK/bench.lines")"
