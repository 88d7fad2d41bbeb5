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

# The options of each subcommand (as their usage messages list them).
_agentsh_sub_options() {
	case $1 in
	policy) echo --json --policy ;;
	audit) echo --json --format --since --session --output ;;
	events) echo --session --type --decision --since --until --path-like --domain-like --limit --json --for ;;
	report) echo --level --output ;;
	approve) echo --json --session --code --webauthn --device --remote --remote-agentsh --ssh --socket-dir ;;
	approver) echo --totp --secret --force --webauthn --device --json --dir ;;
	trash) echo --json --session --force --all --older-than --trash-dir ;;
	doctor) echo --json ;;
	esac
}

_agentsh_sub_takes_value() { # OPTION SUBCOMMAND
	[[ $1 == --session && $2 == approve ]] && return 1     # approve allow --session: a flag
	case $1 in
	--format|--level|--type|--decision|--session|--output|--dir|--trash-dir|--socket-dir|--policy|\
	--device|--since|--until|--path-like|--domain-like|--limit|--for|--code|--secret|--older-than|\
	--remote|--remote-agentsh|--ssh) return 0 ;;
	esac
	return 1
}

# The value of a subcommand's option ($1).
_agentsh_sub_value() {
	case $1 in
	--format) _agentsh_reply jsonl ocsf ;;
	--level) _agentsh_reply summary detailed ;;
	--type) _agentsh_reply file network exec command_start command_end signal approval_requested soft_delete ;;
	--decision) _agentsh_reply allow deny approve redirect audit soft_delete ;;
	--session) _agentsh_reply latest ;;
	--output|--dir|--trash-dir|--socket-dir|--policy|--device) _agentsh_files ;;
	esac
}

# Words of a subcommand: $1 = subcommand, then its operands so far.
_agentsh_sub() {
	local sub=$1; shift
	if [[ $cur == -* ]]; then
		_agentsh_reply $(_agentsh_sub_options "$sub")
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
	report) [ $# = 0 ] && _agentsh_reply latest ;;
	approve) [ $# = 0 ] && _agentsh_reply list show allow deny ;;
	approver) [ $# = 0 ] && _agentsh_reply add list remove ;;
	trash) [ $# = 0 ] && _agentsh_reply list restore purge ;;
	help) [ $# = 0 ] && _agentsh_reply $_agentsh_subcommands ;;
	esac
}

_agentsh() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	COMPREPLY=()
	# "--opt=value": bash splits at '=' (COMP_WORDBREAKS), so the words are
	# "--opt" "=" "value" (the last one maybe empty).  valopt: the option whose
	# value may be under the cursor.
	local valopt=
	if [[ $cur == = ]]; then
		cur= valopt=$prev
	elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
		valopt=${COMP_WORDS[COMP_CWORD-2]}
	elif [[ $prev == -* ]]; then
		valopt=$prev
	fi
	# Walk the words before the cursor: global options, then the subcommand
	# (the first operand), then its options and operands.
	local i w sub= args=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ ${COMP_WORDS[i+1]} == = ]] && ((i + 1 < COMP_CWORD)); then
			((i += 2))      # --opt=value
			continue
		fi
		if [[ -z $sub ]]; then
			case $w in
			-c|-[!-]*c) # the next word is a command string, the rest $0 and arguments
				if ((i + 1 == COMP_CWORD)); then
					local IFS=$'\n'; COMPREPLY=($(compgen -c -- "$cur"))
				fi
				return 0 ;;
			-*) _agentsh_takes_value "$w" && ((i++)) ;;
			*) sub=$w ;;
			esac
		elif [[ $w == -* ]]; then
			_agentsh_sub_takes_value "$w" "$sub" && ((i++))
		else
			args+=("$w")
		fi
	done
	if [[ -n $valopt ]]; then
		if [[ -z $sub ]] && _agentsh_takes_value "$valopt"; then
			_agentsh_option_value "$valopt"
			return 0
		elif [[ -n $sub ]] && _agentsh_sub_takes_value "$valopt" "$sub"; then
			_agentsh_sub_value "$valopt"
			return 0
		fi
	fi
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
