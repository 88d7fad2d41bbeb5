#!/bin/sh
# agentsh -c / script / stdin modes keep sh -c semantics (sshd, scp, rsync, git
# and harnesses depend on them).
# san: yes
. "$(dirname "$0")/../lib.sh"
[ -x "$AGENTSH" ] || t_abort "no agentsh binary at $AGENTSH (run make)"
A="$AGENTSH"
if [ "$(id -u)" = 0 ]; then
	U=agsh_c1
	t_user $U || t_abort "cannot create the test account $U (useradd)"
	trap 't_cleanup; userdel -r $U 2>/dev/null' EXIT
	A="$AGENTSH --no-config --user $U"
fi
cd "$TMPD" || exit 1
mkdir -p u && chmod 777 u

# --- the command line itself
out=$($AGENTSH --help); rc=$?
eq "--help exits 0" 0 "$rc"
for f in -c -l --login -i -s --policy --user --no-config --json --output --events --delegate --version --help; do
	case "$out" in *"$f"*) ok "--help mentions $f" ;; *) nok "--help mentions $f" ;; esac
done
v=$($AGENTSH --version); eq "--version exits 0" 0 "$?"
case "$v" in "agentsh "*) ok "--version prints agentsh VERSION" ;; *) nok "--version: $v" ;; esac
$AGENTSH --no-such-flag >"$TMPD/o" 2>"$TMPD/e"; rc=$?
eq "unknown flag exits 2" 2 "$rc"
check "unknown flag: message on stderr" grep -q 'no-such-flag' "$TMPD/e"
check "unknown flag: nothing on stdout" test ! -s "$TMPD/o"
$AGENTSH -X 2>/dev/null; eq "unknown short flag exits 2" 2 "$?"
$AGENTSH -c 2>/dev/null; eq "-c without a string exits 2" 2 "$?"

# --- exit statuses
$A -c 'exit 0'; eq "exit 0" 0 "$?"
$A -c 'exit 3'; eq "exit 3" 3 "$?"
$A -c 'exit 255'; eq "exit 255" 255 "$?"
$A -c 'false'; eq "false gives 1" 1 "$?"
$A -c 'no-such-command-xyz' 2>/dev/null; eq "command not found gives 127" 127 "$?"
$A -c 'kill -TERM $$'; eq "killed by SIGTERM gives 143" 143 "$?"
$A -c 'kill -KILL $$'; eq "killed by SIGKILL gives 137" 137 "$?"
$A -c 'sh -c "kill -TERM \$\$"; echo "child status $?"' > "$TMPD/o" 2>/dev/null
eq "a child's signal death is visible as 143 inside" "child status 143" "$(cat "$TMPD/o")"

# --- $0 and $@ exactly as sh -c
eq '$0 defaults to the shell name' "${AGENTSH##*/}" "$($A -c 'echo "${0##*/}"')"
eq '$0 from NAME' "myname" "$($A -c 'echo "$0"' myname)"
eq '$1.. from ARGS' "a|b c|" "$($A -c 'printf "%s|" "$@"' nm a 'b c')"
eq '$# counts args' "3" "$($A -c 'echo $#' nm 1 2 3)"
eq 'empty args are kept' "[][x]" "$($A -c 'printf "[%s]" "$@"' nm '' x)"
eq 'glob chars in args are not expanded' '*' "$($A -c 'printf "%s" "$1"' nm '*')"

# --- quoting
eq "single quotes" 'a  b' "$($A -c "echo 'a  b'")"
eq "double quotes with \$" 'x=1 y' "$($A -c 'x=1; echo "x=$x y"')"
eq "backslashes" 'a\b' "$($A -c 'printf "%s\n" "a\\b"')"
eq "newlines in the string" "$(printf 'one\ntwo')" "$($A -c 'echo one
echo two')"
eq "semicolons and pipes" "2" "$($A -c 'printf "a\nb\n" | wc -l | tr -d " "')"
eq "command substitution" "hi" "$($A -c 'echo $(echo hi)')"

# --- stdio: binary-safe, separate, not a terminal
head -c 1048576 /dev/urandom > u/rand.bin
$A -c cat < u/rand.bin > u/rand.out
check "1 MiB of random bytes through agentsh -c cat unchanged" cmp -s u/rand.bin u/rand.out
$A -c 'echo to-out; echo to-err >&2' > "$TMPD/o" 2> "$TMPD/e"
eq "stdout separate" "to-out" "$(cat "$TMPD/o")"
eq "stderr separate" "to-err" "$(cat "$TMPD/e")"
eq "stdin from a pipe" "piped line" "$(echo 'piped line' | $A -c 'read l; echo "$l"')"
eq "stdin is not a terminal" "no-tty" "$(echo | $A -c '[ -t 0 ] && echo tty || echo no-tty')"
eq "NUL bytes survive" "6" "$(printf 'a\0b\0c\0' | $A -c 'cat' | wc -c | tr -d ' ')"
$A -c 'exec 1>&-; echo x' 2>/dev/null; ok "closing stdout inside does not hang"

# --- script mode
cat > u/s.sh <<'SCRIPT'
echo "script $0 $#: $*"
exit 4
SCRIPT
chmod 644 u/s.sh
out=$($A u/s.sh one two); rc=$?
eq "script runs with args" "script u/s.sh 2: one two" "$out"
eq "script exit status" 4 "$rc"

# --- stdin mode, like sshd's non-interactive sessions
out=$(printf 'echo from-stdin\nexit 6\n' | $A); rc=$?
eq "commands from stdin, no prompt" "from-stdin" "$out"
eq "stdin mode exit status" 6 "$rc"
out=$(printf 'echo "$1-$2"\n' | $A -s p q)
eq "-s with positional args" "p-q" "$out"
printf 'x=7\necho "x=$x"\n' > u/in.txt
eq "agentsh < file" "x=7" "$($A < u/in.txt)"

# --- login mode reads the login files; $SHELL is agentsh
if [ "$(id -u)" = 0 ]; then
	printf 'export AGSH_PROFILE_READ=yes\n' > /home/$U/.profile
	chown $U /home/$U/.profile
	eq "-l reads ~/.profile" "yes" "$($A -l -c 'echo $AGSH_PROFILE_READ' 2>/dev/null)"
	eq "without -l it is not read" "" "$($A -c 'echo $AGSH_PROFILE_READ')"
fi
s=$($A -c 'echo $SHELL')
case "$s" in "$AGENTSH") ok "\$SHELL is agentsh ($s)" ;; *) nok "\$SHELL is agentsh: $s" ;; esac

# --- set options pass through
$A -e -c 'false; echo not-reached' > "$TMPD/o"; rc=$?
eq "-e is honoured" "1:" "$rc:$(cat "$TMPD/o")"
eq "-o pipefail is honoured" 1 "$($A -o pipefail -c 'false | true; echo $?')"
done_testing
