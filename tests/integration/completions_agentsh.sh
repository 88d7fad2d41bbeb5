#!/bin/sh
# Tab completion inside an interactive agentsh on a tmux terminal: built-ins and
# PATH commands for the first word, file names in the delegate's cwd (after a
# `cd` in the delegate), and the policy words.
. "$(dirname "$0")/../lib.sh"
need_cmd tmux
[ -x "$AGENTSH" ] || t_abort "$AGENTSH is not built"
need_root

# agentsh refuses to run a session as root: an unprivileged account, removed afterwards
U=agentsh-compl
if ! id "$U" >/dev/null 2>&1; then
	t_user "$U" || t_abort "cannot create the test account $U (useradd)"
	trap 'userdel -r "$U" >/dev/null 2>&1; t_cleanup' EXIT
fi
mkdir -p "$TMPD/w/sub" && touch "$TMPD/w/sub/only-in-sub.txt" "$TMPD/w/top.txt"
chmod -R a+rwX "$TMPD/w"
cd "$TMPD/w" || exit 1
# (the short sleep lets tm_start set remain-on-exit before agentsh can exit)
tm_start 120 30 sh -c 'sleep 0.3; exec "$@"' sh env HOME="$TMPD" TERM=xterm \
	"$AGENTSH" ${AGENTSH_TEST_FLAGS:---no-config} --user "$U" -i
sleep 0.5
tm_type 'echo READY-$((40+2))'; tm_keys Enter
if [ "$(tm_dead)" = 1 ] || ! tm_wait 'READY-42' 10 >"$TMPD/wait.log"; then
	tm_screen | grep -v '^$' | sed 's/^/# /'
	tm_kill
	t_abort "interactive agentsh ran no command (it must print READY-42); completion not tested"
fi

# tab LINE REGEX DESC: type LINE, Tab, X (marks where completion left the cursor)
tab() {
	tm_type "$1"; tm_keys Tab; sleep 0.5; tm_type X
	check "$3" tm_wait "$2" 8
	tm_keys C-u; sleep 0.2
}
tab "docto" 'doctor X$' "first word: the agentsh built-in doctor"
tab "ech" 'echo X$' "first word: a command on PATH"
tab "policy chec" 'policy check X$' "policy subcommand"
tab "policy check sig" 'policy check signal X$' "policy check kind"
tab "cat to" 'cat top.txt X$' "file name in the starting directory"
tm_type "cd sub"; tm_keys Enter; sleep 0.5
tab "cat only" 'cat only-in-sub.txt X$' "file name in the delegate's cwd after cd"
tm_keys C-d
tm_kill
done_testing
