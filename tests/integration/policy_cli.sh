#!/bin/sh
# `agentsh policy …` end to end through the real binary: validate, lint,
# check, test, show, --json, and the --policy restriction for non-root.
# san: yes
. "$(dirname "$0")/../lib.sh"
cd "$AGENTSH_SRC" || exit 1
[ -x "$AGENTSH" ] || t_abort "no agentsh binary at $AGENTSH (run make)"
if ! "$AGENTSH" policy --help 2>&1 | grep -q 'check file OP PATH'; then
	t_abort "'agentsh policy' is not wired into shell/commands.c yet (policy_cli from policy/policy.h)"
fi
C=tests/data/policies-compat
E=examples/policies

out=$("$AGENTSH" policy validate $C/*.yaml 2>&1); rc=$?
eq "the six reference policies validate" 0 $rc
check "validate names each file ok" sh -c "[ \$(printf '%s\n' \"$out\" | grep -c ': ok') -eq 6 ]"

cat >"$TMPD/bad.yaml" <<'Y'
version: 1
name: bad
command_rules:
  - name: rm
    commands: [rm]
    args_pattern: ["-rf"]
    decision: deny
network_rules:
  - cidrs: ["10.0.0.0/33"]
    decision: maybe
Y
out=$("$AGENTSH" policy validate "$TMPD/bad.yaml" 2>&1); rc=$?
eq "a broken policy exits 1" 1 $rc
check "unknown key with position and suggestion" sh -c "printf '%s' \"\$1\" | grep -qF \"bad.yaml:6:5: unknown key 'args_pattern' in command_rules[0] (did you mean 'args_patterns'?)\"" _ "$out"
check "invalid CIDR reported too" sh -c "printf '%s' \"\$1\" | grep -qF \"bad.yaml:9:13: invalid CIDR '10.0.0.0/33'\"" _ "$out"
check "unknown decision reported too" sh -c "printf '%s' \"\$1\" | grep -qF \"bad.yaml:10:15: unknown decision 'maybe'\"" _ "$out"

out=$("$AGENTSH" policy lint $C/default.yaml 2>&1); rc=$?
eq "lint of the reference default exits 1" 1 $rc
check "lint finds the shadowed /etc/passwd deny" sh -c "printf '%s' \"\$1\" | grep -q \"deny-passwd-shadow': path '/etc/passwd' can never get decision deny\"" _ "$out"
out=$("$AGENTSH" policy lint $C/agent-sandbox.yaml 2>&1)
check "lint finds the never-firing .env approval" sh -c "printf '%s' \"\$1\" | grep -q \"approve-env-files': path '\*\*/.env' never gets decision approve\"" _ "$out"
for p in default dev-safe ci-strict agent-sandbox agent-observe; do
	# lint as it would apply to an agent account (results depend on ${HOME} etc.)
	"$AGENTSH" policy lint --var HOME=/home/agent --var WORKSPACE=/home/agent/work \
		--var PROJECT_ROOT=/home/agent/work --var GIT_ROOT=/home/agent/work $E/$p.yaml >"$TMPD/lint" 2>&1
	eq "example $p is lint-clean" 0 $?
	"$AGENTSH" policy test $E/$p.test.yaml >"$TMPD/test" 2>&1
	eq "example $p passes its test file" 0 $?
done

out=$("$AGENTSH" policy --policy $C/default.yaml check file write '~/.ssh/id_rsa' 2>&1)
check "check file write ~/.ssh/id_rsa: deny by deny-ssh-keys with file:line" sh -c "printf '%s' \"\$1\" | grep -q \"deny by rule 'deny-ssh-keys' (.*default.yaml:48)\"" _ "$out"
out=$("$AGENTSH" policy --policy $C/default.yaml check exec /usr/bin/curl https://example.com 2>&1)
check "check exec curl: approve with the rendered message" sh -c "printf '%s' \"\$1\" | grep -q 'message: Agent wants to download: https://example.com'" _ "$out"
# check exec decides as the supervisor does: the file that really runs, and
# the symlinks on the way that root made (owned by root, in a directory only
# root may write); a link anyone else made names nothing
mkdir -p "$TMPD/real" "$TMPD/bin" "$TMPD/open" && chmod 755 "$TMPD/bin" && chmod 1777 "$TMPD/open"
printf '#!/bin/sh\n' >"$TMPD/real/prog" && chmod 755 "$TMPD/real/prog"
ln -s ../real/prog "$TMPD/bin/tool"; ln -s "$TMPD/real/prog" "$TMPD/open/tool"
ln -s ../real/prog "$TMPD/bin/other"; chown -h nobody "$TMPD/bin/other"; ln -s /usr/bin/su "$TMPD/open/ls"
cat >"$TMPD/names.yaml" <<'Y'
version: 1
name: names
command_rules:
  - name: tools
    commands: [tool, other]
    decision: allow
Y
out=$("$AGENTSH" policy --policy "$TMPD/names.yaml" check exec "$TMPD/bin/tool" 2>&1)
check "check exec through root's symlink: its name decides, and the real program is named" \
	sh -c 'printf "%s\n" "$1" | grep -q "allow by rule .tools." && printf "%s\n" "$1" | grep -qx "  runs: $2/real/prog"' _ "$out" "$TMPD"
out=$("$AGENTSH" policy --policy "$TMPD/names.yaml" check exec "$TMPD/open/tool" 2>&1)
check "check exec through a symlink in a world-writable directory: decided as the real program" \
	sh -c 'printf "%s\n" "$1" | grep -q "deny (default"' _ "$out"
out=$("$AGENTSH" policy --policy "$TMPD/names.yaml" check exec "$TMPD/bin/other" 2>&1)
check "check exec through a symlink another account owns: decided as the real program" \
	sh -c 'printf "%s\n" "$1" | grep -q "deny (default"' _ "$out"
out=$("$AGENTSH" policy --json --policy $E/default.yaml check exec "$TMPD/open/ls" 2>&1)
check "check exec of a link named ls to su (default policy, --json): su's rule, program field" \
	sh -c 'printf "%s\n" "$1" | grep -q "\"decision\":\"deny\",\"rule\":\"deny-privilege-and-system\"" && printf "%s\n" "$1" | grep -q "\"program\":\"/usr/bin/su\""' _ "$out"
out=$("$AGENTSH" policy --policy "$TMPD/names.yaml" check exec "$TMPD/nonexistent/tool" 2>&1)
check "check exec of a program that does not exist: decided by the name given" \
	sh -c 'printf "%s\n" "$1" | grep -q "allow by rule .tools."' _ "$out"

out=$("$AGENTSH" policy --json --policy $C/default.yaml check net connect api.github.com:443 2>&1)
check "check net --json" sh -c "printf '%s' \"\$1\" | grep -q '\"decision\":\"allow\",\"rule\":\"allow-github\"'" _ "$out"
out=$("$AGENTSH" policy --policy $C/signal-strict.yaml check signal SIGKILL external 2>&1)
check "check signal SIGKILL external" sh -c "printf '%s' \"\$1\" | grep -q \"deny by rule 'deny-external'\"" _ "$out"
out=$("$AGENTSH" policy --policy $C/dev-safe.yaml show 2>&1)
check "show lists rules in order with expanded variables" sh -c "printf '%s' \"\$1\" | grep -q 'redirect    no-direct-push-to-main'" _ "$out"
"$AGENTSH" policy check bogus x >/dev/null 2>&1
eq "a bad check is a usage error (2)" 2 $?
out=$("$AGENTSH" policy --var HOME=/home/zed --policy $C/default.yaml check file read /home/zed/.ssh/id_rsa 2>&1)
check "--var changes the expansion for the inspection" sh -c "printf '%s' \"\$1\" | grep -q 'deny-ssh-keys'" _ "$out"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$AGENTSH" policy --policy "$PWD/$C/default.yaml" check file read /etc/hostname 2>&1); rc=$?
	eq "non-root --policy is refused" 1 $rc
	check "the refusal says who may choose" sh -c "printf '%s' \"\$1\" | grep -q 'only root may choose a policy'" _ "$out"
fi
done_testing
