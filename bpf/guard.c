/* Session guard: load guard.bpf.c, attach it to one cgroup v2 directory, and the small
 * run-time controls (exec announcements, modes).  Events are in events.c, network rules
 * in net.c, doctor probing in probe.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>
#include "bpf/guard_int.h"
#include "bpf/libbpf_int.h"
#include "guard.skel.h"
#include "guard.minbtf.h"

#define PROC_PID_INIT_INO 0xEFFFFFFCu

static __thread char last_msg[512];

/* Keeps the first warning since the last reset: it names the failing program; the
 * later ones only say that the object failed. */
static int libbpf_keep(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_DEBUG || last_msg[0])
		return 0;
	vsnprintf(last_msg, sizeof last_msg, fmt, ap);
	if (!strncmp(last_msg, "libbpf: ", 8))
		memmove(last_msg, last_msg + 8, strlen(last_msg + 8) + 1);
	size_t n = strlen(last_msg);
	while (n && last_msg[n - 1] == '\n')
		last_msg[--n] = 0;
	return 0;
}

void guard_quiet_libbpf(void)
{
	last_msg[0] = 0;
	libbpf_set_print(libbpf_keep);
}

const char *guard_last_libbpf_msg(void)
{
	return last_msg;
}

int guard_kdev(dev_t d, __u64 *out)
{
	unsigned int ma = major(d), mi = minor(d);
	if (ma >= (1u << 12) || mi >= (1u << 20))
		return -EINVAL;
	*out = ((__u64)ma << 20) | mi;
	return 0;
}

dev_t guard_udev(__u64 kdev)
{
	return makedev((unsigned int)(kdev >> 20), (unsigned int)(kdev & 0xfffff));
}

/* Pids in events and announcements are global; a supervisor in a child pid namespace would
 * announce pids the kernel side never sees, and every exec would be killed. */
static int check_init_pidns(void)
{
	struct stat st;
	if (stat("/proc/self/ns/pid", &st) < 0)
		return -errno;
	return st.st_ino == PROC_PID_INIT_INO ? 0 : -EOPNOTSUPP;
}

static int check_cgroup2(int fd)
{
	struct stat st;
	struct statfs sf;
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return sf.f_type == CGROUP2_SUPER_MAGIC ? 0 : -EINVAL;
}

/* The minimal BTF embedded at build time is valid only for the kernel it was cut from:
 * the build-id notes must match byte for byte, else libbpf parses the full kernel BTF. */
static int kernel_is_build_kernel(void)
{
	unsigned char buf[sizeof guard_kernel_notes + 1];
	int fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf);
	close(fd);
	return n == (ssize_t)sizeof guard_kernel_notes && !memcmp(buf, guard_kernel_notes, (size_t)n);
}

/* A memfd holding the minimal BTF; path is what libbpf opens.  -1 when not usable. */
static int min_btf_fd(char *path, size_t len)
{
	if (!kernel_is_build_kernel())
		return -1;
	int fd = memfd_create("agentsh-min-btf", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, guard_min_btf, sizeof guard_min_btf) != (ssize_t)sizeof guard_min_btf) {
		close(fd);
		return -1;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

int guard_skel_load(struct guard_bpf **out, const char *only)
{
	char path[64];
	struct bpf_program *p;
	int bfd = min_btf_fd(path, sizeof path), r;
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = bfd >= 0 ? path : NULL);
	struct guard_bpf *s = guard_bpf__open_opts(&opts);
	if (!s) {
		r = errno ? -errno : -ENOMEM;
	} else {
		if (only)
			bpf_object__for_each_program(p, s->obj)
				bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), only));
		r = guard_bpf__load(s);
		r = r < 0 ? r : (r ? -EINVAL : 0);
	}
	if (bfd >= 0)
		close(bfd);
	if (r && s) {
		guard_bpf__destroy(s);
		s = NULL;
	}
	*out = s;
	return r;
}

/* The socket programs are attached the classic way (BPF_PROG_ATTACH), not as bpf_links:
 * a link dies with the process holding it, and the session's network policy must not
 * vanish if the supervisor does (fail closed).  A classic attachment lives until it is
 * detached or the cgroup is removed.  ALLOW_MULTI leaves room for other programs.  The
 * programs are the pinned ones (pin.c): attaching costs little, loading is what costs. */
const enum bpf_attach_type guard_sock_attach[GUARD_NSOCK] = {
	BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT, BPF_CGROUP_UDP4_SENDMSG,
	BPF_CGROUP_UDP6_SENDMSG, BPF_CGROUP_UDP4_RECVMSG, BPF_CGROUP_UDP6_RECVMSG,
	BPF_CGROUP_INET_SOCK_CREATE, BPF_CGROUP_INET_EGRESS,
};

static void detach_sockets(struct bpf_guard *g)
{
	for (int i = 0; i < g->nattached; i++)
		bpf_prog_detach2(g->pins.sock[i], g->cgfd, guard_sock_attach[i]);
	g->nattached = 0;
}

static bool still_attached(struct bpf_guard *g, int i)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof info, ids[64], n = 64;
	int e = errno;
	bool found = false;
	if (!bpf_obj_get_info_by_fd(g->pins.sock[i], &info, &len) &&
	    !bpf_prog_query(g->cgfd, guard_sock_attach[i], 0, NULL, ids, &n))
		for (__u32 k = 0; k < n && k < 64; k++)
			found |= ids[k] == info.id;
	errno = e;
	return found;
}

static int attach_sockets(struct bpf_guard *g)
{
	/* EINVAL may mean the same pinned program is still attached to this cgroup, left by
	 * an earlier guard on it (closing leaves them): it is the program we want there */
	for (int i = 0; i < GUARD_NSOCK; i++) {
		if (bpf_prog_attach(g->pins.sock[i], g->cgfd, guard_sock_attach[i], BPF_F_ALLOW_MULTI) < 0 &&
		    (errno != EINVAL || !still_attached(g, i)))
			return -errno;
		g->nattached = i + 1;
	}
	return 0;
}

/* The guard's mmapped maps (the event ring: 4 MB mapped twice, and the global-data
 * arrays) are VM_MIXEDMAP mappings, whose page tables fork() copies entry by entry and
 * the child's exec then tears down again: ~0.65 ms on the spawn of every delegate
 * (clone 0.75 -> 0.68, child set-up and exec 2.17 -> 1.58 ms; instrumented, 40 paired
 * runs).  No child of the supervisor uses them (a forked child may only announce execs,
 * which goes through map fds), so they are not inherited.  libbpf 1.1 does not expose the
 * ring's addresses, hence the scan of our own maps; failing it only costs that time. */
static void dontfork_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (strstr(line, " anon_inode:bpf-map") && sscanf(line, "%lx-%lx", &lo, &hi) == 2 && hi > lo)
			madvise((void *)lo, hi - lo, MADV_DONTFORK);
	}
	fclose(f);
}

static void guard_free(struct bpf_guard *g, bool detach);

/* This session's event ring: a free slot's ring, reused (records a previous session left
 * in it are skipped: events.c) or created. */
static int claim_ring(struct bpf_guard *g)
{
	int r = guard_slot_claim(&g->pins, &g->slot);
	if (r)
		return r;
	g->slot_claimed = 1;
	g->ring = guard_slot_ring(&g->pins, g->slot);
	return g->ring < 0 ? g->ring : 0;
}

/* Everything a guard needs that does not depend on its cgroup: the pinned programs (loaded
 * and verified only by the first session of this build: pin.c), this session's ring slot
 * and the open event ring (its mmap is ~1 ms).  Nothing is registered, the maps are empty
 * and the ring has had no producer, so a guard prepared ahead of time is as fresh as one
 * prepared in bpf_guard_open(). */
static int guard_prepare(struct bpf_guard **out)
{
	int r;
	struct bpf_guard *g = calloc(1, sizeof *g);
	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->epfd = g->timerfd = g->cgfd = g->ring = -1;
	if ((r = guard_pins_open(&g->pins))) {
		free(g);
		return r;
	}
	if ((r = claim_ring(g)) || (r = guard_events_open(g))) {
		guard_free(g, false);
		return r;
	}
	dontfork_maps();
	*out = g;
	return 0;
}

/* Preloading: guard_prepare() runs in a thread while the caller does its other start-up
 * work.  One slot: the first bpf_guard_open() after the preload takes it. */
static pthread_mutex_t pre_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t pre_thread;
static bool pre_started;
static struct bpf_guard *pre_guard;

static cpu_set_t pre_cpus;      /* the caller's CPUs, restored in the thread */
static bool pre_pinned;

static void *preload_main(void *arg)
{
	(void)arg;
	struct bpf_guard *g = NULL;
	if (pre_pinned)
		(void)pthread_setaffinity_np(pthread_self(), sizeof pre_cpus, &pre_cpus);
	guard_quiet_libbpf();
	if (guard_prepare(&g))
		g = NULL;       /* bpf_guard_open() prepares again and reports why */
	pre_guard = g;
	return NULL;
}

/* A new thread is often placed on its creator's CPU and runs first: the creator, which has
 * the account, policy and store to read meanwhile, then waited ~1-2 ms (measured on a
 * 2-CPU VM) for the whole point of the thread.  So the thread starts on another CPU of the
 * caller's set (if any) and takes the full set back once it runs. */
static void start_elsewhere(pthread_attr_t *at)
{
	cpu_set_t other;
	int me = sched_getcpu();
	pre_pinned = false;
	if (me < 0 || sched_getaffinity(0, sizeof pre_cpus, &pre_cpus) < 0)
		return;
	other = pre_cpus;
	CPU_CLR(me, &other);
	if (CPU_COUNT(&other) > 0 && pthread_attr_setaffinity_np(at, sizeof other, &other) == 0)
		pre_pinned = true;
}

int bpf_guard_preload(void)
{
	pthread_attr_t at;
	pthread_mutex_lock(&pre_mu);
	int r = 0;
	if (!pre_started && !(r = -pthread_attr_init(&at))) {
		start_elsewhere(&at);
		r = -pthread_create(&pre_thread, &at, preload_main, NULL);
		pthread_attr_destroy(&at);
	}
	if (!r)
		pre_started = true;
	pthread_mutex_unlock(&pre_mu);
	return r;
}

/* The preloaded guard, waiting for the preload to finish; NULL when there is none. */
static struct bpf_guard *take_preloaded(void)
{
	struct bpf_guard *g = NULL;
	pthread_mutex_lock(&pre_mu);
	if (pre_started) {
		pthread_join(pre_thread, NULL);
		pre_started = false;
		g = pre_guard;
		pre_guard = NULL;
	}
	pthread_mutex_unlock(&pre_mu);
	return g;
}

int guard_sess_write(struct bpf_guard *g)
{
	if (bpf_map_update_elem(g->pins.sessions, &g->cgid, &g->sess, BPF_EXIST) < 0)
		return -errno;
	return 0;
}

/* Register the session: its entry (settings, argument key, ring slot, who supervises it),
 * its lost-event counter, then the socket programs on its cgroup.  Nothing runs in the
 * cgroup yet.  Rules come later (net.c), each node keyed by the session. */
static int attach(struct bpf_guard *g)
{
	int r;
	if ((r = guard_cgroup_id(g->cgfd, &g->cgid)))
		return r;
	g->sess = (struct guard_sess){ .exec_mode = GUARD_EXEC_ENFORCE, .net_default = GUARD_DEC_DENY,
				       .sup_pid = (__u64)getpid(), .sup_start = guard_self_start(),
				       .slot = g->slot };
	if ((r = guard_args_key(g)))
		return r;
	if (bpf_map_update_elem(g->pins.sessions, &g->cgid, &g->sess, BPF_NOEXIST) < 0)
		return errno == EEXIST ? -EBUSY : -errno;
	g->registered = 1;
	__u64 zero = 0;
	if (bpf_map_update_elem(g->pins.lostc, &g->cgid, &zero, BPF_ANY) < 0)
		return -errno;
	return attach_sockets(g);
}

int bpf_guard_open(int cgroup_v2_fd, struct bpf_guard **out)
{
	int r;
	*out = NULL;
	guard_quiet_libbpf();
	if ((r = check_init_pidns()) || (r = check_cgroup2(cgroup_v2_fd)))
		return r;
	struct bpf_guard *g = take_preloaded();
	if (!g && (r = guard_prepare(&g)))
		return r;
	g->cgfd = fcntl(cgroup_v2_fd, F_DUPFD_CLOEXEC, 3);
	if (g->cgfd < 0) {
		r = -errno;
		guard_free(g, false);
		return r;
	}
	if ((r = attach(g))) {
		guard_free(g, true);
		return r;
	}
	*out = g;
	return 0;
}

/* A failed open detaches what it attached: the caller may go on with that cgroup (a
 * degraded session).  A closed guard leaves its socket programs attached: they go with the
 * cgroup (the kernel releases them when it is removed, in a worker), and until then a
 * straggler in it is refused every inet connect and send (its session is no longer
 * registered: guard.bpf.c gate()).  Detaching them here cost ~2 ms per session (each
 * detach recomputes the effective programs and may flip a static key, which patches kernel
 * text on every CPU) on the path to reporting the exit status.  The session's entries are
 * removed from the shared maps; the pinned programs stay for the next session.  Also frees
 * a guard that was only prepared (nothing registered, nothing attached). */
static void guard_free(struct bpf_guard *g, bool detach)
{
	guard_events_close(g);
	if (detach)
		detach_sockets(g);
	if (g->registered) {
		/* closing first: its socket programs refuse everything from then on */
		guard_pins_close_session(&g->pins, g->cgid);
		guard_pins_forget(&g->pins, g->cgid, guard_net_forget(g) == 0);
	}
	if (g->slot_claimed)	/* after the session: nothing writes to its ring any more */
		guard_slot_release(&g->pins, g->slot);
	guard_pins_close(&g->pins);
	int fds[] = { g->ring, g->cgfd };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	guard_net_free(g);
	free(g);
}

void bpf_guard_close(struct bpf_guard *g)
{
	if (g)
		guard_free(g, false);
}

int bpf_guard_expect_exec(struct bpf_guard *g, pid_t pid, dev_t dev, ino_t ino,
			  dev_t interp_dev, ino_t interp_ino)
{
	return bpf_guard_expect_exec_args(g, pid, dev, ino, interp_dev, interp_ino, NULL);
}

int bpf_guard_expect_exec_args(struct bpf_guard *g, pid_t pid, dev_t dev, ino_t ino,
			       dev_t interp_dev, ino_t interp_ino, const struct bpf_exec_args *args)
{
	struct guard_expect x = { .ino = ino, .iino = interp_ino };
	int r;
	if (!g || pid <= 0 || !ino)
		return -EINVAL;
	if (args && (r = guard_args_expect(args, &x)))
		return r;
	if ((r = guard_kdev(dev, &x.dev)))
		return r;
	if (interp_ino && (r = guard_kdev(interp_dev, &x.idev)))
		return r;
	x.sess = g->cgid;
	__u32 k = (__u32)pid;
	if (bpf_map_update_elem(g->pins.expect, &k, &x, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int bpf_guard_unexpect_exec(struct bpf_guard *g, pid_t pid)
{
	if (!g || pid <= 0)
		return -EINVAL;
	__u32 k = (__u32)pid;
	if (bpf_map_delete_elem(g->pins.expect, &k) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int bpf_guard_exec_mode(struct bpf_guard *g, enum bpf_exec_mode mode)
{
	if (!g || (mode != BPF_EXEC_ENFORCE && mode != BPF_EXEC_AUDIT))
		return -EINVAL;
	g->sess.exec_mode = (__u32)mode;
	return guard_sess_write(g);
}

int bpf_guard_net_default(struct bpf_guard *g, enum bpf_net_decision d)
{
	if (!g || (d != BPF_NET_DENY && d != BPF_NET_ALLOW && d != BPF_NET_AUDIT))
		return -EINVAL;
	g->sess.net_default = (__u32)d;
	return guard_sess_write(g);
}

/* One replacement of the session's entry: the programs see the old or the new pair. */
int bpf_guard_dns_redirect(struct bpf_guard *g, uint32_t ip4, uint16_t port)
{
	if (!g)
		return -EINVAL;
	if (port && (ip4 >> 24) != 127)
		return -EINVAL; /* steering only to a loopback resolver */
	g->sess.dns_ip4 = port ? htonl(ip4) : 0;
	g->sess.dns_port = (__u32)htons(port);
	return guard_sess_write(g);
}
