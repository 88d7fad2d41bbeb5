#!/bin/sh
# san: yes
# Escapes through a server of the agent's own account that runs outside
# agentsh.  A harness that drives the agent account through tmux (or a person
# who started screen, an editor server or a session bus as that account) leaves
# a server behind whose socket sits in /tmp, which the default policy lets
# sessions reach.  Asked over that socket, the server runs commands as the
# account without the sandbox: `tmux run-shell CMD` is /bin/sh outside
# agentsh.  Under the embedded default policy, each case:
#  - the control: outside agentsh the same request makes the server run it;
#  - inside: refused with EACCES (tmux, a raw connect, a datagram send, a
#    listener whose process has exited), nothing ran, one notice naming the
#    server, and an audit record with rule own-account-server;
#  - what must keep working: tmux started inside the session (on the same
#    /tmp/tmux-UID directory), a datagram socket and a daemon made inside the
#    session, and a server of another account (root's);
#  - a rule with `own_account_servers: allow` reaches the outside server.
. "$(dirname "$0")/../lib.sh"
need_root
[ -x "$AGENTSH" ] || t_abort "agentsh not built"
need_cmd tmux runuser
PY=/usr/bin/python3
[ -x $PY ] || t_abort "needs /usr/bin/python3 (run: make deps)"
U=agsh_ownsrv
t_user $U || t_abort "cannot create test account $U"
UID_=$(id -u $U)
HOMEU=$(getent passwd $U | cut -d: -f6)
rm -rf /tmp/tmux-$UID_     # a recycled uid's leftovers
WS="$TMPD/ws"; mkdir -p "$WS" && chown $U "$WS"
mkdir -m 700 "$TMPD/audit"
export AGENTSH_AUDIT_DB="$TMPD/audit/audit.db"
SRV="$TMPD/srv"; mkdir -p "$SRV" && chown $U "$SRV"
asu() { runuser -u $U -- env -i HOME="$HOMEU" PATH=/usr/bin:/bin LANG=C.UTF-8 TERM=xterm "$@"; }
outside_tmux() { asu tmux "$@"; }
cleanup() {
	outside_tmux kill-server 2>/dev/null
	asu tmux -L inner kill-server 2>/dev/null
	tmux -S "$TMPD/drive.sock" kill-server 2>/dev/null
	pkill -u $U 2>/dev/null; sleep 0.2; pkill -9 -u $U 2>/dev/null
	[ -n "${RP:-}" ] && kill $RP 2>/dev/null
	userdel -r $U >/dev/null 2>&1
	rm -rf /tmp/tmux-$UID_ /tmp/agsh-own-$$
	t_cleanup
}
trap cleanup EXIT
# the embedded default policy, as the account, in its workspace
run() { (cd "$WS" && "$AGENTSH" --no-config --user $U -c "$1" 2>&1); }
run_pol() { (cd "$WS" && "$AGENTSH" --no-config --policy "$1" --user $U -c "$2" 2>&1); }
run true >/dev/null || t_abort "agentsh -c --user cannot run a sandboxed command here"
nref() { "$AGENTSH" events query --decision deny --json --limit 100000 2>/dev/null |
	grep -c '"rule": "own-account-server"'; }

# --- tmux: the server a harness leaves behind ------------------------------
outside_tmux new-session -d -s harness 'sleep 600' || t_abort "cannot start tmux as $U"
SOCK=/tmp/tmux-$UID_/default
[ -S $SOCK ] || t_abort "tmux made no socket at $SOCK"
outside_tmux run-shell "touch $SRV/control"
check "control: outside agentsh, tmux run-shell runs a command as $U" [ -f "$SRV/control" ]
check "  and the default policy's rules allow connecting to its socket" sh -c "'$AGENTSH' --no-config policy check unix connect $SOCK 2>&1 | grep -q \"^unix connect $SOCK: allow by rule 'workspace-sockets'\""

before=$(nref)
out=$(run "tmux run-shell 'touch $SRV/escaped'; echo rc=\$?")
check "inside: tmux run-shell through the outside server fails" sh -c "printf '%s' \"\$1\" | grep -q 'rc=1'" _ "$out"
check "  and the command did not run" [ ! -e "$SRV/escaped" ]
check "  one notice names the server and why" sh -c "[ \$(printf '%s\n' \"\$1\" | grep -c '^agentsh: denied') -eq 1 ] &&
	printf '%s' \"\$1\" | grep -qF 'denied unix-connect $SOCK (rule own-account-server: the socket is this account'\''s and was not made in this session: whatever serves it runs outside the sandbox'" _ "$out"
check "  audited with rule own-account-server" [ "$(nref)" -gt "$before" ]
printf '%s\n' "$out" | sed 's/^/#   /'

cat >"$TMPD/conn.py" <<'P'
import socket, sys
kind, path = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM if kind == "stream" else socket.SOCK_DGRAM)
try:
    if kind == "stream":
        s.connect(path)
        print("REACHED")
    else:
        s.sendto(b"x", path)
        print("SENT")
except OSError as e:
    print("errno=%d" % e.errno)
P
chmod 644 "$TMPD/conn.py"
eq "a raw connect() to the outside server: EACCES" "errno=13" \
	"$(run "$PY $TMPD/conn.py stream $SOCK" | grep -v '^agentsh:')"

# --- a datagram server of the account, outside -----------------------------
cat >"$TMPD/dgram.py" <<'P'
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777)
open(sys.argv[1] + ".ready", "w").close()
while True:
    d = s.recv(100)
    open(sys.argv[1] + ".got", "a").write(d.decode() + "\n")
P
chmod 644 "$TMPD/dgram.py"
mkdir -p /tmp/agsh-own-$$ && chown $U /tmp/agsh-own-$$
DG=/tmp/agsh-own-$$/dg
asu $PY "$TMPD/dgram.py" $DG &
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e $DG.ready ] && break; sleep 0.2; done
[ -S $DG ] || t_abort "datagram server did not start"
asu $PY "$TMPD/conn.py" dgram $DG >/dev/null
sleep 0.2
check "control: outside agentsh the datagram server receives" grep -q x $DG.got
eq "inside: a datagram sendto() to it: EACCES" "errno=13" \
	"$(run "$PY $TMPD/conn.py dgram $DG" | grep -v '^agentsh:')"
sleep 0.2
eq "  nothing more arrived" "1" "$(grep -c x $DG.got)"

# --- a listener whose first process has exited (daemonised after listen) ----
cat >"$TMPD/daemon.py" <<'P'
import socket, sys, os, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(8)
if os.fork():
    os._exit(0)     # the listener's credentials name this exited process
os.setsid()
open(sys.argv[1] + ".ready", "w").close()
while True:
    c, _ = s.accept(); c.close()
P
chmod 644 "$TMPD/daemon.py"
DM=/tmp/agsh-own-$$/daemon
asu $PY "$TMPD/daemon.py" $DM
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e $DM.ready ] && break; sleep 0.2; done
eq "control: outside agentsh the daemonised server answers" "REACHED" "$(asu $PY "$TMPD/conn.py" stream $DM)"
eq "inside: a connect to it: EACCES" "errno=13" \
	"$(run "$PY $TMPD/conn.py stream $DM" | grep -v '^agentsh:')"

# --- what keeps working ----------------------------------------------------
out=$(run "tmux -L inner new-session -d 'sleep 30' && tmux -L inner run-shell 'touch $WS/inner-ran' && tmux -L inner kill-server; echo rc=\$?")
check "tmux started inside the session works (same /tmp/tmux-$UID_ directory)" sh -c "[ -f '$WS/inner-ran' ] && printf '%s' \"\$1\" | grep -q rc=0" _ "$out"
check "  without a notice" sh -c "! printf '%s' \"\$1\" | grep -q '^agentsh:'" _ "$out"
printf '%s\n' "$out" | sed 's/^/#   /'
asu $PY -c "import socket; socket.socket(socket.AF_UNIX).bind('/tmp/tmux-$UID_/stale')"
out=$(run "tmux -L stale new-session -d 'sleep 30' && tmux -L stale run-shell 'touch $WS/stale-ran' && tmux -L stale kill-server; echo rc=\$?")
check "a stale socket (nothing serves it) is answered ECONNREFUSED, so tmux replaces it" sh -c "[ -f '$WS/stale-ran' ] && printf '%s' \"\$1\" | grep -q rc=0 && ! printf '%s' \"\$1\" | grep -q '^agentsh:'" _ "$out"
printf '%s\n' "$out" | sed 's/^/#   /'
eq "  a raw connect() to a stale socket of the account: ECONNREFUSED" "errno=111" \
	"$(asu $PY -c "import socket; socket.socket(socket.AF_UNIX).bind('/tmp/agsh-own-$$/stale2')"; run "$PY $TMPD/conn.py stream /tmp/agsh-own-$$/stale2")"
out=$(run "$PY $TMPD/daemon.py $WS/d2; for i in 1 2 3 4 5 6 7 8 9 10; do [ -e $WS/d2.ready ] && break; sleep 0.2; done; $PY $TMPD/conn.py stream $WS/d2")
eq "a daemon made inside the session (listener's process exited) is reached" "REACHED" "$out"
cat >"$TMPD/dgself.py" <<'P'
import socket, sys
r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); r.bind(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"x", sys.argv[1])
print("got", r.recv(10).decode())
P
chmod 644 "$TMPD/dgself.py"
eq "a datagram socket made inside the session is reached" "got x" "$(run "$PY $TMPD/dgself.py $WS/dgself")"

cat >"$TMPD/rootsrv.py" <<'P'
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o777); s.listen(8)
open(sys.argv[1] + ".ready", "w").close()
while True:
    c, _ = s.accept(); c.close()
P
RS=/tmp/agsh-own-$$/root
$PY "$TMPD/rootsrv.py" $RS &
RP=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e $RS.ready ] && break; sleep 0.2; done
eq "a server of another account (root's) in /tmp is reached as the policy allows" "REACHED" \
	"$(run "$PY $TMPD/conn.py stream $RS")"

# the interactive shell: one session across commands, so a tmux server the
# first command started is the session's for the next one
TMUX_SOCK="$TMPD/drive.sock"
tm_start 120 30 sh -c "cd $WS && $AGENTSH --no-config --user $U -i"
tm_wait "$U@" 10 >/dev/null
tm_type "tmux -L across new -d 'sleep 60'"; tm_keys Enter
sleep 1
tm_type "tmux -L across run-shell 'touch $WS/across-ran'; echo across-rc=\$?"; tm_keys Enter
check "interactive: a tmux server started by one command serves the next" tm_wait '^across-rc=0' 10
check "  and ran its command" [ -f "$WS/across-ran" ]
tm_type "tmux -L across kill-server; exit"; tm_keys Enter
tm_kill

# --- the rule's opt-in ------------------------------------------------------
cat >"$TMPD/optin.yaml" <<Y
version: 1
name: own-servers-optin
command_rules:
  - {name: all, commands: ["*"], decision: allow}
file_rules:
  - {name: all, paths: ["/**"], operations: ["*"], decision: allow}
unix_socket_rules:
  - name: harness-tmux
    paths: ["/tmp/tmux-*/**"]
    decision: allow
    own_account_servers: allow
  - {name: rest, paths: ["/**"], decision: allow}
Y
chmod 644 "$TMPD/optin.yaml"
eq "own_account_servers: allow reaches the outside tmux server" "REACHED" \
	"$(run_pol "$TMPD/optin.yaml" "$PY $TMPD/conn.py stream $SOCK")"
eq "  a rule without it, in the same policy, still refuses the outside daemon" "errno=13" \
	"$(run_pol "$TMPD/optin.yaml" "$PY $TMPD/conn.py stream $DM" | grep -v '^agentsh:')"
check "policy show lists the opt-in" sh -c "'$AGENTSH' --no-config policy show '$TMPD/optin.yaml' | grep -q 'own_account_servers: allow'"
printf 'version: 1\nname: bad\nunix_socket_rules:\n  - name: x\n    paths: ["/tmp/**"]\n    decision: deny\n    own_account_servers: allow\n  - name: y\n    paths: ["/x"]\n    decision: allow\n    own_account_servers: yes\n' >"$TMPD/bad.yaml"
out=$("$AGENTSH" --no-config policy validate "$TMPD/bad.yaml" 2>&1); rc=$?
eq "a policy misusing own_account_servers does not load" 1 $rc
check "  each misuse is named with its line" sh -c "printf '%s' \"\$1\" | grep -q 'bad.yaml:7:.*own_account_servers: allow in unix_socket_rules\[0\] needs a decision that lets the connection through' &&
	printf '%s' \"\$1\" | grep -q \"bad.yaml:11:.*own_account_servers in unix_socket_rules\[1\] is 'yes'; use allow or refuse\"" _ "$out"
printf '%s\n' "$out" | sed 's/^/#   /'
rm -rf /tmp/agsh-own-$$
done_testing
