#!/bin/sh
# san: yes
# resource_limits: pids and memory through the cgroup controllers wherever they
# live (v2 when offered, else v1 under agentsh's own v1 cgroup), and the
# command timeout (every process killed, exit 124).
. "$(dirname "$0")/../lib.sh"
need_root
T=${SURFACE_TOOLS:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools}
[ -x "$T/surface_run" ] || t_abort "surface tools not built (make tools)"
W="$TMPD/w"; mkdir -m 777 "$W"
cat > "$TMPD/lim.yaml" <<'YAML'
version: 1
name: limits-test
file_rules:
  - name: all
    paths: ["/**"]
    operations: ["*"]
    decision: allow
command_rules:
  - name: all
    commands: ["*"]
    decision: allow
resource_limits:
  pids_max: 20
  max_memory_mb: 64
YAML
run() { (cd "$W" && "$T/surface_run" -p "$TMPD/lim.yaml" -w "$W" "$@"); }

# dash reports "Cannot fork" and exits when fork() fails with EAGAIN
out=$(run -- /bin/sh -c 'for i in $(seq 40); do sleep 3 & done; echo all-40-started' 2>&1)
printf '%s\n' "$out" | sed 's/^/# /'
check "pids_max: forks beyond the limit fail" sh -c "printf '%s\n' \"\$1\" | grep -q 'Cannot fork'" _ "$out"
check "pids_max: the 40 processes never all ran" sh -c "! printf '%s\n' \"\$1\" | grep -q all-40-started" _ "$out"
out=$(sh -c 'for i in $(seq 40); do sleep 0.1 & done; wait; echo all-40-started' 2>&1)
eq "control: 40 processes start outside the sandbox" all-40-started "$out"

# control: the same allocation outside the sandbox succeeds
python3 -c 'x = bytearray(200 * 1024 * 1024)'
eq "control: 200 MiB allocation works outside" 0 $?
run -- /usr/bin/python3 -c 'x = bytearray(200 * 1024 * 1024); print("allocated")' >"$TMPD/mem.out" 2>&1
rc=$?
eq "max_memory_mb: a 200 MiB allocation is OOM-killed (SIGKILL)" 137 $rc
check "max_memory_mb: it never finished" sh -c "! grep -q allocated '$TMPD/mem.out'"

start=$(date +%s%N)
run -t 500 -- /bin/sh -c "(sleep 3; touch '$W/late') & sleep 5" 2>"$TMPD/to.err"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
eq "command timeout: exit status 124" 124 $rc
check "command timeout: killed within 2 s (${ms} ms)" [ "$ms" -lt 2000 ]
check "command timeout: the notice names the limit" grep -q 'command_timeout' "$TMPD/to.err"
sleep 3
check "command timeout: the background job died too" [ ! -e "$W/late" ]

# session timeout: armed when the session starts
sed 's/^  max_memory_mb: 64$/  max_memory_mb: 64\n  session_timeout: 1s/' "$TMPD/lim.yaml" > "$TMPD/sess.yaml"
start=$(date +%s%N)
(cd "$W" && "$T/surface_run" -p "$TMPD/sess.yaml" -w "$W" -- /bin/sleep 10) 2>"$TMPD/sess.err"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
eq "session timeout: exit status 124" 124 $rc
check "session timeout: after about 1 s (${ms} ms)" sh -c "[ $ms -ge 900 ] && [ $ms -lt 3000 ]"
check "session timeout: the notice names the limit" grep -q 'session_timeout' "$TMPD/sess.err"

# a limit agentsh cannot enforce is refused, not ignored
sed 's/^  max_memory_mb: 64$/  max_memory_mb: 64\n  disk_read_bps_max: 1000/' "$TMPD/lim.yaml" > "$TMPD/disk.yaml"
out=$(cd "$W" && "$T/surface_run" -p "$TMPD/disk.yaml" -w "$W" -- /bin/true 2>&1)
eq "disk_read_bps_max: the session is refused" 125 $?
check "disk_read_bps_max: the message says it is not enforced" sh -c "printf '%s\n' \"\$1\" | grep -q 'does not enforce'" _ "$out"
done_testing
