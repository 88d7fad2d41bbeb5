#!/bin/sh
# san: yes
# Fail closed: SIGKILL the supervisor mid-command.  The whole tree must be gone
# (including a grandchild that left its process group and the delegate's own
# background job) and nothing the command attempted afterwards may happen.
. "$(dirname "$0")/../lib.sh"
need_root
T=${SURFACE_TOOLS:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools}
[ -x "$T/surface_run" ] || t_abort "surface tools not built (make tools)"
U=agentsh-enffc
t_user $U || t_abort "cannot create test account $U"
trap 'userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
uid=$(id -u $U) gid=$(id -g $U)
W="$TMPD/w"; mkdir -m 777 "$W"
# gone: no such process, or a zombie waiting for init to reap it
gone() { ! [ -e /proc/$1 ] || grep -q '^State:.*Z' /proc/$1/status 2>/dev/null; }
CG=$(awk '$9=="cgroup2"{print $5; exit}' /proc/self/mountinfo)

script='echo $$ > '$W'/sh.pid
(setsid sh -c "echo \$\$ > '$W'/grand.pid; sleep 2; touch '$W'/grand-after") &
(sleep 2; touch '$W'/bg-after) &
i=0; while :; do i=$((i+1)); echo $i > '$W'/counter; sleep 0.05; done'
"$T/surface_run" -u "$uid" -g "$gid" -w "$W" -P "$W/sup.pid" -- /bin/sh -c "$script" &
for i in $(seq 100); do [ -s "$W/sup.pid" ] && [ -s "$W/grand.pid" ] && [ -s "$W/counter" ] && break; sleep 0.05; done
sup=$(cat "$W/sup.pid") sh=$(cat "$W/sh.pid") grand=$(cat "$W/grand.pid")
check "the command runs (counter advancing)" [ "$(cat "$W/counter")" -ge 1 ]
check "the session cgroup exists" [ -d "$CG/agentsh/surface-$sup" ]
kill -9 "$sup"
sleep 0.3
c1=$(cat "$W/counter")
sleep 2.5
c2=$(cat "$W/counter")
eq "nothing ran after the supervisor died (counter frozen)" "$c1" "$c2"
check "the delegate is gone" gone "$sh"
check "the escaped grandchild is gone" gone "$grand"
check "the grandchild's later write never happened" [ ! -e "$W/grand-after" ]
check "the background job's later write never happened" [ ! -e "$W/bg-after" ]
for i in $(seq 50); do [ -d "$CG/agentsh/surface-$sup" ] || break; sleep 0.1; done
check "the watchdog removed the session cgroup" [ ! -d "$CG/agentsh/surface-$sup" ]
wait

# the same through agentsh -c, as sshd would start it
POL="$AGENTSH_SRC/examples/policies/agent-observe.yaml"
if [ -x "$AGENTSH" ]; then
	rm -f "$W"/*
	(cd "$W" && exec "$AGENTSH" --no-config --policy "$POL" --user $U -c "$script") >/dev/null 2>&1 &
	ag=$!
	for i in $(seq 100); do [ -s "$W/grand.pid" ] && [ -s "$W/counter" ] && break; sleep 0.05; done
	sh=$(cat "$W/sh.pid") grand=$(cat "$W/grand.pid")
	# the watchdog agentsh forks first thing in main() (enforce_watchdog_prefork)
	scg=$(sed -n 's/^0:://p' /proc/$sh/cgroup)
	check "agentsh -c: the session has its own cgroup ($scg)" sh -c "case '$scg' in /agentsh/*) [ -d '$CG$scg' ];; *) false;; esac"
	check "agentsh -c: its own watchdog is running" pgrep -x -P "$ag" agentsh-watch
	kill -9 "$ag"
	sleep 0.3
	c1=$(cat "$W/counter")
	sleep 2.5
	eq "agentsh -c: nothing ran after agentsh died" "$c1" "$(cat "$W/counter")"
	for i in $(seq 50); do [ -d "$CG$scg" ] || break; sleep 0.1; done
	check "agentsh -c: the watchdog removed the session cgroup" [ ! -d "$CG$scg" ]
	check "agentsh -c: the delegate is gone" gone "$sh"
	check "agentsh -c: the escaped grandchild is gone" gone "$grand"
	check "agentsh -c: no later write happened" sh -c "[ ! -e '$W/grand-after' ] && [ ! -e '$W/bg-after' ]"
	wait

	# started with stdio closed: the watchdog's channel must not land on 0-2
	rm -f "$W/sh.pid"
	(cd "$W" && exec "$AGENTSH" --no-config --policy "$POL" --user $U -c "echo \$\$ > $W/sh.pid; exec sleep 30" <&- >&- 2>&-) &
	ag=$!
	for i in $(seq 100); do [ -s "$W/sh.pid" ] && break; sleep 0.05; done
	sh=$(cat "$W/sh.pid")
	scg=$(sed -n 's/^0:://p' /proc/$sh/cgroup)
	check "stdio closed: the session has its cgroup ($scg)" sh -c "case '$scg' in /agentsh/*) [ -d '$CG$scg' ];; *) false;; esac"
	kill -9 "$ag"
	for i in $(seq 50); do [ -d "$CG$scg" ] || break; sleep 0.1; done
	check "stdio closed: the watchdog removed the session cgroup" [ ! -d "$CG$scg" ]
	check "stdio closed: the command is gone" gone "$sh"
	wait
fi

# with v1 limit cgroups: the watchdog removes those too
cat > "$TMPD/pids.yaml" <<'YAML'
version: 1
name: fc-pids
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
  pids_max: 50
YAML
rm -f "$W/sup.pid"
(cd "$W" && exec "$T/surface_run" -p "$TMPD/pids.yaml" -u "$uid" -g "$gid" -w "$W" -P "$W/sup.pid" -- /bin/sleep 30) &
for i in $(seq 100); do [ -s "$W/sup.pid" ] && break; sleep 0.05; done
sup=$(cat "$W/sup.pid")
v1=$(grep -o '[^:]*$' /proc/$(pgrep -P "$sup" -x sleep | head -1)/cgroup 2>/dev/null | grep "agentsh-surface-$sup" | head -1)
PM=$(awk '$9=="cgroup" && $NF ~ /(^|,)pids(,|$)/ {print $5; exit}' /proc/self/mountinfo)
check "v1 pids cgroup of the session exists ($v1)" sh -c "[ -n '$v1' ] && [ -d '$PM$v1' ]"
kill -9 "$sup"; wait
for i in $(seq 50); do [ -d "$PM$v1" ] || break; sleep 0.1; done
check "the watchdog removed the v1 pids cgroup ($v1)" [ ! -d "$PM$v1" ]

# a layer this process cannot have (no root: no cgroup, no BPF): refused with
# the reason, unless degraded operation is allowed, which then says so
out=$(cd "$W" && setpriv --reuid "$uid" --regid "$gid" --clear-groups "$T/surface_run" -u "$uid" -g "$gid" -w "$W" -- /bin/true 2>&1)
eq "missing layer: the session refuses to start" 125 $?
check "missing layer: the message names it and the way out" sh -c "printf '%s\n' \"\$1\" | grep -q 'cannot create cgroup.*refusing to start the session'" _ "$out"
out=$(cd "$W" && setpriv --reuid "$uid" --regid "$gid" --clear-groups "$T/surface_run" -d -u "$uid" -g "$gid" -w "$W" -- /bin/true 2>&1)
eq "allow_degraded: the session runs" 0 $?
check "allow_degraded: it is reported as degraded, with the reason" sh -c "printf '%s\n' \"\$1\" | grep -q 'degraded: no session cgroup'" _ "$out"
done_testing
