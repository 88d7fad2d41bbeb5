# for, while, until, break, continue.

=== loop-for-list
for i in a b c; do printf %s $i; done; echo
--- stdout
abc
--- exit 0

=== loop-for-c-style
for ((i=0; i<3; i++)); do printf '%d ' $i; done; echo
--- stdout
0 1 2 
--- exit 0

=== loop-for-default-positional
set -- x y; for a; do echo $a; done
--- stdout
x
y
--- exit 0

=== loop-while-counter
i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i
--- stdout
3
--- exit 0

=== loop-until
i=5; until [ $i -le 2 ]; do i=$((i-1)); done; echo $i
--- stdout
2
--- exit 0

=== loop-break-continue
for i in 1 2 3 4 5 6; do [ $i = 2 ] && continue; [ $i = 5 ] && break; echo $i; done
--- stdout
1
3
4
--- exit 0

=== loop-break-n
for i in 1 2; do for j in a b; do [ $j = b ] && break 2; echo $i$j; done; done; echo end
--- stdout
1a
end
--- exit 0

=== loop-continue-n
for i in 1 2; do for j in a b; do [ $j = b ] && continue 2; echo $i$j; done; echo never; done
--- stdout
1a
2a
--- exit 0

=== loop-status-zero-iterations
false; for i in; do :; done; echo $?
--- stdout
0
--- exit 0

=== loop-while-read-pipe
printf '1\n2\n3\n' | while read -r n; do echo $((n*n)); done
--- stdout
1
4
9
--- exit 0

=== loop-nested-output-redirect
for i in 1 2; do echo $i; done | wc -l
--- stdout
2
--- exit 0

=== loop-while-status-is-last-body
i=0; while [ $i -lt 2 ]; do i=$((i+1)); (exit 6); done; echo $?
--- stdout
6
--- exit 0

=== loop-multiline
for f in one two
do
  echo "$f"
done
--- stdout
one
two
--- exit 0
