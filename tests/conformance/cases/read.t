# The read builtin (input always comes from here-strings, pipes or files, never the script).

=== read-splits-into-vars
read a b c <<< "one two three four"; echo "$a|$b|$c"
--- stdout
one|two|three four
--- exit 0

=== read-raw-vs-escaped
read x <<< 'a\tb\\c'; read -r y <<< 'a\tb\\c'; echo "$x"; echo "$y"
--- stdout
atb\c
a\tb\\c
--- exit 0

=== read-strips-ifs-whitespace
read x <<< "   padded   "; echo "[$x]"; IFS= read -r y <<< "   padded   "; echo "[$y]"
--- stdout
[padded]
[   padded   ]
--- exit 0

=== read-eof-status
printf 'no-newline' | { read -r l; echo "status $? [$l]"; }
--- stdout
status 1 [no-newline]
--- exit 0

=== read-default-reply
read <<< "in reply"; echo "$REPLY"
--- stdout
in reply
--- exit 0

=== read-delimiter-and-count
read -d , a <<< "x,y"; read -n 2 b <<< "hello"; echo "$a $b"
--- stdout
x he
--- exit 0

=== read-array
read -r -a arr <<< "p q r"; echo "${#arr[@]} ${arr[1]}"
--- stdout
3 q
--- exit 0

=== read-mapfile
mapfile -t lines < <(printf 'l1\nl2\nl3\n'); echo "${#lines[@]} ${lines[2]}"
--- stdout
3 l3
--- exit 0

=== read-loop-preserves-backslashes-and-spaces
printf ' a\\b \n' | while IFS= read -r l; do echo "[$l]"; done
--- stdout
[ a\b ]
--- exit 0

=== read-from-empty-input
read x < /dev/null; echo "status $? [$x]"
--- stdout
status 1 []
--- exit 0
