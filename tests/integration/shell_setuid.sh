#!/bin/sh
# agentsh installed setuid root as an account's shell: the privilege split
# happens first, the commands run as the account with no_new_privs, and neither
# the session nor the account itself can signal the supervisor, read the audit
# store, pick another account or choose its policy.
. "$AGENTSH_SRC/tests/lib.sh"
need_root
[ -x "$AGENTSH" ] || t_abort "no agentsh binary at $AGENTSH (run make)"
U=agentsh-suid
t_user $U || t_abort "cannot create the test account $U"
D=$(mktemp -d /usr/local/lib/agentsh-suid.XXXXXX)   # /tmp may be nosuid
chmod 755 "$D"
cp "$AGENTSH" "$D/agentsh" && chmod 4755 "$D/agentsh"
trap 'rm -rf "$D" "$TMPD"; userdel -r $U >/dev/null 2>&1' EXIT
as_user() { su $U -s /bin/sh -c "cd ~ && $*"; }
S="$D/agentsh"

out=$(as_user "$S -c 'id -u; grep NoNewPrivs /proc/self/status'" 2>&1)
eq "commands run as the invoking account" "$(id -u $U)" "$(echo "$out" | head -n 1)"
check "commands run with no_new_privs" sh -c "echo '$out' | grep -q 'NoNewPrivs:.*1'"

out=$(as_user "$S -c 'kill -0 \$PPID && echo SIGNALLED'" 2>&1)
check "the session cannot signal its supervisor" sh -c "! echo '$out' | grep -q SIGNALLED"

# the account itself, outside the sandbox, cannot signal its own supervisor
as_user "$S -c 'sleep 3'" >/dev/null 2>&1 &
i=0; pid=""
while [ $i -lt 50 ] && [ -z "$pid" ]; do pid=$(pgrep -f "^$D/agentsh -c sleep 3" | head -n 1); sleep 0.05; i=$((i+1)); done
[ -n "$pid" ] || t_abort "the setuid agentsh did not start"
eq "the supervisor holds root for all ids" "0 0 0 0" "$(awk '/^Uid:/{print $2, $3, $4, $5}' /proc/$pid/status)"
check "the account cannot signal the supervisor" sh -c "! su $U -s /bin/sh -c 'kill -0 $pid' 2>/dev/null"
check "the supervisor is not dumpable (its environ is unreadable to the account)" sh -c "! su $U -s /bin/sh -c 'cat /proc/$pid/environ' >/dev/null 2>&1"
wait

as_user "$S audit verify" >/dev/null 2>&1; rc=$?
check "the audit store is refused to the account (rc=$rc)" [ $rc -ne 0 ]
as_user "$S --user root -c id" >/dev/null 2>&1; rc=$?
eq "--user is refused to the account" 2 "$rc"
printf 'version: 1\nname: mine\ncommand_rules:\n  - {name: all, commands: ["*"], decision: allow}\n' > "$TMPD/mine.yaml"; chmod 644 "$TMPD/mine.yaml"
as_user "$S --policy $TMPD/mine.yaml -c id" >/dev/null 2>&1; rc=$?
check "--policy is refused to the account (rc=$rc)" [ $rc -ne 0 ]
out=$(as_user "AGENTSH_TIMING=1 $S -c true" 2>&1)
check "root-only debugging switches are ignored for the account" sh -c "! echo '$out' | grep -qi 'timing\|ms '"
H=$(getent passwd $U | cut -d: -f6)
as_user "AGENTSH_AUDIT_DB=$H/mine/audit.db $S -c true" >/dev/null 2>&1
check "the account cannot move the audit store (AGENTSH_AUDIT_DB ignored)" [ ! -e "$H/mine" ]
done_testing
