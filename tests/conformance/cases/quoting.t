# Quoting: single, double, $'...', backslashes, nesting.

=== quote-single-preserves
echo 'a  $HOME `x` \n "b"'
--- stdout
a  $HOME `x` \n "b"
--- exit 0

=== quote-double-expands
x=world; echo "hello $x  ${x}s"
--- stdout
hello world  worlds
--- exit 0

=== quote-double-backslash
echo "a\$b \"q\" \\ \`t\` \n"
--- stdout
a$b "q" \ `t` \n
--- exit 0

=== quote-dollar-single-escapes
echo $'tab\there' | tr '\t' _
echo $'l1\nl2'
echo $'\x41\101'
echo $'it\'s' $'back\\slash'
--- stdout
tab_here
l1
l2
AA
it's back\slash
--- exit 0

=== quote-backslash-unquoted
echo a\ b\$c\\d\'e
--- stdout
a b$c\d'e
--- exit 0

=== quote-nested-cmdsubst
x="$(echo "inner \"q\" $(echo 'deep space')")"; echo "$x"
--- stdout
inner "q" deep space
--- exit 0

=== quote-adjacent-concat
echo 'a'"b"c$'d'
--- stdout
abcd
--- exit 0

=== quote-empty-args-count
set -- '' "" a; echo $#
--- stdout
3
--- exit 0

=== quote-single-inside-double
echo "it's" 'say "hi"'
--- stdout
it's say "hi"
--- exit 0

=== quote-preserves-spaces
x='a   b'; echo $x; echo "$x"
--- stdout
a b
a   b
--- exit 0

=== quote-glob-chars-literal
touch a1 a2; echo "a*" 'a?' a\*
--- stdout
a* a? a*
--- exit 0

=== quote-line-continuation
echo one \
two
--- stdout
one two
--- exit 0

=== quote-continuation-in-double
echo "a\
b"
--- stdout
ab
--- exit 0

=== quote-single-backslash-at-end
echo 'a\'
--- stdout
a\
--- exit 0

=== quote-tilde
HOME=/h; echo ~ "~" ~/x '~/x' x=~
--- stdout
/h ~ /h/x ~/x x=/h
--- exit 0

=== quote-printf-q
printf '%q\n' "a b" "it's" ''
--- stdout
a\ b
it\'s
''
--- exit 0

=== quote-multiline-single
echo 'first
second'
--- stdout
first
second
--- exit 0

=== quote-dollar-at-in-double-nested
f() { echo "[$*]"; }; x="$(f "a b" 'c')"; echo "$x"
--- stdout
[a b c]
--- exit 0
