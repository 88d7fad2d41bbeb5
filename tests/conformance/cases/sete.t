# set -e (errexit) and its classic exceptions.

=== errexit-stops-on-failure
set -e; echo one; false; echo two
--- stdout
one
--- exit 1

=== errexit-keeps-status
set -e; echo one; (exit 7); echo two
--- stdout
one
--- exit 7

=== errexit-ignored-in-if-condition
set -e; if false; then echo no; fi; echo reached
--- stdout
reached
--- exit 0

=== errexit-ignored-in-and-or-list
set -e; false && echo no; false || echo rescued; echo reached
--- stdout
rescued
reached
--- exit 0

=== errexit-last-in-and-list-fails
set -e; true && false; echo "not reached"
--- stdout
--- exit 1

=== errexit-ignored-with-negation
set -e; ! true; echo reached
--- stdout
reached
--- exit 0

=== errexit-pipeline-only-last
set -e; false | true; echo reached; true | false; echo "not reached"
--- stdout
reached
--- exit 1

=== errexit-while-condition
set -e; while false; do :; done; until true; do :; done; echo reached
--- stdout
reached
--- exit 0

=== errexit-function-in-condition-ignores
set -e; f() { false; echo "inside f continues"; }; if f; then echo ok; fi
--- stdout
inside f continues
ok
--- exit 0

=== errexit-function-plain-call-exits
set -e; f() { false; echo "not reached"; }; f; echo "not reached either"
--- stdout
--- exit 1

=== errexit-cmdsubst-assignment
set -e; x=$(false); echo "not reached"
--- stdout
--- exit 1

=== errexit-cmdsubst-in-local-masked
set -e; f() { local x=$(false); echo "local masks: $?"; }; f
--- stdout
local masks: 0
--- exit 0

=== errexit-subshell-exits-subshell
set -e; (false; echo "not reached"); echo "not reached either"
--- stdout
--- exit 1

=== errexit-inherit-errexit-off-in-cmdsubst
set -e; x=$(false; echo continued); echo "$x"
--- stdout
continued
--- exit 0

=== errexit-set-plus-e
set -e; set +e; false; echo "status $?"
--- stdout
status 1
--- exit 0

=== errexit-arith-zero
set -e; i=0; ((i++)); echo "not reached"
--- stdout
--- exit 1
