# Shared helpers for the shell-script tests (sourced).  TAP-ish output; the script's
# exit status is what tests/run.sh reads: 0 pass, 77 skip, other fail.
set -u
: "${AGENTSH_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${AGENTSH_BUILD:=build}"
: "${AGENTSH:=$AGENTSH_SRC/$AGENTSH_BUILD/agentsh}"
T_N=0 T_FAIL=0
TMPD=$(mktemp -d /tmp/agentsh-test.XXXXXX)
chmod 755 "$TMPD"
trap 't_cleanup' EXIT
t_cleanup() { rm -rf "$TMPD"; }

ok()   { T_N=$((T_N+1)); echo "ok $T_N - $*"; }
nok()  { T_N=$((T_N+1)); T_FAIL=$((T_FAIL+1)); echo "not ok $T_N - $*"; }
# check DESC CMD... : passes when CMD succeeds
check() { d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
# eq DESC EXPECTED ACTUAL
eq() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1"; printf '#   expected: %s\n#   actual:   %s\n' "$2" "$3"; return 1; fi; }
skip_all() { echo "SKIP: $*"; exit 77; }
need_root() { [ "$(id -u)" = 0 ] || skip_all "needs root (this suite creates accounts, cgroups and sandboxes)"; }
need_cmd() { for c; do command -v "$c" >/dev/null 2>&1 || t_abort "needs '$c' (run: make deps)"; done; }
done_testing() { echo "1..$T_N"; [ "$T_N" -gt 0 ] || { echo "no assertions"; exit 1; }; [ "$T_FAIL" -eq 0 ] || exit 1; exit 0; }

# A real unprivileged account for a test, removed on exit.
t_user() { # name -> creates it if missing
	id "$1" >/dev/null 2>&1 || useradd -m -s /bin/bash "$1" >/dev/null 2>&1 || return 1
}

# t_session_account USER POLICY-FILE: as root, a throw-away account USER
# with a workspace $WS it owns, a private audit store, and run CMD for
# `agentsh -c CMD` as USER under POLICY-FILE in $WS (stdout and stderr).
# Aborts, never passes, when a sandboxed command cannot run here.  The
# caller's EXIT trap must remove USER (userdel -r).
t_session_account() {
	need_root
	[ -x "$AGENTSH" ] || t_abort "agentsh not built"
	T_SU=$1 T_SPOL=$2
	t_user "$T_SU" || t_abort "cannot create test account $T_SU"
	WS="$TMPD/ws"; mkdir -p "$WS" && chown "$T_SU" "$WS" && chmod 755 "$TMPD"
	mkdir -m 700 "$TMPD/audit"
	export AGENTSH_AUDIT_DB="$TMPD/audit/audit.db"
	run() { (cd "$WS" && "$AGENTSH" --no-config --policy "$T_SPOL" --user "$T_SU" -c "$1" 2>&1); }
	run true >/dev/null ||
		{ userdel -r "$T_SU" >/dev/null 2>&1; t_abort "agentsh -c --user cannot run a sandboxed command here"; }
}

# --- tmux PTY driving: a person at a terminal ---
TMUX_SOCK="$TMPD/tmux.sock"
tm() { tmux -S "$TMUX_SOCK" "$@"; }
# tm_start COLS ROWS CMD... : start CMD in a fresh detached session "t"
tm_start() { c=$1 r=$2; shift 2; tm new-session -d -s t -x "$c" -y "$r" "$@"; tm set-option -t t remain-on-exit on >/dev/null; }
tm_screen() { tm capture-pane -p -t t; }
tm_keys() { tm send-keys -t t "$@"; }
tm_type() { tm send-keys -t t -l "$1"; }
# tm_wait REGEX [SECONDS]: wait until the screen matches (grep -E)
tm_wait() { i=0; n=$(( ${2:-5} * 20 )); while [ $i -lt $n ]; do tm_screen | grep -Eq -- "$1" && return 0; sleep 0.05; i=$((i+1)); done; echo "# timeout waiting for /$1/; screen:"; tm_screen | sed 's/^/#  | /'; return 1; }
# tmux 3.3 runs its libutempter helper when a pane's pty closes, with SIGCHLD
# set to SIG_DFL meanwhile: a pane process that exits inside that window is
# never reaped and the pane never reads as dead (seen in CI with an ssh client
# pane).  A SIGCHLD from us makes the server reap every exited child.
tm_nudge() { kill -CHLD "$(tm display -p '#{pid}' 2>/dev/null)" 2>/dev/null || true; }
tm_dead() { tm_nudge; tm display -p -t t '#{pane_dead}' 2>/dev/null; }
tm_status() { tm display -p -t t '#{pane_dead_status}' 2>/dev/null; }
tm_kill() { tm kill-server 2>/dev/null || true; }
# t_abort REASON: a precondition the project itself provides (a built binary, a
# test account, a working sandbox) is missing — that is a failure, never a skip.
t_abort() { echo "FAIL (precondition): $*"; exit 1; }
