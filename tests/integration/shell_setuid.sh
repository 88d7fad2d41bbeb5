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
U2=agentsh-suid2
U3=agentsh-suid3
t_user $U2 || t_abort "cannot create the test account $U2"
trap 'purge_ours; rm -rf "$D" "$TMPD"; userdel -r $U >/dev/null 2>&1; userdel -r $U2 >/dev/null 2>&1; userdel $U3 >/dev/null 2>&1' EXIT
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

# `agentsh NAME ...` is the caller's own command: the privilege split made the
# real uid 0, so a subcommand left as root could not tell who called it.
H2=$(getent passwd $U2 | cut -d: -f6)
printf '#!/bin/sh\nid -u > %s/ssh-uid\n' "$H" >"$H/fake-ssh"; chmod 755 "$H/fake-ssh"; chown $U "$H/fake-ssh"
as_user "$S approve list --remote a@b --ssh $H/fake-ssh" >/dev/null 2>&1
eq "approve --ssh PROG: PROG runs as the caller, not root" "$(id -u $U)" "$(cat "$H/ssh-uid" 2>/dev/null)"
as_user "$S approver add t-suid-mallory --totp" >/dev/null 2>&1; rc=$?
check "approver add is refused to the account (rc=$rc)" [ $rc -ne 0 ]
check "  and enrolled no one" sh -c "! '$AGENTSH' approver list 2>/dev/null | grep -q t-suid-mallory"
rm -f /etc/agentsh/approvers/t-suid-mallory.totp

# The trash is root's and holds every account's entries; `agentsh trash`
# keeps root for them, so it must act for the caller alone.
ours() { "$AGENTSH" trash list | awk -v a="$H/" -v b="$H2/" 'index($NF, a) == 1 || index($NF, b) == 1 { print $1 }'; }
purge_ours() { ours | xargs -r "$AGENTSH" trash purge >/dev/null 2>&1; }
mkdir -p "$H/sub" && echo precious >"$H/sub/doc.txt" && chown -R $U "$H/sub"
echo theirs >"$H2/doc2.txt" && chown $U2 "$H2/doc2.txt"
tok=$(as_user "$S -c 'rm sub/doc.txt'" 2>&1 | sed -n 's/.*trash restore \([^ ]*\).*/\1/p' | head -1)
tok2=$(su $U2 -s /bin/sh -c "cd ~ && $S -c 'rm doc2.txt'" 2>&1 | sed -n 's/.*trash restore \([^ ]*\).*/\1/p' | head -1)
[ -n "$tok" ] && [ -n "$tok2" ] || t_abort "no soft delete through the setuid agentsh (tokens '$tok' '$tok2')"
out=$(as_user "$S trash list" 2>&1)
check "trash list: the caller's entry is listed" sh -c "printf '%s' '$out' | grep -q '$tok'"
check "trash list: another account's entry is not" sh -c "! printf '%s' '$out' | grep -q '$tok2'"
as_user "$S trash restore $tok2" >/dev/null 2>&1; rc=$?
check "trash restore: another account's entry is refused (rc=$rc)" sh -c "[ $rc -ne 0 ] && [ ! -e '$H2/doc2.txt' ]"
# U2's uid, freed by userdel and given to a new account, does not carry U2's
# deleted files with it
uid2=$(id -u $U2)
userdel $U2 && useradd -M -d /nonexistent -u "$uid2" -s /bin/sh $U3 ||
	t_abort "cannot give uid $uid2 to a new account"
out=$(su $U3 -s /bin/sh -c "cd / && $S trash list" 2>&1)
check "trash list: a recycled uid does not list the old account's entry" \
	sh -c "! printf '%s' \"\$1\" | grep -q '$tok2'" _ "$out"
su $U3 -s /bin/sh -c "cd / && $S trash restore $tok2" >/dev/null 2>&1; rc=$?
check "trash restore: nor restore it (rc=$rc)" sh -c "[ $rc -ne 0 ] && [ ! -e '$H2/doc2.txt' ]"
check "  the entry is still in the trash, for root" sh -c "'$AGENTSH' trash list | grep -q '$tok2'"
userdel $U3 && useradd -M -d "$H2" -u "$uid2" -s /bin/bash $U2 || t_abort "cannot restore $U2"
su $U2 -s /bin/sh -c "cd ~ && $S trash list" 2>&1 | grep -q "$tok2"
check "  while the account itself, back with its uid, still sees it" [ $? -eq 0 ]
# a directory the caller may no longer write: checked as the caller, not as root
chown root "$H/sub"
as_user "$S trash restore $tok" >/dev/null 2>&1; rc=$?
check "trash restore into a directory the caller cannot write is refused (rc=$rc)" sh -c "[ $rc -ne 0 ] && [ ! -e '$H/sub/doc.txt' ]"
check "  and the entry is still in the trash" sh -c "'$AGENTSH' trash list | grep -q '$tok'"
chown $U "$H/sub"
as_user "$S trash restore $tok" >/dev/null 2>&1
eq "trash restore: back where it was once the caller may write there" precious "$(cat "$H/sub/doc.txt" 2>/dev/null)"
# another trash directory names other payloads: a manifest of the caller's
# own making would have root move any file
V=$(mktemp -d /root/agentsh-suid-victim.XXXXXX) && echo root-only >"$V/victim" && chmod 600 "$V/victim"
mkdir -p "$H/fake" && printf '{"token":"victim","uid":%s,"trash_path":"%s","original_path":"%s/stolen"}' \
	"$(id -u $U)" "$V" "$H" >"$H/fake/victim.json" && chown -R $U "$H/fake"
as_user "$S trash restore victim --trash-dir $H/fake" >/dev/null 2>&1; rc=$?
eq "trash --trash-dir is refused to the account" 2 "$rc"
check "  and the root-only file stayed where it was" sh -c "[ -e '$V/victim' ] && [ ! -e '$H/stolen' ]"
rm -rf "$V"
# Installed setuid, root's process loads the terminal for the line editor:
# from the system's terminfo only, never from a file the caller wrote
# (TERMINFO, TERMINFO_DIRS, ~/.terminfo; CVE-2023-29491 is this route).
need_cmd strace script
mkdir -p "$H/ti/x" "$H/.terminfo/x" && chown -R $U "$H/ti" "$H/.terminfo"
TERM=xterm-agentsh-probe timeout 20 script -qc "strace -f -u $U -E HOME=$H -E TERMINFO=$H/ti -E TERMINFO_DIRS=$H/ti \
	-e trace=access,openat,newfstatat -o $TMPD/ti.trace $S -i" /dev/null </dev/null >/dev/null 2>&1
sup=$(awk 'NR == 1 { print $1 }' "$TMPD/ti.trace")
grep "^$sup " "$TMPD/ti.trace" >"$TMPD/ti.sup"
check "the supervisor looked the terminal up (the trace saw it)" grep -q 'xterm-agentsh-probe' "$TMPD/ti.sup"
check "  in the system's database only, not the caller's TERMINFO or ~/.terminfo" \
	sh -c "! grep -q '$H/ti\|$H/.terminfo' '$TMPD/ti.sup'"
out=$(as_user "TERMINFO=$H/ti $S -c 'echo \$TERMINFO'" 2>&1)
eq "  the commands still get the caller's TERMINFO" "$H/ti" "$out"
# the audit trail names the account that ran a command, not the supervisor's
# root (the privilege split made getuid() 0)
probe="true agentsh-uid-probe-$$"
as_user "$S -c '$probe'" >/dev/null 2>&1
uid=$("$AGENTSH" events query --type command_start --limit 50 --json 2>/dev/null | python3 -c '
import json, sys
print(next((str(e.get("uid")) for e in json.load(sys.stdin) if e.get("command") == sys.argv[1]), "none"))' "$probe")
eq "command_start records the account's uid" "$(id -u $U)" "$uid"
# doctor keeps root for its probes (the account sees the layers its sessions
# get), but reads --policy FILE as the account: a root-only file stays unread
RP=$(mktemp -d /root/agentsh-suid-pol.XXXXXX) && printf 'agentsh_secret_key: 1\n' >"$RP/p.yaml" && chmod 600 "$RP/p.yaml"
out=$(as_user "$S doctor" 2>&1)
check "doctor, run by the account, probes as its sessions run (root)" sh -c "printf '%s' \"\$1\" | grep -q '^active *privilege'" _ "$out"
out=$(as_user "$S doctor --policy $RP/p.yaml" 2>&1)
check "doctor --policy: a root-only file is not read for the account" sh -c "printf '%s' \"\$1\" | grep -q 'Permission denied' && ! printf '%s' \"\$1\" | grep -q agentsh_secret_key" _ "$out"
rm -rf "$RP"
done_testing
