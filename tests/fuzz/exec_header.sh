#!/bin/sh
# Bounded fuzz run of the parser of a script's "#!" line (enf_shebang), which
# reads a file the agent wrote, as part of `make test`: no overrun, nothing
# after the kernel's 256 bytes counts, the name and argument split where the
# kernel splits.  (tests/unit/enforce_shebang holds it against the kernel.)
# Longer: build-fuzz/exec_header_fuzz -max_total_time=3600 -max_len=600 DIR
. "$(dirname "$0")/lib_fuzz.inc"
fuzz_start exec-header build-fuzz/exec_header_fuzz
printf '#!/bin/sh -x\r\n' >"$work/corpus/cr"
printf '#! /usr/bin/env  python3 -I \000junk\n' >"$work/corpus/nul"
printf '#!/bin/sh ' >"$work/corpus/short"
fuzz_run "exec header" "${EXEC_FUZZ_SECONDS:-10}" -max_len=600
