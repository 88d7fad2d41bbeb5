#!/bin/sh
# The remote approver (`agentsh approve` on another terminal) against a real
# broker and its socket (tests/tools/approve_hold stands in for the enforcement
# supervisor), with real accounts, SO_PEERCRED, oathtool codes and the software
# FIDO2 authenticator.  Also enrollment (`agentsh approver`).
# san: yes
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd oathtool su
HOLD="$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/approve_hold"
[ -x "$HOLD" ] || HOLD="$AGENTSH_SRC/build/tests/tools/approve_hold"   # the binary under test is $AGENTSH
FIDO="$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/softfido"
[ -x "$FIDO" ] || FIDO="$AGENTSH_SRC/build/tests/tools/softfido"
[ -x "$HOLD" ] || { echo "approve_hold not built: make $AGENTSH_BUILD/tests/tools/approve_hold"; exit 1; }
[ -x "$FIDO" ] || { echo "softfido not built: make build/tests/tools/softfido"; exit 1; }

APPR=agentsh-tappr AGENT=agentsh-tagent OTHER=agentsh-tother
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
D=$TMPD/approvers S=$TMPD/run
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for u in $APPR $AGENT $OTHER; do userdel -r "$u" >/dev/null 2>&1; done
	t_cleanup
}
trap cleanup EXIT
for u in $APPR $AGENT $OTHER; do t_user "$u" || t_abort "cannot create test account $u (useradd)"; done
as() { u=$1; shift; su -s /bin/sh "$u" -c "$*"; }

# ---- enrollment ----
out=$("$AGENTSH" approver add $APPR --totp --secret $SECRET --dir "$D" 2>&1)
eq "approver add --totp exits 0" 0 $?
case "$out" in *"otpauth://totp/agentsh:$APPR?secret=$SECRET&issuer=agentsh"*) ok "prints the otpauth URI";;
	*) nok "prints the otpauth URI"; echo "$out" | sed 's/^/#  | /';; esac
echo "$out" | grep -q '▀' && ok "prints a half-block QR code" || nok "prints a half-block QR code"
echo "$out" | grep -q "$(printf '\033')" && nok "QR output uses no escape sequences" || ok "QR output uses no escape sequences"
eq "store dir is 0700" 700 "$(stat -c %a "$D")"
eq "secret file is 0600 root" "600 root" "$(stat -c '%a %U' "$D/$APPR.totp")"
eq "list shows the approver" "$APPR totp" "$("$AGENTSH" approver list --dir "$D" | tr -s ' ')"
as $OTHER "'$AGENTSH' approver add x --totp --dir '$TMPD/x'" >"$TMPD/e" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "root only" "$TMPD/e" && ok "enrollment is refused to a non-root account" ||
	{ nok "enrollment is refused to a non-root account (rc=$rc)"; sed 's/^/#  | /' "$TMPD/e"; }

# ---- a pending request, answered from another terminal ----
mkdir -p "$S" && chmod 755 "$S"
hold() { # name count [extra args] : start a broker, wait for its pending ids
	n=$1 c=$2; shift 2
	: >"$TMPD/$n.out"
	"$HOLD" --session "$n" --uid "$(id -u $AGENT)" --dir "$D" --socket-dir "$S" --count "$c" "$@" \
		>"$TMPD/$n.out" 2>&1 &
	HPID=$!; PIDS="$PIDS $HPID"
	i=0; while [ $i -lt 100 ] && [ "$(grep -c '^pending' "$TMPD/$n.out")" -lt "$c" ]; do sleep 0.05; i=$((i+1)); done
}
answer_of() { i=0; while [ $i -lt 100 ]; do l=$(grep "^answer $1 " "$TMPD/$2.out") && { echo "$l" | cut -d' ' -f3-; return; }; sleep 0.05; i=$((i+1)); done; echo none; }

mkdir -m 700 "$TMPD/store"
hold s1 1 --audit "$TMPD/store/audit.db"
ID=$(sed -n 's/^pending //p' "$TMPD/s1.out" | head -n1)
[ -n "$ID" ] && ok "broker holds a request ($ID)" || nok "broker holds a request"
eq "socket is 0666 (peer credentials decide)" 666 "$(stat -c %a "$S/s1.sock")"

CODE=$(oathtool --totp -b $SECRET)
as $AGENT "'$AGENTSH' approve allow $ID --code $CODE --socket-dir '$S'" >"$TMPD/e" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "session's own account" "$TMPD/e" && ok "the session's own account is refused, even with the right code" ||
	{ nok "the session's own account is refused (rc=$rc)"; sed 's/^/#  | /' "$TMPD/e"; }
as $AGENT "'$AGENTSH' approve list --socket-dir '$S'" >"$TMPD/e" 2>&1
grep -q "$ID" "$TMPD/e" && nok "the session's account cannot list pending requests" || ok "the session's account cannot list pending requests"
as $OTHER "'$AGENTSH' approve allow $ID --code $CODE --socket-dir '$S'" >"$TMPD/e" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "not an approver" "$TMPD/e" && ok "an account that is not an approver is refused" ||
	{ nok "a non-approver is refused (rc=$rc)"; sed 's/^/#  | /' "$TMPD/e"; }
eq "nothing resolved it yet" 0 "$(grep -c '^answer' "$TMPD/s1.out")"

# the agent holding silent connections open must not lock the approvers out
for k in 1 2 3; do
	as $AGENT "python3 -c 'import socket,time; s=socket.socket(socket.AF_UNIX); s.connect(\"$S/s1.sock\"); time.sleep(8)'" &
	PIDS="$PIDS $!"
done
sleep 0.3
t0=$(date +%s%N)
as $APPR "'$AGENTSH' approve list --json --socket-dir '$S'" >"$TMPD/l" 2>&1
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -lt 2000 ] && ok "silent connections by the agent do not block the approver" ||
	nok "silent connections by the agent do not block the approver ($(( (t1 - t0) / 1000000 )) ms)"
grep -q "\"id\":\"$ID\"" "$TMPD/l" && ok "approver lists the pending request (--json)" || { nok "approver lists it"; sed 's/^/#  | /' "$TMPD/l"; }
as $APPR "'$AGENTSH' approve show $ID --socket-dir '$S'" >"$TMPD/l" 2>&1
grep -q "target *$(echo /usr/bin/deploy)" "$TMPD/l" && ok "show names the target" || { nok "show names the target"; sed 's/^/#  | /' "$TMPD/l"; }
WRONG=$(printf '%06d' $(( (1$CODE - 1000000 + 1) % 1000000 )))
as $APPR "'$AGENTSH' approve allow $ID --code $WRONG --socket-dir '$S'" >"$TMPD/e" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "wrong code" "$TMPD/e" && ok "a wrong code is refused" || { nok "a wrong code is refused (rc=$rc)"; sed 's/^/#  | /' "$TMPD/e"; }
as $APPR "'$AGENTSH' approve allow $ID --code $CODE --json --socket-dir '$S'" >"$TMPD/e" 2>&1
rc=$?; [ $rc = 0 ] || sed "s/^/#  | /" "$TMPD/e"; eq "the approver's right code approves" 0 $rc
grep -q '"outcome":"approved"' "$TMPD/e" && ok "--json answer names the outcome" || { nok "--json outcome"; sed 's/^/#  | /' "$TMPD/e"; }
eq "the held operation got the answer" "approved totp $APPR -" "$(answer_of "$ID" s1)"
wait $HPID; eq "held operation proceeds (approved)" 0 $?
q() { sqlite3 "$TMPD/store/audit.db" "$1"; }
eq "audit: the request" 1 "$(q "SELECT count(*) FROM events WHERE type='approval_requested' AND approval_id='$ID'")"
eq "audit: the answer with approver, method, outcome" "$APPR|totp|allow|approved" \
	"$(q "SELECT approver, json_extract(details,'\$.method'), effective, json_extract(details,'\$.outcome') FROM events WHERE type='approval_resolved' AND approval_id='$ID'")"
eq "audit: the answer has a wait time" 1 "$(q "SELECT count(*) FROM events WHERE approval_id='$ID' AND json_extract(details,'\$.wait_ms') > 0")"
eq "audit: the wrong code" 1 \
	"$(q "SELECT count(*) FROM events WHERE operation='approval_refused' AND json_extract(details,'\$.approval_id')='$ID'")"
eq "audit: the session account's and the non-approver's probes" "$(id -u $AGENT) $(id -u $OTHER)" \
	"$(q "SELECT DISTINCT uid FROM events WHERE operation='approval_refused' AND uid >= 0 AND json_extract(details,'\$.approval_id') = '' ORDER BY seq" | tr '\n' ' ' | sed 's/ $//')"
eq "audit: approvals index" "allow|$APPR" "$(q "SELECT outcome, approver FROM approvals WHERE approval_id='$ID'")"

# ---- replay, deny, timeout ----
hold s2 1
ID2=$(sed -n 's/^pending //p' "$TMPD/s2.out" | head -n1)
as $APPR "'$AGENTSH' approve allow $ID2 --code $CODE --socket-dir '$S'" >"$TMPD/e" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "already used" "$TMPD/e" && ok "the same code a second time is refused" || { nok "replay refused (rc=$rc)"; sed 's/^/#  | /' "$TMPD/e"; }
as $APPR "'$AGENTSH' approve deny $ID2 --socket-dir '$S'" >/dev/null 2>&1
eq "deny" "denied none - E_APPROVAL_DENIED" "$(answer_of "$ID2" s2)"
wait $HPID; eq "held operation fails after deny" 1 $?

hold s3 1 --timeout-ms 700
ID3=$(sed -n 's/^pending //p' "$TMPD/s3.out" | head -n1)
sleep 1.2
eq "silence past the timeout denies" "timeout none - E_APPROVAL_TIMEOUT" "$(answer_of "$ID3" s3)"

# ---- WebAuthn from the approver's terminal, security key on the approver's side ----
"$FIDO" --socket "$TMPD/fido.sock" --keys "$TMPD/fidokeys" >"$TMPD/fido.log" 2>&1 &
PIDS="$PIDS $!"
i=0; while [ ! -S "$TMPD/fido.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
"$AGENTSH" approver add $APPR --webauthn --device "unix:$TMPD/fido.sock" --dir "$D" >"$TMPD/e" 2>&1
eq "approver add --webauthn (software authenticator)" 0 $?
grep -q "^$APPR:[A-Za-z0-9+/=]*,[A-Za-z0-9+/=]*,es256,+presence" "$D/u2f_keys" && ok "pam_u2f-format record" || { nok "pam_u2f record"; cat "$D/u2f_keys"; }
hold s4 1
ID4=$(sed -n 's/^pending //p' "$TMPD/s4.out" | head -n1)
as $AGENT "'$AGENTSH' approve allow $ID4 --webauthn --device 'unix:$TMPD/fido.sock' --socket-dir '$S'" >/dev/null 2>&1
[ $? -ne 0 ] && ok "the session's account cannot use the key path either" || nok "session account refused on the key path"
as $APPR "'$AGENTSH' approve allow $ID4 --session --webauthn --device 'unix:$TMPD/fido.sock' --socket-dir '$S'" >"$TMPD/e" 2>&1
eq "approve with a security-key touch" 0 $?
eq "answer records webauthn" "approved_session webauthn $APPR -" "$(answer_of "$ID4" s4)"
done_testing
