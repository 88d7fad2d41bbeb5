# case statements.

=== case-basic-match
x=banana; case $x in apple) echo a;; banana) echo b;; *) echo other;; esac
--- stdout
b
--- exit 0

=== case-patterns-and-alternation
for w in foo.c bar.h Makefile x; do case $w in *.c|*.h) echo "src $w";; [A-Z]*) echo "cap $w";; *) echo "? $w";; esac; done
--- stdout
src foo.c
src bar.h
cap Makefile
? x
--- exit 0

=== case-fallthrough-operators
case a in a) echo one;& b) echo two;;& *) echo three;; esac
--- stdout
one
two
three
--- exit 0

=== case-no-match-status
false; case x in y) echo no;; esac; echo $?
--- stdout
0
--- exit 0

=== case-quoted-pattern-literal
x='*'; case foo in "$x") echo literal;; $x) echo glob;; esac
--- stdout
glob
--- exit 0

=== case-multiline-with-paren
case "$(echo hi)" in
(hi)
  echo matched
  ;;
esac
--- stdout
matched
--- exit 0

=== case-status-of-last-command
case a in a) (exit 4);; esac; echo $?
--- stdout
4
--- exit 0
