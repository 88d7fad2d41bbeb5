#!/bin/sh
# Golden tests of the --json result that need no policy decision: success,
# failing command, not found, binary stdout, stdout over the cap, a UTF-8
# sequence cut by the cap.  Each result is validated against
# schema/agentsh-result.schema.json and compared with tests/golden/<case>.json.
# san: yes
. "$(dirname "$0")/../lib.sh"
. "$AGENTSH_SRC/tests/golden/lib.sh"
golden_setup
P="--policy $GOLDEN/allow-policy.yaml"

golden success $P -- 'echo hello'
golden failing $P -- 'echo out; echo err >&2; exit 3'
golden not-found $P -- 'no-such-command-xyz'
golden binary $P -- 'printf "\377\376abc\000"'
AGENTSH_OUTPUT_CAP=10 golden over-cap $P -- 'seq 1 100'
# "aé" then "é..." : the cap (4 bytes) falls inside the second é
AGENTSH_OUTPUT_CAP=4 golden utf8-cut $P -- 'printf "a\303\251\303\251\303\251"'

# the session cannot be set up (unknown account): still one JSON object, 125
(cd "$WS" && "$AGENTSH" --no-config --user no-such-account-xyz -c --json 'true') >"$TMPD/out.json" 2>/dev/null
eq "start failure: exit 125" 125 "$?"
check "start failure: one schema-valid JSON object" sh -c "python3 '$GOLDEN/check.py' '$SCHEMA' '$GOLDEN/start-failed.json' <'$TMPD/out.json'"

# exactly one object on stdout even when the command writes a lot to both streams
agentsh_json $P -- 'head -c 3000000 /dev/zero | tr "\0" x; head -c 3000000 /dev/zero | tr "\0" y >&2'
eq "large output: one line on stdout" 1 "$(wc -l <"$TMPD/out.json")"
eq "large output: total bytes counted past the cap" "3000000 3000000 True True" \
	"$(python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["stdout_total_bytes"], r["stderr_total_bytes"], r["stdout_truncated"], r["stderr_truncated"])' <"$TMPD/out.json")"

# stdin passes through (binary-safe) like sh -c
printf 'in\000put' >"$TMPD/in.bin"
(cd "$WS" && "$AGENTSH" --no-config --user "$JUSER" $P -c --json 'od -An -c' <"$TMPD/in.bin") >"$TMPD/out.json" 2>/dev/null
check "stdin reaches the command" grep -q 'i   n' "$TMPD/out.json"

# --events none still reports counts; the command is in the audit trail
agentsh_json $P --events none -- 'true'
check "--events none: counts present" python3 -c 'import json,sys; e=json.load(sys.stdin)["events"]; assert e["file_operations"]==[] and "blocked_operations_count" in e' <"$TMPD/out.json"
sid=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["session_id"])' <"$TMPD/out.json")
eq "command_start and command_end are in the store before the result is printed" "2" \
	"$(sqlite3 "$AUDIT_DB" "SELECT count(*) FROM events WHERE session_id='$sid' AND type IN ('command_start','command_end')")"
check "the store verifies" "$AGENTSH" audit verify
done_testing
