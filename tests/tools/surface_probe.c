/* surface_probe — escape attempts against the kernel-side syscall surface, run
 * INSIDE the sandbox.  Usage: surface_probe [CASE...] (no case: all).
 * Prints "ok CASE: ..." when the attempt was refused with the expected errno (or
 * signal), "ESCAPE CASE: ..." when it worked, "FAIL CASE: ..." when something else
 * happened.  Exit 0 only when every case was refused as expected.
 * Each attempt goes through libc where a wrapper exists and through raw syscall(). */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/netlink.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int failures;

static void report(const char *name, long r, int err, int want)
{
	if (r >= 0) {
		printf("ESCAPE %s: succeeded (returned %ld)\n", name, r);
		failures++;
	} else if (err != want) {
		printf("FAIL %s: errno %d (%s), expected %d (%s)\n", name, err, strerror(err), want,
		       strerror(want));
		failures++;
	} else {
		printf("ok %s: %s\n", name, strerror(err));
	}
}

#define TRY(name, want, expr)                                    \
	do {                                                     \
		errno = 0;                                       \
		long r_ = (long)(expr);                          \
		report(name, r_, errno, want);                   \
		if (r_ >= 0 && r_ < 1024 && strstr(name, "socket")) \
			close((int)r_);                          \
	} while (0)

/* A child that dies of what the filter does to a foreign ABI. */
static void expect_sigsys(const char *name, void (*fn)(void))
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		fn();
		_exit(0);          /* survived: the foreign call went through */
	}
	int st;
	waitpid(p, &st, 0);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) {
		printf("ok %s: killed by SIGSYS\n", name);
	} else {
		printf("ESCAPE %s: survived (status 0x%x)\n", name, st);
		failures++;
	}
}

static void x32_getpid(void)
{
	syscall(0x40000000L | __NR_getpid);
}

static void ia32_getpid(void)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory"); /* ia32 getpid */
	(void)r;
}

static void case_abi(void)
{
	expect_sigsys("x32-syscall", x32_getpid);
	expect_sigsys("ia32-int80", ia32_getpid);
}

static void case_iouring(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	TRY("io_uring_setup", EPERM, syscall(__NR_io_uring_setup, 4, &p));
	TRY("io_uring_enter", EPERM, syscall(__NR_io_uring_enter, 0, 1, 1, 0, NULL, 0));
	TRY("io_uring_register", EPERM, syscall(__NR_io_uring_register, 0, 0, NULL, 0));
}

static pid_t sibling(void)
{
	pid_t p = fork();
	if (p == 0) {
		pause();
		_exit(0);
	}
	return p;
}

static void case_ptrace(void)
{
	pid_t s = sibling();
	TRY("ptrace-attach", EPERM, ptrace(PTRACE_ATTACH, s, NULL, NULL));
	TRY("ptrace-seize-raw", EPERM, syscall(SYS_ptrace, PTRACE_SEIZE, s, 0, 0));
	TRY("ptrace-traceme", EPERM, ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	char buf[8] = "x", dst[8];
	struct iovec l = { dst, sizeof dst }, rm = { buf, sizeof buf };
	TRY("process_vm_readv", EPERM, process_vm_readv(s, &l, 1, &rm, 1, 0));
	TRY("process_vm_writev", EPERM, process_vm_writev(s, &rm, 1, &l, 1, 0));
	TRY("process_vm_writev-raw", EPERM, syscall(SYS_process_vm_writev, s, &rm, 1, &l, 1, 0));
	int pfd = (int)syscall(SYS_pidfd_open, s, 0);
	if (pfd < 0) {
		printf("FAIL pidfd_getfd: pidfd_open: %s\n", strerror(errno));
		failures++;
	} else {
		TRY("pidfd_getfd", EPERM, syscall(SYS_pidfd_getfd, pfd, 0, 0));
		close(pfd);
	}
	kill(s, SIGKILL);
	waitpid(s, NULL, 0);
}

static int a_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (fd >= 0)
		return fd;
	fd = posix_openpt(O_RDWR | O_NOCTTY);
	if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0)
		return -1;
	return open(ptsname(fd), O_RDWR | O_NOCTTY);
}

static void case_tty(void)
{
	int fd = a_tty();
	if (fd < 0) {
		printf("FAIL tty: no terminal to test TIOCSTI on: %s\n", strerror(errno));
		failures++;
		return;
	}
	char c = '#';
	TRY("TIOCSTI", EPERM, ioctl(fd, TIOCSTI, &c));
	TRY("TIOCSTI-raw", EPERM, syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI, &c));
	TRY("TIOCSTI-bit32", EPERM, syscall(SYS_ioctl, fd, (1UL << 32) | TIOCSTI, &c));
	TRY("TIOCSTI-high", EPERM, syscall(SYS_ioctl, fd, 0xffffffff00000000UL | TIOCSTI, &c));
	TRY("TIOCSTI-bit31", EPERM, syscall(SYS_ioctl, fd, 0x80000000UL | TIOCSTI, &c));
	char sub = 0;
	TRY("TIOCLINUX", EPERM, ioctl(fd, TIOCLINUX, &sub));
	TRY("TIOCLINUX-bit32", EPERM, syscall(SYS_ioctl, fd, (1UL << 32) | TIOCLINUX, &sub));
	close(fd);
}

static void case_sockets(void)
{
	TRY("socket-AF_ALG", EAFNOSUPPORT, socket(AF_ALG, SOCK_SEQPACKET, 0));
	TRY("socket-AF_ALG-raw-bit32", EAFNOSUPPORT, syscall(SYS_socket, (1UL << 32) | AF_ALG, SOCK_SEQPACKET, 0));
	TRY("socket-AF_RXRPC", EAFNOSUPPORT, socket(AF_RXRPC, SOCK_DGRAM, AF_INET));
	TRY("socket-AF_RXRPC-raw", EAFNOSUPPORT, syscall(SYS_socket, AF_RXRPC, SOCK_DGRAM, AF_INET));
	TRY("socket-AF_KEY", EAFNOSUPPORT, socket(AF_KEY, SOCK_RAW, 2));
	TRY("socket-AF_VSOCK", EAFNOSUPPORT, socket(AF_VSOCK, SOCK_STREAM, 0));
	TRY("socket-AF_CAN", EAFNOSUPPORT, socket(AF_CAN, SOCK_DGRAM, 2 /* CAN_BCM */));
	TRY("socket-AF_PPPOX", EAFNOSUPPORT, socket(AF_PPPOX, SOCK_DGRAM, 1 /* PX_PROTO_OL2TP */));
	TRY("socket-NETLINK_XFRM", EAFNOSUPPORT, socket(AF_NETLINK, SOCK_RAW, NETLINK_XFRM));
	TRY("socket-NETLINK_XFRM-raw-bit32", EAFNOSUPPORT,
	    syscall(SYS_socket, AF_NETLINK, SOCK_RAW, (1UL << 32) | NETLINK_XFRM));
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0) {
		printf("FAIL socket-NETLINK_ROUTE: must keep working, got %s\n", strerror(errno));
		failures++;
	} else {
		printf("ok socket-NETLINK_ROUTE: still works\n");
		close(s);
	}
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		printf("FAIL socket-AF_INET: must keep working, got %s\n", strerror(errno));
		failures++;
	} else {
		printf("ok socket-AF_INET: still works\n");
		close(s);
	}
}

static void case_keys(void)
{
	TRY("add_key", EPERM, syscall(SYS_add_key, "user", "agentsh-test", "x", 1, -3 /* session */));
	TRY("request_key", EPERM, syscall(SYS_request_key, "user", "agentsh-test", NULL, 0));
	TRY("keyctl", EPERM, syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0));
}

static int nop(void *a)
{
	(void)a;
	return 0;
}

static long raw_child(long r)
{
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static void case_ns(void)
{
	TRY("unshare-user", EPERM, unshare(CLONE_NEWUSER));
	TRY("unshare-mnt", EPERM, unshare(CLONE_NEWNS));
	TRY("unshare-net-raw", EPERM, syscall(SYS_unshare, CLONE_NEWNET));
	TRY("setns", EPERM, setns(0, 0));
	TRY("mount-tmpfs", EPERM, mount("none", "/tmp", "tmpfs", 0, NULL));
	TRY("umount2", EPERM, umount2("/proc", MNT_DETACH));
	TRY("chroot", EPERM, chroot("/tmp"));
	TRY("pivot_root", EPERM, syscall(SYS_pivot_root, "/tmp", "/tmp"));
	TRY("open_tree", EPERM, syscall(428, -100, "/", 0));
	TRY("fsopen", EPERM, syscall(430, "tmpfs", 0));
	static char stack[16384];
	TRY("clone-newuser", EPERM, raw_child(clone(nop, stack + sizeof stack, CLONE_NEWUSER | SIGCHLD, NULL)));
	/* raw clone/clone3 return 0 in a child that would run on: make it exit */
	TRY("clone-newuser-raw", EPERM, raw_child(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)));
	struct clone_args ca = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
	TRY("clone3", ENOSYS, raw_child(syscall(SYS_clone3, &ca, sizeof ca)));
	/* ordinary process creation still works */
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	if (p < 0) {
		printf("FAIL fork: must keep working, got %s\n", strerror(errno));
		failures++;
	} else {
		waitpid(p, NULL, 0);
		printf("ok fork: still works\n");
	}
}

static void case_kernel(void)
{
	TRY("bpf", EPERM, syscall(SYS_bpf, 0, NULL, 0));
	TRY("perf_event_open", EPERM, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	TRY("userfaultfd", EPERM, syscall(SYS_userfaultfd, 0));
	TRY("kexec_load", EPERM, syscall(SYS_kexec_load, 0, 0, NULL, 0));
	TRY("init_module", EPERM, syscall(SYS_init_module, NULL, 0, ""));
	TRY("finit_module", EPERM, syscall(SYS_finit_module, 0, "", 0));
	TRY("delete_module", EPERM, syscall(SYS_delete_module, "x", 0));
	TRY("open_by_handle_at", EPERM, syscall(SYS_open_by_handle_at, -100, NULL, 0));
}

/* A filter of the agent's own with a listener: seccomp evaluates the newest
 * filter first and keeps its verdict among equal ones, so the agent's listener
 * would receive (and could CONTINUE) the notifications meant for the
 * supervisor.  The kernel allows one listener per filter tree while it is
 * open: EBUSY for as long as the supervisor holds the session's. */
static void case_seccomp(void)
{
	struct sock_filter insn[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = insn };
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); /* already set inside the session */
	TRY("seccomp-listener", EBUSY,
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
}

static const struct {
	const char *name;
	void (*fn)(void);
	bool named_only; /* not part of "all": it needs a session with a supervisor */
} cases[] = {
	{ "abi", case_abi, false }, { "iouring", case_iouring, false },
	{ "ptrace", case_ptrace, false }, { "tty", case_tty, false },
	{ "sockets", case_sockets, false }, { "keys", case_keys, false },
	{ "ns", case_ns, false }, { "kernel", case_kernel, false },
	{ "seccomp", case_seccomp, true },
};

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool run = argc < 2 && !cases[i].named_only;
		for (int a = 1; a < argc; a++)
			run |= strcmp(argv[a], cases[i].name) == 0;
		if (!run)
			continue;
		/* each case in its own process: a successful unshare or chroot must not
		 * change what the next case sees */
		fflush(stdout);
		pid_t p = fork();
		if (p == 0) {
			cases[i].fn();
			fflush(stdout);
			_exit(failures ? 1 : 0);
		}
		int st = 0;
		waitpid(p, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			failures++;
	}
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
