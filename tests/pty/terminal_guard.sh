#!/bin/sh
# What the sandbox prints reaches a real terminal (tmux) without the sequences
# that act beyond the screen.  tmux with set-clipboard on stores an OSC 52
# clipboard write in a paste buffer, as a desktop terminal puts it on the
# clipboard the human later pastes into another shell: the control shows a
# plain shell's printf landing there; through agentsh it must not.  tmux also
# answers an OSC 52 read-back request with its clipboard, typed back as input:
# a plain shell's program reads the human's clipboard that way; a sandboxed
# one must not.
# san: yes
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_pty.inc"
pty_setup agsh_ptyg
# every tmux server of this suite goes with it (each phase has its own socket)
trap 'for s in "$TMPD"/tmux*.sock; do tmux -S "$s" kill-server 2>/dev/null; done; t_cleanup; userdel -r $U 2>/dev/null' EXIT

b64() { printf '%s' "$1" | base64 | tr -d '\n'; }
clip() { for b in $(tm list-buffers -F '#{buffer_name}' 2>/dev/null); do tm show-buffer -b "$b"; echo; done; }
# a program that asks the terminal for its clipboard and prints what comes back
cat > "$W/ask52.py" <<'PY'
import os, select, sys, termios, time, tty
fd = sys.stdin.fileno()
old = termios.tcgetattr(fd)
tty.setraw(fd)
try:
    os.write(1, b"\033]52;c;?\007")
    got, end = b"", time.time() + 1.5
    while time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            got += os.read(fd, 1024)
finally:
    termios.tcsetattr(fd, termios.TCSADRAIN, old)
print("reply:[" + got.decode("latin1").replace("\033", "^[").replace("\007", "^G") + "]")
PY
chmod 644 "$W/ask52.py"
SECRET_B64=$(b64 human-clipboard-secret)
osc52() { printf "printf '\\\\033]52;c;%s\\\\007'" "$(b64 "$1")"; }

# control: a shell without agentsh, same tmux settings
TMUX_SOCK="$TMPD/tmux-ctl.sock"
tm_start 100 30 sh
tm set-option -g set-clipboard on
tm_type "$(osc52 planted-outside)"; tm_keys Enter
i=0; while [ $i -lt 40 ] && ! clip | grep -q planted-outside; do sleep 0.05; i=$((i+1)); done
check "control: a plain shell's OSC 52 lands in tmux's clipboard" sh -c 'tmux -S "$1" show-buffer 2>/dev/null | grep -q planted-outside' _ "$TMUX_SOCK"
tm set-buffer human-clipboard-secret
tm_type "python3 $W/ask52.py"; tm_keys Enter
check "control: a plain shell's program reads the clipboard back" tm_wait "reply:.*$SECRET_B64" 5
tm kill-server 2>/dev/null

TMUX_SOCK="$TMPD/tmux.sock"
tm_start 100 30 sh -c "cd $W; $A; sleep 600"
tm set-option -g set-clipboard on
must() { if "$@"; then :; else nok "interactive agentsh started"; done_testing; fi; }
must tm_wait "$PROMPT" 10
# the write, and the write split across two printfs (two reads of the pty)
tm_type "$(osc52 planted-inside); echo after-marker"; tm_keys Enter
check "output after the dropped sequence is shown" tm_wait '^after-marker$' 5
tm_type "printf '\\033]5'; sleep 0.2; printf '2;c;$(b64 split-inside)\\007'; echo split-marker"; tm_keys Enter
check "output after the split sequence is shown" tm_wait '^split-marker$' 5
sleep 0.3
clip >"$TMPD/clip"
check "an OSC 52 write from the sandbox never reaches the terminal's clipboard" sh -c '! grep -q planted-inside "$1"' _ "$TMPD/clip"
check "nor one split across two writes" sh -c '! grep -q split-inside "$1"' _ "$TMPD/clip"
tm set-buffer human-clipboard-secret
tm_type "clear; python3 $W/ask52.py"; tm_keys Enter
check "the sandboxed program gets no reply to its read-back request" tm_wait '^reply:\[\]$' 6
check "and never sees the clipboard" sh -c '! tmux -S "$1" capture-pane -p -t t | grep -q "$2"' _ "$TMUX_SOCK" "$SECRET_B64"
# ordinary sequences still work: a colour and a title
tm_type "printf '\\033]2;agentsh-title\\007\\033[31mred-text\\033[0m\\n'"; tm_keys Enter
check "colour output is shown" tm_wait '^red-text$' 5
check "a title set by the sandbox reaches the terminal" sh -c '[ "$(tmux -S "$1" display-message -p -t t "#{pane_title}")" = agentsh-title ]' _ "$TMUX_SOCK"
tm_type "exit"; tm_keys Enter
tm kill-server 2>/dev/null

# agentsh -c on a terminal (a person running one command, `ssh -t host cmd`):
# the command gets a pty of its own, relayed through the same filter
C="${A% -i}"
TMUX_SOCK="$TMPD/tmux-c.sock"
tm_start 100 30 sh
tm set-option -g set-clipboard on
tm_type "cd $W; PS1='outer\$ '"; tm_keys Enter
tm_type "$C -c \"$(osc52 planted-by-c); echo c-marker\""; tm_keys Enter
check "-c: output after the dropped sequence is shown" tm_wait '^c-marker' 15
clip >"$TMPD/clip-c"
check "-c: an OSC 52 write never reaches the terminal's clipboard" sh -c '! grep -q planted-by-c "$1"' _ "$TMPD/clip-c"
tm set-buffer human-clipboard-secret
tm_type "clear; $C -c 'python3 $W/ask52.py'"; tm_keys Enter
check "-c: a read-back request gets no reply" tm_wait '^reply:\[\]' 15
tm_type "clear; $C -c 'test -t 0 && test -t 1 && echo on-a-tty; exit 7'; echo rc=\$?"; tm_keys Enter
check "-c: the command still runs on a terminal" tm_wait '^on-a-tty' 15
check "-c: its exit status comes through" tm_wait '^rc=7' 5
tm_type "clear; $C -c 'echo to-file' > $W/c-out; cat $W/c-out"; tm_keys Enter
check "-c: a redirected stdout is written directly" tm_wait '^to-file' 15
# the command changes its terminal's modes: the human's are untouched.  The
# control shows that a plain command's stty does change them.
tm_type "clear; sh -c 'stty -echo'; stty -a | grep -o -- '-echo ' | head -1 | sed 's/^/ctl:/'; stty echo"; tm_keys Enter
check "control: a plain command turns the terminal's echo off" tm_wait '^ctl:-echo' 5
tm_type "clear; $C -c 'stty -echo -icanon'; stty -a | grep -o -- '-echo \\|-icanon ' | sed 's/^/after:/'; echo modes-checked"; tm_keys Enter
tm_wait '^modes-checked' 15 >/dev/null
check "-c: the terminal's modes are as before the command" sh -c '! tmux -S "$1" capture-pane -p -t t | grep -q "^after:"' _ "$TMUX_SOCK"
# a background job neither reads the terminal nor changes its modes (the
# kernel would stop it with SIGTTIN/SIGTTOU)
tm_type "clear; $C -c 'echo from-background' & sleep 5; jobs; echo waited"; tm_keys Enter
tm_wait '^waited' 15 >/dev/null
check "-c in the background: not stopped by the terminal" sh -c '! tmux -S "$1" capture-pane -p -t t | grep -qi stopped' _ "$TMUX_SOCK"
check "-c in the background: runs to the end, its output shown" tm_wait '^from-background' 1
tm_type "clear; $C -c 'echo sleeping; sleep 30'; echo rc=\$?"; tm_keys Enter
tm_wait '^sleeping' 15 >/dev/null
tm_keys C-c
check "-c: Ctrl-C reaches the command (130)" tm_wait 'rc=130$' 10
# no terminal on its stdio (a pipeline): the command has a session of its own,
# and the terminal's ^C still stops all of it, not only its first process
tm_type "clear; $C -c 'sh -c \"sleep 30\"; echo not-interrupted' </dev/null | cat"; tm_keys Enter
sleep 1.5
tm_keys C-c
tm_type 'echo back-$((6*7))'; tm_keys Enter
check "-c in a pipeline: Ctrl-C ends the command's whole group at once" tm_wait 'back-42' 6
check "  and nothing after the interrupted part ran" sh -c '! tmux -S "$1" capture-pane -p -t t | grep -q "^not-interrupted"' _ "$TMUX_SOCK"
# keys the command never reads (a paste bigger than the pty's buffers) must
# not wedge the relay: its output still comes, and it still ends.  Our own pty
# harness (tmux cannot paste that much): a program at the terminal that writes
# 300 kB of keys as fast as they are taken while reading everything printed.
# paste.py c DIR AGENTSH...: one `-c` command; paste.py i DIR AGENTSH... -i: a
# command in the interactive shell, then ^U (what the pty never took goes to
# readline) and exit; paste.py n DIR AGENTSH...: a pty that is not agentsh's
# controlling terminal (a harness that does not make it one): a line typed
# there must still reach the command.
cat > "$TMPD/paste.py" <<'PY'
import fcntl, os, pty, select, subprocess, sys, termios, time
mode, cwd, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
slow = "stty raw -echo; sleep 3; stty sane; echo still-$((1+1))-relaying"
m, s = pty.openpty()
if mode == "n":
    p = subprocess.Popen(cmd + ["-c", "read -r x; echo got:$x"], stdin=s, stdout=s, stderr=s, cwd=cwd)
else:
    p = subprocess.Popen(cmd + (["-c", slow] if mode == "c" else []), stdin=s, stdout=s, stderr=s,
                         cwd=cwd, start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
os.close(s)
fcntl.fcntl(m, fcntl.F_SETFL, os.O_NONBLOCK)
out = b""
def pump(until, secs, data=b""):
    global out
    sent, end = 0, time.time() + secs
    while time.time() < end and p.poll() is None:
        r, w, _ = select.select([m], [m] if sent < len(data) else [], [], 0.05)
        if w:
            try:
                sent += os.write(m, data[sent:sent + 4096])
            except BlockingIOError:
                pass
        if r:
            try:
                out += os.read(m, 65536)
            except OSError:
                return
        if until and until in out:
            return
prompt = True
if mode == "n":
    time.sleep(1)
    os.write(m, b"hello\r")
    pump(b"got:hello", 15)
    print("typed line reached the command: %s" % (b"got:hello" in out))
    p.kill()
    sys.exit(0)
if mode == "i":
    pump(b"$ ", 15)
    prompt = b"$ " in out
    os.write(m, slow.encode() + b"\r")
    time.sleep(0.5)
pump(b"still-2-relaying", 20, b"k" * 300000)
relayed = b"still-2-relaying" in out
if mode == "i":
    pump(None, 1)
    os.write(m, b"\x15exit\r")
    pump(None, 20)
try:
    p.wait(timeout=20)  # the pty closes as agentsh exits, a moment before it is reaped
except subprocess.TimeoutExpired:
    p.kill()
    p.wait()
    print("prompt=%s relayed=%s exited=None" % (prompt, relayed))
    sys.exit(0)
print("prompt=%s relayed=%s exited=%s" % (prompt, relayed, p.returncode))
PY
# shellcheck disable=SC2086
res=$(python3 "$TMPD/paste.py" c "$W" $C 2>&1)
eq "-c: 300 kB of keys the command never reads do not wedge the relay" "prompt=True relayed=True exited=0" "$res"
# shellcheck disable=SC2086
res=$(python3 "$TMPD/paste.py" i "$W" $A 2>&1)
eq "-i: 300 kB of keys a command never reads do not wedge the shell" "prompt=True relayed=True exited=0" "$res"
# shellcheck disable=SC2086
res=$(python3 "$TMPD/paste.py" n "$W" $C 2>&1)
eq "-c on a pty that is not agentsh's controlling terminal: keys still reach the command" "typed line reached the command: True" "$res"
# no job control in a one-shot: ^Z must not leave the command stopped (the
# command's process group has no parent in its session, so the kernel
# discards the terminal's stop signals)
tm_type "clear; $C -c 'echo napping; sleep 1; echo woke'"; tm_keys Enter
tm_wait '^napping' 15 >/dev/null
tm_keys C-z
check "-c: ^Z does not stop the command" tm_wait 'woke$' 8
tm_kill

# The human's terminal by its name.  After an ssh login the terminal device
# (/dev/pts/N) belongs to the account, as this pane's does once chowned to it:
# a command that opened it by name (or /dev/tty, resolved by the supervisor)
# would write past the output filter and read the keys the human types.
if [ "$(id -u)" = 0 ]; then
	TMUX_SOCK="$TMPD/tmux-name.sock"
	tm_start 100 30 sh
	tm set-option -g set-clipboard on
	PANE_TTY=$(tm display -p -t t '#{pane_tty}')
	chown "$U" "$PANE_TTY"
	runuser -u "$U" -- sh -c "$(osc52 planted-by-name-outside) > $PANE_TTY"
	i=0; while [ $i -lt 40 ] && ! clip | grep -q planted-by-name-outside; do sleep 0.05; i=$((i+1)); done
	check "control: a process of the account writes into the terminal by its name" sh -c 'tmux -S "$1" show-buffer 2>/dev/null | grep -q planted-by-name-outside' _ "$TMUX_SOCK"
	tm set-buffer human-clipboard-secret
	tm_type "cd $W; $A"; tm_keys Enter
	must tm_wait "$PROMPT" 10
	tm_type "$(osc52 planted-by-name) > $PANE_TTY; echo rc-name=\$?"; tm_keys Enter
	check "interactive: writing the terminal by its name fails" tm_wait '^rc-name=1$' 5
	check "  with a notice naming it" tm_wait "denied write $PANE_TTY \(rule agentsh-terminal: this is the terminal agentsh holds" 2
	tm_type "clear; timeout 3 cat $PANE_TTY; echo rc-read=\$?"; tm_keys Enter
	check "interactive: reading the terminal by its name fails at once" tm_wait '^rc-read=1$' 5
	tm_type "clear; $(osc52 planted-by-devtty) > /dev/tty; echo via-devtty > /dev/tty; echo rc-tty=\$?"; tm_keys Enter
	check "interactive: /dev/tty is the command's own terminal" tm_wait '^via-devtty' 5
	check "  and works" tm_wait '^rc-tty=0$' 5
	tm_type "exit"; tm_keys Enter
	tm_wait 'outer|\$ $' 5 >/dev/null
	# the same under the embedded default policy, where the supervisor performs
	# every write open (allow-all above leaves them to Landlock and the kernel):
	# /dev/tty opened there must be the command's terminal, not agentsh's
	tm_type "clear; $AGENTSH --no-config --user $U -i"; tm_keys Enter
	must tm_wait "$PROMPT" 10
	tm_type "$(osc52 planted-by-supervised-devtty) > /dev/tty; echo sup-rc=\$?"; tm_keys Enter
	check "interactive, default policy: /dev/tty opened for the command works" tm_wait '^sup-rc=0$' 5
	tm_type "exit"; tm_keys Enter
	tm_wait 'outer|\$ $' 5 >/dev/null
	printf '%s > /dev/tty; echo rc=$?\n%s > %s\n' "$(osc52 planted-by-c-devtty)" "$(osc52 planted-by-c-name)" "$PANE_TTY" >"$W/c-name.sh"
	chmod 644 "$W/c-name.sh"
	tm_type "$C -c 'sh $W/c-name.sh' </dev/null >$W/c-name.out 2>&1; echo c-done"; tm_keys Enter
	tm_wait '^c-done' 15 >/dev/null
	sed 's/^/#   c-name.out: /' "$W/c-name.out"
	check "-c without a terminal on its stdio: /dev/tty is no terminal (ENXIO)" grep -q 'cannot create /dev/tty: No such device or address' "$W/c-name.out"
	check "  and the terminal by its name is refused" grep -q "denied write $PANE_TTY (rule agentsh-terminal" "$W/c-name.out"
	sleep 0.3
	clip >"$TMPD/clip-name"
	for m in planted-by-name planted-by-devtty planted-by-supervised-devtty planted-by-c-devtty planted-by-c-name; do
		check "  $m never reached the clipboard" sh -c '! grep -q "$2\$\|$2[^-]" "$1"' _ "$TMPD/clip-name" "$m"
	done
	check "the human's clipboard is intact" grep -q human-clipboard-secret "$TMPD/clip-name"
	tm_kill
else
	echo "# SKIP the terminal-by-name section: it needs root (the pane's terminal is chowned to a test account)"
fi
done_testing
