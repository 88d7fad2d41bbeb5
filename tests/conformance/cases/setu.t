# set -u (nounset) and other options.

=== nounset-unset-variable-exits
set -u; echo before; echo "$undefined_var"; echo after
--- stdout
before
--- exit 127 stdin=1

=== nounset-default-is-fine
set -u; echo "${undefined_var:-dflt}" "${undefined_var-d2}"
--- stdout
dflt d2
--- exit 0

=== nounset-empty-is-set
set -u; e=; echo "[$e]"
--- stdout
[]
--- exit 0

=== nounset-in-subshell
set -u; (echo "$nope") 2>/dev/null; echo "status $?"
--- stdout
status 1
--- exit 0

=== nounset-empty-at-is-fine
set -u; set --; echo "[$@]" "$#"
--- stdout
[] 0
--- exit 0

=== set-o-reports
set -o errexit; set -o | grep -E '^(errexit|nounset) '; set +o | grep -c 'set -o errexit'
--- stdout
errexit        	on
nounset        	off
1
--- exit 0

=== set-x-goes-to-stderr
set -x; echo traced 2>/dev/null
--- stdout
traced
--- exit 0

=== set-v-noexec-off
echo visible; set -n; echo "not run"
--- stdout
visible
--- exit 0
