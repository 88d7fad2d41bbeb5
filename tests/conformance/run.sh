#!/bin/sh
# Shell conformance: every case in tests/conformance/cases/*.t must give the same stdout
# and exit status through `bash -c`, bash on stdin, `agentsh -c` and agentsh on stdin, and
# match the spec.  The work is done by runner.py (see its header for the case format).
#   sh tests/conformance/run.sh                 all modes ($AGENTSH is the binary)
#   sh tests/conformance/run.sh --bash-only     check the spec against bash alone
#   sh tests/conformance/run.sh NAME...         only cases whose name contains NAME
# Extra agentsh flags (e.g. --no-config): AGENTSH_CONFORMANCE_FLAGS.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${AGENTSH_SRC:=$(cd "$here/../.." && pwd)}"
: "${AGENTSH_BUILD:=build}"
: "${AGENTSH:=$AGENTSH_SRC/$AGENTSH_BUILD/agentsh}"
export AGENTSH AGENTSH_SRC AGENTSH_BUILD
command -v python3 >/dev/null 2>&1 || { echo "SKIP: needs python3 (run: make deps)"; exit 77; }

case " $* " in *" --bash-only "*|*" --list "*) exec python3 "$here/runner.py" "$@" ;; esac
if [ ! -x "$AGENTSH" ]; then
	# Still prove the spec is right, then say plainly that agentsh itself was not tested.
	python3 "$here/runner.py" --bash-only "$@" || exit 1
	echo "SKIP: $AGENTSH is not built; the spec passed against bash only, agentsh modes not run"
	exit 77
fi
exec python3 "$here/runner.py" "$@"
