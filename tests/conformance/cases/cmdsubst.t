# Command substitution.

=== cmdsub-dollar-paren
echo "[$(echo hi)]"
--- stdout
[hi]
--- exit 0

=== cmdsub-backticks
echo "[`echo hi`]"
--- stdout
[hi]
--- exit 0

=== cmdsub-strips-trailing-newlines
x=$(printf 'a\n\nb\n\n\n'); printf '<%s>\n' "$x"
--- stdout
<a

b>
--- exit 0

=== cmdsub-nested
echo $(echo a $(echo b $(echo c)))
--- stdout
a b c
--- exit 0

=== cmdsub-nested-backticks
echo `echo a \`echo b\``
--- stdout
a b
--- exit 0

=== cmdsub-status
x=$(exit 5); echo $?
--- stdout
5
--- exit 0

=== cmdsub-file-read
printf 'content\n' > f; echo "$(< f)"
--- stdout
content
--- exit 0

=== cmdsub-case-paren-inside
x=$(case a in a) echo matched;; esac); echo $x
--- stdout
matched
--- exit 0

=== cmdsub-subshell-isolation
x=1; y=$(x=2; echo $x); echo $x $y
--- stdout
1 2
--- exit 0
