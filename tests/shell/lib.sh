# tests/shell/lib.sh — sourced by every shell test: a fresh netfsd mount, real peers on host
# loopback, bounded waits, and cleanup that runs even when a test fails half-way.
#
# A test does:   . "$(dirname "$0")/lib.sh";  netfs_start;  ...;  pass "what was shown"
# and exits 0 (pass), 1 (fail) or 77 (skip: a needed tool is genuinely missing).
#
# Environment: NETFSD = path of the netfsd binary (meson passes it); NETFS_DEBUG=1 adds -d.
# Inside the namespace 10.0.2.2 is the host's 127.0.0.1.

set -u

TEST_NAME=$(basename "$0" .sh)
NETFSD=${NETFSD:-}
PY=/usr/bin/python3             # not a per-user shim: the EACCES test runs it as nobody
[ -x "$PY" ] || PY=$(command -v python3)
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

WORK=$(mktemp -d "/tmp/netfs-shell-work-$TEST_NAME.XXXXXX")
MNT=""
NETFSD_PID=""
PIDS=()                         # peers and clients to kill at the end

log() { printf '%s: %s\n' "$TEST_NAME" "$*"; }

# The daemon's log is the first thing to read when a test fails.
show_daemon_log() {
	[ -s "$WORK/netfsd.log" ] || return 0
	echo "---- netfsd log (last 40 lines) ----"
	tail -n 40 "$WORK/netfsd.log"
	echo "------------------------------------"
}

fail() {
	printf 'FAIL %s: %s\n' "$TEST_NAME" "$*"
	show_daemon_log
	exit 1
}

pass() {
	printf 'PASS %s: %s\n' "$TEST_NAME" "$*"
	exit 0
}

skip() {
	printf 'SKIP %s: %s\n' "$TEST_NAME" "$*"
	exit 77
}

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "needs $t"
	done
}

now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# wait_for CONDITION TIMEOUT_S: poll CONDITION (a shell string, eval'd) until it holds.
# Returns 1 when TIMEOUT_S passed without it; never waits longer.
wait_for() {
	local cond=$1 deadline=$(( $(now_ms) + ${2:-10} * 1000 ))
	until eval "$cond"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# --- host ports ------------------------------------------------------------------------------
# Our range is 20000-20999.  A port is taken if any socket on the host uses it locally.
port_in_use() {
	local hex
	hex=$(printf ':%04X ' "$1")
	grep -q "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

port_listening() {
	local hex
	hex=$(printf ':%04X' "$1")
	awk -v p="$hex" '$2 ~ p"$" && $4 == "0A" { found = 1 } END { exit !found }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# free_port VAR: set VAR to a port of our range that nobody uses now.  A random start makes
# two runs at once (another build directory) rarely pick the same port; the peers check
# that the listener on their port is really theirs (wait_listening PORT PID).
NEXT_PORT=$(( 20000 + RANDOM % 1000 ))
free_port() {
	local tries=0
	while port_in_use "$NEXT_PORT"; do
		NEXT_PORT=$(( NEXT_PORT >= 20999 ? 20000 : NEXT_PORT + 1 ))
		tries=$((tries + 1))
		[ "$tries" -lt 1000 ] || fail "no free port in 20000-20999"
	done
	printf -v "$1" '%s' "$NEXT_PORT"
	NEXT_PORT=$(( NEXT_PORT >= 20999 ? 20000 : NEXT_PORT + 1 ))
}

# The socket inodes PID holds, one per line.
socket_inodes() {
	ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p'
}

# port_listener_is PORT PID: the socket listening on host PORT belongs to PID.
port_listener_is() {
	local hex inode
	hex=$(printf ':%04X' "$1")
	inode=$(awk -v p="$hex" '$2 ~ p"$" && $4 == "0A" { print $10; exit }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
	[ -n "$inode" ] && socket_inodes "$2" | grep -qx "$inode"
}

# wait_listening PORT [PID]: until something (PID, if given) listens on host PORT.
wait_listening() {
	if [ -n "${2:-}" ]; then
		wait_for "port_listener_is $1 $2 || ! alive $2" 10 && alive "$2" ||
			fail "process $2 does not listen on host port $1 (taken by someone else?)"
	else
		wait_for "port_listening $1" 10 || fail "nothing listens on host port $1"
	fi
}

# --- processes -------------------------------------------------------------------------------
track() { PIDS+=("$@"); }

alive() { kill -0 "$1" 2>/dev/null; }

# Process state letter (R S D Z ...), empty if gone.
proc_state() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }

in_fuse_request() { grep -qE 'fuse|request_wait' "/proc/$1/wchan" 2>/dev/null; }

# parked PID: PID was seen waiting in a FUSE request three times 20 ms apart.  Requests the
# daemon answers at once (the LOOKUPs before an open) take microseconds, so this is a call
# the daemon parked.
parked() {
	in_fuse_request "$1" && sleep 0.02 && in_fuse_request "$1" && sleep 0.02 && in_fuse_request "$1"
}

# wait_blocked PID [TIMEOUT]: until PID's open/read/write is parked by the daemon.
wait_blocked() {
	wait_for "parked $1" "${2:-10}" ||
		fail "process $1 never blocked in a FUSE request (wchan: $(cat /proc/$1/wchan 2>/dev/null))"
}

# wait_exit PID TIMEOUT: until PID (a child of ours) has exited; sets WAIT_STATUS.
wait_exit() {
	wait_for "! alive $1 || [ \"\$(proc_state $1)\" = Z ]" "${2:-10}" || return 1
	{ wait "$1"; } 2>/dev/null
	WAIT_STATUS=$?
	return 0
}

# stop_pid PID: TERM, then KILL; returns 1 if PID is still there (stuck in the kernel
# behind the daemon: stopping the daemon frees it).
stop_pid() {
	local pid=$1
	if alive "$pid" && [ "$(proc_state "$pid")" != Z ]; then
		kill -TERM "$pid" 2>/dev/null
		wait_for "! alive $pid || [ \"\$(proc_state $pid)\" = Z ]" 3 || kill -KILL "$pid" 2>/dev/null
		wait_for "! alive $pid || [ \"\$(proc_state $pid)\" = Z ]" 3 || return 1
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# --- peers on host loopback ------------------------------------------------------------------
# http_server DIR PORT: python's http.server on 127.0.0.1:PORT serving DIR.
http_server() {
	"$PY" -m http.server --bind 127.0.0.1 --directory "$1" "$2" >"$WORK/http-$2.log" 2>&1 &
	track $!
	wait_listening "$2" $!
}

# peer ARGS...: tests/shell/peer.py in the background (see that file); waits for its port
# when it listens.
peer_serve() {
	local port=$1; shift
	"$PY" "$TESTS_DIR/peer.py" serve "$port" "$@" >>"$WORK/peer-$port.log" 2>&1 &
	track $!
	PEER_PID=$!
	wait_listening "$port" $!
}

# --- the daemon ------------------------------------------------------------------------------
# netfs_start [-o opts]: mount a fresh netfsd (foreground, in the background) and wait until
# tcp/clone is there.
netfs_start() {
	[ -n "$NETFSD" ] || fail "NETFSD is not set (run through meson test or tests/run)"
	[ -x "$NETFSD" ] || fail "NETFSD=$NETFSD is not executable"
	[ -e /dev/fuse ] || skip "no /dev/fuse"
	MNT=$(mktemp -d "/tmp/netfs-shell-$TEST_NAME.XXXXXX")
	chmod 755 "$MNT"
	local dbg=()
	[ "${NETFS_DEBUG:-0}" = 1 ] && dbg=(-d)
	"$NETFSD" -f "${dbg[@]}" "$@" "$MNT" >"$WORK/netfsd.log" 2>&1 &
	NETFSD_PID=$!
	wait_for "[ -e '$MNT/tcp/clone' ] || ! alive $NETFSD_PID" 10 ||
		fail "netfsd did not mount $MNT within 10 s"
	alive "$NETFSD_PID" || { wait "$NETFSD_PID"; fail "netfsd exited with status $? before mounting"; }
	mountpoint -q "$MNT" || fail "$MNT has tcp/clone but is not a mount point"
	NET=$MNT
}

mounted() { grep -q " $MNT fuse" /proc/self/mounts; }

# wait_no_conversations TIMEOUT: until `ls tcp` shows only clone and stats.
wait_no_conversations() {
	wait_for '[ "$(ls "$NET/tcp" | tr "\n" " ")" = "clone stats " ]' "${1:-10}" ||
		fail "conversations left behind: ls tcp = $(ls "$NET/tcp" | tr '\n' ' ')"
}

# A sanitizer report or a crash in the daemon fails the test even if everything else passed.
check_daemon_log() {
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK/netfsd.log" 2>/dev/null; then
		echo "FAIL $TEST_NAME: sanitizer report in the netfsd log:"
		grep -A30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK/netfsd.log" | head -60
		return 1
	fi
}

# stop the daemon with SIGTERM; it must unmount and exit 0 within 10 s.
netfs_stop() {
	[ -n "$NETFSD_PID" ] || return 0
	local pid=$NETFSD_PID rc=0
	NETFSD_PID=""
	if alive "$pid"; then
		kill -TERM "$pid"
		if ! wait_for "! alive $pid || [ \"\$(proc_state $pid)\" = Z ]" 10; then
			echo "FAIL $TEST_NAME: netfsd ignored SIGTERM for 10 s"
			kill -KILL "$pid"
			rc=1
		fi
	fi
	wait "$pid"
	local st=$?
	if [ "$st" -ne 0 ] && [ "$rc" -eq 0 ]; then
		echo "FAIL $TEST_NAME: netfsd exited with status $st"
		rc=1
	fi
	check_daemon_log || rc=1
	return $rc
}

cleanup() {
	local rc=$? pid stuck=()
	trap - EXIT
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid" || stuck+=("$pid")
	done
	if [ -n "$NETFSD_PID" ]; then
		netfs_stop || { [ "$rc" -eq 0 ] && rc=1; show_daemon_log; }
	fi
	for pid in "${stuck[@]}"; do
		stop_pid "$pid" || echo "$TEST_NAME: process $pid is stuck even without the daemon"
	done
	if [ -n "$MNT" ]; then
		if mounted; then
			[ "$rc" -eq 0 ] && { echo "FAIL $TEST_NAME: $MNT still mounted after netfsd exited"; rc=1; }
			umount -l "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null
		fi
		rmdir "$MNT" 2>/dev/null
	fi
	if [ "$rc" -eq 0 ] || [ "${KEEP_WORK:-0}" != 1 ]; then
		rm -rf "$WORK"
	else
		echo "work files kept in $WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- small checks ----------------------------------------------------------------------------
# expect_eq GOT WANT WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

# expect_match GOT REGEX WHAT
expect_match() {
	[[ $1 =~ $2 ]] || fail "$3: got '$1', want a match of /$2/"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# make_file PATH BYTES: random content, so that a misplaced block cannot match by chance.
make_file() {
	head -c "$2" /dev/urandom >"$1"
}

# HTTP/1.0 response in $1 -> body in $2 (binary-safe).
http_body() {
	"$PY" -c 'import sys
d = open(sys.argv[1], "rb").read()
h, sep, b = d.partition(b"\r\n\r\n")
if not sep or not h.startswith(b"HTTP/1."):
    sys.exit("not an HTTP response: %r" % d[:80])
open(sys.argv[2], "wb").write(b)' "$1" "$2"
}
