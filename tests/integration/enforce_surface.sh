#!/bin/sh
# Escape suite for the kernel-side syscall surface (seccomp errno/kill, no
# notification): each attempt is made through libc and raw syscall() by
# tests/tools/surface_probe running as a real unprivileged account, first
# through the spawn entry point (surface_run) and then through `agentsh -c`.
# The control run (the probe outside the sandbox) proves the probe can fail.
. "$(dirname "$0")/../lib.sh"
need_root
T=${SURFACE_TOOLS:-$AGENTSH_SRC/$AGENTSH_BUILD/tests/tools}
[ -x "$T/surface_run" ] && [ -x "$T/surface_probe" ] || skip_all "surface tools not built (make tools)"
U=agentsh-enfsurf
t_user $U || skip_all "cannot create test account $U"
trap 'userdel -r $U >/dev/null 2>&1; t_cleanup' EXIT
uid=$(id -u $U) gid=$(id -g $U)
cp "$T/surface_probe" "$TMPD/surface_probe" && chmod 755 "$TMPD/surface_probe"

cases="x32-syscall ia32-int80 io_uring_setup io_uring_enter io_uring_register ptrace-attach
ptrace-seize-raw process_vm_readv process_vm_writev process_vm_writev-raw TIOCSTI TIOCSTI-raw
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
else
	echo "# agentsh -c --user cannot run a sandboxed command yet:"
	(cd "$TMPD" && "$AGENTSH" --no-config --policy "$POL" --user $U -c true 2>&1 | sed 's/^/#   /')
	nok "agentsh -c path available"
fi
done_testing
