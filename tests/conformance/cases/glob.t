# Pathname expansion, in the fresh empty directory each case runs in (nullglob off).

=== glob-star-sorted
touch b.txt a.txt c.log; echo *.txt
--- stdout
a.txt b.txt
--- exit 0

=== glob-no-match-literal
echo *.nomatch
--- stdout
*.nomatch
--- exit 0

=== glob-question-and-bracket
touch a1 a2 ab b1; echo a? ; echo [ab]1; echo a[!0-9]
--- stdout
a1 a2 ab
a1 b1
ab
--- exit 0

=== glob-hidden-files-not-matched
touch .hidden visible; echo *; echo .h*
--- stdout
visible
.hidden
--- exit 0

=== glob-in-subdir
mkdir -p d/e; touch d/x d/e/y; echo d/*; echo */*/*
--- stdout
d/e d/x
d/e/y
--- exit 0

=== glob-nullglob-on
shopt -s nullglob; set -- *.none; echo $#
--- stdout
0
--- exit 0

=== glob-noglob
touch f1; set -f; echo f*; set +f; echo f*
--- stdout
f*
f1
--- exit 0

# extglob changes the parser, so it must be on before the line that uses it is read.
=== glob-extglob
shopt -s extglob
touch a.c b.h c.o; echo !(*.o); echo @(a|b).*
--- stdout
a.c b.h
a.c b.h
--- exit 0

=== glob-globstar
shopt -s globstar; mkdir -p x/y/z; touch x/1.t x/y/2.t x/y/z/3.t; echo **/*.t
--- stdout
x/1.t x/y/2.t x/y/z/3.t
--- exit 0

=== glob-not-in-quotes-or-assignment
touch g1 g2; x=g*; echo "$x"; echo $x
--- stdout
g*
g1 g2
--- exit 0

=== glob-brace-expansion
echo {a,b}{1,2} x{1..3} {c..a}
--- stdout
a1 a2 b1 b2 x1 x2 x3 c b a
--- exit 0
