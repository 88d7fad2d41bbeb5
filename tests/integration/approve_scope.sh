#!/bin/sh
# Per-rule approval methods and approvers through the real binary:
# /etc/agentsh/config.yaml restricts the policy rule 'approve-deploy' to
# WebAuthn.  A correct TOTP code from an enrolled approver is refused (and
# audited) with a message naming the allowed method; the software
# authenticator's touch approves.  A rule restricted to an approver who is not
# enrolled is denied at once, with the reason, instead of waiting.
# san: yes
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd oathtool python3 su sqlite3
[ -x "$AGENTSH" ] || { echo "no agentsh binary at $AGENTSH (run: make)"; exit 1; }
FIDO="$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/softfido"
[ -x "$FIDO" ] || FIDO="$AGENTSH_SRC/build/tests/tools/softfido"
[ -x "$FIDO" ] || { echo "softfido not built: make build/tests/tools/softfido"; exit 1; }

JUSER=agentsh-sagent APPR=agentsh-sappr
SECRET=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U
D=$TMPD/approvers CFG=/etc/agentsh/config.yaml
etc_existed=0; [ -d /etc/agentsh ] && etc_existed=1
cfg_saved=0; [ -e "$CFG" ] && { cp -p "$CFG" "$TMPD/config.yaml.saved"; cfg_saved=1; }
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	if [ $cfg_saved = 1 ]; then cp -p "$TMPD/config.yaml.saved" "$CFG"; else rm -f "$CFG"; fi
	[ $etc_existed = 0 ] && rmdir /etc/agentsh 2>/dev/null
	for u in $JUSER $APPR; do userdel -r "$u" >/dev/null 2>&1; done
	t_cleanup
}
trap cleanup EXIT
for u in $JUSER $APPR; do t_user "$u" || t_abort "cannot create test account $u"; done
as() { u=$1; shift; su -s /bin/sh "$u" -c "$*"; }

# ---- approver: TOTP and a security key (softfido), in a private store ----
"$FIDO" --socket "$TMPD/fido.sock" --keys "$TMPD/fidokeys" >"$TMPD/fido.log" 2>&1 &
PIDS="$PIDS $!"
i=0; while [ ! -S "$TMPD/fido.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
"$AGENTSH" approver add $APPR --totp --secret $SECRET --dir "$D" >/dev/null 2>&1 &&
"$AGENTSH" approver add $APPR --webauthn --device "unix:$TMPD/fido.sock" --dir "$D" >"$TMPD/e" 2>&1 ||
	{ echo "cannot enroll the test approver in $D"; sed 's/^/#  | /' "$TMPD/e"; exit 1; }

mkdir -p /etc/agentsh
printf 'approvals:\n  approvers_dir: %s\n  rules:\n    approve-deploy: { methods: [webauthn] }\n    approve-ghost: { approvers: [ghost] }\n' \
	"$D" >"$CFG"
chmod 644 "$CFG"; chown root:root "$CFG"

mkdir -m 700 "$TMPD/store"
export AGENTSH_AUDIT_DB="$TMPD/store/audit.db"
WS="$TMPD/work"; mkdir -p "$WS" "$TMPD/bin"; chown "$JUSER" "$WS"
printf '#!/bin/sh\necho deployed\n' >"$TMPD/bin/deploy"; chmod 755 "$TMPD/bin/deploy"
printf '#!/bin/sh\necho haunted\n' >"$TMPD/bin/ghostly"; chmod 755 "$TMPD/bin/ghostly"
{
	echo "version: 1"
	echo "name: approve-scope"
	echo "command_rules:"
	echo "  - name: approve-deploy"
	echo "    commands: [\"$TMPD/bin/deploy\"]"
	echo "    decision: approve"
	echo "    message: \"Agent wants to deploy\""
	echo "    timeout: 20s"
	echo "  - name: approve-ghost"
	echo "    commands: [\"$TMPD/bin/ghostly\"]"
	echo "    decision: approve"
	echo "    timeout: 20s"
	echo "  - name: allow-everything-else"
	echo "    commands: [\"*\"]"
	echo "    decision: allow"
	echo "file_rules:"
	echo "  - name: allow-test-tree"
	echo "    paths: [\"$TMPD/**\", \"/tmp/**\", \"/dev/**\"]"
	echo "    operations: [\"*\"]"
	echo "    decision: allow"
} >"$TMPD/policy.yaml"

run_json() { # output-file command : agentsh -c --json as the agent, in the background
	(cd "$WS" && exec "$AGENTSH" --policy "$TMPD/policy.yaml" --user "$JUSER" \
		-c --json --events all "$2") >"$1" 2>"$1.err" &
	JPID=$!; PIDS="$PIDS $JPID"
}
pending() { # prints the first pending approval as "id methods"
	i=0; while [ $i -lt 100 ]; do
		p=$(as $APPR "'$AGENTSH' approve list --json" 2>/dev/null | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(p[0]["id"], ",".join(p[0].get("methods", ["?"])) if p else "")' 2>/dev/null)
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.1; i=$((i+1))
	done
	return 1
}
jq_() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null; }

# ---- the rule accepts only WebAuthn ----
run_json "$TMPD/ok.json" "$TMPD/bin/deploy"
P=$(pending); ID=${P% *}
if [ -z "$P" ]; then
	nok "the held command shows up in 'agentsh approve list'"
	wait $JPID; sed 's/^/#   stdout| /' "$TMPD/ok.json"; sed 's/^/#   stderr| /' "$TMPD/ok.json.err"
	done_testing
fi
ok "the held command shows up in 'agentsh approve list' ($ID)"
eq "the pending request lists only the allowed method" webauthn "${P#* }"
as $APPR "'$AGENTSH' approve allow $ID --code $(oathtool --totp -b $SECRET)" >"$TMPD/e" 2>&1
rc=$?
[ $rc -ne 0 ] && ok "a correct TOTP code is refused for a webauthn-only rule" ||
	nok "a correct TOTP code is refused for a webauthn-only rule"
grep -q "totp is not accepted for this request; it accepts only: webauthn" "$TMPD/e" &&
	ok "the refusal says which methods are allowed" ||
	{ nok "the refusal says which methods are allowed"; sed 's/^/#  | /' "$TMPD/e"; }
as $APPR "'$AGENTSH' approve allow $ID --webauthn --device 'unix:$TMPD/fido.sock'" >"$TMPD/e" 2>&1
eq "the security-key touch approves" 0 $? || sed 's/^/#  | /' "$TMPD/e"
wait $JPID; eq "the command then runs (exit 0)" 0 $?
R="[e for k in ('other','blocked_operations','file_operations') for e in d['events'][k] if e['type']=='approval_resolved' and e.get('approval_id')=='$ID' and e['details']['outcome']=='approved']"
eq "JSON: approved with webauthn by the approver" "webauthn $APPR" \
	"$(jq_ "$TMPD/ok.json" "' '.join([e['details']['method']+' '+e['approver'] for e in $R][:1])")"
q="SELECT count(*) FROM events WHERE type='approval_resolved' AND json_extract(details,'\$.approval_id')='$ID' AND json_extract(details,'\$.outcome')='proof_refused' AND json_extract(details,'\$.method')='totp' AND message LIKE '%not accepted for this request%'"
eq "the refused TOTP code is audited" 1 "$(sqlite3 "$AGENTSH_AUDIT_DB" "$q")" ||
	sqlite3 "$AGENTSH_AUDIT_DB" "SELECT type, message, details FROM events WHERE type LIKE 'approval%'" | sed 's/^/#  | /'

# ---- a rule restricted to an approver who is not enrolled: denied at once ----
start=$(date +%s)
run_json "$TMPD/ghost.json" "$TMPD/bin/ghostly"
wait $JPID; rc=$?
took=$(( $(date +%s) - start ))
[ $rc -ne 0 ] && ok "the ghost-only rule denies (exit $rc)" || nok "the ghost-only rule denies"
[ $took -lt 15 ] && ok "without waiting for the timeout (${took}s)" || nok "without waiting for the timeout (${took}s)"
case "$(jq_ "$TMPD/ghost.json" 'd["stdout"]')" in
	*haunted*) nok "the held command did not run";; *) ok "the held command did not run";; esac
reason=$(sqlite3 "$AGENTSH_AUDIT_DB" "SELECT message, details FROM events WHERE type='approval_resolved' ORDER BY seq DESC LIMIT 1")
case "$reason" in *"approver 'ghost'"*"not enrolled"*) ok "the audit names the missing approver";;
	*) nok "the audit names the missing approver"; echo "$reason" | sed 's/^/#  | /';; esac
case "$reason" in *E_APPROVAL_NO_APPROVER*) ok "error code E_APPROVAL_NO_APPROVER";;
	*) nok "error code E_APPROVAL_NO_APPROVER";; esac
done_testing
