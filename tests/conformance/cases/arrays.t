# Indexed and associative arrays.

=== array-basic-index
a=(zero one two); echo ${a[1]} ${#a[@]} ${a[-1]}
--- stdout
one 3 two
--- exit 0

=== array-at-vs-star
a=("x y" z); printf '<%s>' "${a[@]}"; echo; printf '<%s>' "${a[*]}"; echo
--- stdout
<x y><z>
<x y z>
--- exit 0

=== array-append-and-sparse
a=(a); a+=(b c); a[10]=k; echo ${#a[@]} ${!a[@]}
--- stdout
4 0 1 2 10
--- exit 0

=== array-unset-element
a=(a b c); unset 'a[1]'; echo ${#a[@]} "${a[@]}" ${!a[@]}
--- stdout
2 a c 0 2
--- exit 0

=== array-slice
a=(a b c d e); echo ${a[@]:1:3}
--- stdout
b c d
--- exit 0

=== array-assoc
declare -A m; m[one]=1; m[two]=2; echo ${m[two]} ${#m[@]}; for k in $(printf '%s\n' "${!m[@]}" | sort); do echo "$k=${m[$k]}"; done
--- stdout
2 2
one=1
two=2
--- exit 0

=== array-pattern-on-elements
a=(file.c main.c util.h); echo ${a[@]%.c}
--- stdout
file main util.h
--- exit 0

=== array-element-length
a=(abc de); echo ${#a[0]} ${#a[1]}
--- stdout
3 2
--- exit 0

=== array-from-split
IFS=: read -r -a parts <<< "a:b::c"; echo ${#parts[@]} "${parts[2]}" "${parts[3]}"
--- stdout
4  c
--- exit 0
