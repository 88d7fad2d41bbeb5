#!/bin/sh
# Runs every test suite and prints one line per test and a summary.
# A test is an executable that exits 0 (pass), 77 (skip: its last output line says why)
# or anything else (fail).  Logs go to $B/test-logs/.  Usage: tests/run.sh [substring]
set -u
cd "$(dirname "$0")/.." || exit 1
B=${AGENTSH_BUILD:-build}
export AGENTSH_BUILD="$B" AGENTSH="$PWD/$B/agentsh" AGENTSH_SRC="$PWD"
filter=${1:-}
# A filtered run keeps other logs: helpers run suites side by side.
logs="$B/test-logs"; [ -n "$filter" ] || rm -rf "$logs"; mkdir -p "$logs"
pass=0 fail=0 skip=0 failed="" skipped=""

run_one() { # name command...
	name=$1; shift
	case "$name" in *"$filter"*) ;; *) return ;; esac
	log="$logs/$(echo "$name" | tr '/ ' '__').log"
	start=$(date +%s)
	timeout -k 10 "${AGENTSH_TEST_TIMEOUT:-600}" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass+1)); printf 'PASS %-50s %3ss\n' "$name" "$secs" ;;
	77) skip=$((skip+1)); why=$(grep -v '^$' "$log" | tail -n 1)
	    skipped="$skipped\n  $name: $why"; printf 'SKIP %-50s %s\n' "$name" "$why" ;;
	*) fail=$((fail+1)); failed="$failed $name"; printf 'FAIL %-50s rc=%s (log: %s)\n' "$name" "$rc" "$log"
	   tail -n 15 "$log" | sed 's/^/     | /' ;;
	esac
}

for b in build build-san; do
	[ -d "$b/tests/unit" ] || continue
	for t in "$b"/tests/unit/*; do
		[ -x "$t" ] && [ -f "$t" ] || continue
		case "$t" in *.o|*.d) continue ;; esac
		run_one "unit[$b]/$(basename "$t")" "$t"
	done
done
for t in tests/integration/*.sh tests/pty/*.sh tests/conformance/*.sh tests/fuzz/*.sh; do
	[ -f "$t" ] || continue
	run_one "$t" sh "$t"
done
# The sanitizer build of the binary runs the integration suites that are marked for it.
if [ "$B" = build ] && [ -x build-san/agentsh ]; then
	for t in $(grep -l '^# san: yes' tests/integration/*.sh tests/pty/*.sh 2>/dev/null); do
		AGENTSH="$PWD/build-san/agentsh" AGENTSH_BUILD=build-san run_one "san:$t" sh "$t"
	done
fi

echo
echo "tests: $pass passed, $fail failed, $skip skipped"
[ -n "$skipped" ] && printf "skipped:$skipped\n"
[ $fail -eq 0 ] || { echo "failed:$failed"; exit 1; }
[ $((pass+fail)) -gt 0 ] || { echo "no tests ran"; exit 1; }
exit 0
