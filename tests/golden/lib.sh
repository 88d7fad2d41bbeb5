# Helpers for the JSON-result and audit tests (sourced after tests/lib.sh).
# Sets up: a private audit store ($AUDIT_DB, via AGENTSH_AUDIT_DB, which agentsh
# honours only when it is not running setuid), an unprivileged account
# ($JUSER) and a workspace ($WS) it owns.
GOLDEN="$AGENTSH_SRC/tests/golden"
SCHEMA="$AGENTSH_SRC/schema/agentsh-result.schema.json"
JUSER=agentsh-audit

golden_setup() {
	need_root
	need_cmd python3 sqlite3
	python3 -c 'import jsonschema' 2>/dev/null || t_abort "needs python3-jsonschema (run: make deps)"
	[ -x "$AGENTSH" ] || { echo "no agentsh binary at $AGENTSH (run: make)"; exit 1; }
	t_user "$JUSER" || t_abort "cannot create the test account $JUSER"
	mkdir -m 700 "$TMPD/store"
	AUDIT_DB="$TMPD/store/audit.db"
	export AGENTSH_AUDIT_DB="$AUDIT_DB"
	WS="$TMPD/work"
	mkdir -p "$WS"
	chown "$JUSER" "$WS"
}

# agentsh_json [agentsh options...] -- CMD : runs it in $WS as $JUSER; the
# result goes to $TMPD/out.json, the exit status to $JRC.
agentsh_json() {
	opts=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts="$opts $1"; shift; done
	shift
	# shellcheck disable=SC2086
	(cd "$WS" && "$AGENTSH" --no-config --user "$JUSER" $opts -c --json "$1") >"$TMPD/out.json" 2>"$TMPD/err.txt"
	JRC=$?
}

# golden NAME [agentsh options...] -- CMD : compare with tests/golden/NAME.json
golden() {
	name=$1; shift
	agentsh_json "$@"
	want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["exit_code"])' "$GOLDEN/$name.json")
	if [ "$JRC" != "$want" ]; then
		nok "$name: exit status $JRC, expected $want"
		sed 's/^/#   stdout| /' "$TMPD/out.json"; sed 's/^/#   stderr| /' "$TMPD/err.txt"
		return
	fi
	if python3 "$GOLDEN/check.py" "$SCHEMA" "$GOLDEN/$name.json" <"$TMPD/out.json" >"$TMPD/check.txt" 2>&1; then
		ok "$name: result valid against the schema and matches tests/golden/$name.json"
	else
		nok "$name: result differs from tests/golden/$name.json"
		sed 's/^/#   /' "$TMPD/check.txt"; sed 's/^/#   stderr| /' "$TMPD/err.txt"
	fi
}
