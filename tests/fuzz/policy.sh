#!/bin/sh
# Bounded fuzz run of the policy loader (about 30 s) as part of `make test`.
# A longer run (documented in docs/policy.md):
#   mkdir -p /tmp/pc && cp tests/fuzz/corpus/policy-*.yaml /tmp/pc/
#   build-fuzz/policy_fuzz -max_total_time=3600 -max_len=8192 -dict=tests/fuzz/policy.dict /tmp/pc
. "$(dirname "$0")/lib_fuzz.inc"
fuzz_start policy build-fuzz/policy_fuzz
cp tests/fuzz/corpus/policy-*.yaml "$work/corpus/"
fuzz_run policy "${POLICY_FUZZ_SECONDS:-30}" -max_len=8192 -dict=tests/fuzz/policy.dict
