# Word splitting and IFS.

=== split-default-ifs-collapses
x='  a   b	c  '; set -- $x; echo $#; printf '<%s>' "$@"; echo
--- stdout
3
<a><b><c>
--- exit 0

=== split-custom-ifs-keeps-empty
x='a::b:'; IFS=:; set -- $x; echo $#; printf '<%s>' "$@"; echo
--- stdout
3
<a><><b>
--- exit 0

=== split-mixed-ifs-whitespace
x=' a , b ,, c '; IFS=' ,'; set -- $x; printf '<%s>' "$@"; echo
--- stdout
<a><b><><c>
--- exit 0

=== split-empty-ifs-no-split
x='a b c'; IFS=; set -- $x; echo $#
--- stdout
1
--- exit 0

=== split-unset-ifs-default
x='a b	c'; unset IFS; set -- $x; echo $#
--- stdout
3
--- exit 0

=== split-empty-unquoted-vanishes
e=; set -- $e "$e" $e; echo $#
--- stdout
1
--- exit 0

=== split-cmdsubst-result
set -- $(printf 'one two\nthree\n'); echo $# $3
--- stdout
3 three
--- exit 0

=== split-assignment-no-split
x='a   b'; y=$x; echo "$y"
--- stdout
a   b
--- exit 0

=== split-read-with-ifs
IFS=, read -r a b c <<< "1,2,3,4"; echo "$a|$b|$c"
--- stdout
1|2|3,4
--- exit 0

=== split-for-over-ifs-newline
IFS=$'\n'; for l in $(printf 'a b\nc d\n'); do echo "[$l]"; done
--- stdout
[a b]
[c d]
--- exit 0
