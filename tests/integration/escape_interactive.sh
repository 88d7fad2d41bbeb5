#!/bin/sh
# san: yes
# Command and file escapes typed into the interactive shell (a real PTY via
# tmux), as a real account under tests/data/escape-strict.yaml: the forbidden
# binary never runs, the denial is shown as one notice line, and the shell
# stays usable.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd tmux
[ -x "$AGENTSH" ] || t_abort "agentsh not built"
U=agentsh-escint
t_user $U || t_abort "cannot create test account $U"
trap 'tm_kill; userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
WS="$TMPD/ws"; mkdir -p "$WS/data" && chmod 755 "$TMPD"
echo SECRET >"$WS/data/key.secret"; chown -R $U "$WS"
POL="$TMPD/escape.yaml"
sed "s|@WS@|$WS|g" "$AGENTSH_SRC/tests/data/escape-strict.yaml" >"$POL"
mkdir -m 700 "$TMPD/audit"
export AGENTSH_AUDIT_DB="$TMPD/audit/audit.db"
(cd "$WS" && "$AGENTSH" --no-config --policy "$POL" --user $U -c true) >/dev/null 2>&1 ||
	t_abort "agentsh --user cannot run a sandboxed command here"

tm_start 120 40 sh -c "cd $WS; $AGENTSH --no-config --policy $POL --user $U -i; echo agentsh-rc=\$?; sleep 600"
tm_wait "$U@" 10 || { nok "prompt"; done_testing; }
n=0
typed() { # NAME LINE: type it, wait for the marker printed after it
	n=$((n+1))
	tm_type "$2; echo mark-$n-\$((40+2))"
	tm_keys Enter
	if tm_wait "mark-$n-42" 15; then ok "$1: the shell came back"; else nok "$1: no prompt back"; fi
}
typed "direct" "id"
typed "awk system()" "awk 'BEGIN{system(\"id\")}'"
typed "function named ls" "ls() { id; }; ls; unset -f ls"
typed "python os.system" "/usr/bin/python3 -c 'import os; os.system(\"id\")'"
typed "write a secret file" "echo pwned > $WS/data/key.secret"
scr=$(tm_screen)
if printf '%s' "$scr" | grep -q 'uid='; then nok "the forbidden binary ran"; printf '%s\n' "$scr" | sed 's/^/#   /'
else ok "the forbidden binary never ran"; fi
check "a denial notice is on the screen" sh -c "printf '%s' \"\$1\" | grep -q 'agentsh: denied execve /usr/bin/id'" _ "$scr"
eq "the secret file is untouched" SECRET "$(cat "$WS/data/key.secret")"
tm_type "exit"; tm_keys Enter
tm_wait "agentsh-rc=" 10 >/dev/null && ok "exit" || nok "exit"
# the session's events are durable once it ended
check "exec denials are audited" [ "$("$AGENTSH" events query --type exec --decision deny --limit 1000 | grep -c .)" -ge 4 ]
check "the file denial is audited" [ "$("$AGENTSH" events query --type file --decision deny --limit 1000 | grep -c .)" -ge 1 ]
done_testing
