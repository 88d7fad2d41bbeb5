#!/bin/sh
# san: yes
# Signals through `agentsh -c` as a real account under
# tests/data/escape-strict.yaml: kill, tgkill and pidfd_send_signal to the
# supervisor, to PID 1 and to a process of the same account outside the
# session are refused and audited; a KILL→TERM redirect delivers TERM.
. "$(dirname "$0")/../lib.sh"
U=agentsh-escsig
POL="$TMPD/escape.yaml"
sed "s|@WS@|$TMPD/ws|g" "$AGENTSH_SRC/tests/data/escape-strict.yaml" >"$POL"
t_session_account $U "$POL"

# a process of the same account, outside the session
setpriv --reuid $U --regid "$(id -g $U)" --init-groups sleep 300 &
OUT=$!
trap 'kill $OUT 2>/dev/null; userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
sleep 0.2
sdenies() { "$AGENTSH" events query --type signal --decision deny --limit 100000 2>/dev/null | grep -c . ; }
PY=/usr/bin/python3

refused() { # NAME CMD: prints "rc=<n>" ; must fail with EPERM and be audited
	before=$(sdenies)
	out=$(run "$2")
	after=$(sdenies)
	if printf '%s' "$out" | grep -q 'DELIVERED'; then nok "$1: delivered"; printf '%s\n' "$out" | sed 's/^/#   /'
	else ok "$1: refused"; fi
	check "$1: audited as a signal deny" [ "$after" -gt "$before" ]
}

# the supervisor is agentsh itself: the delegate's parent
refused "kill supervisor" 'kill -TERM $PPID && echo DELIVERED'
refused "tgkill supervisor" "$PY -c 'import os,signal; signal.pthread_kill and os.kill(os.getppid(), 0); import ctypes; l=ctypes.CDLL(None,use_errno=True); p=os.getppid(); print(\"DELIVERED\" if l.syscall(234,p,p,15)==0 else \"refused\")'"
refused "pidfd supervisor" "$PY -c 'import os,signal; f=os.pidfd_open(os.getppid()); signal.pidfd_send_signal(f, signal.SIGTERM); print(\"DELIVERED\")'"
refused "kill pid 1" 'kill -TERM 1 && echo DELIVERED'
refused "tgkill pid 1" "$PY -c 'import ctypes; l=ctypes.CDLL(None,use_errno=True); print(\"DELIVERED\" if l.syscall(234,1,1,15)==0 else \"refused\")'"
refused "kill outside process" "kill -TERM $OUT && echo DELIVERED"
refused "kill -9 outside process" "kill -KILL $OUT && echo DELIVERED"
refused "pidfd outside process" "$PY -c 'import os,signal; f=os.pidfd_open($OUT); signal.pidfd_send_signal(f, signal.SIGKILL); print(\"DELIVERED\")'"
refused "sigqueue outside process" "$PY -c 'import signal; signal.sigqueue and None' 2>/dev/null; $PY -c 'import os,signal,ctypes; l=ctypes.CDLL(None,use_errno=True); print(\"DELIVERED\" if l.sigqueue($OUT, 15, 0)==0 else \"refused\")'"
check "the outside process is alive" kill -0 $OUT

# KILL to a child is redirected to TERM: the child dies of TERM (143), not KILL (137)
eq "KILL->TERM redirect delivers TERM" "status=143" "$(run 'sleep 30 & p=$!; kill -KILL $p; wait $p; echo status=$?' | grep '^status=')"
check "redirect notice" sh -c "printf '%s' \"\$(cd '$WS' && '$AGENTSH' --no-config --policy '$POL' --user $U -c 'sleep 30 & kill -KILL \$!; wait' 2>&1)\" | grep -q 'delivered SIGTERM instead'"
# signals inside the session still work
eq "TERM to a child works" "status=143" "$(run 'sleep 30 & p=$!; kill -TERM $p; wait $p; echo status=$?' | grep '^status=')"
# a signal to a process that has exited: ESRCH, as from the kernel, without a
# "denied" notice (tmux signalled its exited jobs and printed one)
out=$(run 'sh -c "exit 0" & p=$!; wait $p; sleep 0.1; kill -TERM $p 2>/dev/null; echo rc=$?')
eq "kill of an exited process: ESRCH (kill fails)" "rc=1" "$(printf '%s\n' "$out" | grep '^rc=')"
check "  and no notice" sh -c "! printf '%s' \"\$1\" | grep -q '^agentsh:'" _ "$out"
eq "  tgkill of an exited process: ESRCH" "errno=3" "$(run "sh -c 'exit 0' & p=\$!; wait \$p; $PY -c 'import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); l.syscall(234,int(sys.argv[1]),int(sys.argv[1]),15); print(\"errno=%d\" % ctypes.get_errno())' \$p")"
done_testing
