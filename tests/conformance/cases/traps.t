# Traps: EXIT, ERR, DEBUG-free signal traps.

=== trap-exit-on-normal-end
trap 'echo bye' EXIT; echo hello
--- stdout
hello
bye
--- exit 0

=== trap-exit-keeps-status
trap 'echo "bye $?"' EXIT; (exit 3); exit 5
--- stdout
bye 5
--- exit 5

=== trap-exit-can-change-status
trap 'exit 9' EXIT; exit 2
--- stdout
--- exit 9

=== trap-exit-after-errexit
set -e; trap 'echo "cleanup $?"' EXIT; false; echo "not reached"
--- stdout
cleanup 1
--- exit 1

=== trap-err
trap 'echo "err at $?"' ERR; false; (exit 4); true; echo end
--- stdout
err at 1
err at 4
end
--- exit 0

=== trap-signal-usr1
trap 'echo got usr1' USR1; kill -USR1 $$; echo after
--- stdout
got usr1
after
--- exit 0

=== trap-signal-term-handled
trap 'echo term handled; exit 0' TERM; kill -TERM $$; echo "not reached"
--- stdout
term handled
--- exit 0

=== trap-ignore-signal
trap '' USR2; kill -USR2 $$; echo survived
--- stdout
survived
--- exit 0

=== trap-reset-to-default
trap 'echo x' USR1; trap - USR1; trap -p USR1; echo "[empty]"
--- stdout
[empty]
--- exit 0

=== trap-listing
trap 'echo hi' INT; trap -p INT
--- stdout
trap -- 'echo hi' SIGINT
--- exit 0

=== trap-exit-in-subshell
(trap 'echo sub-exit' EXIT; echo in-sub); echo parent
--- stdout
in-sub
sub-exit
parent
--- exit 0

=== trap-untrapped-term-kills
echo before; kill -TERM $$; echo "not reached"
--- stdout
before
--- exit 143

=== trap-return-in-function
f() { trap 'echo returning' RETURN; echo body; }; f; trap - RETURN
--- stdout
body
returning
--- exit 0
