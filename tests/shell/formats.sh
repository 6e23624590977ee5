#!/bin/bash
# Text formats: ctl (the number, no newline, offset-honouring reads), local/remote of an
# unset end, status (a Plan 9 state name first), tcp/stats ("Name: value" lines with
# ActiveOpens/PassiveOpens that count what we do), and the modes of the files.
. "$(dirname "$0")/lib.sh"

STATES='^(Closed|Listen|Syn_sent|Syn_received|Established|Finwait1|Finwait2|Close_wait|Closing|Last_ack|Time_wait)( |$)'
stat_value() { awk -F': *' -v k="$1" '$1 == k { print $2 }' "$NET/tcp/stats"; }

netfs_start

# stats
grep -vqE '^[A-Za-z][A-Za-z0-9]*: -?[0-9]+$' "$NET/tcp/stats" &&
	fail "tcp/stats has lines that are not 'Name: number': $(grep -vE '^[A-Za-z][A-Za-z0-9]*: -?[0-9]+$' "$NET/tcp/stats" | head -3)"
for k in ActiveOpens PassiveOpens; do
	expect_match "$(stat_value $k)" '^[0-9]+$' "tcp/stats $k"
done
active0=$(stat_value ActiveOpens)
passive0=$(stat_value PassiveOpens)

# A fresh conversation
exec 3<>"$NET/tcp/clone"
read -r n <&3
expect_eq "$(cat "$NET/tcp/$n/ctl" | wc -c)" "${#n}" "length of ctl content '$(cat "$NET/tcp/$n/ctl")' (no newline)"
expect_eq "$("$PY" -c 'import os,sys; fd=os.open(sys.argv[1],os.O_RDONLY); print(os.pread(fd,32,0).decode(), os.pread(fd,32,0).decode(), repr(os.read(fd,32).decode()), repr(os.read(fd,32).decode()))' "$NET/tcp/$n/ctl")" \
	"$n $n '$n' ''" "ctl reads: pread 0 twice, then read, then EOF"
expect_eq "$(cat "$NET/tcp/$n/local")" "0.0.0.0!0" "local of a fresh conversation"
expect_eq "$(cat "$NET/tcp/$n/remote")" "0.0.0.0!0" "remote of a fresh conversation"
expect_eq "$(cat "$NET/tcp/$n/local" | wc -c)" 10 "length of '0.0.0.0!0\\n'"
status=$(cat "$NET/tcp/$n/status")
expect_match "$status" "$STATES" "status of a fresh conversation"
expect_eq "${status%% *}" "Closed" "state of a fresh conversation"
expect_eq "$(cat "$NET/tcp/$n/err")" "" "err of a fresh conversation"

# Modes and owner (root made it)
expect_eq "$(stat -c %A "$NET/tcp/$n")" "dr-xr-xr-x" "mode of tcp/$n"
for f in ctl data err listen; do
	expect_eq "$(stat -c '%A %U' "$NET/tcp/$n/$f")" "-rw-rw---- root" "mode of $f"
done
for f in local remote status; do
	expect_eq "$(stat -c '%A %U' "$NET/tcp/$n/$f")" "-r--r--r-- root" "mode of $f"
done
# Plan 9's seven files, plus the documented extension peek (netfs(4)) and nothing else.
files=$(ls "$NET/tcp/$n" | grep -vx peek | tr '\n' ' ')
expect_eq "$files" "ctl data err listen local remote status " "files of tcp/$n"
[ ! -e "$NET/tcp/$n/peek" ] || expect_eq "$(stat -c '%A %U' "$NET/tcp/$n/peek")" "-rw-rw---- root" "mode of peek"
[ ! -e "$NET/tcp/$n/nosuchfile" ] || fail "tcp/$n/nosuchfile exists"

# Listen, Established (dial), Established (accepted), then counters.
free_port port
echo "announce $port" >&3 || fail "announce"
expect_match "$(cat "$NET/tcp/$n/status")" '^Listen( |$)' "status after announce"
# Small reads at advancing offsets see one consistent text (a snapshot per open).
expect_eq "$(dd if="$NET/tcp/$n/status" bs=3 2>/dev/null)" "$(cat "$NET/tcp/$n/status")" "status read 3 bytes at a time"
expect_eq "$(dd if="$NET/tcp/$n/local" bs=1 2>/dev/null)" "$(cat "$NET/tcp/$n/local")" "local read 1 byte at a time"
dd if="$NET/tcp/stats" bs=7 2>/dev/null | grep -vqE '^[A-Za-z][A-Za-z0-9]*: -?[0-9]+$' &&
	fail "tcp/stats read 7 bytes at a time is not 'Name: number' lines"
{
	exec 4<>"$NET/tcp/$n/listen" || exit 10
	read -r m <&4
	echo "$m" >"$WORK/m"
	wait_for "[ -e '$WORK/release' ]" 30
} &
listener=$!
track $listener
wait_blocked $listener
exec 5<>"$NET/tcp/clone"
read -r c <&5
echo "connect 127.0.0.1!$port" >&5 || fail "connect to our own listener"
status=$(cat "$NET/tcp/$c/status")
expect_match "$status" '^Established ' "status of the dialler"
log "status: $status"
wait_for "[ -s '$WORK/m' ]" 10 || fail "listener got no call"
m=$(cat "$WORK/m")
expect_match "$(cat "$NET/tcp/$m/status")" '^Established ' "status of the accepted call"
wait_for '[ "$(stat_value ActiveOpens)" -gt "$active0" ]' 5 ||
	fail "ActiveOpens $(stat_value ActiveOpens) did not grow from $active0 after a connect"
wait_for '[ "$(stat_value PassiveOpens)" -gt "$passive0" ]' 5 ||
	fail "PassiveOpens $(stat_value PassiveOpens) did not grow from $passive0 after an accept"
# the peer's FIN shows in the state of the other end
exec 5>&-
wait_for "[[ \"\$(cat '$NET/tcp/$m/status')\" =~ ^Close_wait ]]" 10 ||
	fail "accepted call did not go to Close_wait after the dialler's close: $(cat "$NET/tcp/$m/status")"
touch "$WORK/release"
wait_exit $listener 10 || fail "listener did not finish"
exec 3>&-
wait_no_conversations 10
log "stats: $(tr '\n' ' ' <"$NET/tcp/stats")"

pass "ctl/local/remote/status/err/stats formats, modes, state names through a connection's life"
