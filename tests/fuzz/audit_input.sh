#!/bin/sh
# Bounded fuzz run of the audit module's input parsers (anchor file, time
# arguments, events from arbitrary strings) as part of `make test`.
# Longer: build-fuzz/audit_input_fuzz -max_total_time=3600 -max_len=4096
cd "${AGENTSH_SRC:-.}" || exit 1
bin=build-fuzz/audit_input_fuzz
if [ ! -x "$bin" ]; then
	echo "FAIL (precondition): audit fuzz target not built (run 'make fuzz'; needs clang with libFuzzer)"
	exit 1
fi
work=$(mktemp -d /tmp/agentsh-audit-fuzz.XXXXXX)
trap 'rm -rf "$work" /tmp/audit-fuzz-anchor.*' EXIT
mkdir "$work/corpus" "$work/art"
printf 'open\000/home/a/.ssh/id_rsa\000\000cat x\000example.com\000deny-ssh\000{"trash_token":"t"}\000cat' >"$work/corpus/event"
printf '\200v1 00000000000000000012 %064d %064d\n' 0 0 >"$work/corpus/anchor"
"$bin" -max_total_time="${AUDIT_FUZZ_SECONDS:-20}" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$work/art/" -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1
rc=$?
tail -n 15 "$work/log"
if [ $rc -ne 0 ] || [ -n "$(ls "$work/art")" ]; then
	echo "audit fuzzer failed (rc=$rc); failing inputs:"
	for f in "$work"/art/*; do [ -f "$f" ] && { echo "--- $f"; od -c "$f" | head -20; }; done
	exit 1
fi
echo "audit fuzz: no crash, leak or sanitizer report"
exit 0
