# Redirections.  Every case runs in its own empty directory.

=== redir-truncate-and-append
echo one > f; echo two >> f; echo three >> f; cat f; echo one > f; cat f
--- stdout
one
two
three
one
--- exit 0

=== redir-input
printf 'l1\nl2\n' > in; wc -l < in
--- stdout
2
--- exit 0

=== redir-stderr-to-stdout
{ echo out; echo err >&2; } 2>&1 | sort
--- stdout
err
out
--- exit 0

=== redir-order-matters
{ echo err >&2; } 2>&1 >/dev/null; { echo err2 >&2; } >/dev/null 2>&1; echo done
--- stdout
err
done
--- exit 0

=== redir-close-stdout
{ echo hidden; } >&-; echo "status $?"
--- stdout
status 1
--- exit 0

=== redir-read-write
echo abcdef > f; exec 3<>f; read -n 3 x <&3; printf X >&3; exec 3>&-; echo "$x"; cat f
--- stdout
abc
abcXef
--- exit 0

=== redir-fd-dup
exec 4>&1; echo via4 >&4; exec 4>&-; echo "${x:-ok}"
--- stdout
via4
ok
--- exit 0

=== redir-noclobber
echo a > f; set -C; (echo b > f) 2>/dev/null; echo "status $?"; echo c >| f; cat f
--- stdout
status 1
c
--- exit 0

=== redir-to-missing-dir-fails-command
echo x > nodir/f 2>/dev/null; echo "status $?"
--- stdout
status 1
--- exit 0

=== redir-both-with-ampersand
{ echo o; echo e >&2; } &> both; sort both
--- stdout
e
o
--- exit 0

=== redir-here-string
tr a-z A-Z <<< "shout"
--- stdout
SHOUT
--- exit 0

=== redir-swap-stdout-stderr
{ echo to-err 3>&1 1>&2 2>&3; } 2>&1 >/dev/null
--- stdout
to-err
--- exit 0

=== redir-loop-output
for i in 1 2 3; do echo $i; done > f; tail -n 1 f
--- stdout
3
--- exit 0

=== redir-process-substitution
diff <(printf 'a\nb\n') <(printf 'a\nc\n') | grep '^[<>]'
--- stdout
< b
> c
--- exit 0

=== redir-fd-to-file-then-cat
exec 5>log; echo first >&5; echo second >&5; exec 5>&-; cat log
--- stdout
first
second
--- exit 0

=== redir-dev-null-input
cat < /dev/null; echo "[$(cat </dev/null)]"
--- stdout
[]
--- exit 0
