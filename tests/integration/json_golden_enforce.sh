#!/bin/sh
# Golden tests of the --json result for outcomes decided by the policy and
# enforced by the sandbox: pre-exec deny (126), a runtime deny inside a
# pipeline, a redirected command, a soft delete, a command timeout (124) and
# an approval nobody grants.
# They FAIL (not skip) until the enforcement layers emit the matching audit
# events: that is the point of them.
. "$(dirname "$0")/../lib.sh"
. "$AGENTSH_SRC/tests/golden/lib.sh"
golden_setup

sed "s|@ROOT@|$TMPD|g" "$GOLDEN/json-policy.yaml" >"$TMPD/policy.yaml"
mkdir -p "$TMPD/secret"
echo s3cret >"$TMPD/secret/token"
chmod 644 "$TMPD/secret/token"
P="--policy $TMPD/policy.yaml"

golden pre-exec-deny $P -- 'id'
golden runtime-deny-pipeline $P -- "cat $TMPD/secret/token 2>/dev/null | wc -c"
golden redirect $P -- 'wget -q https://example.com/'
echo data >"$WS/trash-me"; chown "$JUSER" "$WS/trash-me"
golden soft-delete $P -- "rm $WS/trash-me"
golden timeout $P -- 'sleep 10'
# no approver can answer in this test (none enrolled, or nobody answers within 1 s)
golden approval-refused $P -- 'echo x > needs-ok'
check "the store verifies after the enforced commands" "$AGENTSH" audit verify
done_testing
