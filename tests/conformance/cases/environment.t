# What the shell running a -c string or a script on stdin looks like from inside: a plain
# non-interactive bash, with nothing of agentsh's own machinery visible (no traps, functions,
# prompt hooks or extra file descriptors), no terminal, and the caller's umask.

=== env-not-interactive
case $- in *i*) echo interactive;; *) echo non-interactive;; esac
--- stdout
non-interactive
--- exit 0

=== env-not-login-shell
shopt -q login_shell; echo "login_shell $?"
--- stdout
login_shell 1
--- exit 0

=== env-no-job-control-no-history
set -o | grep -E '^(monitor|history) '
--- stdout
history        	off
monitor        	off
--- exit 0

=== env-aliases-not-expanded
alias ll='echo aliased'
ll 2>/dev/null
--- stdout
--- exit 127

=== env-no-terminal
[ -t 0 ] || echo stdin-not-tty; [ -t 1 ] || echo stdout-not-tty; [ -t 2 ] || echo stderr-not-tty
--- stdout
stdin-not-tty
stdout-not-tty
stderr-not-tty
--- exit 0

=== env-no-traps-set
trap -p; echo "[end]"
--- stdout
[end]
--- exit 0

=== env-no-functions-defined
declare -F; echo "[end]"
--- stdout
[end]
--- exit 0

=== env-no-prompt-command
echo "[${PROMPT_COMMAND-unset}]"
--- stdout
[unset]
--- exit 0

=== env-no-exported-functions
env | grep -c '^BASH_FUNC_'
--- stdout
0
--- exit 1

=== env-only-standard-fds
ls /proc/self/fd | wc -l
--- stdout
4
--- exit 0

=== env-umask-of-caller
umask; touch f; mkdir d; stat -c '%a %n' f d
--- stdout
0022
644 f
755 d
--- exit 0

=== env-stdin-at-eof
cat; echo "[read nothing]"
--- stdout
[read nothing]
--- exit 0
