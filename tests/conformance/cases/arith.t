# Arithmetic expansion and (( )).

=== arith-basic-ops
echo $((7+3)) $((7-3)) $((7*3)) $((7/3)) $((7%3)) $((2**10))
--- stdout
10 4 21 2 1 1024
--- exit 0

=== arith-precedence-and-parens
echo $((2+3*4)) $(((2+3)*4)) $((-2**2))
--- stdout
14 20 4
--- exit 0

=== arith-variables-without-dollar
a=5 b=3; echo $((a*b)) $(( a > b ? a : b ))
--- stdout
15 5
--- exit 0

=== arith-increment-assign
i=1; ((i++)); ((i+=10)); echo $i $((i--)) $i $((++i))
--- stdout
12 12 11 12
--- exit 0

=== arith-bases
echo $((0x1f)) $((010)) $((2#101)) $((36#z))
--- stdout
31 8 5 35
--- exit 0

=== arith-bitwise-logical
echo $((5&3)) $((5|3)) $((5^3)) $((1<<4)) $((~0)) $((1&&0)) $((1||0)) $((!5))
--- stdout
1 7 6 16 -1 0 1 0
--- exit 0

=== arith-command-status
((0)); echo $?; ((5)); echo $?; ((x=0)); echo $?
--- stdout
1
0
1
--- exit 0

=== arith-division-by-zero
(echo $((1/0))) 2>/dev/null; echo "status $?"
--- stdout
status 1
--- exit 0

=== arith-negative-modulo
echo $((-7/2)) $((-7%2))
--- stdout
-3 -1
--- exit 0

=== arith-let-and-declare-i
let "x = 3 * 4"; declare -i y; y="2+2"; echo $x $y
--- stdout
12 4
--- exit 0

=== arith-comma-and-nested
echo $(( (a=2, b=a*3), a+b ))
--- stdout
8
--- exit 0

=== arith-64bit
echo $((2**62)) $(( (2**63) ))
--- stdout
4611686018427387904 -9223372036854775808
--- exit 0
