#!/bin/sh
# san: yes
# Fail closed on the audit trail: when the store cannot record the command
# (here its schema page is damaged, so the writer's connection fails while the
# store's header still looks current), `agentsh -c` and `agentsh --json -c`
# refuse to run it — the program never runs, -c exits 126 with a message that
# names the store, --json prints one JSON object (exit 125) with the reason
# and the store's error.  The control run on a healthy store runs the same
# command, so the check can fail.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd sqlite3
[ -x "$AGENTSH" ] || t_abort "agentsh not built"
U=agentsh-auditfc
t_user $U || t_abort "cannot create test account $U"
trap 'userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
chmod 711 "$TMPD"
W="$TMPD/w"
mkdir -p "$W" && chown $U "$W"
mkdir -m 700 "$TMPD/s"
export AGENTSH_AUDIT_DB="$TMPD/s/audit.db"

# control: a healthy store records, and the command runs
(cd "$W" && "$AGENTSH" --no-config --user $U -c "touch $W/control") 2>"$TMPD/control.err"
eq "control: the command runs on a healthy store" 0 $?
check "control: its file exists" [ -e "$W/control" ]

# the schema page (page 1 after the 100-byte header) damaged, the WAL folded in first
sqlite3 "$AGENTSH_AUDIT_DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
dd if=/dev/urandom of="$AGENTSH_AUDIT_DB" bs=1 seek=100 count=3000 conv=notrunc 2>/dev/null

(cd "$W" && "$AGENTSH" --no-config --user $U -c "touch $W/ran") 2>"$TMPD/c.err"
eq "-c: refused with 126" 126 $?
check "-c: the command never ran" [ ! -e "$W/ran" ]
check "-c: the message says the command could not be recorded and names the store" \
	grep -q "cannot record the command in the audit trail.*$AGENTSH_AUDIT_DB" "$TMPD/c.err"
sed 's/^/#   /' "$TMPD/c.err"

out=$(cd "$W" && "$AGENTSH" --no-config --user $U --json -c "touch $W/ran2" 2>"$TMPD/j.err")
eq "--json: exit 125 (not run)" 125 $?
check "--json: the command never ran" [ ! -e "$W/ran2" ]
check "--json: one JSON object saying why, with the store's error" python3 -c '
import json,sys
o=json.loads(sys.argv[1])
assert o["exit_code"]==125, o
assert "could not record the command" in o["error"]["message"], o
assert sys.argv[2] in o["audit_error"], o
' "$out" "$AGENTSH_AUDIT_DB"
done_testing
