/* enforce_surface_match(): the supervisor's answer for a notified surface
 * call must be exactly what the in-kernel rule answered (errno per syscall,
 * the same argument masks), decided from the registers alone.  The real filter
 * and supervisor are exercised by tests/integration/enforce_surface.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/netlink.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "enforce/notify_int.h"

static bool m(int nr, uint64_t a0, uint64_t a1, uint64_t a2, struct surface_hit *h)
{
	uint64_t a[6] = { a0, a1, a2, 0, 0, 0 };
	return enforce_surface_match(nr, a, h);
}

static void plain_syscalls(void **st)
{
	(void)st;
	struct surface_hit h;
	static const struct { int nr; const char *name; int err; } want[] = {
		{ 425, "io_uring_setup", EPERM }, { SYS_ptrace, "ptrace", EPERM },
		{ SYS_process_vm_writev, "process_vm_writev", EPERM }, { SYS_bpf, "bpf", EPERM },
		{ SYS_add_key, "add_key", EPERM }, { SYS_keyctl, "keyctl", EPERM },
		{ SYS_mount, "mount", EPERM }, { SYS_unshare, "unshare", EPERM },
		{ 467, "open_tree_attr", EPERM }, { SYS_open_by_handle_at, "open_by_handle_at", EPERM },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		assert_true(m(want[i].nr, 0, 0, 0, &h));
		assert_string_equal(h.name, want[i].name);
		assert_int_equal(h.err, want[i].err);
		assert_non_null(h.why);
	}
	assert_true(m(SYS_ptrace, 16, 4242, 0, &h));
	assert_string_equal(h.target, "pid 4242 (request 16)");
	/* clone3 stays in the kernel (ENOSYS fallback on a hot path): not notified */
	assert_false(m(435, 0, 0, 0, &h));
	assert_false(m(SYS_openat, 0, 0, 0, &h));
	assert_false(m(SYS_getpid, 0, 0, 0, &h));
}

static void sockets(void **st)
{
	(void)st;
	struct surface_hit h;
	assert_true(m(SYS_socket, AF_ALG, SOCK_SEQPACKET, 0, &h));
	assert_string_equal(h.name, "socket");
	assert_string_equal(h.target, "AF_ALG");
	assert_int_equal(h.err, EAFNOSUPPORT);
	/* the kernel truncates int domain: so does the match */
	assert_true(m(SYS_socket, (1ULL << 32) | AF_ALG, 0, 0, &h));
	assert_true(m(SYS_socketpair, AF_RXRPC, 0, 0, &h));
	assert_string_equal(h.name, "socketpair");
	assert_true(m(SYS_socket, AF_NETLINK, SOCK_RAW, (1ULL << 32) | NETLINK_XFRM, &h));
	assert_string_equal(h.target, "AF_NETLINK/NETLINK_XFRM");
	assert_false(m(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, &h));
	assert_false(m(SYS_socket, AF_INET, SOCK_STREAM, 0, &h));
	assert_false(m(SYS_socket, AF_UNIX, SOCK_STREAM, 0, &h));
}

static void ioctls_and_clone(void **st)
{
	(void)st;
	struct surface_hit h;
	assert_true(m(SYS_ioctl, 0, TIOCSTI, 0, &h));
	assert_string_equal(h.name, "ioctl");
	assert_int_equal(h.err, EPERM);
	assert_string_equal(h.target, "TIOCSTI (0x5412) on fd 0");
	assert_true(m(SYS_ioctl, 3, 0x80000000ULL | TIOCSTI, 0, &h));
	assert_true(m(SYS_ioctl, 3, (1ULL << 32) | TIOCLINUX, 0, &h));
	assert_false(m(SYS_ioctl, 0, TIOCGWINSZ, 0, &h));
	assert_false(m(SYS_ioctl, 0, TCGETS, 0, &h));
	assert_true(m(SYS_clone, CLONE_NEWUSER | 0x11, 0, 0, &h));
	assert_string_equal(h.name, "clone");
	assert_int_equal(h.err, EPERM);
	assert_non_null(strstr(h.target, "CLONE_NEWUSER"));
	assert_false(m(SYS_clone, CLONE_VM | CLONE_THREAD | 0x11, 0, 0, &h));
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(plain_syscalls),
		cmocka_unit_test(sockets),
		cmocka_unit_test(ioctls_and_clone),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
