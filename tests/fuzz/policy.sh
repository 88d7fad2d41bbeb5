#!/bin/sh
# Bounded fuzz run of the policy loader (about 30 s) as part of `make test`.
# A longer run (documented in docs/policy.md):
#   mkdir -p /tmp/pc && cp tests/fuzz/corpus/policy-*.yaml /tmp/pc/
#   build-fuzz/policy_fuzz -max_total_time=3600 -max_len=8192 -dict=tests/fuzz/policy.dict /tmp/pc
cd "${AGENTSH_SRC:-.}" || exit 1
bin=build-fuzz/policy_fuzz
if [ ! -x "$bin" ]; then
	echo "FAIL (precondition): policy fuzz target not built (run 'make fuzz'; needs clang with libFuzzer)"
	exit 1
fi
work=$(mktemp -d /tmp/agentsh-policy-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/art"
cp tests/fuzz/corpus/policy-*.yaml "$work/corpus/"
"$bin" -max_total_time="${POLICY_FUZZ_SECONDS:-30}" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	-dict=tests/fuzz/policy.dict -artifact_prefix="$work/art/" -print_final_stats=1 \
	"$work/corpus" >"$work/log" 2>&1
rc=$?
tail -n 20 "$work/log"
if [ $rc -ne 0 ] || [ -n "$(ls "$work/art")" ]; then
	echo "policy fuzzer failed (rc=$rc); failing inputs:"
	for f in "$work"/art/*; do [ -f "$f" ] && { echo "--- $f"; head -c 2000 "$f"; echo; }; done
	exit 1
fi
echo "policy fuzz: no crash, leak or sanitizer report"
exit 0
