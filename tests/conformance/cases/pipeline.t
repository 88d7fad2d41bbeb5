# Pipelines, PIPESTATUS, pipefail, negation.

=== pipe-basic
printf 'c\na\nb\n' | sort | head -n 2
--- stdout
a
b
--- exit 0

=== pipe-status-is-last
false | true; echo $?; true | false; echo $?
--- stdout
0
1
--- exit 0

=== pipe-pipestatus
true | false | (exit 3); echo "${PIPESTATUS[@]}"
--- stdout
0 1 3
--- exit 0

=== pipe-pipefail
set -o pipefail; (exit 2) | true; echo $?; true | (exit 4) | (exit 5); echo $?
--- stdout
2
5
--- exit 0

=== pipe-negation
! false; echo $?; ! true; echo $?
--- stdout
0
1
--- exit 0

=== pipe-subshell-variables-lost
x=before; echo after | read x; echo $x
--- stdout
before
--- exit 0

=== pipe-lastpipe
shopt -s lastpipe; set +m; x=before; echo after | read x; echo $x
--- stdout
after
--- exit 0

=== pipe-stderr-pipe
{ echo e >&2; } |& tr e E
--- stdout
E
--- exit 0

=== pipe-sigpipe-on-writer
yes | head -n 1; echo "${PIPESTATUS[@]}"
--- stdout
y
141 0
--- exit 0

=== pipe-exit-status-script-end
true | false
--- stdout
--- exit 1
