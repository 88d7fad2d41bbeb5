# Other builtins scripts lean on: getopts, namerefs, source, directory stack, wait, coproc.

=== builtin-getopts
set -- -a -b val -c rest; while getopts "ab:c" o; do echo "$o ${OPTARG:-}"; done; shift $((OPTIND-1)); echo "left $*"
--- stdout
a 
b val
c 
left rest
--- exit 0

=== builtin-getopts-bad-option
set -- -z; getopts "a" o 2>/dev/null; echo "$o $?"
--- stdout
? 0
--- exit 0

=== builtin-nameref
f() { local -n ref=$1; ref=changed; }; v=orig; f v; echo $v
--- stdout
changed
--- exit 0

=== builtin-source-with-args
printf 'echo "sourced $# $1"; sv=set\n' > lib.sh; . ./lib.sh one two; echo $sv
--- stdout
sourced 2 one
set
--- exit 0

=== builtin-source-return
printf 'echo a; return 4; echo b\n' > r.sh; source ./r.sh; echo "status $?"
--- stdout
a
status 4
--- exit 0

=== builtin-cd-oldpwd-and-pushd
mkdir -p a/b; cd a; cd b; cd - >/dev/null; basename "$PWD"; pushd b >/dev/null; popd >/dev/null; basename "$PWD"
--- stdout
a
a
--- exit 0

=== builtin-cd-failure
cd /nonexistent-agentsh-dir 2>/dev/null; echo "status $?"
--- stdout
status 1
--- exit 0

=== builtin-wait-n
(sleep 0.2; exit 3) & (exit 5) & wait -n; echo "first $?"; wait; echo done
--- stdout
first 5
done
--- exit 0

=== builtin-wait-all-status
(exit 2) & p=$!; wait $p; echo $?; wait 999999 2>/dev/null; echo $?
--- stdout
2
127
--- exit 0

=== builtin-coproc
coproc UP { tr a-z A-Z; }; echo hello >&"${UP[1]}"; exec {UP[1]}>&-; read -r line <&"${UP[0]}"; echo "$line"; wait
--- stdout
HELLO
--- exit 0

=== builtin-random-seeded
RANDOM=42; a=$RANDOM; RANDOM=42; b=$RANDOM; [ "$a" = "$b" ] && echo reproducible
--- stdout
reproducible
--- exit 0

=== builtin-lineno
echo $LINENO
f() {
  echo $LINENO
}
f
--- stdout
1
3
--- exit 0

=== builtin-funcname-stack
a() { b; }; b() { echo "${FUNCNAME[*]}"; }; a
--- stdout
b a
--- exit 0

=== builtin-shopt-nocasematch
shopt -s nocasematch; [[ ABC == abc ]] && echo nocase; case XY in xy) echo case-too;; esac
--- stdout
nocase
case-too
--- exit 0

=== builtin-hash-and-command-p
command -p echo via-default-path; hash -r; type -P sh >/dev/null && echo found-sh
--- stdout
via-default-path
found-sh
--- exit 0

=== builtin-declare-attributes
declare -u up=shout; declare -l low=QUIET; declare -r ro=1; declare -x ex=1; echo $up $low; declare -p ro ex
--- stdout
SHOUT quiet
declare -r ro="1"
declare -x ex="1"
--- exit 0

=== builtin-unset-variable-and-function
v=1; f() { :; }; unset v; unset -f f; echo "[${v-unset}]"; type f >/dev/null 2>&1 || echo no-f
--- stdout
[unset]
no-f
--- exit 0

=== builtin-kill-l-and-numbers
kill -l 9; kill -l TERM
--- stdout
KILL
15
--- exit 0
