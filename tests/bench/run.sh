#!/bin/sh
# `make bench`: start-up cost of agentsh against sh and bash (medians over many
# runs), time to the first interactive prompt, then every other benchmark
# binary in $1/tests/bench/.  Usage: tests/bench/run.sh BUILD_DIR
set -u
B=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
A="$PWD/$B/agentsh"
SB="$PWD/$B/tests/bench/shell_bench"
N=${BENCH_RUNS:-200}
NP=${BENCH_PROMPT_RUNS:-20}
[ -x "$A" ] && [ -x "$SB" ] || { echo "bench: build first (make all $B/tests/bench/shell_bench)"; exit 1; }

echo "== machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
# Two host settings move agentsh's start-up by more than everything else (docs/bench.md).
echo "== host: cgroup2 options $(awk '$3 == "cgroup2" { print $4; exit }' /proc/mounts), v1 controllers: $(awk '$3 == "cgroup" { printf "%s ", $2 }' /proc/mounts); LANG=${LANG:-unset}, locale-archive $([ -e /usr/lib/locale/locale-archive ] && echo present || echo absent)"
AS="$A"
if [ "$(id -u)" = 0 ]; then
	# root never runs the agent's commands: a throw-away account does
	U=agsh_bench
	id $U >/dev/null 2>&1 || useradd -m -s /bin/bash $U >/dev/null 2>&1 || { echo "bench: cannot create $U"; exit 1; }
	trap 'userdel -r $U >/dev/null 2>&1' EXIT
	AS="$A --no-config --user $U"
fi

med() { sed -n 's/.*median_us=\([0-9]*\).*/\1/p'; }
echo "== start-up: $N rounds, each running the three once in turn (wall time of the whole process)"
# shellcheck disable=SC2086
all=$("$SB" cmp "$N" sh -c true -- bash -c true -- $AS -c true)
sh_l=$(echo "$all" | sed -n 1p) bash_l=$(echo "$all" | sed -n 2p) ag_l=$(echo "$all" | sed -n 3p)
echo "sh -c true       $sh_l"
echo "bash -c true     $bash_l"
echo "agentsh -c true  $ag_l"
s=$(echo "$sh_l" | med) b=$(echo "$bash_l" | med) a=$(echo "$ag_l" | med)
if [ -n "$s" ] && [ -n "$b" ] && [ -n "$a" ]; then
	awk -v a="$a" -v s="$s" -v b="$b" 'BEGIN { printf "ratio: agentsh/sh = %.1fx, agentsh/bash = %.1fx (agentsh %.2f ms, sh %.2f ms, bash %.2f ms; goal: within 3x of sh)\n", a/s, a/b, a/1000, s/1000, b/1000 }'
fi
if [ "$(id -u)" = 0 ]; then
	# where agentsh's time goes: AGENTSH_TIMING=1 (root only) marks each phase
	NT=${BENCH_PHASE_RUNS:-30}
	echo "== agentsh -c true by phase: median of $NT runs (ms since main(); process start-up and exit not included)"
	i=0
	while [ $i -lt "$NT" ]; do
		# shellcheck disable=SC2086
		AGENTSH_TIMING=1 $AS -c true 2>&1 >/dev/null | sed -n 's/^agentsh-timing: *//p'
		i=$((i + 1))
	done | awk '{ t = $1; $1 = ""; $2 = ""; sub(/^ +/, ""); if (!($0 in seen)) { seen[$0] = ++k; name[k] = $0 }
		j = seen[$0]; n[j]++; v[j, n[j]] = t }
		END { for (j = 1; j <= k; j++) { m = n[j]; for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (v[j, b] < v[j, a]) { x = v[j, a]; v[j, a] = v[j, b]; v[j, b] = x }
			med = v[j, int((m + 1) / 2)]; printf "%8.2f  +%6.2f  %s\n", med, med - last, name[j]; last = med } }'
fi

echo "== time to the first interactive prompt: $NP runs"
export NO_COLOR=1
bp=$("$SB" prompt "$NP" env -i TERM=xterm PS1='$ ' bash --norc --noprofile -i); echo "bash -i          $bp"
# shellcheck disable=SC2086
ap=$("$SB" prompt "$NP" $AS -i); echo "agentsh -i       $ap"

for t in "$B"/tests/bench/*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	case "$t" in *.o|*.d|*/shell_bench) continue ;; esac
	echo "== $(basename "$t")"
	"$t"
done
