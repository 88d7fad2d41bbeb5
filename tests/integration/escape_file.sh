#!/bin/sh
# san: yes
# File escapes through `agentsh -c` as a real account under
# tests/data/escape-strict.yaml.  Two protected targets, every route tried on
# both:
#  - WS/data/key.secret, denied by a glob rule only the seccomp supervisor can
#    decide: it must stay untouched AND each refusal must be in the audit store;
#  - WS/secret/key, a literal path the kernel floor (mount/Landlock) may carry
#    before any notification: it must stay untouched.
# Soft delete goes to the trash and comes back with `agentsh trash restore`.
. "$(dirname "$0")/../lib.sh"
need_root
[ -x "$AGENTSH" ] || t_abort "agentsh not built"
U=agentsh-escfile
t_user $U || t_abort "cannot create test account $U"
trap 'userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
WS="$TMPD/ws"
mkdir -p "$WS/secret" "$WS/trash" "$WS/sub" "$WS/data" && chmod 755 "$TMPD"
echo SECRET >"$WS/secret/key"
echo SECRET >"$WS/data/key.secret"
MT=1000000000   # the targets' mtime: a timestamp change is a change too
touch -d @$MT "$WS/secret/key" "$WS/data/key.secret"
echo victim >"$WS/victim"
chown -R $U "$WS"
POL="$TMPD/escape.yaml"
sed "s|@WS@|$WS|g" "$AGENTSH_SRC/tests/data/escape-strict.yaml" >"$POL"
mkdir -m 700 "$TMPD/audit" "$TMPD/trash"
export AGENTSH_AUDIT_DB="$TMPD/audit/audit.db"

run() { (cd "$WS" && "$AGENTSH" --no-config --policy "$POL" --user $U -c "$1" 2>&1); }
(cd "$WS" && "$AGENTSH" --no-config --policy "$POL" --user $U -c true) >/dev/null 2>&1 ||
	t_abort "agentsh -c --user cannot run a sandboxed command here: $(run true | head -3)"
fdenies() { "$AGENTSH" events query --type file --decision deny --limit 100000 2>/dev/null | grep -c . ; }
PY=/usr/bin/python3

intact() { # FILE
	[ "$(cat "$1" 2>/dev/null)" = SECRET ] && [ "$(ls "$(dirname "$1")")" = "$(basename "$1")" ] &&
	[ "$(stat -c %a "$1")" = 644 ] && [ "$(stat -c %Y "$1")" = $MT ] &&
	[ ! -e "$WS/stolen" ] && [ ! -e "$WS/hl" ]
}
restore() { # FILE
	d=$(dirname "$1"); find "$d" -mindepth 1 ! -name "$(basename "$1")" -exec rm -rf {} + 2>/dev/null
	echo SECRET >"$1"; chmod 644 "$1"; chown $U "$1"; touch -d @$MT "$1"
	rm -rf "$WS/stolen" "$WS/hl" "$WS/innocent"
	echo victim >"$WS/victim"; chown $U "$WS/victim"
}

attempt() { # NAME CMD: once on each target
	for K in "$WS/data/key.secret" "$WS/secret/key"; do
		D=$(dirname "$K")
		R=${K#"$WS"}     # K relative to WS, for the ".." cases
		RD=${D#"$WS"}
		cmd=$(printf '%s' "$2" | sed "s|%K%-REL|$R|g; s|%D%-REL|$RD|g; s|%K%|$K|g; s|%D%|$D|g; s|%W%|$WS|g; s|%P%|$PY|g")
		before=$(fdenies)
		out=$(run "$cmd")
		after=$(fdenies)
		if intact "$K"; then ok "$1 ($K): untouched"; else
			nok "$1 ($K): changed"; printf '%s\n' "$out" | sed 's/^/#   /'
		fi
		restore "$K"
		case $K in *.secret) check "$1: audited as a file deny" [ "$after" -gt "$before" ];; esac
	done
}

while IFS='|' read -r name cmd; do
	[ -n "$name" ] || continue
	attempt "$name" "$cmd"
done <<'EOF'
write|echo pwned > %K%
append|echo pwned >> %K%
read|cat %K%
read, relative|cd %D% && cat ./$(basename %K%) | grep -q SECRET && echo pwned > %W%/stolen
read, relative with ..|cd %W%/sub && cat ..%K%-REL | grep -q SECRET && echo pwned > %W%/stolen
read, .. above the root|cat /../..%K% | grep -q SECRET && echo pwned > %W%/stolen
read through an absolute symlink|ln -s %K% %W%/innocent; cat %W%/innocent | grep -q SECRET && echo pwned > %W%/stolen
read through a relative symlink|cd %W%/sub && ln -sfn ..%D%-REL rel && cat rel/$(basename %K%) | grep -q SECRET && echo pwned > %W%/stolen
.. traversal|echo pwned > %W%/sub/..%K%-REL
/proc/self/root|echo pwned > /proc/self/root%K%
/proc/self/cwd|cd %W%/sub && echo pwned > /proc/self/cwd/..%K%-REL
symlink then write|ln -s %K% %W%/innocent; echo pwned > %W%/innocent
symlink into it|ln -s /etc/passwd %D%/evil.secret
rename out|mv %K% %W%/stolen
rename over|mv %W%/victim %K%
move an ancestor directory|mv %W% %W%-moved; mv %W%-moved %W% 2>/dev/null
RENAME_EXCHANGE|%P% -c 'import ctypes,os; l=ctypes.CDLL(None,use_errno=True); r=l.renameat2(-100,b"%W%/victim",-100,b"%K%",2); print(r, os.strerror(ctypes.get_errno()))'
hard link out|ln %K% %W%/hl && echo pwned > %W%/hl
unlink|rm -f %K%
rm -r|rm -rf %D%
mkdir inside|mkdir %D%/d.secret
truncate|truncate -s 0 %K%
chmod|chmod 666 %K%
chmod (python)|%P% -c 'import os; os.chmod("%K%", 0o666)'
openat2|%P% -c 'import ctypes,os; l=ctypes.CDLL(None,use_errno=True); how=(ctypes.c_uint64*3)(os.O_WRONLY|os.O_TRUNC,0,0); print(l.syscall(437,-100,b"%K%",how,24))'
O_TMPFILE + linkat|%P% -c 'import os; f=os.open("%W%", os.O_TMPFILE|os.O_WRONLY, 0o644); os.write(f,b"x"); os.link("/proc/self/fd/%d"%f, "%D%/new.secret")'
setxattr|%P% -c 'import os; os.setxattr("%K%", "user.x", b"1")'
mknod fifo|mkfifo %D%/fifo.secret
touch -d (utimensat)|touch -d 2001-01-01 %K%
touch -h (utimensat, no follow)|touch -h -d 2001-01-01 %K%
touch through a symlink|ln -s %K% %W%/innocent; touch -d 2001-01-01 %W%/innocent
utime (python, now)|%P% -c 'import os; os.utime("%K%")'
utime raw syscall|%P% -c 'import ctypes; print(ctypes.CDLL(None).syscall(132, b"%K%", None))'
utimes raw syscall|%P% -c 'import ctypes; print(ctypes.CDLL(None).syscall(235, b"%K%", None))'
futimesat raw syscall|%P% -c 'import ctypes; print(ctypes.CDLL(None).syscall(261, -100, b"%K%", None))'
EOF

# futimens on a descriptor agentsh was handed (the harness's stdin): decided
# by the file's path, like fchmod
K="$WS/data/key.secret"
out=$(cd "$WS" && "$AGENTSH" --no-config --policy "$POL" --user $U -c \
	"$PY -c 'import os; os.utime(0, (1, 1))'" <"$K" 2>&1)
eq "futimens on stdin: the mtime stays" $MT "$(stat -c %Y "$K")"
check "futimens on stdin: the notice names the rule" \
	sh -c "printf '%s' \"\$1\" | grep -q 'denied utimes .*deny-secret-files'" _ "$out"
restore "$K"
# allowed timestamp changes work, on paths and descriptors
echo t >"$WS/times.txt"; chown $U "$WS/times.txt"
out=$(run "touch -d @1234567890 $WS/times.txt && $PY -c 'import os; f=os.open(\"$WS/times.txt\", os.O_RDONLY); os.utime(f, ns=(5, 987654321000))' && stat -c %Y $WS/times.txt")
eq "allowed: touch then futimens set the mtime" 987 "$(printf '%s\n' "$out" | tail -1)"
out=$(run "$PY -c 'import os; f=os.open(\"$WS/times.txt\", os.O_PATH); os.utime(f, (1, 1))' 2>&1 | tail -1")
check "futimens on an O_PATH descriptor: EBADF as from the kernel" \
	sh -c "printf '%s' \"\$1\" | grep -q 'Bad file descriptor'" _ "$out"

# (f)truncate is performed by the supervisor: as the account, not as root.
# The account's RLIMIT_FSIZE holds (EFBIG, and SIGXFSZ kills an unprepared
# process), and a set-user-ID bit is cleared as the kernel clears it for a
# writer without CAP_FSETID.
cat >"$TMPD/grow.py" <<'PYEOF'
import os, resource, signal, sys
path, how, ign = sys.argv[1], sys.argv[2], sys.argv[3] == "ignore"
# python ignores SIGXFSZ unless told otherwise
signal.signal(signal.SIGXFSZ, signal.SIG_IGN if ign else signal.SIG_DFL)
f = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    if how == "fd":
        os.ftruncate(f, 1 << 20)
    else:
        os.truncate(path, 1 << 20)
    print("grew")
except OSError as e:
    print("errno", e.errno)
PYEOF
chmod 644 "$TMPD/grow.py"
for how in fd path; do
	rm -f "$WS/grow"
	out=$(run "$PY $TMPD/grow.py $WS/grow $how ignore" | tail -1)
	eq "$how truncate past the account's RLIMIT_FSIZE: EFBIG" "errno 27" "$out"
	check "$how truncate past RLIMIT_FSIZE: no denial notice (the rule allowed it)" \
		sh -c "! grep -q denied" <<EOF
$(run "$PY $TMPD/grow.py $WS/grow $how ignore")
EOF
	eq "$how truncate past RLIMIT_FSIZE: the file did not grow" 0 "$(stat -c %s "$WS/grow")"
done
out=$(run "$PY $TMPD/grow.py $WS/grow fd keep; echo rc=\$?" | tail -1)
eq "ftruncate past RLIMIT_FSIZE: SIGXFSZ reaches the caller" "rc=153" "$out"
echo x >"$WS/suid"; chown $U "$WS/suid"; chmod 4755 "$WS/suid"
run "$PY -c 'import os; os.ftruncate(os.open(\"$WS/suid\", os.O_WRONLY), 0)'" >/dev/null
eq "ftruncate clears the set-user-ID bit of the account's file" "755 0" "$(stat -c '%a %s' "$WS/suid")"

# soft delete: the file goes to the trash, the agent sees it gone, restore works
echo precious >"$WS/trash/doc.txt"; chown $U "$WS/trash/doc.txt"
out=$(run "rm $WS/trash/doc.txt && test ! -e $WS/trash/doc.txt && echo gone")
check "soft delete: the file is gone for the agent" sh -c "printf '%s' \"$out\" | grep -q gone"
check "soft delete: notice names the restore command" sh -c "printf '%s' \"$out\" | grep -q 'agentsh trash restore'"
tok=$(printf '%s' "$out" | tr -d "\r" | sed -n "s/.*agentsh trash restore \([^ ]*\).*/\1/p" | head -1)
check "soft delete: listed in the trash" sh -c "'$AGENTSH' trash list | grep -q '$WS/trash/doc.txt'"
rout=$("$AGENTSH" trash restore "$tok" 2>&1)
eq "soft delete: restored" precious "$(cat "$WS/trash/doc.txt" 2>/dev/null)"
[ "$(cat "$WS/trash/doc.txt" 2>/dev/null)" = precious ] || printf '#   token %s: %s\n' "$tok" "$rout"

# Root's restore follows no symbolic link put on the way since the delete:
# the agent turns the file's directory into a link to a root-owned directory
# (think /etc/profile.d, which root's next login shell runs) and waits for
# root to restore the file.
RD="$TMPD/rootdir"; mkdir -m 755 "$RD"
mkdir "$WS/trash/d" && echo 'echo pwned' >"$WS/trash/d/zz.sh" && chown -R $U "$WS/trash/d"
out=$(run "rm $WS/trash/d/zz.sh && mv $WS/trash/d $WS/trash/d.old && ln -s $RD $WS/trash/d")
tok=$(printf '%s' "$out" | tr -d "\r" | sed -n "s/.*agentsh trash restore \([^ ]*\).*/\1/p" | head -1)
rout=$("$AGENTSH" trash restore "$tok" 2>&1); rc=$?
check "restore through a planted symlink: refused (rc=$rc)" sh -c "[ $rc -ne 0 ] && [ -n '$tok' ]"
check "  nothing landed in the root-owned directory" [ ! -e "$RD/zz.sh" ]
check "  the message says why" sh -c "printf '%s' \"\$1\" | grep -q 'symbolic link'" _ "$rout"
check "  the entry is still in the trash" sh -c "'$AGENTSH' trash list | grep -q '$tok'"
rm "$WS/trash/d" && mv "$WS/trash/d.old" "$WS/trash/d"
"$AGENTSH" trash restore "$tok" >/dev/null 2>&1
eq "  restored once the path is a directory again" "echo pwned" "$(cat "$WS/trash/d/zz.sh" 2>/dev/null)"

# allowed file work is done with the account's identity
out=$(run "echo mine > $WS/mine.txt; mkdir $WS/d2; mv $WS/mine.txt $WS/d2/; ln -s d2 $WS/sl; rm $WS/sl")
[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/#   /'
eq "allowed file operations work" "mine" "$(cat "$WS/d2/mine.txt" 2>/dev/null)"
eq "created files belong to the account" "$U" "$(stat -c %U "$WS/d2/mine.txt" 2>/dev/null)"

# `mkdir -p` of an absolute path tries every ancestor; under the embedded
# default policy /tmp itself is outside every rule (default deny), but it
# exists, so the answer is EEXIST as without agentsh: no "denied" notice and
# nothing blocked in the --json result
drun() { (cd "$WS" && "$AGENTSH" --no-config --user $U -c "$@" 2>&1); }
out=$(drun "mkdir -p $WS/deep/er && ln -s x $WS/victim; echo rc=\$?")
eq "mkdir -p: works, nothing denied" "rc=1" "$(printf '%s\n' "$out" | grep -v 'File exists' | tr -d '\r')"
check "mkdir -p: the directory exists" test -d "$WS/deep/er"
js=$(cd "$WS" && "$AGENTSH" --no-config --user $U -c --json "mkdir -p $WS/deep2/x" 2>/dev/null)
check "mkdir -p --json: not blocked" sh -c "printf '%s' '$js' | $PY -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d[\"exit_code\"] != 0 or d[\"guidance\"][\"blocked\"])'"
# (in the account's home: its own directory, which only the policy refuses)
H=$(getent passwd $U | cut -d: -f6)
out=$(drun "mkdir $H/agentsh-never; echo rc=\$?")
check "mkdir of a new directory outside the rules: still denied" sh -c "printf '%s' '$out' | grep -q 'denied mkdir $H/agentsh-never' && printf '%s' '$out' | grep -q rc=1 && test ! -e $H/agentsh-never"

# A denial notice names the path the sandbox chose.  Escape sequences and a
# newline in it must not reach the terminal through agentsh's own line (a
# clipboard write, a cursor move, a forged second "agentsh:" line): they are
# shown as \xNN, on one line.  The audit record keeps the path as it is.
out=$(run "d=\$(printf 'n\\033]52;c;Zm9v\\007\\nagentsh: approved'); mkdir -p \"\$d\"; echo x > \"\$d/key.secret\"" 2>&1)
line=$(printf '%s\n' "$out" | grep -a 'denied' | head -1)
check "notice: the path's ESC, BEL and newline are shown as \\xNN" sh -c 'printf "%s" "$1" | grep -qF "n\\x1b]52;c;Zm9v\\x07\\x0aagentsh: approved/key.secret"' _ "$line"
check "notice: no raw control byte in agentsh's line" sh -c '! printf "%s" "$1" | grep -q "$(printf "\033\\|\007")"' _ "$line"
# (the command's own stderr, from the sandbox, says what it likes: not counted)
eq "notice: not split into a second agentsh line" 0 "$(printf '%s\n' "$out" | grep -c '^agentsh: approved/key.secret (rule')"
# the same name in `agentsh trash list` and `trash purge`, which a person runs
hostile=$(printf 'h\033]52;c;Zm9v\007x')
echo doomed >"$WS/trash/$hostile"; chown $U "$WS/trash/$hostile"
out=$(run "rm ./trash/h*x")
tok=$(printf '%s' "$out" | tr -d "\r" | sed -n "s/.*agentsh trash restore \([^ ]*\).*/\1/p" | head -1)
listed=$("$AGENTSH" trash list | grep -a "$tok")
check "trash list: the name is shown as \\xNN" sh -c 'printf "%s" "$1" | grep -qF "/trash/h\\x1b]52;c;Zm9v\\x07x"' _ "$listed"
check "trash list: no raw ESC or BEL" sh -c '[ -n "$1" ] && ! printf "%s" "$1" | grep -q "$(printf "\033\\|\007")"' _ "$listed"
purged=$("$AGENTSH" trash purge "$tok" 2>&1)
check "trash purge: the name is shown as \\xNN" sh -c 'printf "%s" "$1" | grep -qF "h\\x1b]52;c;Zm9v\\x07x" && ! printf "%s" "$1" | grep -q "$(printf "\033")"' _ "$purged"
done_testing
