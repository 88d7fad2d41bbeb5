#!/bin/sh
# san: yes
# Writes decided in the kernel (enforce/writemode.c): a policy whose write rules
# are plain allows of whole trees plus a literal deny held by a cover mount runs
# without notifying writes — writes in the workspace work, the denied literal
# path is still refused (write, replace, delete, move of its parent), writes
# outside the trees are refused by Landlock (no supervisor notice: the kernel
# decided).  Policies that need the supervisor for writes (audit, approve,
# soft_delete, redirect, a glob deny inside the workspace, log_allowed) keep
# notifying: each check below fails if the fast path were taken for them.
. "$(dirname "$0")/../lib.sh"
need_root
T=${SURFACE_TOOLS:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools}
[ -x "$T/surface_run" ] || t_abort "surface tools not built (make tools)"
[ -w /dev/fuse ] || skip_all "no /dev/fuse: literal denies cannot be covered, the fast path is never taken"
chmod 755 "$TMPD"
O="$TMPD/out"; mkdir -m 777 "$O"          # outside every writable tree, writable by DAC
W="$TMPD/w"; mkdir -m 777 "$W" "$W/sub"
echo TOKEN > "$W/secret.txt"; chmod 666 "$W/secret.txt"
pol() { # file, first rules, extra top-level
	cat > "$1" <<YAML
version: 1
name: writemode-test
file_rules:
$2
  - name: ws
    paths: ["$W", "$W/**", "/dev/**"]
    operations: ["*"]
    decision: allow
  - name: reads
    paths: ["/**"]
    operations: [read, open, stat, list, readlink, access, exec]
    decision: allow
command_rules:
  - name: all
    commands: ["*"]
    decision: allow
${3:-}
YAML
}
run() { p=$1; shift; (cd "$W" && "$T/surface_run" -p "$p" -w "$W" -- /bin/sh -c "$*"); }
DENY="  - name: deny-secret
    paths: [\"$W/secret.txt\"]
    operations: [\"*\"]
    decision: deny"

# --- the fast path may be taken
pol "$TMPD/fast.yaml" "$DENY"
out=$(run "$TMPD/fast.yaml" "echo a > $W/sub/a && mkdir $W/sub/d && mv $W/sub/a $W/sub/d/b && cat $W/sub/d/b && rm $W/sub/d/b && rmdir $W/sub/d && echo WS-OK
echo x > $W/secret.txt || echo W1-REFUSED
echo y > $W/sub/y; mv $W/sub/y $W/secret.txt || echo W2-REFUSED
rm -f $W/secret.txt || echo W3-REFUSED
ln $W/secret.txt $W/sub/l 2>/dev/null || echo W4-REFUSED
echo z > $O/outside || echo OUT-REFUSED
ln -s /etc/passwd $O/sl 2>/dev/null || echo OUT2-REFUSED" 2>&1)
printf '%s\n' "$out" | sed 's/^/# /'
has() { printf '%s\n' "$out" | grep -q "$1"; }
check "fast: create, mkdir, rename, read, delete in the workspace work" has WS-OK
check "fast: writing the denied literal path is refused" has W1-REFUSED
check "fast: replacing it by rename is refused" has W2-REFUSED
check "fast: deleting it is refused" has W3-REFUSED
check "fast: a hard link to it is refused" has W4-REFUSED
eq "fast: the denied file is unchanged" TOKEN "$(cat "$W/secret.txt")"
check "fast: a write outside the writable trees is refused" has OUT-REFUSED
check "fast: a symlink outside the writable trees is refused" has OUT2-REFUSED
check "fast: nothing was created outside" sh -c "[ ! -e $O/outside ] && [ ! -e $O/sl ]"
check "fast: the kernel decided (no supervisor notice for the outside write)" sh -c "! printf '%s\n' \"\$1\" | grep -q 'denied create $O/outside'" _ "$out"
check "fast: the denied path's refusal is still reported (by the cover)" has "secret.txt (rule deny-secret)"

# --- policies that must keep notifying writes: the supervisor's notice for
# the refused outside write proves it saw the write; the semantic checks fail
# outright under a wrongly taken fast path.
sees() { # name, policy file
	o=$(run "$2" "echo z > $O/outside2" 2>&1)
	check "$1: the supervisor decides writes" sh -c "printf '%s\n' \"\$1\" | grep -q 'denied create $O/outside2'" _ "$o"
}
pol "$TMPD/glob.yaml" "  - name: deny-glob
    paths: [\"$W/**/*.secret\"]
    operations: [\"*\"]
    decision: deny"
sees "glob deny in the workspace" "$TMPD/glob.yaml"
out=$(run "$TMPD/glob.yaml" "echo x > $W/sub/new.secret || echo G-REFUSED" 2>&1)
check "glob deny: a new matching file is refused" has G-REFUSED
check "glob deny: it was not created" sh -c "[ ! -e $W/sub/new.secret ]"

pol "$TMPD/approve.yaml" "  - name: approve-sub
    paths: [\"$W/sub/**\"]
    operations: [write, create]
    decision: approve"
sees "approve" "$TMPD/approve.yaml"
out=$(run "$TMPD/approve.yaml" "echo x > $W/sub/ap || echo A-REFUSED" 2>&1)
check "approve without an approver: the write is refused" has A-REFUSED

pol "$TMPD/audit.yaml" "  - name: audit-sub
    paths: [\"$W/sub/**\"]
    operations: [write, create]
    decision: audit"
sees "audit rule" "$TMPD/audit.yaml"

echo keep > "$W/sub/k"; chmod 666 "$W/sub/k"
pol "$TMPD/soft.yaml" "  - name: soft
    paths: [\"$W/sub/**\"]
    operations: [delete]
    decision: soft_delete"
sees "soft_delete" "$TMPD/soft.yaml"

pol "$TMPD/redir.yaml" "  - name: redir
    paths: [\"$W/sub/r\"]
    operations: [write, create]
    decision: redirect
    redirect_to: $W/sub/r2"
sees "redirect" "$TMPD/redir.yaml"

pol "$TMPD/logall.yaml" "$DENY" "audit:
  log_allowed: true"
sees "audit.log_allowed" "$TMPD/logall.yaml"
pol "$TMPD/logden.yaml" "$DENY" "audit:
  log_denied: true"
sees "audit.log_denied with bounded trees" "$TMPD/logden.yaml"
done_testing
