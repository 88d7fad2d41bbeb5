# Positional parameters, "$@" versus "$*".

=== pos-quoted-at-preserves
set -- "a b" c; for x in "$@"; do echo "[$x]"; done
--- stdout
[a b]
[c]
--- exit 0

=== pos-quoted-star-joins
set -- "a b" c; for x in "$*"; do echo "[$x]"; done
--- stdout
[a b c]
--- exit 0

=== pos-unquoted-splits
set -- "a b" c; for x in $@; do echo "[$x]"; done
--- stdout
[a]
[b]
[c]
--- exit 0

=== pos-star-uses-ifs-first-char
set -- a b c; IFS=,; echo "$*"; IFS=; echo "$*"
--- stdout
a,b,c
abc
--- exit 0

=== pos-shift
set -- a b c d; shift; echo "$1 $#"; shift 2; echo "$1 $#"
--- stdout
b 3
d 1
--- exit 0

=== pos-shift-too-far
set -- a; shift 3; echo "status $? count $#"
--- stdout
status 1 count 1
--- exit 0

=== pos-empty-at-vanishes
set --; printf '<%s>' x "$@" y; echo
--- stdout
<x><y>
--- exit 0

=== pos-function-has-own
set -- outer1 outer2; f() { echo "$# $1"; }; f inner; echo "$# $1"
--- stdout
1 inner
2 outer1
--- exit 0

=== pos-at-with-prefix-suffix
set -- a b; printf '<%s>' "x$@y"; echo
--- stdout
<xa><by>
--- exit 0
