#!/bin/sh
# The completions module inside real GNU readline (tests/tools/completions_rl,
# a readline loop with completions_install_readline()), driven by Tab presses on
# a tmux terminal: the line that comes back must be what a shell reads as the
# intended words -- quoting, directories without a trailing space, the
# delegate's cwd rather than the process's, commands on PATH, policy words.
# san: yes
. "$(dirname "$0")/../lib.sh"
need_cmd tmux
RL="$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/completions_rl"
[ -x "$RL" ] || t_abort "$RL is not built (make tools)"

W="$TMPD/w"
mkdir -p "$W/cwd/dir1" "$W/bin"
touch "$W/cwd/with space" "$W/cwd/dir1/inner" "$W/cwd/file.txt" "$W/cwd/it's"
printf '#!/bin/sh\n' > "$W/bin/agx-tool" && chmod 755 "$W/bin/agx-tool"
touch "$W/cwd/"'cost$5'

tm_start 120 40 env TERM=xterm INPUTRC=/dev/null "$RL" "$W/cwd" "$W/bin" policy help
tm_wait '^rl>' 15 || { tm_kill; nok "the readline tool showed no prompt"; done_testing; }

# tab TEXT EXPECTED DESC: type TEXT, press Tab, type X and Enter; the tool
# echoes the accepted line as LINE[...] (X marks where completion left the cursor).
tab() {
	tm_type "$1"; tm_keys Tab; sleep 0.3
	tm_type X; tm_keys Enter
	check "$3" tm_wait "^LINE\[$(printf '%s' "$2" | sed 's/[][\\.*^$()|+?{}]/\\&/g')X\]$" 8
}
tab "agx-t" "agx-tool " "command on PATH"
tab "pol" "policy " "built-in name"
tab "policy ch" "policy check " "policy subcommand"
tab "cat wi" 'cat with\ space ' "space escaped with a backslash"
tab "cat it" "cat it\\'s " "quote escaped with a backslash"
tab "cat 'it" "cat 'it'\\''s' " "inside an open single quote"
tab "cat \"wi" 'cat "with space" ' "inside an open double quote"
tab "cat co" 'cat cost\$5 ' "dollar escaped"
tab "cat with\\ s" 'cat with\ space ' "an escaped blank does not split the word"
tab "cat di" "cat dir1/" "a directory gets '/' and no space"
tab "cat dir1/" "cat dir1/inner " "completion goes on inside the directory"
tab "ls; agx" "ls; agx-tool " "command position after ;"
tab "cat nothing-here" "cat nothing-here" "no match: the line is left alone"
tm_keys C-d
tm_kill
done_testing
