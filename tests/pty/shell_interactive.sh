#!/bin/sh
# The interactive shell driven through a real terminal (tmux), as a person would.
# san: yes
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_pty.inc"
pty_setup agsh_pty1

# start: an outer sh records the terminal state before and after agentsh
tm_start 100 30 sh -c "stty -a > $TMPD/before; cd /tmp; $A; echo agentsh-rc=\$?; stty -a > $TMPD/after; sleep 600"
check "prompt appears" tm_wait "$PROMPT" 10

tm_type 'cd /tmp/..'; tm_keys Enter
tm_type 'cd tmp; pwd'; tm_keys Enter
check "cd persists: pwd is /tmp" tm_wait '^/tmp$'
check "prompt shows the cwd" tm_wait ':/tmp[#$]'

tm_type 'x=5'; tm_keys Enter
tm_type 'echo "x is $x"'; tm_keys Enter
check "variables persist" tm_wait '^x is 5$'

tm_type 'greet() { echo "hello $1"; }'; tm_keys Enter
tm_type 'greet world'; tm_keys Enter
check "functions persist" tm_wait '^hello world$'

tm_type 'alias ll="echo aliased"'; tm_keys Enter
tm_type 'll'; tm_keys Enter
check "aliases persist" tm_wait '^aliased$'

tm_type 'set -o noglob; export EXPORTED=yes'; tm_keys Enter
tm_type 'echo /*; bash -c "echo child-sees-\$EXPORTED"'; tm_keys Enter
check "set -o options persist" tm_wait '^/\*$'
check "exported variables reach children" tm_wait '^child-sees-yes$'
tm_type 'set +o noglob'; tm_keys Enter

tm_type 'for i in 1 2 3'; tm_keys Enter
check "PS2 for an open for loop" tm_wait '^> $|^>$'
tm_type 'do echo "it $i"'; tm_keys Enter
tm_type 'done'; tm_keys Enter
check "multi-line for runs" tm_wait '^it 3$'

tm_type 'echo "open'; tm_keys Enter
tm_type 'quote"'; tm_keys Enter
check "unclosed quote continues" tm_wait '^quote$'

tm_type 'cat <<EOF'; tm_keys Enter
tm_type 'here doc line'; tm_keys Enter
tm_type 'EOF'; tm_keys Enter
check "here-doc" tm_wait '^here doc line$'

tm_type '(exit 3)'; tm_keys Enter
check "non-zero status in the prompt" tm_wait '\[3\][#$]'
tm_type 'echo "status was $?"'; tm_keys Enter
check '$? preserved across the prompt' tm_wait '^status was 3$'

tm_type 'help'; tm_keys Enter
check "built-in help is agentsh's" tm_wait 'agentsh commands'

# Built-ins run in the supervisor, which holds root when root started the
# session for the account (--user): they act for the account.  A root-only
# file named to `policy validate` stays unread; `report --output` writes
# nothing as root.
if [ "$(id -u)" = 0 ]; then
	# root's own directory: the supervisor's root reaches it even with its
	# capabilities dropped (it owns it), the account does not
	RO="$TMPD/root-only"; mkdir -m 700 "$RO"
	printf 'agentsh_secret_key: 1\n' >"$RO/conf.yaml"; chmod 600 "$RO/conf.yaml"
	tm_type "policy validate $RO/conf.yaml"; tm_keys Enter
	check "built-in policy validate: a root-only file is not read for the account" tm_wait 'conf.yaml: cannot open: Permission denied'
	check "  and nothing of it is shown" sh -c "! tmux -S '$TMUX_SOCK' capture-pane -p -t t | grep -q agentsh_secret_key"
	tm_type "report latest --output $RO/as-root.md"; tm_keys Enter
	check "built-in report: the audit store is refused to the account" tm_wait 'needs root'
	check "  and no file was written" [ ! -e "$RO/as-root.md" ]
	# the trash is root's: the built-in acts for the account, not for root
	tm_type "trash list --trash-dir $RO"; tm_keys Enter
	check "built-in trash: another trash directory is refused to the account" tm_wait 'trash-dir is for root only'
	# ...and reads root's trash for it, although the line editor's callbacks
	# (where built-ins run) hold the account's file-system ids
	tm_type 'clear'; tm_keys Enter
	tm_type "trash list --json --session no-such-session"; tm_keys Enter
	check "built-in trash list: reads the trash for the account (an empty JSON list)" tm_wait '^\[\]$'
	check "  not refused" sh -c "! tmux -S '$TMUX_SOCK' capture-pane -p -t t | grep -q 'trash failed: Permission denied'"
	tm_type 'clear'; tm_keys Enter
fi

# Ctrl-C on a running command: a prompt within a second
tm_type 'sleep 100'; tm_keys Enter
sleep 0.5
tm_keys C-c
check "Ctrl-C gives a prompt within 1 s" tm_wait '\[130\][#$]' 1

tm_type 'sleep 100'; tm_keys Enter
sleep 0.5
tm_keys 'C-\'
check "Ctrl-\\ quits the command" tm_wait '\[131\][#$]' 2

# Ctrl-Z, jobs, fg, Ctrl-C
tm_type 'sleep 100'; tm_keys Enter
sleep 0.5
tm_keys C-z
check "Ctrl-Z stops the job" tm_wait 'Stopped +sleep 100'
tm_type 'jobs'; tm_keys Enter
tm_type 'fg'; tm_keys Enter
check "fg resumes" tm_wait '^sleep 100$'
sleep 0.3
tm_keys C-c
check "Ctrl-C after fg" tm_wait '\[130\][#$]' 2

# window size follows the outer terminal
tm_type 'clear; stty size'; tm_keys Enter
check "initial size" tm_wait '^30 100$'
tm resize-window -t t -x 80 -y 24
sleep 0.3
tm_type 'stty size'; tm_keys Enter
check "stty size follows a resize" tm_wait '^24 80$'

# a full-screen program
if command -v vim >/dev/null 2>&1; then
	tm_type "vim -u NONE $W/v.txt"; tm_keys Enter
	check "vim opens" tm_wait '^~' 5
	tm_keys i; tm_type 'written by vim'; tm_keys Escape; tm_type ':wq'; tm_keys Enter
	tm_type 'clear; cat '"$W"'/v.txt'; tm_keys Enter
	check "vim quits and wrote its file" tm_wait '^written by vim$'
fi

if command -v less >/dev/null 2>&1; then
	tm_type 'clear; seq 1 200 | less'; tm_keys Enter
	check "less shows the first page" tm_wait '^1$' 5
	tm_keys G
	check "less pages to the end" tm_wait '^200$' 5
	tm_keys q
	tm_type 'echo after-less'; tm_keys Enter
	check "less quits back to the prompt" tm_wait '^after-less$' 5
fi
if command -v top >/dev/null 2>&1; then
	tm_type 'top'; tm_keys Enter
	check "top draws its screen" tm_wait 'load average' 5
	tm_keys q
	tm_type 'clear; echo after-top'; tm_keys Enter
	check "top quits back to the prompt" tm_wait '^after-top$' 5
fi

# long line (over the tty's 4095-byte canonical limit)
long=$(head -c 6000 /dev/zero | tr '\0' 'a')
tm_type "echo $long | wc -c"; tm_keys Enter
check "a 6000-byte line arrives intact" tm_wait '^6001$'

# a pasted block (bracketed paste) runs line by line, each a command of its own
tm_type 'clear'; tm_keys Enter
sleep 0.3
printf 'echo paste-1\nsleep 0.3\nfor i in a b\ndo echo "paste-$i"\ndone\necho paste-end' | tm load-buffer -
tm paste-buffer -p -t t
sleep 0.3
tm_keys Enter
check "pasted block: last line ran" tm_wait '^paste-end$' 5
check "pasted block: the loop inside ran" tm_wait '^paste-b$' 1
check "pasted block: a prompt per command" sh -c "[ \$(tmux -S $TMUX_SOCK capture-pane -p -t t | grep -c '[#$] echo paste-end') = 1 ]"

# history: the up arrow brings back the last line
tm_type 'echo hist-one'; tm_keys Enter
tm_wait '^hist-one$' >/dev/null
tm_keys Up; tm_keys Enter
i=0; while [ $i -lt 60 ] && [ "$(tm_screen | grep -c '^hist-one$')" != 2 ]; do sleep 0.05; i=$((i+1)); done
n=$(tm_screen | grep -c "^hist-one$"); [ "$n" = 2 ] && ok "history recall" || { nok "history recall"; tm_screen | sed "s/^/#  | /"; }

# reverse search (readline's Ctrl-R)
tm_type 'clear'; tm_keys Enter
sleep 0.3
tm_keys C-r; tm_type 'hist-o'; tm_keys Enter
i=0; while [ $i -lt 60 ] && [ "$(tm_screen | grep -c '^hist-one$')" -lt 1 ]; do sleep 0.05; i=$((i+1)); done
check "Ctrl-R finds and runs an earlier line" sh -c "tmux -S $TMUX_SOCK capture-pane -p -t t | grep -q '^hist-one\$'"

# Ctrl-D with a stopped job: bash warns once, the second Ctrl-D exits
# (checked in the exit phase below: first the warning)
tm_type 'clear'; tm_keys Enter
sleep 0.3
tm_type 'sleep 300'; tm_keys Enter
sleep 0.5
tm_keys C-z
tm_wait 'Stopped +sleep 300' 3 >/dev/null
tm_keys C-d
check "Ctrl-D with a stopped job warns" tm_wait 'There are stopped jobs' 3
check "and the shell stays" tm_wait "$PROMPT" 3
tm_type 'kill %1; wait 2>/dev/null; echo job-gone'; tm_keys Enter
tm_wait '^job-gone$' 3 >/dev/null

# Ctrl-C / Ctrl-Z at the prompt: the line is dropped, nothing is stopped, and
# the outer sh (same process group) gets no signal
tm_type 'clear'; tm_keys Enter
sleep 0.3
tm_type 'echo must-not-run'; tm_keys C-c
check "Ctrl-C at the prompt drops the line" tm_wait 'must-not-run\^C'
tm_keys C-z
tm_type 'echo after-ctrl-z'; tm_keys Enter
check "Ctrl-Z at the prompt is harmless" tm_wait '^after-ctrl-z$'
if tm_screen | grep -q '^must-not-run$'; then nok "the dropped line did not run"; else ok "the dropped line did not run"; fi

# Ctrl-D on an empty line exits, terminal left sane
tm_keys C-d
check "Ctrl-D exits" tm_wait 'agentsh-rc=' 5
check "exit status of the last command" tm_wait 'agentsh-rc=0'
sleep 0.3
# (line 1 holds the window size, which the resize above changed)
check "terminal modes restored after Ctrl-D" sh -c "sed 1d $TMPD/before > $TMPD/b1; sed 1d $TMPD/after > $TMPD/a1; cmp -s $TMPD/b1 $TMPD/a1"
tm_kill

# login mode: the delegate is a login shell; $SHELL is agentsh
TMUX_SOCK="$TMPD/tmux3.sock"
tm_start 100 30 sh -c "cd /tmp; ${A% -i} -l; echo agentsh-rc=\$?; sleep 600"
tm_wait "$PROMPT" 10 >/dev/null
tm_type 'shopt -q login_shell && echo "login-yes"; echo "shell=$SHELL"'; tm_keys Enter
check "-l gives a login shell" tm_wait '^login-yes$'
check "\$SHELL is agentsh" tm_wait "^shell=$AGENTSH\$"
tm_keys C-d
tm_wait 'agentsh-rc=' 5 >/dev/null
tm_kill

# exit N (a fresh tmux server: reusing the socket right after kill-server races)
TMUX_SOCK="$TMPD/tmux2.sock"
tm_start 100 30 sh -c "$A; echo agentsh-rc=\$?; sleep 600"
tm_wait "$PROMPT" 10 >/dev/null
tm_type 'exit 7'; tm_keys Enter
check "exit 7 gives 7" tm_wait 'agentsh-rc=7' 5
tm_kill
done_testing
