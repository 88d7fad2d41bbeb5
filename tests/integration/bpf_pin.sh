#!/bin/sh
# The guard is loaded once per build and pinned under /sys/fs/bpf/agentsh/<build id>/
# (docs/bpf.md, "Load once"): concurrent sessions share it and each sees only its own events
# and rules; a session's entries go when it ends; a SIGKILLed supervisor's are swept by the
# next start; a pin that does not match this build is replaced; another build's directory is
# unpinned once none of its sessions is left.  Driven through tests/tools/bpf_guardrun.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd python3 bpftool
T="$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools"
[ -x "$T/bpf_guardrun" ] || { echo "missing $T/bpf_guardrun: run make tools"; exit 1; }
"$T/bpf_guardrun" -d allow -- /bin/true > "$TMPD/first" 2>&1 ||
	skip_all "the bpf guard cannot load here: $(tail -n 1 "$TMPD/first")"
pins=$(sed -n 's/^pins //p' "$TMPD/first")
root=/sys/fs/bpf/agentsh
case "$pins" in $root/?*) ;; *) echo "bpf_guardrun printed no pin directory"; exit 1 ;; esac
cgroot=$(dirname "$(sed -n 's/^cgroup //p' "$TMPD/first")")

le64() { python3 -c "import struct,sys; print(' '.join(str(b) for b in struct.pack('<Q', int(sys.argv[1]))))" "$1"; }
# has MAP CGID: the pinned map of this build has an entry for the session
has() { bpftool map lookup pinned "$pins/$1" key $(le64 "$2") >/dev/null 2>&1; }
value_size() { bpftool map show pinned "$1" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_value"])'; }
# count MAP FIELD VALUE: entries of a pinned map whose BTF-formatted key/value field equals
# VALUE (FIELD: key.sess, value.pid, ...; a session id is compared as its two u32 halves)
count() {
	bpftool map dump pinned "$pins/$1" -j 2>/dev/null | python3 -c '
import json, sys
f, v = sys.argv[1].split("."), int(sys.argv[2])
n = 0
for e in json.load(sys.stdin):
    x = e["formatted"][f[0]][f[1]]
    n += x == v or x == [v & 0xffffffff, v >> 32]
print(n)' "$2" "$3"
}
wait_for() { i=0; while [ $i -lt 200 ] && ! grep -q "$1" "$2"; do sleep 0.05; i=$((i+1)); done; }

check "pin directory is root-only" sh -c "[ \"\$(stat -c '%a %u' $root)\" = '700 0' ]"
check "programs, maps and links pinned" sh -c "[ -e '$pins/link_exec' ] && [ -e '$pins/guard_connect4' ] && [ -e '$pins/sessions' ]"

# ---- two concurrent sessions: each sees only its own events and rules ----
cat > "$TMPD/s.py" <<PY
import socket, errno, os, sys, time
while not os.path.exists("$TMPD/go"):
    time.sleep(0.02)
if sys.argv[1] == "b":
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
s = socket.socket()
r = s.connect_ex(("127.0.0.1", 9))
open("$TMPD/conn." + sys.argv[1], "w").write(errno.errorcode.get(r, str(r)))
PY
"$T/bpf_guardrun" -d allow -r 'deny:127.0.0.0/8:1-1000' -- /usr/bin/python3 "$TMPD/s.py" a > "$TMPD/a" 2>&1 &
pa=$!
"$T/bpf_guardrun" -d allow -- /usr/bin/python3 "$TMPD/s.py" b > "$TMPD/b" 2>&1 &
pb=$!
wait_for '^exec ' "$TMPD/a"
wait_for '^exec ' "$TMPD/b"
touch "$TMPD/go"
wait $pa; wait $pb
eq "session A: its deny rule holds" EPERM "$(cat "$TMPD/conn.a" 2>/dev/null)"
eq "session B: A's rule does not apply" ECONNREFUSED "$(cat "$TMPD/conn.b" 2>/dev/null)"
xa=$(sed -n 's/^exec pid=\([0-9]*\) .*/\1/p' "$TMPD/a")
xb=$(sed -n 's/^exec pid=\([0-9]*\) .*/\1/p' "$TMPD/b")
check "both sessions saw their exec" sh -c "[ -n '$xa' ] && [ -n '$xb' ] && [ '$xa' != '$xb' ]"
check "A reports its denial" grep -q '^net_denied .*port=9' "$TMPD/a"
check "B reports no denial" sh -c "! grep -q '^net_denied' '$TMPD/b'"
check "B sees its fork" grep -q "^fork .*ppid=$xb" "$TMPD/b"
check "A sees no fork (B's is not A's)" sh -c "! grep -q '^fork' '$TMPD/a'"
check "A has no event of B's process" sh -c "! grep -q 'pid=$xb ' '$TMPD/a'"
check "B has no event of A's process" sh -c "! grep -q 'pid=$xa ' '$TMPD/b'"
check "both used the same pinned programs" sh -c "[ \"\$(sed -n 's/^pins //p' '$TMPD/a')\" = \"\$(sed -n 's/^pins //p' '$TMPD/b')\" ]"

# ---- a session's entries are gone after it ends ----
cgid=$(sed -n 's/^cgid //p' "$TMPD/a")
check "ended session: no sessions entry" sh -c "! bpftool map lookup pinned '$pins/sessions' key $(le64 "$cgid") >/dev/null 2>&1"
check "ended session: no lost counter" sh -c "! bpftool map lookup pinned '$pins/lostc' key $(le64 "$cgid") >/dev/null 2>&1"
eq "ended session: no rule node" 0 "$(count net4 key.sess "$cgid")"
eq "ended session: no exec announcement" 0 "$(count expect value.sess "$cgid")"
eq "ended session: its ring slot released" 0 "$(count slots value.pid "$pa")"
# the live check of the same helpers: a running session has its node and slot
"$T/bpf_guardrun" -d allow -r 'deny:10.0.0.0/8' -- /bin/sleep 2 > "$TMPD/r" 2>&1 &
pr=$!
wait_for '^exec ' "$TMPD/r"
rid=$(sed -n 's/^cgid //p' "$TMPD/r")
eq "running session: its rule node is in the shared trie" 1 "$(count net4 key.sess "$rid")"
eq "running session: its ring slot is claimed" 1 "$(count slots value.pid "$pr")"
wait $pr

# ---- a SIGKILLed supervisor: its entry stays while its cgroup has processes, and is swept
# by the next start once the cgroup is empty (or gone) ----
"$T/bpf_guardrun" -d deny -- /bin/sleep 30 > "$TMPD/k" 2>&1 &
pk=$!
wait_for '^exec ' "$TMPD/k"
kcg=$(sed -n 's/^cgroup //p' "$TMPD/k")
kid=$(sed -n 's/^cgid //p' "$TMPD/k")
check "killed supervisor: registered while running" has sessions "$kid"
kill -9 $pk; wait $pk 2>/dev/null
echo 1 > "$kcg/cgroup.kill"
i=0; while [ $i -lt 100 ] && ! grep -q 'populated 0' "$kcg/cgroup.events"; do sleep 0.05; i=$((i+1)); done
"$T/bpf_guardrun" -d allow -- /bin/true > /dev/null 2>&1
check "killed supervisor, empty cgroup: entry swept by the next start" sh -c "! bpftool map lookup pinned '$pins/sessions' key $(le64 "$kid") >/dev/null 2>&1"
eq "... and its ring slot released" 0 "$(count slots value.pid "$pk")"
rmdir "$kcg" 2>/dev/null

# ---- a pin that does not match this build is replaced, never used ----
rm -f "$pins/sessions"
bpftool map create "$pins/sessions" type hash key 8 value 8 entries 4 name sessions
"$T/bpf_guardrun" -d allow -- /bin/true > "$TMPD/m" 2>&1
eq "mismatched pin: the session still runs guarded" 0 $?
check "mismatched pin: exec verified" grep -q '^exec .*file=/bin/true why=0' "$TMPD/m"
vs=$(value_size "$pins/sessions")
check "mismatched pin: replaced by this build's map (value size $vs)" sh -c "[ -n '$vs' ] && [ '$vs' != 8 ]"
rm -f "$pins/link_exec"
"$T/bpf_guardrun" -d allow -- /bin/sh -c '/bin/true' > "$TMPD/m2" 2>&1
check "missing link: rebuilt, an unannounced exec is killed again" grep -q '^exec_killed .*file=/bin/true' "$TMPD/m2"
check "missing link: pinned again" test -e "$pins/link_exec"

# ---- another build's directory: unpinned once none of its sessions is left ----
mkdir "$cgroot/agentsh-pin-test-$$-dead" "$cgroot/agentsh-pin-test-$$-live"
dead=$(stat -c %i "$cgroot/agentsh-pin-test-$$-dead")
live=$(stat -c %i "$cgroot/agentsh-pin-test-$$-live")
rmdir "$cgroot/agentsh-pin-test-$$-dead"
for b in 00000000deadbeef:$dead 00000000cafef00d:$live; do
	d=$root/${b%%:*}
	mkdir "$d"
	bpftool map create "$d/sessions" type hash key 8 value 8 entries 4 name sessions
	bpftool map update pinned "$d/sessions" key $(le64 "${b#*:}") value 0 0 0 0 0 0 0 0
done
mkdir "$root/tmp-999999"
"$T/bpf_guardrun" -d allow -- /bin/true > /dev/null 2>&1
check "old build whose sessions are gone: unpinned" test ! -e "$root/00000000deadbeef"
check "old build with a live session: kept" test -e "$root/00000000cafef00d/sessions"
check "abandoned temporary directory: removed" test ! -e "$root/tmp-999999"
rmdir "$cgroot/agentsh-pin-test-$$-live"
"$T/bpf_guardrun" -d allow -- /bin/true > /dev/null 2>&1
check "old build unpinned once its last session's cgroup is gone" test ! -e "$root/00000000cafef00d"
check "this build's directory stays" test -e "$pins/sessions"
rm -rf "$root/00000000deadbeef" "$root/00000000cafef00d" "$root/tmp-999999"
done_testing
