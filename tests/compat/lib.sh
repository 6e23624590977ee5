# tests/compat/lib.sh — sourced by every compat test: a fresh netfsd on /tmp/netfs-compat-*,
# the library preloaded into real programs, host ports 21000-21999, bounded waits, and a
# cleanup (kill what we started, unmount) that runs however the test ends.
#
# A test does:   . "$(dirname "$0")/lib.sh";  netfs_start;  ...;  pass "what was shown"
# and exits 0 (pass), 1 (fail) or 77 (skip: a program is genuinely not installed).
#
# Environment (meson sets it): NETFSD (the daemon), NETFS_COMPAT_LIB (libnetfs-compat.so),
# NETFS_RUN (the netfs-run wrapper), DIFF_BIN / DIFF_LINKED_BIN (the differential program).

set -u

TEST_NAME=$(basename "$0" .sh)
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=$(command -v python3)
WORK=$(mktemp -d "/tmp/netfs-compat-work-$TEST_NAME.XXXXXX")
chmod 755 "$WORK"
MNT=""
NETFSD_PID=""
PIDS=()

log() { printf '%s: %s\n' "$TEST_NAME" "$*"; }

show_logs() {
	local f
	for f in "$WORK"/*.log; do
		[ -s "$f" ] || continue
		echo "---- $(basename "$f") (last 30 lines) ----"
		tail -n 30 "$f"
	done
}

fail() { printf 'FAIL %s: %s\n' "$TEST_NAME" "$*"; show_logs; exit 1; }
# A sanitizer report from the daemon or from the library inside a program fails the test even
# if everything else passed.
pass() {
	netfs_stop  # its exit is when LeakSanitizer speaks
	if grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK"/*.log 2>/dev/null; then
		fail "sanitizer report (see above)"
	fi
	printf 'PASS %s: %s\n' "$TEST_NAME" "$*"
	exit 0
}
skip() { printf 'SKIP %s: %s\n' "$TEST_NAME" "$*"; exit 77; }

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "needs $t (not installed)"
	done
}

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# wait_for CONDITION SECONDS: until the (eval'd) condition holds; 1 if it never did.
wait_for() {
	local cond=$1 deadline=$(( $(now_ms) + ${2:-10} * 1000 ))
	until eval "$cond"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
track() { PIDS+=("$@"); }

# ---- host ports: ours are 21000-21999 ------------------------------------------------------

# Inodes of the sockets listening on host port $1 (from /proc/net/tcp{,6}: no ss needed).
listen_inodes() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

port_listening() { [ -n "$(listen_inodes "$1")" ]; }

# The host port $1 is our netfsd's forward (its listening socket is one of netfsd's fds),
# so a client on the host reaches the program through netfs and nothing else.
port_is_netfsd() {
	local ino i
	ino=$(listen_inodes "$1")
	[ -n "$ino" ] && [ -n "$NETFSD_PID" ] || return 1
	for i in $ino; do
		ls -l "/proc/$NETFSD_PID/fd" 2>/dev/null | grep -q "socket:\[$i\]" || return 1
	done
}

# free_port VAR [COUNT]: the first port of COUNT free consecutive ports of our range.
# "Free" = no local socket of the host uses it (one snapshot of /proc/net/tcp{,6} per call).
NEXT_PORT=$(( 21000 + $(cksum <<<"$TEST_NAME" | cut -d' ' -f1) % 30 * 30 ))
free_port() {
	local count=${2:-1} tries=0 p ok
	local -A used=()
	for p in $(awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
		used[$((16#$p))]=1
	done
	while :; do
		ok=1
		for ((p = NEXT_PORT; p < NEXT_PORT + count; p++)); do
			[ -n "${used[$p]:-}" ] && { ok=0; break; }
		done
		[ "$ok" = 1 ] && [ $((NEXT_PORT + count)) -le 22000 ] && break
		NEXT_PORT=$(( NEXT_PORT + count >= 22000 ? 21000 : NEXT_PORT + 1 ))
		tries=$((tries + 1))
		[ "$tries" -lt 2000 ] || fail "no $count free ports in 21000-21999"
	done
	printf -v "$1" '%s' "$NEXT_PORT"
	NEXT_PORT=$((NEXT_PORT + count))
}


wait_listening() {
	wait_for "port_listening $1" "${2:-10}" || fail "nothing listens on host port $1"
}

# ---- the daemon ----------------------------------------------------------------------------
netfs_start() {
	[ -n "${NETFSD:-}" ] && [ -x "$NETFSD" ] || fail "NETFSD is not set or not executable"
	[ -n "${NETFS_COMPAT_LIB:-}" ] && [ -r "$NETFS_COMPAT_LIB" ] || fail "NETFS_COMPAT_LIB is not set"
	[ -e /dev/fuse ] || skip "no /dev/fuse"
	MNT=$(mktemp -d "/tmp/netfs-compat-$TEST_NAME.XXXXXX")
	chmod 755 "$MNT"
	"$NETFSD" -f "$MNT" >"$WORK/netfsd.log" 2>&1 &
	NETFSD_PID=$!
	wait_for "[ -e '$MNT/tcp/clone' ] || ! alive $NETFSD_PID" 10 ||
		fail "netfsd did not mount $MNT within 10 s"
	alive "$NETFSD_PID" || fail "netfsd exited before mounting"
	export NETFS_ROOT=$MNT
	NETFS_CMD=(env NETFS_COMPAT_LIB="$PRELOAD" ${SAN_RT:+LD_PRELOAD="$SAN_RT"} sh "$NETFS_RUN" -m "$MNT")
	preload_check
}

netfs_stop() {
	local p
	[ -n "$NETFSD_PID" ] || return 0
	for p in "${PIDS[@]}"; do  # programs first: some hold requests in the daemon
		kill -TERM "$p" 2>/dev/null
	done
	kill -TERM "$NETFSD_PID" 2>/dev/null
	wait_for "! alive $NETFSD_PID" 10 || kill -KILL "$NETFSD_PID" 2>/dev/null
	wait "$NETFSD_PID" 2>/dev/null
	NETFSD_PID=""
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait_for "! alive $p" 3 || kill -KILL "$p" 2>/dev/null
	done
	netfs_stop
	if [ -n "$MNT" ]; then
		grep -q " $MNT fuse" /proc/self/mounts && { fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"; }
		rmdir "$MNT" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- the library in real programs ---------------------------------------------------------
# A sanitized build of the library needs the sanitizer runtimes preloaded too (netfs-run
# keeps an existing LD_PRELOAD), and third-party programs are not ours to leak-check.
PRELOAD=${NETFS_COMPAT_LIB:-}
SAN_RT=$(ldd "$PRELOAD" 2>/dev/null | awk '/libasan|libubsan/ { print $3 }' | paste -sd:)
if [ -n "$SAN_RT" ]; then
	export ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0
fi

# in_netfs CMD...: CMD with the library preloaded, through netfs-run as users run it
# (the build tree's copy is not executable: run it with sh).  NETFS_CMD is the same as a
# command prefix, for timeout(1) and friends.
in_netfs() {
	"${NETFS_CMD[@]}" "$@"
}

# The library must really be in the programs we test, or every check below would only test
# the host's kernel: a socket made under netfs-run must be a data file of our mount.
preload_check() {
	local where
	where=$(in_netfs "$PY" -c 'import socket, os; s = socket.socket(); print(os.readlink("/proc/self/fd/%d" % s.fileno()))' 2>&1)
	case $where in
	"$MNT"/tcp/*/data) ;;
	*) fail "a socket under netfs-run is not a netfs data file: $where" ;;
	esac
}

# uses_netfs PID: PID holds at least one fd on our mount's conversations.
uses_netfs() {
	ls -l "/proc/$1/fd" 2>/dev/null | grep -q "$MNT/tcp/"
}

# Conversations present now (numbers, one line).
conversations() { ls "$MNT/tcp" 2>/dev/null | grep -E '^[0-9]+$' | tr '\n' ' '; }

random_file() {
	head -c "$2" /dev/urandom >"$1"
}

same_file() {
	cmp -s "$1" "$2" || fail "$3: $(stat -c %s "$2" 2>/dev/null || echo missing) bytes received, $(stat -c %s "$1") sent, contents differ"
}
