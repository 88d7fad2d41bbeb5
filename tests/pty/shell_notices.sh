#!/bin/sh
# Supervisor notices at a real terminal, under the embedded default policy:
# removing an older tree prints three "moved to trash" lines and one summary
# when the command ends, and the next command starts clean; a program that
# starts $SHELL (script) gets a working shell inside the session.
# Normal build only: script runs agentsh inside the sandbox, where the ASan
# build cannot run (LeakSanitizer ptraces at exit; see shell_nested.sh).
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd tmux script
[ -x "$AGENTSH" ] || t_abort "no agentsh binary at $AGENTSH (run make)"
export NO_COLOR=1
U=agsh_pty_notes
t_user $U || t_abort "cannot create the test account $U"
H=$(getent passwd $U | cut -d: -f6)
[ -d "$H" ] || t_abort "account $U has no home directory"
WS="$H/work.${TMPD##*.}"
purge_ws() {
	"$AGENTSH" trash list | awk -v ws="$WS/" 'index($NF, ws) == 1 { print $1 }' |
		xargs -r "$AGENTSH" trash purge >/dev/null
}
trap 'tm kill-server 2>/dev/null; purge_ws; userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
mkdir -p "$WS/old" && for i in 1 2 3 4 5 6 7; do echo $i > "$WS/old/f$i"; done
chown -R $U "$WS"
mkdir -m 700 "$TMPD/audit"
export AGENTSH_AUDIT_DB="$TMPD/audit/audit.db"
PROMPT='@[^ ]*:[^ ]*[#$]'

tm_start 160 40 sh -c "cd '$WS' && '$AGENTSH' --no-config --user $U -i; echo agentsh-rc=\$?; sleep 600"
check "prompt appears" tm_wait "$PROMPT" 10
tm_type 'rm -rf old; echo removed-old'; tm_keys Enter
check "the command ran" tm_wait '^removed-old$'
check "one summary line for the rest" tm_wait 'moved to trash: 5 more entries \(see: agentsh trash list\)'
eq "three notices in full" "3" "$(tm_screen | grep -c 'restore with')"
tm_type 'echo next-command'; tm_keys Enter
check "the next command runs" tm_wait '^next-command$'
eq "  and brings no stale summary" "1" "$(tm_screen | grep -c 'more entries')"
eq "all eight are in the trash" "8" "$("$AGENTSH" trash list | grep -c "$WS/old")"

tm_type 'script -qc "echo inside-script" /dev/null'; tm_keys Enter
check "script (which starts \$SHELL) works inside the session" tm_wait '^inside-script'
if tm_screen | grep -q 'agentsh: denied'; then nok "  without a denial"; else ok "  without a denial"; fi
tm_wait "$PROMPT\$" 5 >/dev/null
tm_keys C-d
check "agentsh exits" tm_wait 'agentsh-rc=0' 5
done_testing
