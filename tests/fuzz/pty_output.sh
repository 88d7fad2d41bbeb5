#!/bin/sh
# Bounded fuzz run of the filter between the sandbox's output and the outer
# terminal (pty_outfilter) as part of `make test`: no overrun, the same output
# however the input is split, and nothing a model terminal would read as the
# clipboard, a title report or a key definition.
# Longer: build-fuzz/pty_output_fuzz -max_total_time=3600 -max_len=4096 -dict=tests/fuzz/pty_output.dict DIR
. "$(dirname "$0")/lib_fuzz.inc"
fuzz_start pty-output build-fuzz/pty_output_fuzz
printf '\003a\033]52;c;?\007\033[21t\033P1;1|17/6C730A\033\\\033[1;31mx\033]0;t\007' >"$work/corpus/seqs"
printf '\001\033\n]5\r2;c;?\033\\\302\23521t\302\235052;\302\234\033[2\2611t' >"$work/corpus/tricks"
fuzz_run "pty output" "${PTY_FUZZ_SECONDS:-20}" -max_len=4096 -dict=tests/fuzz/pty_output.dict
