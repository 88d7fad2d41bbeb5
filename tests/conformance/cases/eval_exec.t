# eval and exec.

=== eval-builds-command
cmd='echo'; arg='"a  b"'; eval "$cmd $arg"
--- stdout
a  b
--- exit 0

=== eval-indirect-assignment
name=dyn; eval "$name=42"; echo $dyn
--- stdout
42
--- exit 0

=== eval-status
eval 'false'; echo $?; eval ''; echo $?
--- stdout
1
0
--- exit 0

=== eval-double-expansion
x='$y'; y=inner; eval echo $x
--- stdout
inner
--- exit 0

=== exec-redirect-stderr-persistent
exec 2>&1; echo to-stderr >&2; sh -c 'echo child-stderr >&2'
--- stdout
to-stderr
child-stderr
--- exit 0

=== exec-save-and-restore-stdout
exec 3>&1 > captured; echo hidden; exec 1>&3 3>&-; echo visible; cat captured
--- stdout
visible
hidden
--- exit 0

=== exec-replaces-shell
exec sh -c 'echo replaced; exit 4'; echo "not reached"
--- stdout
replaced
--- exit 4

=== exec-open-read-fd
printf 'a\nb\n' > f; exec 7< f; read -r l1 <&7; read -r l2 <&7; exec 7<&-; echo "$l1$l2"
--- stdout
ab
--- exit 0

=== exec-failure-not-found
exec nosuchcommand_agentsh_xyz 2>/dev/null; echo "not reached"
--- stdout
--- exit 127

=== exec-fd-to-closed-fd-fails
echo x >&9 2>/dev/null; echo "status $?"
--- stdout
status 1
--- exit 0

=== command-builtin-bypasses-function
echo() { builtin echo "wrapped $*"; }; echo a; command echo b
--- stdout
wrapped a
b
--- exit 0

=== type-and-command-v
f() { :; }; type -t f echo ls if; command -v nosuch_xyz; echo $?
--- stdout
function
builtin
file
keyword
1
--- exit 0
