#!/bin/sh
# Run only the unit test binaries of one build directory.
B=${1:-build}; rc=0
for t in "$B"/tests/unit/*; do [ -x "$t" ] && [ -f "$t" ] || continue; case "$t" in *.o|*.d) continue;; esac
  "$t" || { echo "FAIL $t"; rc=1; }; done
exit $rc
