#!/bin/sh
# The interactive shell under attack and on unusual exits: a forged "command
# finished" marker from a child, kill -9 of the delegate, SIGHUP, SIGTERM.
# san: yes
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_pty.inc"
pty_setup agsh_pty2

NSESS=0
start() {
	# a fresh tmux server per phase: reusing a socket right after kill-server races
	NSESS=$((NSESS+1)); TMUX_SOCK="$TMPD/tmux$NSESS.sock"
	tm_start 100 30 sh -c "stty -a > $TMPD/before; cd /tmp; echo \$\$ > $TMPD/outer.pid; $A; echo agentsh-rc=\$?; stty -a > $TMPD/after; sleep 600"
	tm_wait "$PROMPT" 10 >/dev/null
}
agentsh_pid() { ps -o pid= --ppid "$(cat "$TMPD/outer.pid")" | tr -d ' ' | head -n 1; }
# the delegate: agentsh's child running bash
delegate_pid() { ps -o pid=,comm= --ppid "$(agentsh_pid)" | awk '$2=="bash"{print $1; exit}'; }
sane() { sed 1d "$TMPD/before" > "$TMPD/b1"; sed 1d "$TMPD/after" > "$TMPD/a1"; cmp -s "$TMPD/b1" "$TMPD/a1"; }
# running (a zombie has been killed; its reaper may be slow to collect it)
alive() { s=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$s" ] && [ "${s#Z}" = "$s" ]; }
prompts() { tm_screen | grep -c "$PROMPT"; }

# 1. A child of the delegate forges "command done" with the right seq and
#    prints the sentinel, then keeps running: the prompt must not come back
#    (the next line the human types must not reach this command).
start
tm_type 'clear'; tm_keys Enter
sleep 0.5
n0=$(prompts)
tm_type 'bash -c '\''printf "D %d 0 /" "$1" >&63 && echo forged-sent; printf "\033]6973;%d\007" "$1"; sleep 2; echo forger-done'\'' x $__agentsh_seq'
tm_keys Enter
sleep 1.2
n1=$(prompts)
check "the child could send its forged marker" tm_wait '^forged-sent$' 1
eq "forged marker from a child is ignored (no prompt while it runs)" "$n0" "$n1"
check "real prompt after the command ends" tm_wait '^forger-done$' 5
sleep 0.5
n2=$(prompts)
if [ "$n2" -gt "$n1" ]; then ok "prompt returns after the real marker"; else nok "prompt returns after the real marker"; tm_screen | sed 's/^/#  | /'; fi

# the same from a grandchild, with the delegate's seq read from its variable
tm_type 'clear'; tm_keys Enter
sleep 0.5
n0=$(prompts)
tm_type 'python3 -c "import os,socket,sys; s=socket.socket(fileno=63); s.send(b\"D %s 0 /tmp\" % sys.argv[1].encode()); print(\"py-sent\", flush=True); os.write(1,b\"\033]6973;%s\007\" % sys.argv[1].encode()); import time; time.sleep(2); print(\"py-done\")" $__agentsh_seq'
tm_keys Enter
sleep 1.2
check "python could send its forged marker" tm_wait '^py-sent$' 1
eq "forged marker via a socket object is ignored" "$n0" "$(prompts)"
tm_wait '^py-done$' 5 >/dev/null

# 1b. The delegate exec's another bash (same pid, same binary) whose builtins
#     forge the marker: agentsh notices the exec and never trusts it again.
tm_type 'clear'; tm_keys Enter
sleep 0.5
tm_type 'export FSEQ=$__agentsh_seq; exec /bin/bash --norc --noediting -i'; tm_keys Enter
sleep 1
n0=$(prompts)
tm_type 'printf "D %d 0 /" "$FSEQ" >&63 && echo exec-forged; printf "\033]6973;%d\007" "$FSEQ"'; tm_keys Enter
check "the exec'd shell sent its marker" tm_wait '^exec-forged$' 3
check "agentsh detects the exec and says so" tm_wait 'no longer the program agentsh started' 3
eq "no agentsh prompt for the exec'd shell" "$n0" "$(prompts)"
tm_type 'exit 5'; tm_keys Enter
check "exit of the exec'd shell ends agentsh with its status" tm_wait 'agentsh-rc=5' 5
sleep 0.3
check "terminal sane after the exec'd shell exits" sane
tm_kill
start

# 2. kill -9 of the delegate: agentsh exits cleanly, terminal sane
dpid=$(delegate_pid)
check "found the delegate pid" test -n "$dpid"
kill -9 "$dpid"
check "agentsh exits after the delegate is killed" tm_wait 'agentsh-rc=137' 5
sleep 0.3
check "terminal sane after kill -9 of the delegate" sane
tm_kill

# 3. SIGHUP (ssh disconnect): the session's processes get SIGHUP, agentsh exits
start
tm_type "sleep 300 & echo bg=\$!"; tm_keys Enter
tm_wait 'bg=[0-9]+' 5 >/dev/null
bg=$(tm_screen | sed -n 's/^bg=\([0-9]*\).*/\1/p' | tail -n 1)
tm_type 'sleep 200'; tm_keys Enter
sleep 0.5
kill -HUP "$(agentsh_pid)"
check "SIGHUP: agentsh exits with 129" tm_wait 'agentsh-rc=129' 5
sleep 0.5
if alive "$bg"; then nok "SIGHUP reached the background job"; else ok "SIGHUP reached the background job"; fi
check "terminal sane after SIGHUP" sane
tm_kill

# 5. History as root for another account: a symlink the agent planted at the
#    history path must not make root write through it.
if [ "$(id -u)" = 0 ]; then
	H=$(getent passwd $U | cut -d: -f6)
	victim="$TMPD/victim"; echo "root data" > "$victim"; chmod 644 "$victim"
	mkdir -p "$H/.local/state/agentsh"
	ln -sf "$victim" "$H/.local/state/agentsh/history"
	chown -R $U "$H/.local"
	start
	tm_type 'echo planted-symlink-line'; tm_keys Enter
	tm_wait '^planted-symlink-line$' 5 >/dev/null
	tm_keys C-d
	tm_wait 'agentsh-rc=' 5 >/dev/null
	eq "history did not write through the agent's symlink" "root data" "$(cat "$victim")"
	rm -f "$H/.local/state/agentsh/history"
	tm_kill
	start
	tm_type 'echo real-history-line'; tm_keys Enter
	tm_wait '^real-history-line$' 5 >/dev/null
	tm_keys C-d
	tm_wait 'agentsh-rc=' 5 >/dev/null
	hf="$H/.local/state/agentsh/history"
	check "history file written" grep -q 'real-history-line' "$hf"
	eq "history file owned by the account, mode 600" "$U 600" "$(stat -c '%U %a' "$hf")"
	tm_kill
fi

# 4. SIGTERM while a full-screen-ish command runs in raw relay mode
start
tm_type 'sleep 200'; tm_keys Enter
sleep 0.5
kill -TERM "$(agentsh_pid)"
check "SIGTERM: agentsh exits with 143" tm_wait 'agentsh-rc=143' 5
sleep 0.3
check "terminal sane after SIGTERM" sane
tm_kill
done_testing
