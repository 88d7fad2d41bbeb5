#!/bin/sh
# Shell conformance: every case in tests/conformance/cases/*.t must give the same stdout
# and exit status through `bash -c`, bash on stdin, `agentsh -c` and agentsh on stdin, and
# match the spec.  The work is done by runner.py (see its header for the case format).
#   sh tests/conformance/run.sh                 all modes ($AGENTSH is the binary)
#   sh tests/conformance/run.sh --bash-only     check the spec against bash alone
#   sh tests/conformance/run.sh NAME...         only cases whose name contains NAME
# As root (agentsh refuses to run a session's commands as root), every mode runs as the
# unprivileged account $AGENTSH_CONFORMANCE_USER (default agentsh-conf, created here and
# removed afterwards if it did not exist): bash under its uid, agentsh with --user.
# agentsh's flags: $AGENTSH_CONFORMANCE_FLAGS, by default
#   --no-config --policy examples/policies/agent-observe.yaml
# (allow and audit everything): this suite tests the shell language, not a policy.  Under
# the embedded default policy (AGENTSH_CONFORMANCE_FLAGS=--no-config) three cases are
# denied by design and fail: pipe-sigpipe-on-writer (/usr/bin/yes is not in its command
# list), status-executable-script and status-no-shebang-script-runs-in-shell (it does not
# run programs written into the workspace).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${AGENTSH_SRC:=$(cd "$here/../.." && pwd)}"
: "${AGENTSH_BUILD:=build}"
: "${AGENTSH:=$AGENTSH_SRC/$AGENTSH_BUILD/agentsh}"
AGENTSH_CONFORMANCE_FLAGS=${AGENTSH_CONFORMANCE_FLAGS-"--no-config --policy $AGENTSH_SRC/examples/policies/agent-observe.yaml"}
export AGENTSH AGENTSH_SRC AGENTSH_BUILD AGENTSH_CONFORMANCE_FLAGS
command -v python3 >/dev/null 2>&1 || { echo "FAIL (precondition): needs python3 (run: make deps)"; exit 1; }

case " $* " in *" --list "*) exec python3 "$here/runner.py" "$@" ;; esac

as_user=
if [ "$(id -u)" = 0 ]; then
	u=${AGENTSH_CONFORMANCE_USER:-agentsh-conf}
	if ! id "$u" >/dev/null 2>&1; then
		useradd -m -s /bin/bash "$u" >/dev/null 2>&1 ||
			{ echo "FAIL (precondition): cannot create the test account $u (useradd failed)"; exit 1; }
		trap 'userdel -r "$u" >/dev/null 2>&1' EXIT
	fi
	as_user="--as-user $u"
fi

case " $* " in *" --bash-only "*) python3 "$here/runner.py" $as_user "$@"; exit $? ;; esac
if [ ! -x "$AGENTSH" ]; then
	# Still prove the spec is right, then say plainly that agentsh itself was not tested.
	python3 "$here/runner.py" --bash-only $as_user "$@" || exit 1
	echo "FAIL (precondition): $AGENTSH is not built; the spec passed against bash only, agentsh modes not run"
	exit 1
fi
python3 "$here/runner.py" $as_user "$@"
