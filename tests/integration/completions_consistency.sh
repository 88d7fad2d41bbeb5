#!/bin/sh
# The word lists the bash, zsh and fish scripts carry for `policy` (subcommands,
# check kinds, file and unix operations, signal targets) are the ones agentsh's own
# completer offers -- and those come from the policy module's name tables.  A new
# operation added to policy/ without the scripts fails here.
. "$(dirname "$0")/../lib.sh"
RL="$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/completions_rl"
[ -x "$RL" ] || t_abort "$RL is not built (make tools)"
need_cmd bash
SRC="$AGENTSH_SRC/completions"

native() { "$RL" --candidates / /nonexistent "$1" | LC_ALL=C sort | tr '\n' ' '; }
bashc() { # WORDS... (last = "") -> COMPREPLY sorted
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _agentsh
		printf "%s\n" "${COMPREPLY[@]}"' _ "$SRC/agentsh.bash" "$@" | LC_ALL=C sort | tr '\n' ' '
}
zshc() { # WORDS after "agentsh" (last = "") -> what _agentsh_policy adds
	zsh -fc 'compadd() { while [[ $1 == -* ]]; do [[ $1 == -- ]] && { shift; break }; shift; done
			print -l -- "$@"; }
		_describe() { local -a l; l=(${(P)${@[-1]}}); print -l -- ${l%%:*}; }
		_files() { :; }; _signals() { :; }; _command_names() { :; }
		source <(sed "\$d" "$1"); shift
		words=("$@"); CURRENT=$#; PREFIX=""; _agentsh_policy' _ "$SRC/_agentsh" "$@" |
		LC_ALL=C sort | tr '\n' ' '
}
fishc() { fish --no-config -c 'source $argv[1]; complete --do-complete $argv[2]' "$SRC/agentsh.fish" "$1" |
	cut -f1 | LC_ALL=C sort | tr '\n' ' '; }

for line in "policy " "policy check " "policy check file " "policy check unix " \
	"policy check net " "policy check signal SIGKILL "; do
	want=$(native "$line")
	check "agentsh's completer has words for '$line'" [ -n "$want" ]
	# shellcheck disable=SC2086
	set -- agentsh $line
	eq "bash: '$line'" "$want" "$(bashc "$@" "")"
	if command -v zsh >/dev/null 2>&1; then
		shift
		eq "zsh: '$line'" "$want" "$(zshc "$@" "")"
	fi
	if command -v fish >/dev/null 2>&1; then
		eq "fish: '$line'" "$want" "$(fishc "agentsh $line")"
	fi
done
done_testing
