#!/bin/sh
# san: yes
# Network escapes through `agentsh -c` as a real account, under a policy that
# denies this host's loopback addresses and allows everything else: every
# spelling of "this host" (127.0.0.1, another 127/8 address, ::1, the
# v4-mapped forms, and the unspecified addresses 0.0.0.0, :: and
# ::ffff:0.0.0.0, which Linux connects on the loopback address) is refused
# with EPERM and audited, for TCP connect and UDP sendto; the same connects
# from outside the session reach the listener, so the refusal is agentsh's.
# A UDP connect sends nothing: it succeeds, and the datagrams are refused.
. "$(dirname "$0")/../lib.sh"
U=agentsh-escnet
POL="$TMPD/net.yaml"
cat >"$POL" <<'Y'
version: 1
name: escape-net
command_rules:
  - name: all
    commands: ["*"]
    decision: allow
file_rules:
  - name: all
    paths: ["/**"]
    operations: ["*"]
    decision: allow
network_rules:
  - name: no-localhost
    cidrs: ["127.0.0.0/8", "::1/128"]
    decision: deny
    message: "local services are off limits"
  - name: ask-doc-net
    cidrs: ["192.0.2.0/24"]
    decision: approve
    message: "wants {{.RemoteAddr}}"
  - name: elsewhere
    cidrs: ["0.0.0.0/0", "::/0"]
    decision: allow
Y
PY=/usr/bin/python3
[ -x $PY ] || t_abort "needs python3"
t_session_account $U "$POL"

# a dual-stack TCP listener and UDP socket of root's, outside the session
cat >"$TMPD/listen.py" <<'P'
import socket, sys
t = socket.socket(socket.AF_INET6); t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("::", 0)); t.listen(64)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
u.bind(("::", 0))
print(t.getsockname()[1], u.getsockname()[1], flush=True)
sys.stdout.close()
while True:
    c, _ = t.accept(); c.close()
P
$PY "$TMPD/listen.py" >"$TMPD/ports" &
LP=$!
trap 'kill $LP 2>/dev/null; userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$TMPD/ports" ] && break; sleep 0.2; done
read TP UP <"$TMPD/ports" || t_abort "listener did not start"

cat >"$TMPD/try.py" <<'P'
import socket, sys
kind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
try:
    if kind == "tcp":
        s.connect((addr, port))
    elif kind == "udpconn":         # getaddrinfo's probe, then a send on it
        s.connect((addr, port))
        print("connected")
        s.send(b"x")
    else:
        s.sendto(b"x", (addr, port))
    print("REACHED")
except OSError as e:
    print("errno=%d" % e.errno)
P
chmod 644 "$TMPD/try.py"
ndenies() { "$AGENTSH" events query --type network --decision deny --limit 100000 2>/dev/null | grep -c . ; }

for a in 127.0.0.1 127.1.2.3 ::1 ::ffff:127.0.0.1 0.0.0.0 :: ::ffff:0.0.0.0; do
	outside=$($PY "$TMPD/try.py" tcp "$a" "$TP")
	eq "outside the session, tcp to $a reaches the listener" "REACHED" "$outside"
	before=$(ndenies)
	eq "tcp connect to $a: EPERM" "errno=1" "$(run "$PY $TMPD/try.py tcp $a $TP" | grep -v '^agentsh:')"
	check "tcp connect to $a: audited as a network deny" [ "$(ndenies)" -gt "$before" ]
done
for a in 127.0.0.1 0.0.0.0 :: ::ffff:0.0.0.0; do
	eq "udp sendto $a: EPERM" "errno=1" "$(run "$PY $TMPD/try.py udp $a $UP" | grep -v '^agentsh:')"
done
for a in 127.0.0.1 ::1 0.0.0.0; do
	out=$(run "$PY $TMPD/try.py udpconn $a $UP")
	eq "udp connect to $a succeeds (it sends nothing), its send is refused" "connected
errno=1" "$(printf '%s\n' "$out" | grep -v '^agentsh:')"
	check "  one notice, for the send" sh -c "[ \$(printf '%s\n' \"\$1\" | grep -c '^agentsh:') -eq 1 ] && printf '%s' \"\$1\" | grep -qF 'denied send to $a port $UP (rule no-localhost: local services are off limits)'" _ "$out"
done
out=$(run "$PY $TMPD/try.py tcp 0.0.0.0 $TP")
check "the notice names the address as given, the rule and its message" sh -c "printf '%s' \"\$1\" | grep -qF 'denied connect to 0.0.0.0 port $TP (rule no-localhost: local services are off limits)'" _ "$out"
check "the audit record carries the rule's message" sh -c "'$AGENTSH' events query --type network --decision deny --json --limit 100000 | grep -qF '\"message\": \"local services are off limits\"'"
out=$(run "$PY $TMPD/try.py tcp 192.0.2.1 9")
eq "an approve rule for a connect is refused in the kernel (EPERM)" "errno=1" "$(printf '%s\n' "$out" | grep -v '^agentsh:')"
check "  and the notice says why: its message, and that connects cannot be approved yet" sh -c "printf '%s' \"\$1\" | grep -qF 'denied connect to 192.0.2.1 port 9 (rule ask-doc-net: wants 192.0.2.1; network connects cannot be approved or redirected yet: refused)'" _ "$out"
done_testing
