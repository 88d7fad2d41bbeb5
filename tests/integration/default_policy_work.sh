#!/bin/sh
# san: yes
# Everyday work under the embedded default policy, as a real account in its
# workspace: what the policy allows must work without a single "denied"
# notice, and what it protects must stay protected.  Each step once failed:
#  - python3, awk, gcc (and gcc's own cc1) were denied at run time: they are
#    symlinks (python3.11, /etc/alternatives/awk -> mawk, gcc-12) and rules
#    only saw the real file name;
#  - git init/commit/checkout, sed -i: saving by renaming a temporary file over
#    the old one was treated as deleting the old one (an approval nobody can
#    give), git's lock and temporary files too, and unlinking names that do not
#    exist (MERGE_HEAD...) asked for approval;
#  - `mkdir -p /abs/path` was reported "denied mkdir /tmp" and blocked:true;
#  - a program built in the workspace could not be run (make test, go test);
#  - `python3 -m venv` failed: pip's bundled certifi/cacert.pem matched the
#    `**/*.pem` deny; an O_TMPFILE in /tmp was decided as creating "/tmp/";
#    g++, readelf, nm, pgrep, free were not listed, top could not make its
#    configuration directory; cp -a was refused its chown of the copy;
#    git stash in an older repository printed
#    "denied rmdir .git ... moving it to the trash failed" (its rmdir of a
#    non-empty .git was a soft delete question).
# (script, tmux and $SHELL inside a session: tests/integration/shell_nested.sh)
. "$(dirname "$0")/../lib.sh"
need_root
[ -x "$AGENTSH" ] || t_abort "agentsh not built"
need_cmd git gcc python3 ssh-agent
U=agsh_daily
t_user $U || t_abort "cannot create test account $U"
# the entries this test put in the system trash go with it
purge_ws() {
	"$AGENTSH" trash list | awk -v ws="$WS/" 'index($NF, ws) == 1 { print $1 }' |
		xargs -r "$AGENTSH" trash purge >/dev/null
}
trap 'purge_ws; userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
# in the account's home, as a real project: beneath /tmp the policy's
# tmp-full-access rule would allow what the workspace rules refuse
H=$(getent passwd $U | cut -d: -f6)
[ -d "$H" ] || t_abort "account $U has no home directory"
WS="$H/work.${TMPD##*.}"         # unique: the system trash outlives the account
mkdir -p "$WS" && chown $U "$WS" && chmod 755 "$TMPD"
mkdir -m 700 "$TMPD/audit"
export AGENTSH_AUDIT_DB="$TMPD/audit/audit.db"
run() { (cd "$WS" && "$AGENTSH" --no-config --user $U -c "$1" 2>"$TMPD/err"); }
works() { # what expected command: the output is as expected, and nothing was denied
	out=$(run "$3")
	eq "$1" "$2" "$out"
	no_denial "$1"
}
no_denial() { # what
	if grep -q 'agentsh: denied' "$TMPD/err"; then
		nok "$1: no denial"; sed 's/^/#   /' "$TMPD/err"
	else
		ok "$1: no denial"
	fi
}

works "python3 and awk run" "42
2" 'python3 -c "print(6*7)"; awk "BEGIN{print 1+1}"'

works "gcc compiles and links (cc1, as, collect2, ld), the program runs" "rc=7" 'printf "int main(void){return 7;}\n" > m.c && gcc -o m m.c && ./m; echo rc=$?'

out=$(run 'git init -q -b main . && git config user.email a@example.com && git config user.name A &&
	echo one > a.txt && git add a.txt && git commit -qm one &&
	git checkout -qb topic && echo two > b.txt && git add b.txt && git commit -qm two &&
	git checkout -q main && git merge -q topic && git log --oneline | wc -l')
eq "git init, commit, branch, checkout, merge" "2" "$(printf '%s' "$out" | tr -d ' ')"
no_denial "git"

# a repository from before the session: git stash tries rmdir(".git")
# expecting ENOTEMPTY, which must not become a denial or a trash attempt
su $U -s /bin/sh -c "cd '$WS' && git init -q old && cd old && git config user.email a@example.com &&
	git config user.name A && echo 1 > f && git add f && git commit -qm 1" || t_abort "cannot make old repo"
out=$(run 'cd old && echo 2 >> f && git stash -q && git stash pop -q && cat f | wc -l')
eq "git stash in a repository from before the session" "2" "$(printf '%s' "$out" | tr -d ' ')"
check "  no denial, .git kept" sh -c "! grep -q 'denied' '$TMPD/err' && test -d '$WS/old/.git/objects'"

works "sed -i saves by rename" "uno" 'sed -i s/one/uno/ a.txt && cat a.txt'

works "mkdir -p of an absolute path and of a tool cache" "made" "mkdir -p $WS/deep/er && mkdir -p ~/.cache/tool && echo made"

out=$(run 'echo x > scratch.tmp && mkdir scratch.d && rm scratch.tmp && rmdir scratch.d &&
	python3 -c "import socket; socket.socket(socket.AF_UNIX).bind(\"scratch.sock\")" && rm scratch.sock &&
	echo clean')
eq "the session's own scratch files, directory and socket are deleted" "clean" "$out"
check "  without a trash notice" sh -c "! grep -q 'moved to trash' '$TMPD/err'"
check "  and without a trash entry" sh -c "! '$AGENTSH' trash list | grep -q '$WS/scratch'"
out=$(run 'rm a.txt && test ! -e a.txt && echo gone')
eq "rm in the workspace works" "gone" "$out"
check "rm: the file went to the trash" sh -c "'$AGENTSH' trash list | grep -q '$WS/a.txt'"

works "python3 -m venv (pip's bundled certifi/cacert.pem) and a venv reading it" "-----" 'python3 -m venv .venv && .venv/bin/python -c "from pip._vendor import certifi; print(open(certifi.where()).read(10)[:5])"'

works "an unnamed O_TMPFILE file in /tmp (tempfile.TemporaryFile)" "tmp" 'python3 -c "import tempfile; f = tempfile.TemporaryFile(); f.write(b\"x\"); print(\"tmp\")"'

works "g++, readelf, nm, pgrep, free, top" "tools" 'printf "int main(){}\n" > p.cc && g++ -o p p.cc && readelf -h p >/dev/null && nm p >/dev/null && pgrep -c bash >/dev/null && free -m >/dev/null && top -bn1 >/dev/null && echo tools'

works "cp -a (a no-op chown of the copy) and tar" "copied" 'cp -a deep deep-copy && tar cf t.tar deep && mkdir x && tar xf t.tar -C x && echo copied'

# removing an older tree: every file goes to the trash, but the notices stop
# after three and one line counts the rest
su $U -s /bin/sh -c "cd '$WS' && mkdir old-tree && for i in 1 2 3 4 5 6 7 8 9 10; do echo \$i > old-tree/f\$i; done" ||
	t_abort "cannot make old-tree"
out=$(run 'rm -rf old-tree && test ! -e old-tree && echo removed')
eq "rm -rf of a tree from before the session" "removed" "$out"
eq "  three trash notices in full" "3" "$(grep -c 'restore with' "$TMPD/err")"
check "  and one line for the other eight" grep -q 'moved to trash: 8 more entries (see: agentsh trash list)' "$TMPD/err"
eq "  all eleven are in the trash" "11" "$("$AGENTSH" trash list | grep -c "$WS/old-tree")"

works "bash writing its history to /dev/null (a chown the kernel refuses anyway: its EPERM, no notice)" "hist rc=0
chgrp=1" 'set -o history; echo x >/dev/null; history -w /dev/null; echo hist rc=$?; chgrp $(id -g) /etc/hostname 2>/dev/null; echo chgrp=$?'

works "a name lookup goes to the host's resolver (@resolvers), wherever it is; a server's getaddrinfo probes of 0.0.0.0 and :: are localhost" "looked up" 'python3 -c "import socket
try: socket.getaddrinfo(\"example.invalid\", 443)
except OSError: pass
print(\"looked up\")"; python3 -m http.server 8767 >/dev/null 2>&1 & sleep 0.5; kill $!'

works "ps (it reads every process's environ, the session's own too)" "ps" 'ps aux >/dev/null && ps >/dev/null && echo ps'
out=$(cd "$WS" && "$AGENTSH" --no-config --user $U -c --json 'ps aux >/dev/null' 2>/dev/null)
check "  and --json does not call ps blocked" sh -c "printf '%s' '$out' | grep -q '\"blocked\":false'"
out=$(run 'cat /proc/$$/environ >/dev/null 2>&1; echo rc=$?')
eq "  the session's own environ stays unreadable" "rc=1" "$out"

# ...and what the policy protects is still protected
printf 'SECRET=1\n' >"$WS/.env"; chown $U "$WS/.env"
out=$(run 'cat .env; echo rc=$?')
eq "a .env file stays unreadable" "rc=1" "$out"
check "  with a notice naming the rule" grep -q 'deny-secret-files' "$TMPD/err"
ln -s /usr/bin/dd "$WS/python3"; chown -h $U "$WS/python3"
out=$(run './python3 --version 2>/dev/null; echo rc=$?')
eq "the agent's own link named python3 to dd is dd" "rc=126" "$out"
# the account's own process outside the session (an agent harness holding an
# API key in its environment): refused, with a notice (the walk stops at a
# process outside the session before any rule is asked)
setpriv --reuid=$U --regid=$U --init-groups sleep 60 & OUTSIDE=$!
out=$(run "cat /proc/$OUTSIDE/environ >/dev/null; echo rc=\$?")
eq "the environ of the account's process outside the session stays unreadable" "rc=1" "$out"
check "  with a notice naming the rule" grep -q 'outside-process' "$TMPD/err"
kill $OUTSIDE 2>/dev/null; wait $OUTSIDE 2>/dev/null
out=$(run 'echo x > /etc/agentsh-daily-test 2>/dev/null; echo rc=$?')
eq "the system stays read-only" "rc=1" "$out"
check "  and unchanged" test ! -e /etc/agentsh-daily-test
# A key agent in /tmp (where `ssh -A` puts the human's forwarded one, owned by
# the account it logged in as): it signs with keys the agent must not use.
AD=$(mktemp -d /tmp/ssh-XXXXXXXXXX) && chown $U "$AD" && chmod 700 "$AD"
setpriv --reuid=$U --regid=$U --init-groups ssh-agent -D -a "$AD/agent.1" >/dev/null 2>&1 & AGENT=$!
i=0; while [ $i -lt 50 ] && [ ! -S "$AD/agent.1" ]; do sleep 0.05; i=$((i+1)); done
ask='import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); s.sendall(b"\0\0\0\1\x0b"); r = s.recv(5)
    print("answered" if len(r) == 5 and r[4] == 12 else "odd reply")
except OSError as e:
    print("refused")'
eq "control: the agent answers the account outside the session" answered \
	"$(setpriv --reuid=$U --regid=$U --init-groups /usr/bin/python3 -c "$ask" "$AD/agent.1")"
out=$(run "python3 -c '$ask' $AD/agent.1")
eq "a key agent's socket in /tmp is out of reach in the session" refused "$out"
check "  with a notice naming the rule" grep -q 'deny-key-agents' "$TMPD/err"
kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null; rm -rf "$AD"
# Started in the home directory (an ssh login), the workspace rules cover
# all of it.  Files that make programs outside agentsh run code later stay
# out of reach, and so do protected paths that do not exist yet: a tree or a
# link made elsewhere and put where they would be decides what they hold.
hrun() { (cd "$H" && "$AGENTSH" --no-config --user $U -c "$1" 2>"$TMPD/err"); }
fresh() { rm -rf "$H/.config" "$H/.ssh" "$H/st" "$H/keys"; }
fresh
out=$(hrun 'mkdir -p ~/.config/systemd/user && echo "[Service]" > ~/.config/systemd/user/x.service; echo rc=$?')
eq "home workspace: a systemd user unit cannot be made" "rc=1" "$out"
check "  nothing was made, and the notice names the rule" sh -c "[ ! -e '$H/.config/systemd' ] && grep -q protect-persistence '$TMPD/err'"
fresh
out=$(hrun 'mkdir -p st/systemd/user && echo "[Service]" > st/systemd/user/x.service && mv -T st ~/.config; echo rc=$?')
eq "home workspace: a staged tree cannot become ~/.config" "rc=1" "$out"
check "  and ~/.config holds no unit" [ ! -e "$H/.config/systemd/user/x.service" ]
for how in 'mv -T keys ~/.ssh' 'ln -s keys ~/.ssh'; do
	fresh
	out=$(hrun "mkdir -p keys && echo 'ssh-ed25519 AAAA agent' > keys/authorized_keys && $how; echo rc=\$?")
	eq "home workspace: $how cannot make a missing ~/.ssh" "rc=1" "$out"
	check "  ~/.ssh does not exist, and the notice says why" sh -c "[ ! -e '$H/.ssh' ] && [ ! -L '$H/.ssh' ] && grep -q 'would decide what' '$TMPD/err'"
done
fresh
done_testing
