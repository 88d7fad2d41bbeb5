#!/bin/sh
# san: yes
# Read denies of literal paths held by the floor (a node of the supervisor's
# refusing FUSE filesystem mounted over each path in the delegate's private mount
# namespace): refused with EACCES for files and whole directories, reported (a
# notice; the audit event comes from the same place), while read-only opens are
# not notified at all; writes still refused; ordinary reads unaffected; nothing
# leaks to the host's mount table.  A deny shadowed by an earlier allow is left
# to the supervisor.
. "$(dirname "$0")/../lib.sh"
need_root
T=${SURFACE_TOOLS:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools}
[ -x "$T/surface_run" ] || t_abort "surface tools not built (make tools)"
W="$TMPD/w"; mkdir -m 777 "$W"; mkdir -m 755 "$W/secret" "$W/pub"
echo TOPSECRET > "$W/secret/key"; echo TOKEN > "$W/token.txt"; echo PUBLIC > "$W/pub/readme"
chmod 644 "$W/secret/key" "$W/token.txt" "$W/pub/readme"
pol() { # file, first rules
	cat > "$1" <<YAML
version: 1
name: floor-test
file_rules:
$2
  - name: all
    paths: ["/**"]
    operations: ["*"]
    decision: allow
command_rules:
  - name: all
    commands: ["*"]
    decision: allow
YAML
}
pol "$TMPD/p1.yaml" "  - name: deny-secret
    paths: [\"$W/secret/**\", \"$W/token.txt\"]
    operations: [\"*\"]
    decision: deny"
run() { p=$1; shift; (cd "$W" && "$T/surface_run" -p "$p" -w "$W" -- /bin/sh -c "$*"); }

check "control: the secret is readable outside the sandbox as nobody" \
	setpriv --reuid 65534 --regid 65534 --clear-groups cat "$W/secret/key"
out=$(run "$TMPD/p1.yaml" "cat $W/secret/key; cat $W/token.txt; ls $W/secret; cat $W/pub/readme; echo x >> $W/token.txt; grep -c fuse.agentsh-floor /proc/self/mountinfo" 2>&1)
printf '%s\n' "$out" | sed 's/^/# /'
check "floor: the file inside a denied directory is refused (EACCES)" sh -c "printf '%s\n' \"\$1\" | grep -q 'secret/key: Permission denied'" _ "$out"
check "floor: a denied literal file is refused" sh -c "printf '%s\n' \"\$1\" | grep -q 'token.txt: Permission denied'" _ "$out"
check "floor: the denied directory cannot be listed" sh -c "printf '%s\n' \"\$1\" | grep -q \"cannot open directory '$W/secret'\"" _ "$out"
check "floor: the secret never appears" sh -c "! printf '%s\n' \"\$1\" | grep -q 'TOPSECRET\|TOKEN'" _ "$out"
check "floor: other files read normally" sh -c "printf '%s\n' \"\$1\" | grep -q PUBLIC" _ "$out"
check "floor: both paths are covered by the trap" sh -c "printf '%s\n' \"\$1\" | grep -qx 2" _ "$out"
check "floor: the denial is reported with its rule" sh -c "printf '%s\n' \"\$1\" | grep -q 'denied open $W/secret/key (rule deny-secret)'" _ "$out"
check "the write to the denied file is refused too" sh -c "printf '%s\n' \"\$1\" | grep -q 'token.txt.*ermission denied'" _ "$out"
check "the host's mount table is untouched" sh -c "! grep -q agentsh-deny /proc/self/mountinfo"
eq "the file is unchanged" TOKEN "$(cat "$W/token.txt")"

# the covers live in the session's mount namespace; a process of the same
# account outside it (an agent harness) sees the host's, where nothing covers
# the secret.  Its /proc/N/root and /proc/N/cwd must not be a way round: the
# session's Landlock domain refuses the ptrace-mode access they need.
(cd "$W" && exec setpriv --reuid 65534 --regid 65534 --clear-groups sleep 60) &
OUT=$!
sleep 0.2
check "control: outside the session, the secret is readable through /proc/$OUT/root as nobody" \
	sh -c "setpriv --reuid 65534 --regid 65534 --clear-groups cat /proc/$OUT/root$W/secret/key | grep -q TOPSECRET"
out=$(run "$TMPD/p1.yaml" "cat /proc/$OUT/root$W/secret/key; cat /proc/$OUT/cwd/secret/key; cat /proc/$OUT/root$W/token.txt" 2>&1)
kill $OUT 2>/dev/null
check "floor: not read through an outside process's /proc/N/root or /proc/N/cwd" \
	sh -c "! printf '%s\n' \"\$1\" | grep -q 'TOPSECRET\|TOKEN' && [ \$(printf '%s\n' \"\$1\" | grep -c 'Permission denied') -eq 3 ]" _ "$out"

# a covered file the account could not read anyway (root's, 0600): the same
# EACCES, recorded, but not announced; a readable one still is (above)
echo ROOTONLY > "$W/rootonly.txt"; chmod 600 "$W/rootonly.txt"
pol "$TMPD/p3.yaml" "  - name: deny-both
    paths: [\"$W/rootonly.txt\", \"$W/token.txt\"]
    operations: [\"*\"]
    decision: deny"
out=$(run "$TMPD/p3.yaml" "cat $W/rootonly.txt; cat $W/token.txt" 2>&1)
printf '%s\n' "$out" | sed 's/^/# /'
check "floor: root's file is refused" sh -c "printf '%s\n' \"\$1\" | grep -q 'rootonly.txt: Permission denied'" _ "$out"
check "floor: ...without a notice" sh -c "! printf '%s\n' \"\$1\" | grep -q 'denied.*rootonly'" _ "$out"
check "floor: the readable one is announced" sh -c "printf '%s\n' \"\$1\" | grep -q 'denied open $W/token.txt (rule deny-both)'" _ "$out"
# root's 0600 file with an ACL entry letting the account (65534) read it: the
# kernel's own check says readable, so the refusal is the policy's and is
# announced (owner, group and mode alone would say otherwise)
python3 - "$W/rootonly.txt" <<'PY'
import struct, sys, os
# POSIX ACL xattr: version 2; user::rw-, user:65534:r--, group::---, mask::r--, other::---
e = [(0x01, 6, 0xffffffff), (0x02, 4, 65534), (0x04, 0, 0xffffffff), (0x10, 4, 0xffffffff), (0x20, 0, 0xffffffff)]
os.setxattr(sys.argv[1], "system.posix_acl_access", struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *x) for x in e))
PY
check "control: the ACL lets the account read root's file" \
	setpriv --reuid 65534 --regid 65534 --clear-groups cat "$W/rootonly.txt"
out=$(run "$TMPD/p3.yaml" "cat $W/rootonly.txt" 2>&1)
check "floor: a file the account may read through an ACL: refused and announced" sh -c "printf '%s\n' \"\$1\" | grep -q 'denied open $W/rootonly.txt (rule deny-both)'" _ "$out"

# an earlier rule allowing reads inside the denied tree: the supervisor decides
pol "$TMPD/p2.yaml" "  - name: allow-pub-key
    paths: [\"$W/secret/key\"]
    operations: [read]
    decision: allow
  - name: deny-secret
    paths: [\"$W/secret/**\"]
    operations: [\"*\"]
    decision: deny"
out=$(run "$TMPD/p2.yaml" "cat $W/secret/key" 2>&1)
eq "first match: an earlier allow inside the denied tree still reads" TOPSECRET "$out"
done_testing
