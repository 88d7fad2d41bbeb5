#!/bin/sh
# audit.retention_days end to end, through the real agentsh: sessions run
# under a policy with a retention, aged with faketime (their wall clock set
# days back); a later session start prunes the expired prefix, `agentsh audit
# prune` the rest; verify passes afterwards and still catches tampering.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd sqlite3 python3
need_cmd faketime
t_user agentsh-audit || t_abort "cannot create the test account"
trap 't_cleanup; userdel -r agentsh-audit >/dev/null 2>&1' EXIT

D="$TMPD/store"
mkdir -m 700 "$D"
DB="$D/audit.db"
export AGENTSH_AUDIT_DB="$DB"
policy() { # FILE DAYS: the default policy with audit.retention_days DAYS
	sed "s/retention_days: 30/retention_days: $2/" "$AGENTSH_SRC/examples/policies/default.yaml" >"$1"
	grep -q "retention_days: $2\$" "$1" || t_abort "examples/policies/default.yaml has no 'retention_days: 30' to edit"
}
policy "$TMPD/p1.yaml" 1
policy "$TMPD/p30.yaml" 30
# run AGE POLICY CMD: one session, its clock AGE back (faketime offset, e.g. -10d)
run() { faketime -f "$1" "$AGENTSH" --no-config --policy "$2" --user agentsh-audit -c "$3"; }
q() { sqlite3 "$DB" "$1"; }
sid_of() { q "SELECT session_id FROM events WHERE type = 'command_start' AND command = '$1'"; }
verify() { "$AGENTSH" audit verify --json 2>"$TMPD/verr"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1]))' "$1"; }

eq "10 days ago, retention 1 day" 0 "$(run -10d "$TMPD/p1.yaml" 'echo s1' >/dev/null; echo $?)"
S1=$(sid_of 'echo s1')
eq "the session's retention is recorded from its policy" 1 \
	"$(q "SELECT retention_days FROM sessions WHERE session_id = '$S1'")" ||
	t_abort "the shell did not pass audit.retention_days to the store; nothing below can hold"
n1=$(q "SELECT count(*) FROM events WHERE session_id = '$S1'")
check "session 1 has events ($n1)" test "$n1" -gt 4
last1=$(q "SELECT max(seq) FROM events WHERE session_id = '$S1'")
# the same day: session 1 has not expired yet when this one starts
eq "10 days ago, retention 30 days" 0 "$(run -10d "$TMPD/p30.yaml" 'echo s2' >/dev/null; echo $?)"
S2=$(sid_of 'echo s2')
faketime -f -10d "$AGENTSH" --no-config --policy "$TMPD/p30.yaml" --user agentsh-audit -c --json 'echo s2j' >/dev/null
eq "--json sessions record their retention too" 30 \
	"$(q "SELECT retention_days FROM sessions WHERE session_id = '$(sid_of 'echo s2j')'")"
eq "session 1 is still there" "$n1" "$(q "SELECT count(*) FROM events WHERE session_id = '$S1'")"

# a session now: its start prunes session 1 (expired 9 days ago), and stops at session 2
eq "a session now" 0 "$(run +0d "$TMPD/p1.yaml" 'echo s3' >/dev/null; echo $?)"
eq "session 1's events are gone" 0 "$(q "SELECT count(*) FROM events WHERE session_id = '$S1'")"
eq "session 1's session and commands rows are gone" 0 \
	"$(q "SELECT (SELECT count(*) FROM sessions WHERE session_id = '$S1') + (SELECT count(*) FROM commands WHERE session_id = '$S1')")"
check "session 2 is kept" test "$(q "SELECT count(*) FROM events WHERE session_id = '$S2'")" -gt 4
eq "the prune is on record with how many it deleted" "$n1" \
	"$(q "SELECT json_extract(details, '\$.events') FROM events WHERE type = 'prune'")"
out=$(verify); rc=$?
eq "verify passes after the prune" 0 "$rc"
eq "verify starts from the pruned-through record" "$last1" "$(printf '%s' "$out" | field pruned_through)"
check "text verify mentions the pruned-through record" sh -c "'$AGENTSH' audit verify | grep -q 'pruned-through record (sequence $last1'"

# the CLI: a dry run names what stops it; nothing changes
before=$(q "SELECT count(*) FROM events")
out=$("$AGENTSH" audit prune --dry-run --json); rc=$?
eq "prune --dry-run exits 0" 0 "$rc"
eq "dry run: nothing expired yet" 0 "$(printf '%s' "$out" | field events)"
check "dry run names session 2 and when it expires" sh -c "printf '%s' '$out' | grep -q '\"session\":\"$S2\",\"reason\":\"retention 30 days: expires'"
eq "dry run changed nothing" "$before" "$(q "SELECT count(*) FROM events")"
# not for the agent account
su -s /bin/sh agentsh-audit -c "AGENTSH_AUDIT_DB='$DB' '$AGENTSH' audit prune" >/dev/null 2>"$TMPD/err"; rc=$?
check "prune as the agent account is refused (rc=$rc)" test "$rc" -ne 0
eq "... and changed nothing" "$before" "$(q "SELECT count(*) FROM events")"

# 25 days from now session 2 has expired too (ended 10 days ago + 30), and so
# has session 3 (1 day); the pruning process's own record is what remains
out=$(faketime -f +25d "$AGENTSH" audit prune); rc=$?
eq "audit prune 25 days on exits 0" 0 "$rc"
check "it says how many it deleted ($out)" sh -c "printf '%s' '$out' | grep -q '^audit prune: deleted [0-9]* events'"
eq "sessions 2 and 3 are gone" 0 "$(q "SELECT count(*) FROM events WHERE type IN ('session_start', 'command_start')")"
eq "only the pruning process's own record remains" 1 "$(q "SELECT count(*) FROM events WHERE type = 'prune'")"
out=$(verify); rc=$?
eq "verify passes" 0 "$rc"

# tampering after the prune is still caught, and named
base=$(q "SELECT seq FROM chain_base")
cp -a "$D" "$TMPD/pristine"
restore() { rm -rf "$D"; cp -a "$TMPD/pristine" "$D"; }
expect_bad() { # DESC SEQ
	out=$(verify); rc=$?
	eq "$1: verify fails (rc 1)" 1 "$rc"
	eq "$1: names sequence $2" "$2" "$(printf '%s' "$out" | field first_bad_seq)"
}
q "DELETE FROM events WHERE seq = $((base + 1))"
expect_bad "delete the row after the pruned-through record" $((base + 1))
restore
q "UPDATE chain_base SET seq = seq + 1"
expect_bad "move the pruned-through record" $((base + 1))
restore
q "UPDATE chain_base SET link = randomblob(32)"
expect_bad "replace the pruned-through link" "$base"
restore
q "DELETE FROM chain_base"
expect_bad "drop the pruned-through record" 1
restore
out=$(verify); rc=$?
eq "the restored copy verifies" 0 "$rc"
done_testing
