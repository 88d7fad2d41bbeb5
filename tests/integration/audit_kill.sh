#!/bin/sh
# Kill test: SIGKILL the writing process mid-stream.  The store must open,
# verify, and hold at least every event up to the last point the writer was
# told was durable (audit_flush returned) - the guarantee in docs/audit.md.
# Then the same with agentsh itself killed during a command: the command's
# start (made durable before the command runs) is there and the chain verifies.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd sqlite3
EMIT=${AUDIT_EMIT:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/audit_emit}
[ -x "$EMIT" ] || { echo "missing $EMIT (run: make tools)"; exit 1; }
mkdir -m 700 "$TMPD/s"
DB="$TMPD/s/audit.db"
export AGENTSH_AUDIT_DB="$DB"

for round in 1 2 3; do
	"$EMIT" "$DB" "s-kill-$round" 1000000 --flush-every 500 --sleep-us 20 >"$TMPD/durable.$round" 2>"$TMPD/emit.err" &
	pid=$!
	sleep 1.$round
	kill -KILL $pid
	wait $pid 2>/dev/null
	last=$(tail -n 1 "$TMPD/durable.$round" | awk '{print $2}')
	[ -n "$last" ] || last=0
	have=$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE session_id = 's-kill-$round' AND type = 'file'")
	check "round $round: killed after $last durable events; the store holds $have (>= $last)" [ "$have" -ge "$last" ]
	[ "$last" -gt 0 ] || nok "round $round: the writer never reported a durable point"
	check "round $round: chain verifies after the kill" "$AGENTSH" audit verify
done
# a new writer continues the chain after the crash
"$EMIT" "$DB" s-after 10 >/dev/null
check "a later writer appends and the chain still verifies" "$AGENTSH" audit verify

# audit.sync: the default (normal) leaves commits to the page cache, full
# fsyncs each one (store and anchor) - docs/audit.md, "Durability"
if command -v strace >/dev/null 2>&1; then
	strace -f -e trace=fsync,fdatasync -o "$TMPD/sync.normal" "$EMIT" "$DB" s-sync-normal 40 --flush-every 10 >/dev/null
	strace -f -e trace=fsync,fdatasync -o "$TMPD/sync.full" "$EMIT" "$DB" s-sync-full 40 --flush-every 10 --sync full >/dev/null
	nn=$(grep -c 'sync(' "$TMPD/sync.normal") nf=$(grep -c 'sync(' "$TMPD/sync.full")
	check "sync normal: no fsync for 4 small commits (got $nn)" [ "$nn" -eq 0 ]
	check "sync full: store and anchor fsynced per commit (got $nf, want >= 8)" [ "$nf" -ge 8 ]
	check "both modes extend one verifiable chain" "$AGENTSH" audit verify
else
	ok "# SKIP sync modes: strace is not installed"
fi

# agentsh killed during a command
t_user agentsh-audit || t_abort "cannot create the test account"
trap 't_cleanup; userdel -r agentsh-audit >/dev/null 2>&1' EXIT
mkdir -p "$TMPD/ws"; chown agentsh-audit "$TMPD/ws"
(cd "$TMPD/ws" && exec "$AGENTSH" --no-config --user agentsh-audit -c --json 'touch a b c; sleep 30') >/dev/null 2>&1 &
apid=$!
sleep 1.5
kill -KILL $apid
wait $apid 2>/dev/null
check "agentsh killed: the store verifies" "$AGENTSH" audit verify
eq "agentsh killed: the command's start is in the store" "1" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE type = 'command_start' AND command = 'touch a b c; sleep 30'")"
done_testing
