#!/bin/sh
# `agentsh doctor [--json]`: every layer is probed and reported with a state and
# a reason; on this machine everything a session needs is available.
. "$(dirname "$0")/../lib.sh"
need_root
[ -x "$AGENTSH" ] || t_abort "agentsh not built"
out=$("$AGENTSH" doctor 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
js=$("$AGENTSH" doctor --json 2>/dev/null)
check "doctor --json is one JSON object" sh -c "printf '%s' \"\$1\" | python3 -c 'import json,sys; json.load(sys.stdin)'" _ "$js"
for l in "seccomp user notification" "SECCOMP_IOCTL_NOTIF_ADDFD" "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" \
	"SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP" "Landlock filesystem floor" "Landlock signal scoping" \
	"cgroup.kill" "limits: pids controller" "limits: memory controller" "BPF guard" "terminal guard"; do
	st=$(printf '%s' "$js" | python3 -c "import json,sys
d=json.load(sys.stdin)
print(next((x['state'] for x in d['layers'] if x['layer'].startswith(sys.argv[1])), 'missing'))" "$l")
	case "$st" in active|degraded|unavailable) ok "doctor reports '$l' ($st)" ;; *) nok "doctor reports '$l'" ;; esac
done
lsm=$(printf '%s' "$js" | python3 -c "import json,sys
d=json.load(sys.stdin)
print(next((x['state'] for x in d['layers'] if x['layer'].startswith('BPF lsm')), 'missing'))")
eq "BPF LSM is reported as information, not as a missing layer" info "$lsm"
ok_all=$(printf '%s' "$js" | python3 -c "import json,sys; print(json.load(sys.stdin)['ok'])")
if [ "$ok_all" = True ]; then eq "doctor exits 0 when every layer is available" 0 $rc
else eq "doctor exits 1 when a layer is missing" 1 $rc; fi
"$AGENTSH" doctor --bogus >/dev/null 2>&1
eq "doctor: unknown argument is a usage error" 2 $?
done_testing
