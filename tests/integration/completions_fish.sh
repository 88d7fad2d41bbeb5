#!/bin/sh
# completions/agentsh.fish: parses, and fish's own completion engine
# (`complete --do-complete LINE`) offers the right words for agentsh lines.
. "$(dirname "$0")/../lib.sh"
need_cmd fish
SCRIPT="$AGENTSH_SRC/completions/agentsh.fish"

eq "agentsh.fish parses (fish -n)" "" "$(fish -n "$SCRIPT" 2>&1)"
mkdir -p "$TMPD/home" "$TMPD/w" && touch "$TMPD/w/pol.yaml"
# comp LINE: the candidates (without descriptions), sorted, space-separated
comp() {
	(cd "$TMPD/w" && HOME="$TMPD/home" XDG_CONFIG_HOME="$TMPD/home" XDG_DATA_HOME="$TMPD/home" \
		fish --no-config -c 'source $argv[1]; complete --do-complete $argv[2]' "$SCRIPT" "$1") |
		cut -f1 | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}
eq "subcommands and files" "approve approver audit doctor events help pol.yaml policy report trash" "$(comp 'agentsh ')"
eq "flag" "--events" "$(comp 'agentsh --ev')"
eq "--events=VALUE" "--events=all --events=blocked --events=none --events=summary" "$(comp 'agentsh --events=')"
eq "--output VALUE" "json shell" "$(comp 'agentsh --output ')"
eq "-c COMMAND" "echo" "$(comp 'agentsh -c ech' | tr ' ' '\n' | grep -x echo)"
eq "policy subcommands" "check generate lint show test validate" "$(comp 'agentsh policy ')"
eq "policy check kinds" "exec file net signal unix" "$(comp 'agentsh policy check ')"
eq "policy check file OP" "write" "$(comp 'agentsh policy check file wr')"
eq "policy check file OP PATH" "pol.yaml" "$(comp 'agentsh policy check file write po')"
eq "policy check signal NAME" "SIGKILL" "$(comp 'agentsh policy check signal SIGKI')"
eq "policy check signal NAME TARGET" "external" "$(comp 'agentsh policy check signal SIGKILL ex')"
eq "option before subcommand" "show" "$(comp 'agentsh --json policy sh')"
eq "policy validate FILE" "pol.yaml" "$(comp 'agentsh policy validate po')"
eq "audit" "export verify" "$(comp 'agentsh audit ')"
eq "events" "query tail" "$(comp 'agentsh events ')"
eq "approver" "add list remove" "$(comp 'agentsh approver ')"
eq "trash" "list purge restore" "$(comp 'agentsh trash ')"
eq "nothing after audit verify" "" "$(comp 'agentsh audit verify ')"
eq "audit export --format VALUE" "jsonl ocsf" "$(comp 'agentsh audit export --format ')"
eq "subcommand option value skipped" "export" "$(comp 'agentsh audit --format jsonl e')"
eq "events --type VALUE" "exec" "$(comp 'agentsh events query --type ex')"
eq "events --decision=VALUE" "--decision=soft_delete" "$(comp 'agentsh events query --decision=so')"
eq "report --level VALUE" "detailed summary" "$(comp 'agentsh report --level ')"
eq "approve" "allow deny list show" "$(comp 'agentsh approve ')"
eq "approver option" "--totp" "$(comp 'agentsh approver add bob --to')"
eq "trash options" "--all --force --json --older-than --session --trash-dir" "$(comp 'agentsh trash --')"
eq "policy flags" "--json --policy" "$(comp 'agentsh policy --')"
done_testing
