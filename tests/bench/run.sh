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

echo "== machine: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
AS="$A"
if [ "$(id -u)" = 0 ]; then
	# root never runs the agent's commands: a throw-away account does
	U=agsh_bench
	id $U >/dev/null 2>&1 || useradd -m -s /bin/bash $U >/dev/null 2>&1 || { echo "bench: cannot create $U"; exit 1; }
	trap 'userdel -r $U >/dev/null 2>&1' EXIT
	AS="$A --no-config --user $U"
fi

med() { sed -n 's/.*median_us=\([0-9]*\).*/\1/p'; }
echo "== start-up: $N runs each (wall time of the whole process, median)"
sh_l=$("$SB" run "$N" sh -c true); echo "sh -c true       $sh_l"
bash_l=$("$SB" run "$N" bash -c true); echo "bash -c true     $bash_l"
# shellcheck disable=SC2086
ag_l=$("$SB" run "$N" $AS -c true); echo "agentsh -c true  $ag_l"
s=$(echo "$sh_l" | med) b=$(echo "$bash_l" | med) a=$(echo "$ag_l" | med)
if [ -n "$s" ] && [ -n "$b" ] && [ -n "$a" ]; then
	awk -v a="$a" -v s="$s" -v b="$b" 'BEGIN { printf "ratio: agentsh/sh = %.1fx, agentsh/bash = %.1fx (agentsh %.2f ms, sh %.2f ms, bash %.2f ms)\n", a/s, a/b, a/1000, s/1000, b/1000 }'
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
