#!/bin/sh
# bpf guard end to end through tests/tools/bpf_guardrun (a stand-in supervisor): events,
# kill of unannounced execs, network rules on real connects, doctor output, and what
# happens when the holder dies (network policy stays until the cgroup goes; its entry is
# swept by the next start).  The load-once pins themselves: tests/integration/bpf_pin.sh.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd python3 bpftool
T="$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools"
for t in bpf_guardrun bpf_doctor; do
	[ -x "$T/$t" ] || { echo "missing $T/$t: run make tools"; exit 1; }
done
"$T/bpf_doctor" > "$TMPD/doctor" 2>&1
rc=$?
[ $rc = 2 ] && skip_all "cannot probe eBPF here: $(cat "$TMPD/doctor")"
[ $rc = 1 ] && skip_all "the bpf guard cannot load on this kernel: $(grep '^NO' "$TMPD/doctor" | grep -v optional | head -n 3 | tr '\n' ';')"
check "doctor reports the exec hook" grep -q '^ok   raw_tp/sched_process_exec' "$TMPD/doctor"
check "doctor reports the connect hooks" grep -q '^ok   cgroup/connect6' "$TMPD/doctor"
check "doctor says whether BPF LSM loads" grep -q 'lsm/bprm_check_security' "$TMPD/doctor"

# built on this kernel, the guard loads with its embedded minimal BTF: the 5.5 MB kernel
# BTF is not read (it costs ~10 ms of CPU per load).  The pins are removed first so that
# this run loads (running sessions keep their fds; the next one pins again).
if command -v strace >/dev/null 2>&1; then
	pins=$("$T/bpf_guardrun" -d allow -- /bin/true 2>/dev/null | sed -n 's/^pins //p')
	case "$pins" in /sys/fs/bpf/agentsh/?*) rm -rf "$pins" ;; esac
	strace -f -e trace=openat -o "$TMPD/strace" "$T/bpf_guardrun" -d allow -- /bin/true >/dev/null 2>&1
	check "kernel BTF not parsed at load" sh -c "! grep -q 'btf/vmlinux' '$TMPD/strace'"
	check "minimal BTF used instead" grep -q 'proc/self/fd' "$TMPD/strace"
fi

# exec + exit events, the command's exit status passes through
"$T/bpf_guardrun" -d allow -- /bin/sh -c 'exit 3' > "$TMPD/a" 2>&1
eq "exit status of the command" 3 $?
check "exec event for /bin/sh" grep -q '^exec pid=[0-9]* ppid=[0-9]* comm=sh file=/bin/sh why=0' "$TMPD/a"
check "exit event with status 3" grep -q '^exit .* status=3' "$TMPD/a"

# an exec nobody announced is killed before it runs; the shell carries on
"$T/bpf_guardrun" -d allow -- /bin/sh -c "/bin/touch $TMPD/marker; echo after" > "$TMPD/b" 2>&1
eq "shell survives its killed child" 0 $?
check "unannounced exec reported killed (no entry)" grep -q '^exec_killed .*file=/bin/touch why=1' "$TMPD/b"
check "killed child exits by SIGKILL" grep -q '^exit .*comm=touch signal=9' "$TMPD/b"
check "the killed program never ran" test ! -e "$TMPD/marker"
check "the shell continued" grep -q '^after' "$TMPD/b"

# audit mode: reported, not killed
"$T/bpf_guardrun" -a -d allow -- /bin/sh -c "/bin/touch $TMPD/marker2" > "$TMPD/c" 2>&1
check "audit mode reports a mismatch" grep -q '^exec_mismatch .*file=/bin/touch' "$TMPD/c"
check "audit mode lets it run" test -e "$TMPD/marker2"

# network rules on real connects (closed ports: allowed = ECONNREFUSED, denied = EPERM)
cat > "$TMPD/conn.py" <<'PY'
import socket, errno, sys
for a, p in (("127.0.0.1", 9), ("127.0.0.1", 2000), ("::1", 2000), ("::ffff:127.0.0.1", 9)):
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
    r = s.connect_ex((a, p))
    print(a, p, errno.errorcode.get(r, r))
PY
"$T/bpf_guardrun" -d allow -r 'deny:127.0.0.0/8:1-1000' -r 'deny:[::1]/128' -- /usr/bin/python3 "$TMPD/conn.py" > "$TMPD/d" 2>&1
check "v4 CIDR + port range denied" grep -q '^127.0.0.1 9 EPERM' "$TMPD/d"
check "v4 outside the port range allowed" grep -q '^127.0.0.1 2000 ECONNREFUSED' "$TMPD/d"
check "v6 host rule denied" grep -q '^::1 2000 EPERM' "$TMPD/d"
check "v4-mapped decided by the v4 rule" grep -q '^::ffff:127.0.0.1 9 EPERM' "$TMPD/d"
check "denial event names address and rule" grep -q '^net_denied .*addr=127.0.0.1 port=9 proto=6 op=1 rule=0' "$TMPD/d"
/usr/bin/python3 "$TMPD/conn.py" > "$TMPD/e" 2>&1
check "outside the cgroup nothing is denied" sh -c "! grep -q EPERM '$TMPD/e'"

# normal exit removes the cgroup
cg=$(sed -n 's/^cgroup //p' "$TMPD/a")
check "cgroup removed after a normal run" test ! -e "$cg"

# the holder dies: the network programs stay on the cgroup (fail closed) until it is
# removed; the session's entry stays while its cgroup exists and is swept by the next start
cat > "$TMPD/late.py" <<PY
import socket, errno, os, time
while not os.path.exists("$TMPD/go"):
    time.sleep(0.02)
s = socket.socket()
r = s.connect_ex(("127.0.0.1", 2000))
open("$TMPD/late.out", "w").write(errno.errorcode.get(r, str(r)))
time.sleep(30)
PY
"$T/bpf_guardrun" -d deny -- /usr/bin/python3 "$TMPD/late.py" > "$TMPD/f" 2>&1 &
gr=$!
i=0; while [ $i -lt 100 ] && ! grep -q '^exec ' "$TMPD/f"; do sleep 0.05; i=$((i+1)); done
cg=$(sed -n 's/^cgroup //p' "$TMPD/f")
cgid=$(sed -n 's/^cgid //p' "$TMPD/f")
pins=$(sed -n 's/^pins //p' "$TMPD/f")
key=$(python3 -c "import struct,sys; print(' '.join(str(b) for b in struct.pack('<Q', int(sys.argv[1]))))" "$cgid")
check "guard attached to its cgroup" sh -c "bpftool cgroup show '$cg' | grep -q connect4"
check "session registered in the pinned map" sh -c "bpftool map lookup pinned '$pins/sessions' key $key >/dev/null 2>&1"
kill -9 $gr; wait $gr 2>/dev/null
touch "$TMPD/go"
i=0; while [ $i -lt 100 ] && [ ! -s "$TMPD/late.out" ]; do sleep 0.05; i=$((i+1)); done
eq "after the holder died, connect is still denied" EPERM "$(cat "$TMPD/late.out" 2>/dev/null)"
"$T/bpf_guardrun" -d allow -- /bin/true > /dev/null 2>&1
check "a live cgroup of a dead holder keeps its entry" sh -c "bpftool map lookup pinned '$pins/sessions' key $key >/dev/null 2>&1"
echo 1 > "$cg/cgroup.kill" 2>/dev/null
i=0; while [ $i -lt 100 ] && ! rmdir "$cg" 2>/dev/null; do sleep 0.05; i=$((i+1)); done
check "test cgroup removed (and its programs with it)" test ! -e "$cg"
"$T/bpf_guardrun" -d allow -- /bin/true > /dev/null 2>&1
check "the dead holder's entry is swept by the next start" sh -c "! bpftool map lookup pinned '$pins/sessions' key $key >/dev/null 2>&1"
done_testing
