#!/bin/sh
# Argument and environment TOCTOU through `agentsh -c` as a real account
# (tests/tools/race_args): a second thread flips an argv string (then an envp
# string) between an allowed and a denied value while execve runs, RACE_TRIES
# times each (default 20000).  The supervisor decides on the strings it read;
# the kernel copies them afterwards and the BPF exec check compares what it
# copied with what was decided.  Zero runs of the denied value are required,
# and the kill must have been seen at least once in the notices and in the
# audit store (otherwise the race was not exercised and proves nothing).
. "$(dirname "$0")/../lib.sh"
need_root
[ -x "$AGENTSH" ] || t_abort "agentsh not built"
TOOL="$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools/race_args"
[ -x "$TOOL" ] || t_abort "race_args not built (make build/tests/tools/race_args)"
N=${RACE_TRIES:-20000}
U=agentsh-argrace
t_user $U || t_abort "cannot create test account $U"
trap 'userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
WS="$TMPD/ws"
mkdir -p "$WS" && chmod 755 "$TMPD"
cp "$TOOL" "$WS/race_args" && chown -R $U "$WS" && chmod 755 "$WS/race_args"
POL="$TMPD/args-race.yaml"
cat >"$POL" <<'EOF'
version: 1
name: args-race
file_rules:
  - name: all
    paths: ["/**"]
    operations: ["*"]
    decision: allow
command_rules:
  - name: deny-echo-denied-arg
    commands: [echo]
    args_patterns: ["DENY-ARG"]
    decision: deny
    message: echo may not print the denied argument
  - name: rest
    commands: ["*"]
    decision: allow
env_policy:
  deny: ["RACE_DENIED"]
EOF
mkdir -m 700 "$TMPD/audit"
export AGENTSH_AUDIT_DB="$TMPD/audit/audit.db"
run() { (cd "$WS" && "$AGENTSH" --no-config --policy "$POL" --user $U -c "$1" 2>&1); }
run true >/dev/null || t_abort "agentsh -c --user cannot run a sandboxed command here: $(run true | head -3)"

# the policy really decides on these values (the test can fail)
check "argv: the denied argument is refused" sh -c "! printf '%s' \"\$1\" | grep -q '^DENY-ARG'" _ "$(run '/usr/bin/echo DENY-ARG')"
eq "argv: the allowed argument runs" "OKAY-ARG" "$(run '/usr/bin/echo OKAY-ARG')"
check "env: the denied variable is refused" sh -c "! printf '%s' \"\$1\" | grep -q '^RACE_DENIED='" _ "$(run 'RACE_DENIED=1 /usr/bin/env')"

arg_kills() {
	"$AGENTSH" events query --type exec --decision deny --limit 1000000 --json 2>/dev/null |
		grep -c '"message": "arguments changed after the decision'
}

for mode in argv env; do
	before=$(arg_kills)
	out="$TMPD/out.$mode"	# one notice per kill: thousands of lines
	# (LeakSanitizer cannot work in the sandbox: no ptrace; harmless without ASan)
	run "ASAN_OPTIONS=detect_leaks=0 ./race_args $mode $N" >"$out"; rc=$?
	after=$(arg_kills)
	sum=$(grep "^race_args $mode:" "$out")
	printf '# %s\n' "$sum"
	[ -n "$sum" ] || { nok "$mode: race_args ran"; head -5 "$out" | sed 's/^/#   /'; continue; }
	eq "$mode: the denied value never ran in $N flips" 0 "$rc"
	check "$mode: the flip was effective (kills seen)" sh -c "printf '%s' '$sum' | grep -Eq ' [1-9][0-9]* killed'"
	check "$mode: the notice names the cause" grep -q 'arguments changed after the decision' "$out"
	check "$mode: audited as an exec kill ($before -> $after)" [ "$after" -gt "$before" ]
done

# unchanged arguments still run (the check does not kill honest execs)
eq "plain exec with arguments and environment" "a b c X=1" \
	"$(run 'X=1 /usr/bin/env -i X=1 sh -c "echo a b c X=\$X"')"
done_testing
