#!/bin/sh
# Bounded fuzz run of the filter between the sandbox's output and the outer
# terminal (pty_outfilter) as part of `make test`: no overrun, the same output
# however the input is split, and nothing a model terminal would read as the
# clipboard, a title report or a key definition.
# Longer: build-fuzz/pty_output_fuzz -max_total_time=3600 -max_len=4096
cd "${AGENTSH_SRC:-.}" || exit 1
bin=build-fuzz/pty_output_fuzz
if [ ! -x "$bin" ]; then
	echo "FAIL (precondition): pty output fuzz target not built (run 'make fuzz'; needs clang with libFuzzer)"
	exit 1
fi
work=$(mktemp -d /tmp/agentsh-pty-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/art"
printf '\003a\033]52;c;?\007\033[21t\033P1;1|17/6C730A\033\\\033[1;31mx\033]0;t\007' >"$work/corpus/seqs"
printf '\001\033\n]5\r2;c;?\033\\\302\23521t\302\235052;\302\234\033[2\2611t' >"$work/corpus/tricks"
"$bin" -max_total_time="${PTY_FUZZ_SECONDS:-20}" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	-dict=tests/fuzz/pty_output.dict -artifact_prefix="$work/art/" -print_final_stats=1 \
	"$work/corpus" >"$work/log" 2>&1
rc=$?
tail -n 15 "$work/log"
if [ $rc -ne 0 ] || [ -n "$(ls "$work/art")" ]; then
	echo "pty output fuzzer failed (rc=$rc); failing inputs:"
	for f in "$work"/art/*; do [ -f "$f" ] && { echo "--- $f"; od -c "$f" | head -20; }; done
	exit 1
fi
echo "pty output fuzz: no crash, overrun or dangerous sequence passed"
exit 0
