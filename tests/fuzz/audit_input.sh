#!/bin/sh
# Bounded fuzz run of the audit module's input parsers (anchor file, time
# arguments, events from arbitrary strings) as part of `make test`.
# Longer: build-fuzz/audit_input_fuzz -max_total_time=3600 -max_len=4096
. "$(dirname "$0")/lib_fuzz.inc"
fuzz_start audit build-fuzz/audit_input_fuzz
trap 'rm -rf "$work" /tmp/audit-fuzz-anchor.*' EXIT
printf 'open\000/home/a/.ssh/id_rsa\000\000cat x\000example.com\000deny-ssh\000{"trash_token":"t"}\000cat' >"$work/corpus/event"
printf '\200v1 00000000000000000012 %064d %064d\n' 0 0 >"$work/corpus/anchor"
fuzz_run audit "${AUDIT_FUZZ_SECONDS:-20}" -max_len=4096
