#!/bin/sh
# Tamper tests: edit, delete, insert, reorder rows and truncate the tail of a
# real audit store with the sqlite3 CLI; `agentsh audit verify` must fail and
# name the first bad sequence each time.  An untouched store verifies.
# san: yes
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd sqlite3 python3
EMIT=${AUDIT_EMIT:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/audit_emit}
[ -x "$EMIT" ] || { echo "missing $EMIT (run: make tools)"; exit 1; }

mkdir -m 700 "$TMPD/orig"
"$EMIT" "$TMPD/orig/audit.db" s-tamper 196 --deny-every 7 >/dev/null || { echo "emit failed"; exit 1; }
# 196 file events + session_start, command_start, command_end, session_end = 200
sqlite3 "$TMPD/orig/audit.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null

n=0
fresh() { n=$((n+1)); D="$TMPD/c$n"; cp -a "$TMPD/orig" "$D"; DB="$D/audit.db"; }
sql() { sqlite3 "$DB" "$1" || echo "# sqlite3 failed: $1"; }
verify() { AGENTSH_AUDIT_DB="$DB" "$AGENTSH" audit verify --json 2>"$TMPD/verr"; }
# expect_bad DESC SEQ : verify exits 1 and names SEQ
expect_bad() {
	out=$(verify); rc=$?
	got=$(printf '%s' "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r.get("first_bad_seq"), r.get("reason"))' 2>/dev/null)
	case "$rc:$got" in
	"1:$2 "*) ok "$1: verify fails at sequence $2 (${got#* })" ;;
	*) nok "$1: expected failure at $2, got rc=$rc: $out $(cat "$TMPD/verr")" ;;
	esac
}

fresh
out=$(verify); rc=$?
eq "untouched store verifies" "0" "$rc"
check "untouched: 200 events, anchor at 200" sh -c "printf '%s' '$out' | grep -q '\"ok\":true,\"events\":200,\"anchor_seq\":200'"
check "text output says OK" sh -c "AGENTSH_AUDIT_DB='$DB' '$AGENTSH' audit verify | grep -q '^audit: OK: 200 events'"

fresh; sql "UPDATE events SET path = '/tmp/innocent' WHERE seq = 50"
expect_bad "edit a path" 50
# file event i is sequence i+2; every 7th is a deny
fresh; sql "UPDATE events SET effective = 'allow', decision = 'allow', rule = 'allow-work' WHERE seq = 9 AND effective = 'deny'"
expect_bad "edit a deny into an allow" 9
fresh; sql "UPDATE events SET ts_ns = ts_ns + 1 WHERE seq = 33"
expect_bad "edit a timestamp" 33
fresh; sql "DELETE FROM events WHERE seq = 60"
expect_bad "delete a row" 60
fresh; sql "DELETE FROM events WHERE seq BETWEEN 100 AND 120"
expect_bad "delete a range" 100
# insert: renumber everything from 80 up and put a forged row at 80
fresh; sql "UPDATE events SET seq = -seq - 1 WHERE seq >= 80; UPDATE events SET seq = -seq WHERE seq < 0;
	INSERT INTO events(seq, ts_ns, session_id, type, operation, path, link)
	SELECT 80, ts_ns, session_id, 'file', 'read', '/etc/hosts', link FROM events WHERE seq = 79"
expect_bad "insert a row in the middle" 80
fresh; sql "INSERT INTO events(seq, ts_ns, session_id, type, operation, path, link)
	SELECT 201, ts_ns, session_id, 'file', 'read', '/etc/hosts', link FROM events WHERE seq = 200"
expect_bad "append a forged row" 201
fresh; sql "UPDATE events SET seq = -1 WHERE seq = 90; UPDATE events SET seq = 90 WHERE seq = 91; UPDATE events SET seq = 91 WHERE seq = -1"
expect_bad "swap two rows" 90
fresh; sql "UPDATE events SET link = (SELECT link FROM events WHERE seq = 10) WHERE seq = 11"
expect_bad "copy a link" 11
fresh; sql "DELETE FROM events WHERE seq > 190"
expect_bad "truncate the tail" 191
fresh; sql "DELETE FROM events"
expect_bad "delete every row" 1
fresh; rm -f "$DB" "$DB-wal" "$DB-shm"; sqlite3 "$DB" 'PRAGMA user_version=1; CREATE TABLE events(seq INTEGER PRIMARY KEY, ts_ns, session_id, command_id, type, operation, path, path2, argv, address, port, dns_name, signal, target_pid, pid, ppid, uid, decision, effective, rule, message, err, layer, command, exit_status, duration_us, cpu_user_us, cpu_sys_us, peak_rss_kb, approval_id, approver, details, link);'
expect_bad "replace the store with an empty one" 1
fresh; sed -i 's/^v1 0*200 /v1 00000000000000000190 /' "$DB.anchor"
expect_bad "edit the anchor" 1
fresh; sql "DELETE FROM events WHERE seq > 150"; rm -f "$DB.anchor"
out=$(verify); rc=$?
eq "without the anchor a truncated tail cannot be seen (documented limit)" "0" "$rc"

# a damaged store is reported, not silently accepted, by the writer either
fresh; sql "UPDATE events SET link = x'00' WHERE seq = 200"
AGENTSH_AUDIT_DB="$DB" "$EMIT" "$DB" s-after 5 >/dev/null 2>"$TMPD/emit.err"
check "writer refuses to extend a chain whose tail has no valid link" grep -q "no valid link" "$TMPD/emit.err"
done_testing
