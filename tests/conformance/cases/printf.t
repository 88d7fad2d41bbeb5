# printf.

=== printf-formats
printf '%s|%d|%5s|%-5s|%05d|%x|%o|%c\n' str 42 r l 7 255 8 char
--- stdout
str|42|    r|l    |00007|ff|10|c
--- exit 0

=== printf-reuses-format
printf '%s=%s\n' a 1 b 2 c
--- stdout
a=1
b=2
c=
--- exit 0

=== printf-no-trailing-newline
printf 'no newline'
--- stdout noeol
no newline
--- exit 0

=== printf-escapes-in-b
printf '%b\n' 'a\tb' | tr '\t' _; printf '%s\n' 'a\tb'
--- stdout
a_b
a\tb
--- exit 0

=== printf-to-variable
printf -v out '%03d-%s' 5 x; echo "$out"
--- stdout
005-x
--- exit 0

=== printf-invalid-number
printf '%d\n' abc 2>/dev/null; echo "status $?"
--- stdout
0
status 1
--- exit 0

=== printf-float-and-precision
printf '%.2f %.3s %e\n' 3.14159 abcdef 1500
--- stdout
3.14 abc 1.500000e+03
--- exit 0

=== printf-percent-literal
printf '100%%\n'
--- stdout
100%
--- exit 0

=== printf-char-code
printf '%d %d\n' "'A" '"a'
--- stdout
65 97
--- exit 0

=== echo-options
echo -n a; echo -e 'b\tc' | tr '\t' _; echo -E 'd\te'
--- stdout
ab_c
d\te
--- exit 0
