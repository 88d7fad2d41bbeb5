#!/bin/sh
# agentsh started inside one of its own sessions.  $SHELL is agentsh there, so
# script, tmux, screen and editors' shell escapes run it in the sandbox; it
# must hand the language to the delegate shell, still confined, instead of
# failing (it has no privilege to build a sandbox, and needs none).
#
# Normal build only: the sanitizer build cannot run inside a sandbox at all
# (LeakSanitizer ptraces the process at exit and ASan reads
# /proc/self/environ, both refused by the session, as they must be).
. "$(dirname "$0")/../lib.sh"
need_root
[ -x "$AGENTSH" ] || t_abort "agentsh not built"
need_cmd script tmux
U=agsh_nested
t_user $U || t_abort "cannot create test account $U"
trap 'userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
H=$(getent passwd $U | cut -d: -f6)
[ -d "$H" ] || t_abort "account $U has no home directory"
WS="$H/work"
mkdir -p "$WS" && chown $U "$WS"
mkdir -m 700 "$TMPD/audit"
export AGENTSH_AUDIT_DB="$TMPD/audit/audit.db"
run() { (cd "$WS" && "$AGENTSH" --no-config --user $U -c "$1" 2>"$TMPD/err"); }
no_denial() { # what
	if grep -q 'agentsh: denied' "$TMPD/err"; then
		nok "$1: no denial"; sed 's/^/#   /' "$TMPD/err"
	else
		ok "$1: no denial"
	fi
}

out=$(run 'echo "$SHELL"')
eq "\$SHELL in a session is agentsh" "$AGENTSH" "$out"

out=$(run 'script -qc "echo in-script" /dev/null | tr -d "\r"; $SHELL -c "echo nested \$0 \$1" name arg')
eq "script and \$SHELL -c inside the session" "in-script
nested name arg" "$out"
no_denial "script, \$SHELL -c"

out=$(run 'echo "echo from-stdin" | $SHELL')
eq "commands on stdin of a nested agentsh" "from-stdin" "$out"

S=/tmp/agsh-nested-$$.sock
out=$(run "tmux -S $S new-session -d -s in && tmux -S $S send-keys -t in 'echo tmux-\$((6*7))' Enter &&
	sleep 1 && tmux -S $S capture-pane -pt in | grep -x tmux-42; tmux -S $S kill-server")
eq "tmux inside the session starts a shell in its pane" "tmux-42" "$out"
no_denial "tmux"

out=$(run '$SHELL --json -c true; echo rc=$?')
eq "a nested agentsh cannot start another session (--json)" "rc=2" "$out"
check "  and says why" grep -q 'already inside an agentsh session' "$TMPD/err"
out=$(run '$SHELL --user root -c id; echo rc=$?')
eq "  nor take --user" "rc=2" "$out"

out=$(run '$SHELL policy check file read ~/.ssh/id_rsa | head -1; $SHELL doctor; echo rc=$?')
case "$out" in *deny*deny-credentials*rc=2) ok "inside: policy inspection works, doctor points outside" ;;
	*) nok "inside: policy inspection works, doctor points outside"; printf '#   %s\n' "$out" ;; esac
check "  doctor's probes were not run (no denial notices)" sh -c "! grep -q 'agentsh: denied' '$TMPD/err'"

# still the same sandbox
printf 'SECRET=1\n' >"$WS/.env"; chown $U "$WS/.env"
out=$(run '$SHELL -c "cat .env; grep NoNewPrivs /proc/self/status; echo x > /etc/agsh-nested"; echo rc=$?')
eq "a nested agentsh is still sandboxed (.env, no_new_privs, /etc)" "NoNewPrivs:	1
rc=1" "$out"
check "  the secret was refused by its rule" grep -q 'deny-secret-files' "$TMPD/err"
check "  and /etc is unchanged" test ! -e /etc/agsh-nested

# outside a session, a process that shows both signs it can set itself (no
# no_new_privs and a seccomp filter) is still no session: agentsh builds one
cat > "$TMPD/confine.py" <<'PY'
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(38, 1, 0, 0, 0) != 0:                     # PR_SET_NO_NEW_PRIVS
    sys.exit(3)
prog = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0x7fff0000))  # RET ALLOW
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fp = Fprog(1, ctypes.addressof(prog))
if libc.prctl(22, 2, ctypes.byref(fp), 0, 0) != 0:      # PR_SET_SECCOMP, FILTER
    sys.exit(4)
st = open("/proc/self/status").read()
if "NoNewPrivs:\t1\n" not in st or "Seccomp:\t2\n" not in st:
    sys.exit(5)
os.execv(sys.argv[1], sys.argv[1:])
PY
out=$(cd "$WS" && python3 "$TMPD/confine.py" "$AGENTSH" --no-config --user $U \
	-c 'grep -c "^0::/agentsh/" /proc/self/cgroup' 2>"$TMPD/err")
eq "no_new_privs and a seccomp filter outside a session: a new session is built" "1" "$out"
done_testing
