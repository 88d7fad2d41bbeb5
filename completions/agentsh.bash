# bash completion for agentsh                                  -*- shell-script -*-
# Installed as share/bash-completion/completions/agentsh; or: source this file.
# Self-contained: it does not need the bash-completion package.

_agentsh_flags='-c -i -l -s --login --json --output --events --policy --user --delegate
  --no-config --version --help'
_agentsh_subcommands='policy audit events report approve approver trash doctor help'
_agentsh_file_ops='read write create delete rename link symlink mkdir rmdir chmod chown
  truncate xattr mknod exec open stat list readlink access'
_agentsh_signal_targets='self children descendants siblings session parent external system'

# _agentsh_reply WORDS... : COMPREPLY = the words that start with $cur
_agentsh_reply() {
	local IFS=$' \t\n'
	COMPREPLY+=($(compgen -W "$*" -- "$cur"))
}

_agentsh_files() {
	local IFS=$'\n'
	COMPREPLY+=($(compgen -f -- "$cur"))
	compopt -o filenames 2>/dev/null
}

# The value of an option that takes one ($1 = the option).
_agentsh_option_value() {
	case $1 in
	--output) _agentsh_reply json shell ;;
	--events) _agentsh_reply all summary blocked none ;;
	--user) local IFS=$'\n'; COMPREPLY+=($(compgen -u -- "$cur")) ;;
	--policy|--delegate) _agentsh_files ;;
	*) return 1 ;;
	esac
}

_agentsh_takes_value() {
	case $1 in --output|--events|--user|--policy|--delegate) return 0 ;; esac
	return 1
}

# Words of a subcommand: $1 = subcommand, then its positional words so far.
_agentsh_sub() {
	local sub=$1; shift
	if [[ $cur == -* ]]; then
		case $sub in
		policy) _agentsh_reply --json --policy ;;
		help) ;;
		*) _agentsh_reply --json ;;
		esac
		return
	fi
	case $sub in
	policy)
		case $#:$1 in
		0:) _agentsh_reply show validate lint check test generate ;;
		1:check) _agentsh_reply file exec net signal unix ;;
		2:check)
			case $2 in
			file) _agentsh_reply $_agentsh_file_ops ;;
			unix) _agentsh_reply connect bind listen sendto ;;
			net) _agentsh_reply connect ;;
			signal) local IFS=$'\n'; COMPREPLY+=($(compgen -A signal -- "$cur")) ;;
			exec) local IFS=$'\n'; COMPREPLY+=($(compgen -c -- "$cur")); _agentsh_files ;;
			esac ;;
		3:check) case $2 in signal) _agentsh_reply $_agentsh_signal_targets ;; file|unix|exec) _agentsh_files ;; esac ;;
		*:generate) ;;
		*) _agentsh_files ;;
		esac ;;
	audit) [ $# = 0 ] && _agentsh_reply verify export ;;
	events) [ $# = 0 ] && _agentsh_reply query tail ;;
	approver) [ $# = 0 ] && _agentsh_reply add list remove ;;
	trash)
		case $#:$1 in
		0:) _agentsh_reply list restore purge ;;
		esac ;;
	help) [ $# = 0 ] && _agentsh_reply $_agentsh_subcommands ;;
	esac
}

_agentsh() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	COMPREPLY=()
	# "--opt=value": bash splits at '=' (COMP_WORDBREAKS), so the words are
	# "--opt" "=" "value" (the last one maybe empty).
	if [[ $cur == = ]]; then
		cur=
		_agentsh_option_value "$prev"
		return 0
	fi
	if [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
		_agentsh_option_value "${COMP_WORDS[COMP_CWORD-2]}"
		return 0
	fi
	if _agentsh_takes_value "$prev"; then
		_agentsh_option_value "$prev"
		return 0
	fi
	# Find the subcommand (the first operand) and the operands after it.
	local i w sub= args=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -n $sub ]]; then
			[[ $w == -* ]] || args+=("$w")
			[[ $w == --policy ]] && ((i++))
			continue
		fi
		case $w in
		-c|-[!-]*c) # the next word is a command string, the rest $0 and arguments
			if ((i + 1 == COMP_CWORD)); then
				local IFS=$'\n'; COMPREPLY=($(compgen -c -- "$cur"))
			fi
			return 0 ;;
		=) ((i++)) ;;
		-*) _agentsh_takes_value "$w" && [[ ${COMP_WORDS[i+1]} != = ]] && ((i++)) ;;
		*) sub=$w ;;
		esac
	done
	if [[ -n $sub ]]; then
		_agentsh_sub "$sub" "${args[@]}"
	elif [[ $cur == -* ]]; then
		_agentsh_reply $_agentsh_flags
	else
		# agentsh SCRIPT or agentsh SUBCOMMAND
		_agentsh_reply $_agentsh_subcommands
		_agentsh_files
	fi
	return 0
}

complete -F _agentsh agentsh
