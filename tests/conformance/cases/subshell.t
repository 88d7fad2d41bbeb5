# Subshells and grouping.

=== subshell-variable-isolation
x=1; (x=2; echo in $x); echo out $x
--- stdout
in 2
out 1
--- exit 0

=== subshell-cd-isolation
mkdir d; (cd d && basename "$PWD"); basename "$PWD" | grep -vc '^d$'
--- stdout
d
1
--- exit 0

=== subshell-exit-status
(exit 7); echo $?
--- stdout
7
--- exit 0

=== subshell-group-shares-state
x=1; { x=2; echo in $x; }; echo out $x
--- stdout
in 2
out 2
--- exit 0

=== subshell-bashpid-differs
[ "$$" = "$BASHPID" ] && echo top-same; ( [ "$$" != "$BASHPID" ] && echo sub-differs )
--- stdout
top-same
sub-differs
--- exit 0

=== subshell-exit-does-not-exit-parent
(exit 3); echo still here
--- stdout
still here
--- exit 0

=== subshell-background-wait
(sleep 0.1; echo bg) & wait $!; echo "waited $?"
--- stdout
bg
waited 0
--- exit 0

=== subshell-background-status
(exit 9) & wait $!; echo $?
--- stdout
9
--- exit 0
