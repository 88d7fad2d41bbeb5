#!/bin/sh
# completions/_agentsh: parses, and completes for real in an interactive zsh
# (compinit with the completions directory on $fpath) on a tmux terminal.
. "$(dirname "$0")/../lib.sh"
need_cmd zsh tmux
SRC="$AGENTSH_SRC/completions"

eq "_agentsh parses (zsh -n)" "" "$(zsh -n "$SRC/_agentsh" 2>&1)"

mkdir -p "$TMPD/home" "$TMPD/w" && touch "$TMPD/w/pol.yaml"
tm_start 120 30 env -i HOME="$TMPD/home" TERM=xterm zsh -f -i
tm_wait '.' 5 >/dev/null || true
tm_type "cd '$TMPD/w'; fpath=('$SRC' \$fpath); autoload -Uz compinit; compinit -u -D; PS1='PROMPT%% '"
tm_keys Enter
tm_wait '^PROMPT%' 15 || { nok "zsh did not show its prompt"; tm_kill; done_testing; }

# tab LINE REGEX DESC: type LINE, press Tab, type X (it shows where completion
# left the cursor), check the screen, clear the line.
tab() {
	tm_type "$1"; tm_keys Tab; sleep 0.4; tm_type X
	check "$3" tm_wait "$2" 8
	tm_keys C-u; tm_keys C-l; sleep 0.2
}
tab "agentsh policy ch" 'agentsh policy check X$' "policy subcommand"
tab "agentsh --ev" 'agentsh --events=X$' "long option with ="
tab "agentsh --events=bl" 'agentsh --events=blocked X$' "option value"
tab "agentsh policy check file wr" 'agentsh policy check file write X$' "policy check file OP"
tab "agentsh policy check signal KIL" 'agentsh policy check signal KILL X$' "policy check signal NAME"
tab "agentsh policy check signal KILL ext" 'agentsh policy check signal KILL external X$' "signal target"
tab "agentsh policy validate po" 'agentsh policy validate pol.yaml X$' "policy validate FILE"
tab "agentsh --json policy sh" 'agentsh --json policy show X$' "option before the subcommand"
tab "agentsh approver r" 'agentsh approver remove X$' "approver"
tab "agentsh trash pu" 'agentsh trash purge X$' "trash"
tab "agentsh doc" 'agentsh doctor X$' "subcommand name"
tab "agentsh audit ex" 'agentsh audit export X$' "audit action"
tab "agentsh audit export --format=o" 'agentsh audit export --format=ocsf X$' "audit export --format value"
tab "agentsh events query --type ex" 'agentsh events query --type exec X$' "events --type value"
tab "agentsh events query --since 2h --dec" 'agentsh events query --since 2h --decision=X$' "events option after a valued one"
tab "agentsh report --level d" 'agentsh report --level detailed X$' "report --level value"
tab "agentsh approve al" 'agentsh approve allow X$' "approve action"
tab "agentsh approver add bob --to" 'agentsh approver add bob --totp X$' "approver option"
tab "agentsh trash --older" 'agentsh trash --older-than=X$' "trash option"

# A list: several candidates with their descriptions.
tm_type "agentsh policy check "; tm_keys Tab
check "policy check lists the kinds" tm_wait 'signal +-- sending a signal' 8
tm_keys C-u
tm_kill
done_testing
