# Functions: local, return, recursion.

=== func-basic-args
greet() { echo "hi $1 ($#)"; }; greet bob x
--- stdout
hi bob (2)
--- exit 0

=== func-return-status
f() { return 3; }; f; echo $?
--- stdout
3
--- exit 0

=== func-return-last-status
f() { false; }; f; echo $?
--- stdout
1
--- exit 0

=== func-local-scope
x=global; f() { local x=local; echo $x; g; }; g() { echo "g sees $x"; }; f; echo $x
--- stdout
local
g sees local
global
--- exit 0

=== func-globals-modified
f() { y=set-in-f; }; f; echo $y
--- stdout
set-in-f
--- exit 0

=== func-recursion-factorial
fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }; fact 10
--- stdout
3628800
--- exit 0

=== func-recursion-depth
d() { local n=$1; [ $n -eq 0 ] && { echo bottom; return; }; d $((n-1)); }; d 200
--- stdout
bottom
--- exit 0

=== func-redefine-and-unset
f() { echo one; }; f; f() { echo two; }; f; unset -f f; f 2>/dev/null; echo $?
--- stdout
one
two
127
--- exit 0

=== func-keyword-syntax
function h { echo keyword; }; h
--- stdout
keyword
--- exit 0

=== func-with-redirect-in-definition
f() { echo inside; } > out; f; cat out
--- stdout
inside
--- exit 0

=== func-funcname-and-declare
myfn() { echo "$FUNCNAME"; }; myfn; declare -F myfn
--- stdout
myfn
myfn
--- exit 0

=== func-return-outside-function
return 5 2>/dev/null; echo "status $?"
--- stdout
status 2
--- exit 0

=== func-multiline-definition
f() {
  local a=$1
  echo "a=$a"
}
f 42
--- stdout
a=42
--- exit 0
