#!/bin/bash
# The tree while it changes: two shells allocate and free conversations as fast as they
# can while a third lists and stats every conversation file and a fourth walks the tree from
# python.  Lookups of vanishing entries may fail (ENOENT); the daemon must stay up (under
# ASan: without a report), and nothing may be left afterwards.
. "$(dirname "$0")/lib.sh"

netfs_start
churn_status() {     # clone, open status (which does not keep it), close: 1500 times
	for _ in $(seq 1500); do
		exec 3<>"$NET/tcp/clone" || exit 10
		read -r n <&3
		exec 4<"$NET/tcp/$n/status" || exit 11
		exec 3>&- 4<&-
	done
}
churn_clone() {
	for _ in $(seq 1500); do
		exec 5<>"$NET/tcp/clone" || exit 10
		exec 5>&-
	done
}
lister() {
	for _ in $(seq 200); do
		ls -l "$NET/tcp/" >/dev/null 2>&1
		cat "$NET"/tcp/*/status "$NET"/tcp/*/local >/dev/null 2>&1
		stat "$NET"/tcp/*/* >/dev/null 2>&1
	done
	ls "$NET/tcp" >/dev/null || exit 10     # the tree itself must still answer
}
churn_status &
p1=$!
churn_clone &
p2=$!
lister &
p3=$!
"$PY" - "$NET" <<'PY' &
import os, sys
tcp = sys.argv[1] + "/tcp"
for _ in range(2000):
    for e in os.scandir(tcp):
        if e.name.isdigit():
            try:
                os.listdir(e.path)
                open(e.path + "/remote").read()
            except (FileNotFoundError, NotADirectoryError):
                pass
PY
p4=$!
track $p1 $p2 $p3 $p4
for p in $p1 $p2 $p3 $p4; do
	wait_exit "$p" 120 || fail "a worker did not finish in 120 s"
	expect_eq "$WAIT_STATUS" 0 "exit status of worker $p"
done
alive "$NETFSD_PID" || fail "netfsd died"
wait_no_conversations 10

pass "3000 allocations and frees under concurrent listing and lookups"
