#!/bin/bash
# File semantics that need exact errnos, poll or a misbehaving host peer (semantics.py):
# EISCONN/EADDRINUSE, the peer's FIN and RST, hangup/close/shutdown, unread data at close,
# O_NONBLOCK and poll on data and on announced conversations, non-blocking connect, peek,
# queued data delivered after the last close, what keeps a conversation alive, number reuse,
# ENOENT/EACCES, 200 conversations at once.
. "$(dirname "$0")/lib.sh"

netfs_start
ports=()
for i in 1 2 3 4 5 6 7 8; do
	free_port p
	ports+=("$p")
done
timeout 120 "$PY" "$TESTS_DIR/semantics.py" "$NET" "${ports[@]}" || fail "$? file-semantics checks failed (see above)"
wait_no_conversations 10
pass "file semantics: errnos, FIN/RST, hangup/close/shutdown, poll, non-blocking connect, tree"
