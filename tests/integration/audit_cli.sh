#!/bin/sh
# The read-back commands on a real store: events query filters, events tail,
# export (jsonl, OCSF), the Markdown report (with hostile paths escaped) and
# policy generate (globs, wildcards, blocked operations as comments; the
# result must load and lint clean with the policy module).
# san: yes
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd sqlite3 python3
EMIT=${AUDIT_EMIT:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/audit_emit}
[ -x "$EMIT" ] || { echo "missing $EMIT (run: make tools)"; exit 1; }
mkdir -m 700 "$TMPD/s"
export AGENTSH_AUDIT_DB="$TMPD/s/audit.db"
"$EMIT" "$AGENTSH_AUDIT_DB" s-observed --jsonl "$AGENTSH_SRC/tests/golden/audit-session.jsonl" || { echo "emit failed"; exit 1; }
A="$AGENTSH"
total=$(sqlite3 "$AGENTSH_AUDIT_DB" 'SELECT count(*) FROM events')
eq "all events stored (17 + command + session brackets)" 21 "$total"

# ---- events query
out=$("$A" events query --type file --decision deny)
check "query --type file --decision deny finds the ssh key read" sh -c "printf '%s' '$out' | grep -q 'id_rsa.*deny rule=deny-ssh'"
eq "query --type file --decision deny: exactly one" 1 "$(printf '%s\n' "$out" | grep -c .)"
eq "query --path-like: the six build outputs" 6 \
	"$("$A" events query --path-like '%/build/%' --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
eq "query --domain-like" 2 "$("$A" events query --domain-like '%github.com' | grep -c .)"
eq "query --limit" 3 "$("$A" events query --limit 3 | grep -c .)"
eq "query --session latest" "$total" "$("$A" events query --session latest --limit 1000 | grep -c .)"
eq "query --since in the future: nothing" 0 "$("$A" events query --since 2200-01-01T00:00:00Z | grep -c .)"
"$A" events query --limit 1000 >"$TMPD/q.txt"
check "query output carries no raw escape character" sh -c "! grep -q \"$(printf '\033')\" '$TMPD/q.txt'"
check "query shows it escaped" grep -qF '\x1b[31m' "$TMPD/q.txt"
check "bad --type is a usage error" sh -c "'$A' events query --type bogus 2>&1 >/dev/null | grep -q 'not an event type'"

# ---- events tail follows new events
"$A" events tail -n 0 --for 3 >"$TMPD/tail.txt" &
tp=$!
sleep 1
"$EMIT" "$AGENTSH_AUDIT_DB" s-live 3 >/dev/null
wait $tp
eq "tail prints events written while it runs" 3 "$(grep -c 'file write\|file create' "$TMPD/tail.txt")"

# ---- export
"$A" audit export --format jsonl --session s-observed >"$TMPD/x.jsonl"
eq "export jsonl: one line per event of the session" 21 "$(grep -c . "$TMPD/x.jsonl")"
check "export jsonl: every line is a JSON object with seq and type" python3 -c '
import json,sys
for l in open(sys.argv[1]):
    o=json.loads(l); assert o["seq"]>0 and o["type"]
' "$TMPD/x.jsonl"
"$A" audit export --format ocsf --session s-observed >"$TMPD/x.ocsf"
check "export ocsf: network events are class 4001, files 1001, blocked ones disposition 2" python3 -c '
import json,sys
ev=[json.loads(l) for l in open(sys.argv[1])]
net=[e for e in ev if e["unmapped"]["type"]=="network"]
assert all(e["class_uid"]==4001 and e["type_uid"]==400101 for e in net), net
assert any(e["disposition_id"]==2 for e in net)
assert all(e["class_uid"]==1001 for e in ev if e["unmapped"]["type"]=="file")
assert all(e["metadata"]["product"]["name"]=="agentsh" for e in ev)
' "$TMPD/x.ocsf"

# ---- report
"$A" report s-observed --level summary >"$TMPD/r.md" 2>"$TMPD/r.err"
r=$TMPD/r.md
check "report: overview and findings" sh -c "grep -q '^## Overview' '$r' && grep -q '^## Findings' '$r'"
check "report: blocked ssh key read under Critical (escaped)" grep -qF 'id\_rsa' "$r"
check "report: sensitive path finding" grep -q 'sensitive path' "$r"
check "report: direct IP connection finding" grep -q 'direct IP connection' "$r"
check "report: soft delete finding" grep -q 'soft delete' "$r"
check "report: failed command (exit 2)" grep -qF 'failed command \(exit 2\)' "$r"
check "report: redirect finding" grep -q 'redirected' "$r"
check "report: summary has no timeline" sh -c "! grep -q '^## Timeline' '$r'"
"$A" report s-observed --level detailed --output "$TMPD/d.md"
check "report --level detailed --output: timeline written to the file" grep -q '^## Timeline' "$TMPD/d.md"
check "report: Markdown in paths escaped" grep -qF '\`rm \-rf\`\*\_\[x\]\(y\)\<script\>' "$TMPD/d.md"
check "report: no raw escape character" sh -c "! grep -q \"$(printf '\033')\" '$TMPD/d.md'"
check "report: unknown session is an error" sh -c "! '$A' report no-such-session >/dev/null 2>&1"

# ---- policy generate
if ! "$AGENTSH" policy generate --threshold x 2>&1 | grep -q 'usage: policy generate'; then
	echo "# 'agentsh policy generate' does not reach the audit module: the shell's 'policy' handler must"
	echo "# call shell_cmd_policy_generate() for argv[1] == generate (see docs/audit.md); these checks fail until then"
fi
"$A" policy generate s-observed --name locked --threshold 5 >"$TMPD/gen.yaml" 2>"$TMPD/gen.err"
g=$TMPD/gen.yaml
check "generate: name" grep -q '^name: "locked"' "$g"
check "generate: six build outputs collapsed into a glob" grep -qF '"/work/build/*"' "$g"
check "generate: subdomains collapsed into a wildcard" grep -qF '"*.github.com"' "$g"
check "generate: observed commands allowed" grep -qF '"/usr/bin/make"' "$g"
check "generate: unix socket allowed" grep -qF '"/run/dbus/system_bus_socket"' "$g"
check "generate: soft delete kept as soft_delete" grep -q 'decision: soft_delete' "$g"
check "generate: blocked ssh read stays denied (keep-blocked rule) and is offered as a comment" sh -c \
	"grep -A3 '^  - name: keep-blocked' '$g' | grep -qF '\"/home/agent/.ssh/id_rsa\"' && grep -q '^# blocked file read by rule deny-ssh' '$g'"
check "generate: blocked ssh read never allowed" sh -c "! grep -B1 -A3 'id_rsa' '$g' | grep -v '^#' | grep -q 'decision: allow'"
check "generate: blocked IP connection only as a comment" sh -c "grep -q '^#    cidrs: \[\"10.9.9.9/32\"' '$g'"
check "generate: glob characters in a literal path escaped" grep -qF '\\*_\\[x\\]' "$g"
"$A" policy generate s-observed --threshold 0 >"$TMPD/gen0.yaml"
check "generate --threshold 0: no globs" sh -c "! grep -qF '/work/build/*' '$TMPD/gen0.yaml'"
# the policy module must accept it as is
"$A" policy validate "$g" >"$TMPD/val.txt" 2>&1
eq "generated policy validates (agentsh policy validate)" 0 "$?"
"$A" policy lint "$g" >"$TMPD/lint.txt" 2>&1
rc=$?
eq "generated policy lints clean (agentsh policy lint)" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$TMPD/lint.txt"
check "the store still verifies" "$A" audit verify
done_testing
