#!/bin/sh
# `agentsh approve --remote user@host`: the approver's machine runs the FIDO2
# step locally (software authenticator here) and talks to `agentsh approve
# --relay` on the host over a real sshd on loopback.  The host authenticates the
# ssh login account by SO_PEERCRED like any local approver.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd oathtool ssh ssh-keygen su
[ -x /usr/sbin/sshd ] || t_abort "needs /usr/sbin/sshd (openssh-server; run: make deps)"
HOLD="$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/approve_hold"
[ -x "$HOLD" ] || HOLD="$AGENTSH_SRC/build/tests/tools/approve_hold"   # the binary under test is $AGENTSH
FIDO="$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/softfido"
[ -x "$FIDO" ] || FIDO="$AGENTSH_SRC/build/tests/tools/softfido"
[ -x "$HOLD" ] && [ -x "$FIDO" ] || { echo "approve_hold/softfido not built"; exit 1; }

APPR=agentsh-sappr AGENT=agentsh-sagent
SECRET=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
D=$TMPD/approvers S=$TMPD/run
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	[ -f "$TMPD/sshd.pid" ] && kill "$(cat "$TMPD/sshd.pid")" 2>/dev/null
	for u in $APPR $AGENT; do userdel -r "$u" >/dev/null 2>&1; done
	t_cleanup
}
trap cleanup EXIT
for u in $APPR $AGENT; do t_user "$u" || t_abort "cannot create test account $u (useradd)"; usermod -p "*" "$u"; done  # "*": no password, not locked (sshd refuses locked accounts)

# ---- sshd on loopback, key login for both accounts ----
PORT=$(( 20000 + $$ % 20000 ))
mkdir -p /run/sshd "$TMPD/keys" && chmod 755 "$TMPD/keys"
ssh-keygen -q -t ed25519 -N '' -f "$TMPD/hostkey" || exit 1
ssh-keygen -q -t ed25519 -N '' -f "$TMPD/clientkey" || exit 1
for u in $APPR $AGENT; do cp "$TMPD/clientkey.pub" "$TMPD/keys/$u"; done
chmod 644 "$TMPD/keys/"*
cat >"$TMPD/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $TMPD/hostkey
PidFile $TMPD/sshd.pid
AuthorizedKeysFile $TMPD/keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOF
/usr/sbin/sshd -f "$TMPD/sshd_config" -E "$TMPD/sshd.log" || t_abort "sshd did not start: $(tail -n 2 "$TMPD/sshd.log")"
cat >"$TMPD/ssh" <<EOF
#!/bin/sh
exec ssh -p $PORT -i $TMPD/clientkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "\$@"
EOF
chmod 755 "$TMPD/ssh"
i=0; while ! "$TMPD/ssh" $APPR@127.0.0.1 true 2>/dev/null; do
	i=$((i+1)); [ $i -gt 50 ] && t_abort "cannot log in over ssh on 127.0.0.1:$PORT: $(tail -n 3 "$TMPD/sshd.log")"; sleep 0.1; done
ok "sshd on loopback accepts key logins"

# ---- enrollment on the host: TOTP and the approver's security key ----
"$FIDO" --socket "$TMPD/fido.sock" --keys "$TMPD/fidokeys" >"$TMPD/fido.log" 2>&1 &
PIDS="$PIDS $!"
i=0; while [ ! -S "$TMPD/fido.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
"$AGENTSH" approver add $APPR --totp --secret $SECRET --dir "$D" >/dev/null 2>&1 &&
"$AGENTSH" approver add $APPR --webauthn --device "unix:$TMPD/fido.sock" --dir "$D" >/dev/null 2>&1
eq "approver enrolled (totp + security key)" 0 $?

mkdir -p "$S" && chmod 755 "$S"
hold() {
	n=$1; : >"$TMPD/$n.out"
	"$HOLD" --session "$n" --uid "$(id -u $AGENT)" --dir "$D" --socket-dir "$S" >"$TMPD/$n.out" 2>&1 &
	HPID=$!; PIDS="$PIDS $HPID"
	i=0; while [ $i -lt 100 ] && ! grep -q '^pending' "$TMPD/$n.out"; do sleep 0.05; i=$((i+1)); done
	sed -n 's/^pending //p' "$TMPD/$n.out" | head -n1
}
answer_of() { i=0; while [ $i -lt 100 ]; do l=$(grep "^answer $1 " "$TMPD/$2.out") && { echo "$l" | cut -d' ' -f3-; return; }; sleep 0.05; i=$((i+1)); done; echo none; }
remote() { u=$1; shift; "$AGENTSH" approve --remote "$u@127.0.0.1" --ssh "$TMPD/ssh" --remote-agentsh "$AGENTSH" --socket-dir "$S" "$@"; }

ID=$(hold r1)
remote $APPR list >"$TMPD/l" 2>&1
grep -q "$ID" "$TMPD/l" && ok "remote list over ssh shows the request" || { nok "remote list"; sed 's/^/#  | /' "$TMPD/l"; }
remote $AGENT allow "$ID" --webauthn --device "unix:$TMPD/fido.sock" >"$TMPD/e" 2>&1
[ $? -ne 0 ] && ok "over ssh as the session's own account: refused" || { nok "session account refused over ssh"; sed 's/^/#  | /' "$TMPD/e"; }
remote $APPR allow "$ID" --webauthn --device "unix:$TMPD/fido.sock" >"$TMPD/e" 2>&1
eq "remote approval with a local security-key touch" 0 $?
grep -q "getAssertion" "$TMPD/fido.log" && ok "the FIDO2 step ran on the approver's side" || nok "FIDO2 step ran locally"
eq "the held operation got a webauthn approval" "approved webauthn $APPR -" "$(answer_of "$ID" r1)"

ID2=$(hold r2)
remote $APPR allow "$ID2" --code "$(oathtool --totp -b $SECRET)" --json >"$TMPD/e" 2>&1
eq "remote approval with a TOTP code" 0 $?
eq "the held operation got a totp approval" "approved totp $APPR -" "$(answer_of "$ID2" r2)"
done_testing
