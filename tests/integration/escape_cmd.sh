#!/bin/sh
# san: yes
# Command escapes through `agentsh -c` as a real unprivileged account, under
# tests/data/escape-strict.yaml: every route to the forbidden binary
# (/usr/bin/id) must fail, print nothing of it ("uid="), and leave an exec
# deny in the audit store.  A control run proves each route really runs id
# outside the sandbox.
. "$(dirname "$0")/../lib.sh"
need_root
[ -x "$AGENTSH" ] || t_abort "agentsh not built"
U=agentsh-escape
t_user $U || t_abort "cannot create test account $U"
trap 'userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
H=$(getent passwd $U | cut -d: -f6)
WS="$TMPD/ws"
mkdir -p "$WS" "$H/bin" && chown $U "$WS" "$H/bin" && chmod 755 "$TMPD"
POL="$TMPD/escape.yaml"
sed "s|@WS@|$WS|g" "$AGENTSH_SRC/tests/data/escape-strict.yaml" >"$POL"
mkdir -m 700 "$TMPD/audit"
export AGENTSH_AUDIT_DB="$TMPD/audit/audit.db"

run() { (cd "$WS" && "$AGENTSH" --no-config --policy "$POL" --user $U -c "$1" 2>&1); }
(cd "$WS" && "$AGENTSH" --no-config --policy "$POL" --user $U -c true) >/dev/null 2>&1 ||
	t_abort "agentsh -c --user cannot run a sandboxed command here: $(run true | head -3)"

denies() { "$AGENTSH" events query --type exec --decision deny --limit 100000 2>/dev/null | grep -c . ; }
PY=/usr/bin/python3
# what id prints when it runs: its answer, or its complaint about the
# script name it got as an argument (shebang cases)
MARK='uid=\|no such user'

# NAME CMD: the escape must fail and be audited
escape() {
	before=$(denies)
	out=$(run "$2"); rc=$?
	after=$(denies)
	if printf '%s' "$out" | grep -q "$MARK"; then
		nok "$1: the forbidden binary ran"; printf '%s\n' "$out" | sed 's/^/#   /'
	else
		ok "$1: refused (exit $rc)"
	fi
	check "$1: audited as an exec deny" [ "$after" -gt "$before" ]
}
# control: the same route works without agentsh (the test can fail)
control() {
	out=$(cd "$WS" && setpriv --reuid $U --regid $(id -g $U) --init-groups sh -c "$2" 2>&1)
	if printf '%s' "$out" | grep -q "$MARK"; then ok "control $1: runs id outside the sandbox"
	else nok "control $1"; printf '%s\n' "$out" | sed 's/^/#   /'; fi
}

cp /usr/bin/id "$WS/idcopy"; chmod 755 "$WS/idcopy"
ln -s /usr/bin/id "$WS/idlink"
printf '#!/usr/bin/id\n' >"$H/bin/shebang"; chmod 755 "$H/bin/shebang"
printf '#!/usr/bin/env id\n' >"$H/bin/envbang"; chmod 755 "$H/bin/envbang"
chown -R $U "$WS" "$H/bin"

while IFS='|' read -r name cmd; do
	[ -n "$name" ] || continue
	control "$name" "$cmd"
	escape "$name" "$cmd"
done <<EOF
direct|id
vim :!|vim -es -u NONE -c 'set shell=/bin/sh' -c '!id' -c 'qa!'
awk system()|awk 'BEGIN{system("id")}'
find -exec|find / -maxdepth 0 -exec id \;
xargs|echo x | xargs id
python3 os.system|$PY -c 'import os; os.system("id")'
python3 os.execv|$PY -c 'import os; os.execv("/usr/bin/id", ["id"])'
perl exec|perl -e 'exec "id"'
perl exec list|perl -e 'exec {"/usr/bin/id"} "x"'
env|env id
nice|nice -n 5 id
busybox sh|busybox sh -c id
ld.so|/lib64/ld-linux-x86-64.so.2 /usr/bin/id
ld.so with options|/lib64/ld-linux-x86-64.so.2 --library-path /lib /usr/bin/id
symlinked binary|$WS/idlink
copied binary in /tmp|$WS/idcopy
shebang script|$H/bin/shebang
env shebang|$H/bin/envbang
memfd + fexecve|$PY -c 'import os; f=os.memfd_create("x"); os.write(f, open("/usr/bin/id","rb").read()); os.execve(f, ["id"], {})'
execveat AT_EMPTY_PATH|$PY -c 'import os; f=os.open("/usr/bin/id", os.O_RDONLY); os.execve(f, ["id"], {})'
/proc/self/fd/N|exec 7</usr/bin/id; /proc/self/fd/7
/dev/fd/N from a child|exec 7</usr/bin/id; sh -c '/dev/fd/7'
bash -c printf|bash -c "\$(printf 'i%s' d)"
pipe into it|echo x | id
function named ls|ls() { id; }; ls
alias named ls|bash -O expand_aliases -c "\$(printf 'alias ls=id\\nls')"
EOF

# hard link: either the link itself is refused (protected_hardlinks) or exec is
out=$(run "ln /usr/bin/id $WS/idhard 2>/dev/null; $WS/idhard")
if printf '%s' "$out" | grep -q "$MARK"; then nok "hard-linked binary ran"; else ok "hard-linked binary refused"; fi

# redirect: whoami runs echo instead, in the same sandbox, with its stdio
eq "command redirect runs the replacement" "whoami-redirected extra" "$(run 'whoami extra' 2>/dev/null | grep -v '^agentsh:')"
check "redirect notice" sh -c "printf '%s' \"\$(cd '$WS' && '$AGENTSH' --no-config --policy '$POL' --user $U -c whoami 2>&1 >/dev/null)\" | grep -q 'redirected'"

# The supervisor reads an exec'd file's first bytes (a shebang?) as root: only
# of a regular file.  Opened as root, a device acts (/dev/watchdog arms the
# watchdog); a FIFO releases the writer that waits for a reader.
mkfifo "$WS/fifo" && chmod 755 "$WS/fifo" && chown $U "$WS/fifo"
( timeout 3 sh -c "echo x > '$WS/fifo'" 2>/dev/null; echo "writer=$?" >"$TMPD/writer" ) &
sleep 0.3
# (execv from python: bash would open the file itself after the failed exec)
run "$PY -c 'import os; os.execv(\"$WS/fifo\", [\"fifo\"])'" >/dev/null
wait
eq "exec of a FIFO: the supervisor never opens it (its writer still waits)" "writer=124" "$(cat "$TMPD/writer")"

# ... and only of a file the account may execute: a root-only script's first
# line (its interpreter, here one that does not exist) is none of the
# agent's business.  Outside agentsh the exec fails with EACCES.
mkdir -m 755 "$TMPD/rootonly"
printf '#!/nonexistent/TOPSECRET-interp\n' >"$TMPD/rootonly/s.sh"
chmod 700 "$TMPD/rootonly/s.sh"
native=$(setpriv --reuid "$(id -u $U)" --regid "$(id -g $U)" --clear-groups \
	$PY -c "import os; os.execv('$TMPD/rootonly/s.sh', ['s'])" 2>&1 | tail -1)
out=$(run "$PY -c \"import os; os.execv('$TMPD/rootonly/s.sh', ['s'])\"" 2>&1)
check "control: outside agentsh a root-only script fails with EACCES" \
	sh -c "printf '%s' \"\$1\" | grep -q 'PermissionError'" _ "$native"
check "exec of a root-only script: EACCES as outside agentsh" \
	sh -c "printf '%s' \"\$1\" | grep -q 'PermissionError'" _ "$out"
check "exec of a root-only script: nothing of its first line shows" \
	sh -c "! printf '%s' \"\$1\" | grep -q TOPSECRET" _ "$out"

# allowed things still work
eq "allowed commands work" "hello" "$(run 'echo hello | cat')"
done_testing
