#!/bin/sh
# valgrind (memcheck) on the main paths valgrind can run.  Sessions themselves
# cannot run under valgrind (it does not implement seccomp(2), so agentsh
# refuses to start them — checked below); the ASan/UBSan build runs those
# (tests marked "# san: yes" and the unit tests) with LeakSanitizer.
. "$AGENTSH_SRC/tests/lib.sh"
need_cmd valgrind
[ -x "$AGENTSH" ] || t_abort "no agentsh binary at $AGENTSH (run make)"
P="$AGENTSH_SRC/examples/policies"
vg() { valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$AGENTSH" "$@" >/dev/null 2>"$TMPD/vg.err"; }
run() { d=$1; shift; vg "$@"; rc=$?
	if [ $rc -eq 99 ]; then nok "$d: memcheck errors"; sed 's/^/#  /' "$TMPD/vg.err" | head -40; else ok "$d (rc=$rc)"; fi; }
run "--help" --help
run "unknown flag" --bogus
run "policy validate (every example)" --no-config policy validate $(ls "$P"/*.yaml | grep -v "\.test\.yaml")
run "policy lint" --no-config policy lint "$P/default.yaml" "$AGENTSH_SRC/tests/data/policies-compat/default.yaml"
run "policy check" --no-config policy check file write /etc/passwd
run "policy check --json" --no-config policy --json check exec /usr/bin/curl https://example.com
run "policy test" --no-config policy test "$P/default.test.yaml"
run "policy show" --no-config policy show
printf 'version: 1\nfile_rules:\n  - {name: x, pathz: [a], decision: allow}\ncommand_rules: [ {name: y, commands: [ls], decision: maybe} ]\n' > "$TMPD/bad.yaml"
run "policy validate of a broken file" --no-config policy validate "$TMPD/bad.yaml"
vg --no-config -c true; rc=$?
check "a session under valgrind fails closed (no seccomp), rc=$rc" [ $rc -ne 0 ] && [ $rc -ne 99 ]
done_testing
