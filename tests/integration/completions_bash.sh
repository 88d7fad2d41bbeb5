#!/bin/sh
# completions/agentsh.bash: registered with `complete`, and the words it offers
# for COMP_WORDS/COMP_CWORD as bash's completion machinery sets them; then once
# for real, typing Tab in an interactive bash on a tmux terminal.
. "$(dirname "$0")/../lib.sh"
need_cmd bash
SCRIPT="$AGENTSH_SRC/completions/agentsh.bash"

eq "the script parses" "" "$(bash -n "$SCRIPT" 2>&1)"
eq "complete -p registers _agentsh" "complete -F _agentsh agentsh" \
	"$(bash -c '. "$1"; complete -p agentsh' _ "$SCRIPT")"

mkdir -p "$TMPD/w/sub" && touch "$TMPD/w/script.sh" "$TMPD/w/pol.yaml"
# comp WORD... : the sorted COMPREPLY, space-separated, for the words given
# (the last is the word under the cursor; "" for an empty one).
comp() {
	(cd "$TMPD/w" && bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_agentsh
		printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " " | sed "s/ $//"
	' _ "$SCRIPT" "$@")
}

eq "no subcommand: subcommands and files" \
	"approve approver audit doctor events help pol.yaml policy report script.sh sub trash" "$(comp agentsh "")"
eq "flags" "--policy" "$(comp agentsh --po)"
eq "all flags" "--delegate --events --help --json --login --no-config --output --policy --user --version" \
	"$(comp agentsh --)"
eq "--events VALUE" "all blocked none summary" "$(comp agentsh --events "")"
eq "--events=VALUE" "all blocked none summary" "$(comp agentsh --events = "")"
eq "--output=j" "json" "$(comp agentsh --output = j)"
eq "--user NAME" "root" "$(comp agentsh --user roo)"
eq "--policy FILE" "pol.yaml" "$(comp agentsh --policy po)"
# (compgen -c lists echo twice, builtin and /usr/bin/echo; readline shows it once)
eq "-c: a command name" "echo" "$(comp agentsh -c ech | tr ' ' '\n' | grep -x echo | sort -u)"
eq "-lc: a command name" "echo" "$(comp agentsh -lc ech | tr ' ' '\n' | grep -x echo | sort -u)"
eq "after -c STRING: nothing" "" "$(comp agentsh -c 'ls' "")"
eq "policy subcommands" "check generate lint show test validate" "$(comp agentsh policy "")"
eq "option before subcommand skipped" "show" "$(comp agentsh --policy x.yaml policy sh)"
eq "--opt=value before subcommand" "validate" "$(comp agentsh --events = all policy va)"
eq "policy flags" "--json --policy" "$(comp agentsh policy --)"
eq "policy check kinds" "exec file net signal unix" "$(comp agentsh policy check "")"
eq "policy check file OP" "write" "$(comp agentsh policy check file wr)"
eq "policy check file OP PATH" "pol.yaml" "$(comp agentsh policy check file write po)"
eq "policy check signal NAME" "SIGKILL" "$(comp agentsh policy check signal SIGKI)"
eq "policy check signal NAME TARGET" "external" "$(comp agentsh policy check signal SIGKILL ex)"
eq "policy check net OP" "connect" "$(comp agentsh policy check net "")"
eq "--json policy validate FILE" "pol.yaml" "$(comp agentsh --json policy validate po)"
eq "audit" "export verify" "$(comp agentsh audit "")"
eq "events" "query tail" "$(comp agentsh events "")"
eq "approver" "add list remove" "$(comp agentsh approver "")"
eq "trash" "list purge restore" "$(comp agentsh trash "")"
eq "doctor flags" "--json" "$(comp agentsh doctor --)"
eq "help NAME" "approve approver audit" "$(comp agentsh help a)"
eq "no words after audit verify" "" "$(comp agentsh audit verify "")"
eq "audit export --format VALUE" "jsonl ocsf" "$(comp agentsh audit export --format "")"
eq "audit export --format=VALUE" "ocsf" "$(comp agentsh audit export --format = o)"
eq "subcommand option value skipped" "export" "$(comp agentsh audit --format jsonl e)"
eq "events --type VALUE" "exec" "$(comp agentsh events query --type ex)"
eq "events --decision=VALUE" "soft_delete" "$(comp agentsh events query --decision = so)"
eq "events options after a valued one" "--json" "$(comp agentsh events query --since 2h --j)"
eq "report --level VALUE" "detailed summary" "$(comp agentsh report --level "")"
eq "report SESSION" "latest" "$(comp agentsh report "")"
eq "approve" "allow deny list show" "$(comp agentsh approve "")"
eq "approver options" "--totp" "$(comp agentsh approver add bob --to)"
eq "trash options" "--all --force --json --older-than --session --trash-dir" "$(comp agentsh trash --)"
eq "global option value still works" "all blocked none summary" "$(comp agentsh --events "")"

# Real readline: an interactive bash on a terminal, Tab after "policy ch".
if command -v tmux >/dev/null 2>&1; then
	tm_start 100 20 env -i HOME="$TMPD" HISTFILE=/dev/null TERM=xterm PS1='PROMPT$ ' bash --norc --noprofile -i
	if tm_wait 'PROMPT\$' 15; then
		tm_type ". '$SCRIPT'"; tm_keys Enter
		# the X typed after Tab shows the space completion added (tmux trims trailing blanks)
		tm_type "agentsh policy ch"; tm_keys Tab; sleep 0.3; tm_type X
		check "Tab completes 'policy ch' to 'policy check '" tm_wait 'agentsh policy check X$' 8
		tm_keys C-u; tm_type "agentsh --ev"; tm_keys Tab; sleep 0.3; tm_type X
		check "Tab completes '--ev' to '--events '" tm_wait 'agentsh --events X$' 8
	else
		nok "interactive bash did not show its prompt"
	fi
	tm_kill
fi
done_testing
