# Parameter expansion.

=== param-default-unset
unset x; echo "${x:-def}" "${x-def2}" "[$x]"
--- stdout
def def2 []
--- exit 0

=== param-default-empty
x=; echo "${x:-def}" "[${x-def}]"
--- stdout
def []
--- exit 0

=== param-assign-default
unset x; echo "${x:=set}"; echo "$x"
--- stdout
set
set
--- exit 0

=== param-alt-value
x=1; y=; unset z; echo "[${x:+alt}] [${y:+alt}] [${y+alt}] [${z+alt}]"
--- stdout
[alt] [] [alt] []
--- exit 0

=== param-error-in-subshell
unset x; (echo "${x:?is unset}"); echo "status $?"
--- stdout
status 1
--- exit 0

# bash exits 127 here under -c but 1 when it reads the script from stdin.
=== param-error-exits-shell
unset x; echo before; : "${x:?gone}"; echo after
--- stdout
before
--- exit 127 stdin=1

=== param-length
x=hello; y=; echo ${#x} ${#y}
--- stdout
5 0
--- exit 0

=== param-prefix-strip
p=/usr/local/lib/libx.so.1; echo ${p#*/} ${p##*/}
--- stdout
usr/local/lib/libx.so.1 libx.so.1
--- exit 0

=== param-suffix-strip
p=/usr/local/lib/libx.so.1; echo ${p%.*} ${p%%.*}
--- stdout
/usr/local/lib/libx.so /usr/local/lib/libx
--- exit 0

=== param-replace
x=banana; echo ${x/an/AN} ${x//an/AN} ${x/#b/B} ${x/%a/A} ${x//a}
--- stdout
bANana bANANa Banana bananA bnn
--- exit 0

=== param-substring
x=abcdefgh; echo ${x:2} ${x:2:3} ${x: -3} ${x: -3:2} ${x:1:-2}
--- stdout
cdefgh cde fgh fg bcdef
--- exit 0

=== param-case-modification
x=hello; y=WORLD; echo ${x^} ${x^^} ${y,} ${y,,}
--- stdout
Hello HELLO wORLD world
--- exit 0

=== param-indirect
x=y; y=value; echo ${!x}
--- stdout
value
--- exit 0

=== param-names-by-prefix
aa1=1 aa2=2; echo ${!aa@}
--- stdout
aa1 aa2
--- exit 0

=== param-nested-default
unset a b; c=deep; echo ${a:-${b:-$c}}
--- stdout
deep
--- exit 0

=== param-pattern-quoted
x='a*b*c'; echo "${x#"a*"}" "${x#a\*}" "${x//\*/-}" "${x#a*}"
--- stdout
b*c b*c a-b-c *b*c
--- exit 0

=== param-tenth-positional
set -- 1 2 3 4 5 6 7 8 9 10 11; echo $10 ${10} ${11}
--- stdout
10 10 11
--- exit 0

=== param-transform-q-and-declare
x='a b'; echo "${x@Q}"; y=hi; declare -p y
--- stdout
'a b'
declare -- y="hi"
--- exit 0

=== param-default-splits-unquoted
unset x; set -- ${x:-a b c}; echo $#
--- stdout
3
--- exit 0

=== param-default-quoted-one-word
unset x; set -- "${x:-a b c}"; echo $#
--- stdout
1
--- exit 0

=== param-readonly-assignment-exits
readonly r=1; echo before; r=2; echo "not reached"
--- stdout
before
--- exit 1

=== param-assign-default-positional-fails
(: ${1:=x}) 2>/dev/null; echo "status $?"
--- stdout
status 1
--- exit 0

=== param-prefix-assignment-scope
x=outer; x=inner sh -c 'echo $x'; echo $x
--- stdout
inner
outer
--- exit 0

=== param-length-of-positional
set -- a b c d; echo ${#} ${#1} ${#@}
--- stdout
4 1 4
--- exit 0

=== param-special-dollar-minus-has-h
case $- in *h*) echo hashing;; *) echo nohash;; esac
--- stdout
hashing
--- exit 0

=== param-export-to-child
export V=exported; W=local; bash -c 'echo "[$V] [$W]"'
--- stdout
[exported] []
--- exit 0
