#!/bin/sh
# Load test: 20 concurrent writers x 2,000 events into one store (separate
# processes, one chain): every event is stored exactly once and the chain
# verifies.  Then 20 concurrent `agentsh -c` sessions each doing 2,000 file
# operations: the file events in the store equal the operations performed
# (this part needs the enforcement layer's file events; it fails until then).
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd sqlite3
EMIT=${AUDIT_EMIT:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/audit_emit}
[ -x "$EMIT" ] || { echo "missing $EMIT (run: make tools)"; exit 1; }
mkdir -m 700 "$TMPD/s"
DB="$TMPD/s/audit.db"
export AGENTSH_AUDIT_DB="$DB"

pids=""
for i in $(seq 1 20); do
	"$EMIT" "$DB" "s-load-$i" 2000 >/dev/null 2>"$TMPD/emit.$i.err" &
	pids="$pids $!"
done
fails=0
i=0
for p in $pids; do
	i=$((i+1)); wait "$p" && continue
	fails=$((fails+1)); echo "# writer $i failed:"; sed 's/^/#  | /' "$TMPD/emit.$i.err" | head -n 5
done
eq "20 writers finished without error" 0 "$fails"
eq "40,000 file events stored" 40000 "$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE type = 'file'")"
eq "each writer's 2,000 events, none lost or doubled" "20 2000 2000" \
	"$(sqlite3 "$DB" "SELECT count(*) || ' ' || min(c) || ' ' || max(c) FROM (SELECT count(*) c FROM events WHERE type = 'file' GROUP BY session_id)")"
eq "sequence numbers are dense" "$(sqlite3 "$DB" 'SELECT max(seq) FROM events')" "$(sqlite3 "$DB" 'SELECT count(*) FROM events')"
check "the chain verifies" "$AGENTSH" audit verify

# 20 concurrent agentsh sessions, 2,000 file creations each
t_user agentsh-audit || t_abort "cannot create the test account"
trap 't_cleanup; userdel -r agentsh-audit >/dev/null 2>&1' EXIT
pids=""
for i in $(seq 1 20); do
	mkdir -p "$TMPD/ws$i"; chown agentsh-audit "$TMPD/ws$i"
	(cd "$TMPD/ws$i" && "$AGENTSH" --no-config --user agentsh-audit -c --json \
		'i=0; while [ $i -lt 2000 ]; do : > "f$i"; i=$((i+1)); done') >"$TMPD/r$i.json" 2>"$TMPD/r$i.err" &
	pids="$pids $!"
done
fails=0
i=0
for p in $pids; do
	i=$((i+1)); wait "$p"; rc=$?; [ $rc = 0 ] && continue
	fails=$((fails+1)); echo "# session $i exited $rc — stderr:"; sed 's/^/#  | /' "$TMPD/r$i.err" | head -n 5
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(\"#  error:\", d.get(\"error\"), d.get(\"audit_error\"), d.get(\"guidance\",{}).get(\"reason\"))" "$TMPD/r$i.json" 2>&1 | head -c 600; echo
done
eq "20 agentsh sessions exited 0" 0 "$fails"
made=$(ls "$TMPD"/ws*/ | grep -c '^f')
eq "40,000 files were created" 40000 "$made"
eq "one file event per creation in the store" 40000 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM events WHERE type = 'file' AND path GLOB '$TMPD/ws*/f*' AND session_id NOT LIKE 's-load-%'")"
check "the chain verifies after the sessions" "$AGENTSH" audit verify
done_testing
