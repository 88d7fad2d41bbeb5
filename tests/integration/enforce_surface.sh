#!/bin/sh
# san: yes
# Escape suite for the syscall surface (decided by the seccomp filter: kill for
# foreign ABIs, the rest notified only to be answered the same errno and
# audited): each attempt is made through libc and raw syscall() by
# tests/tools/surface_probe running as a real unprivileged account, first
# through the spawn entry point (surface_run) and then through `agentsh -c`.
# The control run (the probe outside the sandbox) proves the probe can fail.
. "$(dirname "$0")/../lib.sh"
need_root
T=${SURFACE_TOOLS:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools}
[ -x "$T/surface_run" ] && [ -x "$T/surface_probe" ] || t_abort "surface tools not built (make tools)"
U=agentsh-enfsurf
t_user $U || t_abort "cannot create test account $U"
trap 'userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
uid=$(id -u $U) gid=$(id -g $U)
# the probe is the payload, not the code under test: prefer the plain build
# (LeakSanitizer stops the world with ptrace, which the sandbox refuses)
P="$AGENTSH_SRC/build/tests/tools/surface_probe"
[ -x "$P" ] || P="$T/surface_probe"
cp "$P" "$TMPD/surface_probe" && chmod 755 "$TMPD/surface_probe"

cases="x32-syscall ia32-int80 io_uring_setup io_uring_enter io_uring_register ptrace-attach
ptrace-seize-raw process_vm_readv process_vm_writev process_vm_writev-raw pidfd_getfd socket-AF_CAN socket-AF_PPPOX TIOCSTI TIOCSTI-raw
TIOCSTI-bit32 TIOCSTI-high TIOCSTI-bit31 TIOCLINUX TIOCLINUX-bit32 socket-AF_ALG
socket-AF_ALG-raw-bit32 socket-AF_RXRPC socket-AF_RXRPC-raw socket-AF_KEY socket-NETLINK_XFRM
socket-NETLINK_XFRM-raw-bit32 socket-NETLINK_ROUTE socket-AF_INET add_key request_key keyctl
unshare-user unshare-mnt unshare-net-raw setns mount-tmpfs umount2 chroot pivot_root open_tree
fsopen clone-newuser clone-newuser-raw clone3 fork bpf perf_event_open userfaultfd kexec_load
init_module finit_module delete_module open_by_handle_at"

assert_all() { # label output rc
	eq "$1: probe exit status" 0 "$3"
	for c in $cases; do
		if printf '%s\n' "$2" | grep -q "^ok $c:"; then ok "$1: $c refused as expected"
		else nok "$1: $c"; printf '%s\n' "$2" | grep -- " $c:" | sed 's/^/#   /'; fi
	done
}

# control: outside the sandbox the same account gets through (the probe can fail)
ctl=$(cd "$TMPD" && setpriv --reuid "$uid" --regid "$gid" --clear-groups "$TMPD/surface_probe" 2>&1)
n=$(printf '%s\n' "$ctl" | grep -c '^ESCAPE')
check "control: the probe detects escapes outside the sandbox ($n)" [ "$n" -ge 5 ]

out=$(cd "$TMPD" && "$T/surface_run" -u "$uid" -g "$gid" -w "$TMPD" -- "$TMPD/surface_probe" 2>&1)
assert_all "spawn" "$out" $?

# the same through agentsh -c, as an agent would run it
POL="$AGENTSH_SRC/examples/policies/agent-observe.yaml"
if [ -x "$AGENTSH" ] && (cd "$TMPD" && "$AGENTSH" --no-config --policy "$POL" --user $U -c true) >/dev/null 2>&1; then
	out=$(cd "$TMPD" && "$AGENTSH" --no-config --policy "$POL" --user $U -c "$TMPD/surface_probe" 2>&1)
	assert_all "agentsh -c" "$out" $?

	# a listener of the agent's own would receive the notifications meant for
	# the supervisor (the newest filter's verdict wins among equals)
	ctl=$(cd "$TMPD" && setpriv --reuid "$uid" --regid "$gid" --clear-groups "$TMPD/surface_probe" seccomp 2>&1)
	check "control: outside the sandbox the account installs a seccomp listener" sh -c 'printf "%s\n" "$1" | grep -q "^ESCAPE seccomp-listener:"' _ "$ctl"
	out=$(cd "$TMPD" && "$AGENTSH" --no-config --policy "$POL" --user $U -c "$TMPD/surface_probe seccomp" 2>&1)
	check "agentsh -c: a second seccomp listener is refused (EBUSY) while the supervisor holds the session's" sh -c 'printf "%s\n" "$1" | grep -q "^ok seccomp-listener: Device or resource busy"' _ "$out"
	out=$(cd "$TMPD" && "$AGENTSH" --no-config --user $U -c "$TMPD/surface_probe seccomp" 2>&1)
	check "agentsh -c, default policy: a second seccomp listener is refused (EBUSY)" sh -c 'printf "%s\n" "$1" | grep -q "^ok seccomp-listener: Device or resource busy"' _ "$out"

	# the program is kept for the next session (enforce/seccomp_cache.c): root-only, and a
	# damaged copy is never loaded — the session builds the same program again
	K=/run/agentsh/seccomp
	kept=$(ls "$K"/*.bpf 2>/dev/null)
	check "kept seccomp programs: in a root-only directory" sh -c "[ \"\$(stat -c %U:%a $K)\" = root:700 ]"
	check "kept seccomp programs: at least one, each root:600" sh -c '[ -n "$1" ] && for f in $1; do [ "$(stat -c %U:%a "$f")" = root:600 ] || exit 1; done' _ "$kept"
	for f in $kept; do cp "$f" "$f.orig"; printf 'damaged' | dd of="$f" bs=1 seek=80 conv=notrunc 2>/dev/null; done
	out=$(cd "$TMPD" && "$AGENTSH" --no-config --policy "$POL" --user $U -c "$TMPD/surface_probe" 2>&1)
	assert_all "agentsh -c, kept programs damaged" "$out" $?
	same=0; for f in $kept; do cmp -s "$f" "$f.orig" && same=$((same+1)); rm -f "$f.orig"; done
	check "kept seccomp programs: this policy's damaged program was built and kept again, byte for byte" [ "$same" -ge 1 ]
else
	echo "# agentsh -c --user cannot run a sandboxed command yet:"
	(cd "$TMPD" && "$AGENTSH" --no-config --policy "$POL" --user $U -c true 2>&1 | sed 's/^/#   /')
	nok "agentsh -c path available"
fi

# the audit record: the kernel reports filter kills (foreign ABI) through the
# BPF exit event; every other refusal is notified to the supervisor (the filter
# decided it; the supervisor answers the same errno) and audited as surface_denied
q() { # session python-expression-over-list-e -> value
	"$AGENTSH" events query --session "$1" --type surface_denied --json 2>/dev/null | python3 -c "import json,sys
e=json.load(sys.stdin)
print($2)" 2>/dev/null
}
sid_of() { printf '%s' "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["session_id"])' 2>/dev/null; }
if [ -x "$AGENTSH" ]; then
	js=$(cd "$TMPD" && "$AGENTSH" --no-config --policy "$POL" --user $U --json -c "$TMPD/surface_probe abi" 2>/dev/null)
	sid=$(sid_of "$js")
	n=$(q "$sid" 'sum(1 for x in e if x.get("layer")=="seccomp-kernel" and x.get("rule")=="syscall-surface")')
	eq "audit: both foreign-ABI kills of session ${sid:-?} are recorded as surface_denied (seccomp-kernel)" 2 "${n:-0}"

	js=$(cd "$TMPD" && "$AGENTSH" --no-config --policy "$POL" --user $U --json -c "$TMPD/surface_probe iouring ptrace tty sockets keys ns kernel" 2>/dev/null)
	sid=$(sid_of "$js")
	ev=$("$AGENTSH" events query --session "$sid" --type surface_denied --json 2>/dev/null)
	has() { # label operation rule target-substring errno
		check "audit: $1 recorded (surface_denied, op $2, rule $3, target ~ '$4', errno $5)" python3 -c '
import json,sys
ev=json.loads(sys.argv[1]); op,rule,tgt,err=sys.argv[2],sys.argv[3],sys.argv[4],int(sys.argv[5])
sys.exit(0 if any(x.get("operation")==op and x.get("rule")==rule and tgt in (x.get("path") or "")
    and x.get("layer")=="seccomp-notify" and x.get("decision")=="deny" and int(x.get("errno") or x.get("err") or 0)==err
    for x in ev) else 1)' "$ev" "$2" "$3" "$4" "$5"
	}
	has io_uring_setup io_uring_setup surface-io_uring_setup "" 1
	has "ptrace attach" ptrace surface-ptrace "pid " 1
	has "AF_ALG socket" socket surface-socket AF_ALG 97
	has "AF_ALG socket, bit 32 set" socket surface-socket AF_ALG 97
	has "NETLINK_XFRM socket" socket surface-socket NETLINK_XFRM 97
	# not built into this kernel (the kernel would answer the same errno):
	# the record shows the filter refused it first
	has "AF_CAN socket (CAN BCM)" socket surface-socket AF_CAN 97
	has "AF_PPPOX socket (PPPoL2TP)" socket surface-socket AF_PPPOX 97
	has "pidfd_getfd" pidfd_getfd surface-pidfd_getfd "" 1
	has "TIOCSTI" ioctl surface-ioctl "TIOCSTI (0x5412)" 1
	has "TIOCSTI, bit 32 set" ioctl surface-ioctl "TIOCSTI (0x100005412)" 1
	has add_key add_key surface-add_key "" 1
	has "clone(CLONE_NEWUSER)" clone surface-clone CLONE_NEWUSER 1
	has process_vm_writev process_vm_writev surface-process_vm_writev "pid " 1
	n=$(q "$sid" 'sum(1 for x in e if x.get("operation")=="socket" and "NETLINK_ROUTE" in (x.get("path") or "") or x.get("operation")=="clone3")')
	eq "audit: allowed sockets and the clone3 fallback (kept in the kernel) are not recorded" 0 "${n:-x}"
	check "json: guidance.blocked is true" python3 -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["guidance"]["blocked"] is True else 1)' "$js"

	# the JSON result of one refused call names that syscall
	for c in "iouring io_uring_setup" "keys add_key" "tty ioctl"; do
		set -- $c
		js=$(cd "$TMPD" && "$AGENTSH" --no-config --policy "$POL" --user $U --json -c "$TMPD/surface_probe $1" 2>/dev/null)
		g=$(printf '%s' "$js" | python3 -c 'import json,sys; g=json.load(sys.stdin)["guidance"]; print(g.get("blocked"), g.get("blocked_operation"), g.get("policy_rule"))' 2>/dev/null)
		eq "json: probe $1: guidance.blocked, blocked_operation, policy_rule" "True $2 surface-$2" "$g"
	done
	# -c mode: one notice line on stderr naming the syscall, target and rule
	err=$(cd "$TMPD" && "$AGENTSH" --no-config --policy "$POL" --user $U -c "$TMPD/surface_probe ptrace" 2>&1 >/dev/null)
	check "notice: ptrace refusal reported on stderr" sh -c "printf '%s\n' \"\$1\" | grep -q '^agentsh: denied ptrace pid [0-9]* (request 16) (rule surface-ptrace: '" _ "$err"
fi

# through the interactive shell: the probe typed at the prompt, and TIOCSTI
# aimed at the outer terminal (agentsh -c shares it: /dev/tty is the tmux pane)
if command -v tmux >/dev/null 2>&1 && [ -x "$AGENTSH" ]; then
	mkdir -m 777 "$TMPD/w"
	tm_start 120 40 sh -c "cd $TMPD && $AGENTSH --no-config --policy $POL --user $U -i; sleep 600"
	if tm_wait '@[^ ]*:[^ ]*[#$]' 10; then
		tm_type "$TMPD/surface_probe > $TMPD/w/interactive.out 2>&1; echo probe-rc=\$?"; tm_keys Enter
		check "interactive: the probe finished" tm_wait '^probe-rc=' 20
		out=$(cat "$TMPD/w/interactive.out")
		eq "interactive: probe exit status" "probe-rc=0" "$(tm_screen | grep -o '^probe-rc=[0-9]*' | tail -1)"
		for c in x32-syscall ptrace-attach process_vm_writev TIOCSTI TIOCSTI-bit31 socket-AF_ALG \
			socket-NETLINK_XFRM add_key unshare-user mount-tmpfs io_uring_setup; do
			check "interactive: $c refused" sh -c "printf '%s\n' \"\$1\" | grep -q '^ok $c:'" _ "$out"
		done
		tm_type "exit"; tm_keys Enter
	else
		nok "interactive: no prompt from agentsh -i"
	fi
	tm_kill
	TMUX_SOCK="$TMPD/tmux-outer.sock"   # a fresh server: the old one may still be exiting
	tm_start 120 40 sh -c "cd $TMPD && $AGENTSH --no-config --policy $POL --user $U -c '$TMPD/surface_probe tty'; echo outer-rc=\$?; sleep 600"
	check "outer terminal: the -c probe finished" tm_wait '^outer-rc=' 20
	scr=$(tm_screen)
	printf '%s\n' "$scr" | grep -v '^$' | sed 's/^/#  | /'
	check "outer terminal: TIOCSTI on the shared terminal refused" sh -c "printf '%s\n' \"\$1\" | grep -q '^ok TIOCSTI: '" _ "$scr"
	check "outer terminal: TIOCSTI high-bit variants refused" sh -c "printf '%s\n' \"\$1\" | grep -q '^ok TIOCSTI-bit32: '" _ "$scr"
	eq "outer terminal: nothing was injected" "outer-rc=0" "$(printf '%s\n' "$scr" | grep -o '^outer-rc=[0-9]*')"
	check "outer terminal: no injected characters on the input line" sh -c "! printf '%s\n' \"\$1\" | grep -q '^#'" _ "$scr"
	tm_kill
else
	echo "# tmux or agentsh missing: interactive part not run"
	nok "interactive part ran"
fi
done_testing
