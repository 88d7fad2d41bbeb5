#!/bin/sh
# san: yes
# Privilege split, with a real unprivileged account: the commands run with the
# account's uid/gid/groups and no_new_privs; nothing in the session can signal,
# ptrace or read the supervisor (root, non-dumpable) or its watchdog, gain root
# through a setuid binary, or signal pid 1.
. "$(dirname "$0")/../lib.sh"
need_root
T=${SURFACE_TOOLS:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools}
[ -x "$T/surface_run" ] || t_abort "surface tools not built (make tools)"
U=agentsh-enfpriv
G=agentsh-enfprivg
t_user $U || t_abort "cannot create test account $U"
groupadd -f $G && usermod -aG $G $U
trap 'userdel -r $U >/dev/null 2>&1; groupdel $G >/dev/null 2>&1; t_cleanup' EXIT
uid=$(id -u $U) gid=$(id -g $U) sg=$(getent group $G | cut -d: -f3)
W="$TMPD/w"; mkdir -m 777 "$W"
cp /usr/bin/id "$W/id-suid" && chmod 4755 "$W/id-suid"

# control: without the sandbox the setuid copy does give euid 0
eq "control: the setuid copy elevates outside the sandbox" 0 \
	"$(setpriv --reuid "$uid" --regid "$gid" --clear-groups "$W/id-suid" -u)"

# a process of the same account outside the session: only Landlock's signal
# scope stands between it and the session (no policy is loaded here)
setpriv --reuid "$uid" --regid "$gid" --clear-groups sleep 30 &
outside=$!
sleep 0.3   # let setpriv switch ids before the control
check "control: the account can signal its own process outside a session" \
	setpriv --reuid "$uid" --regid "$gid" --clear-groups kill -0 $outside

cat > "$W/probe.sh" <<'PROBE'
sleep 0.5
sup=$(cat "$1/sup.pid")
kill -0 "$2" 2>/dev/null && echo "ESCAPE signal same-uid outside" || echo "ok signal same-uid outside"
wd=$(ps -o pid= --ppid "$sup" | while read p; do [ "$(ps -o user= -p $p)" = root ] && echo $p; done | head -1)
echo "ids $(id -u) $(id -g) $(id -G | tr ' ' '\n' | sort -n | tr '\n' ' ')"
grep NoNewPrivs /proc/self/status
echo "suid $("$1/id-suid" -u)"
kill -0 "$sup" 2>/dev/null && echo "ESCAPE signal-0 supervisor" || echo "ok signal-0 supervisor"
kill -TERM "$sup" 2>/dev/null && echo "ESCAPE TERM supervisor" || echo "ok TERM supervisor"
kill -KILL "$wd" 2>/dev/null && echo "ESCAPE KILL watchdog" || echo "ok KILL watchdog ($wd)"
kill -TERM 1 2>/dev/null && echo "ESCAPE TERM pid1" || echo "ok TERM pid1"
cat "/proc/$sup/environ" >/dev/null 2>&1 && echo "ESCAPE read environ" || echo "ok read environ"
head -c 16 "/proc/$sup/mem" >/dev/null 2>&1 && echo "ESCAPE read mem" || echo "ok read mem"
ls "/proc/$sup/fd" >/dev/null 2>&1 && echo "ESCAPE list fds" || echo "ok list fds"
echo x >> /etc/passwd 2>/dev/null && echo "ESCAPE write /etc/passwd" || echo "ok write /etc/passwd"
PROBE
out=$(cd "$W" && "$T/surface_run" -u "$uid" -g "$gid" -G "$gid,$sg" -w "$W" -P "$W/sup.pid" -- /bin/sh "$W/probe.sh" "$W" "$outside" 2>&1)
kill $outside 2>/dev/null
printf '%s\n' "$out" | sed 's/^/# /'
want_groups=$(printf '%s\n' "$gid" "$sg" | sort -n | tr '\n' ' ')
eq "uid, gid and supplementary groups are the account's" "ids $uid $gid $want_groups" \
	"$(printf '%s\n' "$out" | grep '^ids ')"
eq "no_new_privs is set" "NoNewPrivs:	1" "$(printf '%s\n' "$out" | grep NoNewPrivs)"
eq "a setuid binary does not elevate" "suid $uid" "$(printf '%s\n' "$out" | grep '^suid ')"
for w in "signal same-uid outside" "signal-0 supervisor" "TERM supervisor" "KILL watchdog" "TERM pid1" "read environ" "read mem" \
	"list fds" "write /etc/passwd"; do
	check "refused: $w" sh -c "printf '%s\n' \"\$1\" | grep -q '^ok $w'" _ "$out"
done
check "no escape line" sh -c "! printf '%s\n' \"\$1\" | grep -q ESCAPE" _ "$out"

# The same reads through agentsh -c under the default policy, where the
# supervisor performs every open: the kernel lets a process into its own /proc
# entries whatever their mode, so the supervisor's walk must not lend that.
# fd 0 of the supervisor here is a file the account may read (the control).
[ -x "$AGENTSH" ] || t_abort "agentsh not built"
{
	mkdir -m 700 "$TMPD/audit" && chown root "$TMPD/audit"
	echo readable-by-all >"$W/stdin.txt" && chmod 644 "$W/stdin.txt"
	cat > "$W/proc.sh" <<'PROBE'
sup=$PPID
for f in fd fd/0 maps cwd/stdin.txt environ task/$sup/fd/0 task/$sup/maps; do
	head -c 1 "/proc/$sup/$f" >/dev/null 2>&1 && echo "ESCAPE $f" || echo "ok $f"
done
ls "/proc/$sup/fd" >/dev/null 2>&1 && echo "ESCAPE ls fd" || echo "ok ls fd"
head -c 1 "/proc/$sup/status" >/dev/null 2>&1 && echo "open status" || echo "closed status"
PROBE
	chmod 644 "$W/proc.sh"
	out=$(cd "$W" && AGENTSH_AUDIT_DB="$TMPD/audit/a.db" "$AGENTSH" --no-config --user $U -c "sh $W/proc.sh" <"$W/stdin.txt" 2>&1)
	printf '%s\n' "$out" | sed 's/^/# /'
	check "control: the account may read what the supervisor's fd 0 is" \
		setpriv --reuid "$uid" --regid "$gid" --clear-groups cat "$W/stdin.txt"
	for w in fd fd/0 maps cwd/stdin.txt environ "task/[0-9]*/fd/0" "task/[0-9]*/maps" "ls fd"; do
		check "agentsh -c: the supervisor's /proc/PID/$w is refused" sh -c "printf '%s\n' \"\$1\" | grep -q '^ok $w\$'" _ "$out"
	done
	check "agentsh -c: its status stays readable, as for any process" sh -c "printf '%s\n' \"\$1\" | grep -q '^open status'" _ "$out"
}

# A process of the same account outside agentsh (a tmux server, the human's
# login shell) holding a file the policy would refuse, since deleted: the
# kernel keeps a Landlock-sandboxed process out of such a process's fd/, cwd,
# maps and memory, and the supervisor's walk must not let it in by opening
# them itself.  Its own children stay open to it.
{
	echo outside-secret >"$W/held.txt" && chown "$uid:$gid" "$W/held.txt" && chmod 600 "$W/held.txt"
	setpriv --reuid "$uid" --regid "$gid" --clear-groups sh -c \
		"exec 7<'$W/held.txt'; rm -f '$W/held.txt'; cd '$W'; exec sleep 30" &
	held=$!
	sleep 0.3
	check "control: outside agentsh the account reads the held file through /proc/PID/fd/7" \
		sh -c "setpriv --reuid $uid --regid $gid --clear-groups cat /proc/$held/fd/7 | grep -q outside-secret"
	cat > "$W/outside.sh" <<'PROBE'
p=$1
for f in fd/7 fd maps environ cwd/proc.sh root/etc/hostname exe auxv task/$p/fd/7; do
	head -c 1 "/proc/$p/$f" >/dev/null 2>&1 && echo "ESCAPE $f" || echo "ok $f"
done
ls "/proc/$p/fd" >/dev/null 2>&1 && echo "ESCAPE ls fd" || echo "ok ls fd"
grep -q '^Name:' "/proc/$p/status" && echo "open status" || echo "closed status"
grep -q sleep "/proc/$p/cmdline" && echo "open cmdline" || echo "closed cmdline"
# openat2 with RESOLVE_* flags is resolved by the kernel in the supervisor:
# its procfs results must get the same treatment as the walk's
/usr/bin/python3 - "$p" <<'PY'
import ctypes, os, struct, sys
l = ctypes.CDLL(None, use_errno=True)
p = int(sys.argv[1])
d = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
def o2(base, path, res, flags=os.O_RDONLY):
    return l.syscall(437, base, path, struct.pack("QQQ", flags, 0, res), 24)
for res, name in ((1, "NO_XDEV"), (4, "NO_SYMLINKS"), (8, "BENEATH")):
    for what in (b"%d/task/%d/mem" % (p, p), b"%d/maps" % p, b"%d/fd/7" % p):
        fd = o2(d, what, res)
        print(("ESCAPE" if fd >= 0 else "ok") + " openat2 %s %s" % (name, what.decode().split("/", 1)[1]))
fd = o2(-100, b"/proc/%d/task/%d/mem" % (p, p), 4)
print(("ESCAPE" if fd >= 0 else "ok") + " openat2 absolute mem")
fd = o2(d, b"self/status", 1)
print("self is " + (os.pread(fd, 64, 0).decode().split("\n")[0].split("\t")[1] if fd >= 0 else "unreadable"))
PY
sleep 5 & c=$!
exec 8<"$0"
head -c 1 "/proc/$c/maps" >/dev/null 2>&1 && echo "open child maps" || echo "closed child maps"
ls "/proc/$c/fd" >/dev/null 2>&1 && echo "open child fd" || echo "closed child fd"
head -c 1 /proc/self/fd/8 >/dev/null 2>&1 && echo "open self fd" || echo "closed self fd"
kill $c
PROBE
	chmod 644 "$W/outside.sh"
	out=$(cd "$W" && AGENTSH_AUDIT_DB="$TMPD/audit/a.db" "$AGENTSH" --no-config --user $U -c "sh $W/outside.sh $held" </dev/null 2>&1)
	kill $held 2>/dev/null; wait $held 2>/dev/null
	printf '%s\n' "$out" | sed 's/^/# /'
	for w in fd/7 fd maps environ cwd/proc.sh root/etc/hostname exe auxv "task/[0-9]*/fd/7" "ls fd"; do
		check "agentsh -c: an outside process's /proc/PID/$w is refused" sh -c "printf '%s\n' \"\$1\" | grep -q '^ok $w\$'" _ "$out"
	done
	check "agentsh -c: one notice per refusal, naming the rule" \
		sh -c "[ \$(printf '%s\n' \"\$1\" | grep -c 'denied open /proc/$held/.*rule outside-process') -ge 9 ]" _ "$out"
	check "agentsh -c: the refusals are in the audit store" sh -c \
		"AGENTSH_AUDIT_DB='$TMPD/audit/a.db' '$AGENTSH' events query --type file --decision deny 2>/dev/null | grep -q outside-process"
	for w in NO_XDEV NO_SYMLINKS BENEATH; do for e in "task/[0-9]*/mem" maps fd/7; do
		check "agentsh -c: openat2 RESOLVE_$w of $e is refused" sh -c "printf '%s\n' \"\$1\" | grep -q '^ok openat2 $w $e\$'" _ "$out"
	done; done
	check "agentsh -c: openat2 of an absolute /proc/PID/task/TID/mem is refused" \
		sh -c "printf '%s\n' \"\$1\" | grep -q '^ok openat2 absolute mem\$'" _ "$out"
	eq "agentsh -c: openat2's /proc/self is the caller, not the supervisor" "self is python3" \
		"$(printf '%s\n' "$out" | grep '^self is ')"
	check "agentsh -c: the held file's content never reached the session" \
		sh -c "! printf '%s\n' \"\$1\" | grep -q outside-secret" _ "$out"
	for w in status cmdline "child maps" "child fd" "self fd"; do
		check "agentsh -c: /proc $w stays readable" sh -c "printf '%s\n' \"\$1\" | grep -q '^open $w\$'" _ "$out"
	done
}

# The supervisor opens files for the session with the account's file-system
# ids; no capability of its own may be in effect then, or the open (and the
# file's f_cred, which later checks consult) carries it.  CAP_SYSLOG opens
# /dev/kmsg despite dmesg_restrict.
{
	dr=$(cat /proc/sys/kernel/dmesg_restrict)
	echo 1 >/proc/sys/kernel/dmesg_restrict
	check "control: root reads the kernel log" sh -c "dmesg | head -1 | grep -q ."
	check "control: the account outside agentsh cannot (dmesg_restrict)" \
		sh -c "! setpriv --reuid $uid --regid $gid --clear-groups dmesg >/dev/null 2>&1"
	out=$(cd "$W" && AGENTSH_AUDIT_DB="$TMPD/audit/a.db" "$AGENTSH" --no-config --user $U -c \
		'dmesg >/dev/null 2>&1 && echo "ESCAPE dmesg" || echo "ok dmesg"; exec 3</dev/kmsg && echo "ESCAPE kmsg" || echo "ok kmsg"' </dev/null 2>&1)
	echo "$dr" >/proc/sys/kernel/dmesg_restrict
	printf '%s\n' "$out" | sed 's/^/# /'
	check "agentsh -c: dmesg is refused as outside agentsh" sh -c "printf '%s\n' \"\$1\" | grep -q '^ok dmesg\$'" _ "$out"
	check "agentsh -c: /dev/kmsg does not open" sh -c "printf '%s\n' \"\$1\" | grep -q '^ok kmsg\$'" _ "$out"
}

# The supervisor opens files with the account's *effective* ids too, not
# only its file-system ids: a file keeps its opener's credentials (f_cred)
# and later checks consult them.  A cgroup v1 `tasks` file the account may
# write (a delegated hierarchy) moves only the account's processes; opened
# with euid 0 it moved any process, a root one too.  And a root-only sysctl
# is refused at the open, as outside agentsh (euid 0 passed the open, the
# read then failed with another errno).
{
	CG=
	for h in pids cpu memory; do
		grep -q " /sys/fs/cgroup/$h cgroup " /proc/mounts && CG=/sys/fs/cgroup/$h && break
	done
	if [ -z "$CG" ]; then
		ok "# SKIP cgroup v1 tasks: no v1 hierarchy on this host (f_cred is checked by v1 only)"
	else
		D="$CG/agentsh-priv-$$"
		mkdir "$D" && chown -R $U "$D"
		sleep 300 & victim=$!
		cat >"$TMPD/cgv1.yaml" <<YEOF
version: 1
name: cgv1-test
file_rules:
  - name: audit-cgroup-writes
    paths: ["$D/**"]
    operations: [write]
    decision: audit
  - name: all
    paths: ["/**"]
    operations: ["*"]
    decision: allow
command_rules:
  - name: all
    commands: ["*"]
    decision: allow
YEOF
		native=$(setpriv --reuid $uid --regid $gid --clear-groups bash -c "echo $victim >$D/tasks" 2>&1)
		check "control: outside agentsh the account cannot move root's process" \
			sh -c "printf '%s' \"\$1\" | grep -q 'Permission denied'" _ "$native"
		out=$(cd "$W" && AGENTSH_AUDIT_DB="$TMPD/audit/a.db" "$AGENTSH" --no-config --policy "$TMPD/cgv1.yaml" \
			--user $U -c "echo $victim >$D/tasks; echo \$\$ >$D/tasks && echo moved-self" </dev/null 2>&1)
		printf '%s\n' "$out" | sed 's/^/# /'
		check "agentsh -c: a delegated v1 tasks file does not move root's process" \
			sh -c "! grep -qx $victim $D/tasks"
		check "agentsh -c: ... and the refusal is the kernel's EACCES" \
			sh -c "printf '%s' \"\$1\" | grep -q 'Permission denied'" _ "$out"
		check "agentsh -c: ... while the account's own process moves" \
			sh -c "printf '%s' \"\$1\" | grep -q '^moved-self'" _ "$out"
		kill $victim 2>/dev/null
		for t in $(cat "$D/tasks" 2>/dev/null); do echo "$t" >"$CG/tasks" 2>/dev/null; done
		wait $victim 2>/dev/null
		rmdir "$D"
	fi
	out=$(cd "$W" && AGENTSH_AUDIT_DB="$TMPD/audit/a.db" "$AGENTSH" --no-config --user $U -c \
		'cat /proc/sys/kernel/cad_pid' </dev/null 2>&1)
	check "agentsh -c: a root-only sysctl is refused at the open (EACCES, as outside agentsh)" \
		sh -c "printf '%s' \"\$1\" | grep -q 'cad_pid: Permission denied'" _ "$out"
}

# A process that made itself non-dumpable (ssh-agent, gpg-agent do) may read
# its own memory map; no other process of the account may: the kernel's
# ptrace check.  The supervisor opens /proc for the session, so it must lend
# CAP_SYS_PTRACE exactly where the caller itself would pass that check.
{
	cat >"$TMPD/nodump.py" <<'PYEOF'
import ctypes, os, sys, time
libc = ctypes.CDLL(None)
r, w = os.pipe()
kid = os.fork()
if kid == 0:
    libc.prctl(4, 0, 0, 0, 0)        # PR_SET_DUMPABLE 0
    os.write(w, b"x"); time.sleep(30); os._exit(0)
os.read(r, 1)
for who, path in (("sibling", "/proc/%d/maps" % kid), ("self", "/proc/self/maps")):
    if who == "self":
        libc.prctl(4, 0, 0, 0, 0)
    try:
        os.close(os.open(path, os.O_RDONLY)); print("open", who)
    except OSError as e:
        print("refused", who, e.errno)
os.kill(kid, 9)
PYEOF
	chmod 644 "$TMPD/nodump.py"
	native=$(setpriv --reuid $uid --regid $gid --clear-groups /usr/bin/python3 "$TMPD/nodump.py" 2>&1)
	eq "control: outside agentsh, a non-dumpable sibling's maps are refused, its own open" \
		"refused sibling 13 open self" "$(printf '%s\n' "$native" | tr '\n' ' ' | sed 's/ $//')"
	out=$(cd "$W" && AGENTSH_AUDIT_DB="$TMPD/audit/a.db" "$AGENTSH" --no-config --user $U -c \
		"/usr/bin/python3 $TMPD/nodump.py" </dev/null 2>&1)
	eq "agentsh -c: the same answers for /proc/PID/maps of a non-dumpable process" \
		"$native" "$(printf '%s\n' "$out" | grep -E '^(open|refused) ')"
}

# installed setuid root: the split happens at once; the invoking account cannot
# signal or read the supervisor, and the account it will run as is the invoker
if [ -x "$T/surface_suid" ]; then
	cp "$T/surface_suid" "$W/suid" && chown root:root "$W/suid" && chmod 4755 "$W/suid"
	eq "setuid: fully root, non-dumpable, the invoker recorded" \
		"mode=2 invoker=$uid uids=0,0,0 dumpable=0" \
		"$(setpriv --reuid "$uid" --regid "$gid" --clear-groups "$W/suid")"
	setpriv --reuid "$uid" --regid "$gid" --clear-groups "$W/suid" 5 >/dev/null &
	sp=$!
	sleep 0.5
	check "setuid: the invoking account cannot signal it" \
		sh -c "! setpriv --reuid $uid --regid $gid --clear-groups kill -0 $sp 2>/dev/null"
	check "setuid: the invoking account cannot read its environment" \
		sh -c "! setpriv --reuid $uid --regid $gid --clear-groups cat /proc/$sp/environ >/dev/null 2>&1"
	kill $sp 2>/dev/null; wait $sp 2>/dev/null
	# control: a setuid-root program that does not split can be signalled
	cp /bin/sleep "$W/sleep-suid" && chmod 4755 "$W/sleep-suid"
	setpriv --reuid "$uid" --regid "$gid" --clear-groups "$W/sleep-suid" 5 &
	cp_=$!
	sleep 0.3
	check "control: a setuid program without the split can be signalled by the account" \
		setpriv --reuid "$uid" --regid "$gid" --clear-groups kill -0 $cp_
	kill $cp_ 2>/dev/null; wait $cp_ 2>/dev/null
	eq "started by root: root mode, stays root" "mode=1 invoker=0 uids=0,0,0 dumpable=0" "$("$W/suid")"
	eq "no privilege: reduced mode" "mode=0 invoker=$uid uids=$uid,$uid,$uid dumpable=1" \
		"$(setpriv --reuid "$uid" --regid "$gid" --clear-groups "$T/surface_suid")"
fi
done_testing
