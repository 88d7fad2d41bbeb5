# Exit statuses.

=== status-not-found-127
nosuchcommand_agentsh_xyz 2>/dev/null; echo $?
--- stdout
127
--- exit 0

=== status-not-executable-126
printf 'echo hi\n' > notexec; chmod 644 notexec; ./notexec 2>/dev/null; echo $?
--- stdout
126
--- exit 0

=== status-directory-126
mkdir dir; ./dir 2>/dev/null; echo $?
--- stdout
126
--- exit 0

=== status-script-not-found-is-final
nosuchcommand_agentsh_xyz
--- stdout
--- exit 127

=== status-signal-128-plus-n
sh -c 'kill -KILL $$'; echo $?; sh -c 'kill -TERM $$'; echo $?
--- stdout
137
143
--- exit 0

=== status-exit-wraps-mod-256
(exit 300); echo $?; (exit -1); echo $?
--- stdout
44
255
--- exit 0

=== status-exit-with-value
echo x; exit 42; echo "not reached"
--- stdout
x
--- exit 42

=== status-exit-without-value-uses-last
(exit 3); exit
--- stdout
--- exit 3

=== status-last-command-is-script-status
echo out; false
--- stdout
out
--- exit 1

=== status-true-false-colon
true; a=$?; false; b=$?; :; echo $a $b $?
--- stdout
0 1 0
--- exit 0

=== status-executable-script
printf '#!/bin/sh\nexit 12\n' > s.sh; chmod +x s.sh; ./s.sh; echo $?
--- stdout
12
--- exit 0

=== status-no-shebang-script-runs-in-shell
printf 'echo no-shebang\n' > ns; chmod +x ns; ./ns
--- stdout
no-shebang
--- exit 0

=== status-signal-of-script-itself
kill -KILL $$
--- stdout
--- exit 137

=== status-exit-stops-later-lines
echo first
exit 3
echo "not reached"
--- stdout
first
--- exit 3

=== status-error-line-does-not-stop-script
echo before
nosuchcommand_agentsh_xyz 2>/dev/null
echo "after $?"
--- stdout
before
after 127
--- exit 0
