#!/bin/bash
# With -o allow_other, another user (nobody) may use /net but not someone else's
# conversation: EACCES on ctl/data/err/listen/peek of root's conversation; the public files
# (status, local, remote) stay readable; its own clone gives it a conversation it owns.
. "$(dirname "$0")/lib.sh"

if command -v setpriv >/dev/null; then
	as_nobody=(setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups --)
elif command -v runuser >/dev/null; then
	as_nobody=(runuser -u nobody --)
else
	skip "no setpriv or runuser to switch to user nobody"
fi
[ "$(id -u)" = 0 ] || skip "must run as root to switch users"
id nobody >/dev/null 2>&1 || skip "no user nobody"

netfs_start -o allow_other
exec 3<>"$NET/tcp/clone"
read -r n <&3

timeout 30 "${as_nobody[@]}" "$PY" - "$NET" "$n" <<'PY' || fail "permission checks as nobody (see above)"
import errno, os, sys
net, n = sys.argv[1], sys.argv[2]
problems = []
for f, flags in (("ctl", os.O_RDWR), ("ctl", os.O_RDONLY), ("data", os.O_RDWR),
                 ("data", os.O_RDONLY), ("err", os.O_RDONLY), ("listen", os.O_RDWR | os.O_NONBLOCK),
                 ("peek", os.O_RDONLY)):
    path = "%s/tcp/%s/%s" % (net, n, f)
    if f == "peek" and not os.path.exists(path):
        continue       # an extension (netfs(4)); the others are Plan 9's
    try:
        os.close(os.open(path, flags))
        problems.append("nobody opened root's %s (flags %#o)" % (f, flags))
    except OSError as e:
        if e.errno != errno.EACCES:
            problems.append("root's %s as nobody: %s, want EACCES" % (f, errno.errorcode.get(e.errno, e.errno)))
for f in ("status", "local", "remote"):
    try:
        open("%s/tcp/%s/%s" % (net, n, f)).read()
    except OSError as e:
        problems.append("nobody cannot read root's %s: %s" % (f, e))
try:
    fd = os.open(net + "/tcp/clone", os.O_RDWR)
    k = os.read(fd, 32).decode()
    st = os.stat("%s/tcp/%s/ctl" % (net, k))
    if st.st_uid != os.getuid():
        problems.append("nobody's own tcp/%s/ctl belongs to uid %d" % (k, st.st_uid))
    os.close(os.open("%s/tcp/%s/data" % (net, k), os.O_RDWR))
    os.close(fd)
except OSError as e:
    problems.append("nobody cannot use its own conversation: %s" % e)
if problems:
    sys.exit("\n".join(problems))
PY

# Group members may (mode 0660): nobody with root's group as a supplementary group.
if [ "${as_nobody[0]}" = setpriv ]; then
	timeout 30 setpriv --reuid=nobody --regid="$(id -gn nobody)" --groups=0 -- \
		"$PY" -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_RDWR))' "$NET/tcp/$n/ctl" ||
		fail "a member of the owner's group could not open ctl (mode 0660)"
fi
exec 3>&-
wait_no_conversations 10

pass "nobody gets EACCES on root's ctl/data/err/listen, reads status/local/remote, owns its clone; group members may"
