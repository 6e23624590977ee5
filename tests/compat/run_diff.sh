#!/bin/bash
# tests/compat/run_diff.sh — the differential test: diff.c on the kernel's sockets, then on a
# real netfsd mount (preloaded through netfs-run, and linked with -lnetfs-compat); the three
# outputs must be identical line for line.
. "$(dirname "$0")/lib.sh"

[ -x "${DIFF_BIN:-}" ] || fail "DIFF_BIN is not set"
netfs_start
# see diff.c: sanitizer interceptors dereference bad length pointers themselves
[ -n "$SAN_RT" ] && export DIFF_NO_FAULTS=1

# Three blocks of ports: the netfs runs forward their announced ports to the host too.
free_port KPORT 100
free_port NPORT 100
free_port LPORT 100

timeout 120 "$DIFF_BIN" "$KPORT" >"$WORK/kernel.out" 2>"$WORK/kernel.log" ||
	fail "kernel run failed (status $?): $(tail -3 "$WORK/kernel.out")"

where=$(in_netfs "$DIFF_BIN" --where)
case $where in "$MNT"/tcp/*/data) ;; *) fail "preloaded run would not use netfs: $where" ;; esac
timeout 120 "${NETFS_CMD[@]}" "$DIFF_BIN" "$NPORT" \
	>"$WORK/preload.out" 2>"$WORK/preload.log"
status=$?

linked_status=skipped
if [ -x "${DIFF_LINKED_BIN:-}" ]; then
	where=$(NETFS_ROOT=$MNT "$DIFF_LINKED_BIN" --where)
	case $where in "$MNT"/tcp/*/data) ;; *) fail "linked run would not use netfs: $where" ;; esac
	timeout 120 env NETFS_ROOT="$MNT" "$DIFF_LINKED_BIN" "$LPORT" \
		>"$WORK/linked.out" 2>"$WORK/linked.log"
	linked_status=$?
fi

cases=$(wc -l <"$WORK/kernel.out")
if ! diff -u "$WORK/kernel.out" "$WORK/preload.out" >"$WORK/diff-preload.log"; then
	cat "$WORK/diff-preload.log"
	fail "preloaded run differs from the kernel (status $status)"
fi
[ "$status" = 0 ] || fail "preloaded run exited with $status"
if [ "$linked_status" != skipped ]; then
	if ! diff -u "$WORK/kernel.out" "$WORK/linked.out" >"$WORK/diff-linked.log"; then
		cat "$WORK/diff-linked.log"
		fail "linked run differs from the kernel (status $linked_status)"
	fi
	[ "$linked_status" = 0 ] || fail "linked run exited with $linked_status"
fi
grep -q '^done' "$WORK/kernel.out" || fail "the kernel run did not finish"
pass "$cases cases identical: kernel, preloaded, linked ($linked_status)"
