# test, [ ] and [[ ]].

=== test-string-comparisons
[ abc = abc ] && echo eq; [ abc != abd ] && echo ne; [ -z "" ] && echo empty; [ -n x ] && echo nonempty
--- stdout
eq
ne
empty
nonempty
--- exit 0

=== test-numeric-comparisons
[ 10 -gt 9 ] && echo gt; [ 3 -le 3 ] && echo le; [ 2 -eq 02 ] && echo eq; [ 1 -ne 1 ] || echo ne-false
--- stdout
gt
le
eq
ne-false
--- exit 0

=== test-file-predicates
mkdir d; touch f; ln -s f l; [ -d d ] && echo dir; [ -f f ] && echo file; [ -L l ] && echo link; [ -e nope ] || echo missing; [ -s f ] || echo zero-size
--- stdout
dir
file
link
missing
zero-size
--- exit 0

=== test-status-values
[ a = b ]; echo $?; [ 1 -gt ]; echo $? 2>/dev/null
--- stdout
1
2
--- exit 0

=== test-logical-operators
[ -n x -a -z "" ] && echo and; [ -z x -o -n x ] && echo or; [ ! -e nope ] && echo not
--- stdout
and
or
not
--- exit 0

=== dbracket-pattern-match
[[ foobar == foo* ]] && echo glob; [[ foobar == "foo*" ]] || echo quoted-literal
--- stdout
glob
quoted-literal
--- exit 0

=== dbracket-regex-and-rematch
[[ 2024-05-17 =~ ^([0-9]+)-([0-9]+) ]] && echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
--- stdout
2024 05
--- exit 0

=== dbracket-no-word-splitting
x='a b'; [[ $x == 'a b' ]] && echo same; [[ -n $unset_var ]] || echo empty
--- stdout
same
empty
--- exit 0

=== dbracket-logical-and-grouping
[[ ( 1 -lt 2 && 3 -gt 4 ) || -n x ]] && echo grouped
--- stdout
grouped
--- exit 0

=== dbracket-string-ordering
[[ apple < banana ]] && echo lt; [[ 10 -lt 9 ]] || echo numeric
--- stdout
lt
numeric
--- exit 0

=== test-var-set
x=; [[ -v x ]] && echo x-set; [[ -v nope_var ]] || echo nope-unset
--- stdout
x-set
nope-unset
--- exit 0

=== test-file-comparison
touch -d '2020-01-01' old; touch new; [ new -nt old ] && echo newer; [ old -ot new ] && echo older
--- stdout
newer
older
--- exit 0
