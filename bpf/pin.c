/* Load once: the guard's programs, maps and tracing links are created by the first session
 * of a build and pinned under GUARD_PIN_ROOT/<build id>/ (bpffs, root only); every later
 * session opens the pins (a few bpf(BPF_OBJ_GET) calls instead of ~7 ms of verifier work)
 * and registers its cgroup id in the shared `sessions` map (guard.c).
 *
 * Creation, validation and sweeping run under an exclusive flock(2) of the root directory:
 * a build's directory is built under a temporary name and renamed into place when complete,
 * so a directory with the build id is either complete or was tampered with by root; it is
 * validated anyway (types, sizes, names, and that every program uses this `sessions` map)
 * and rebuilt once when it does not match — never used half-way.
 *
 * Sweeping (each open): entries of sessions whose cgroup is gone, or whose supervisor is gone
 * and whose cgroup is empty (a SIGKILLed supervisor), are removed; another build's directory
 * is unpinned when none of the cgroups registered in its `sessions` map exists any more. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>
#include "bpf/guard_int.h"
#include "bpf/libbpf_int.h"
#include "guard.skel.h"
#include "guard.id.h"

#define BPFFS "/sys/fs/bpf"
#define FILEID_KERNFS 0xfe

static const char *const sock_name[GUARD_NSOCK] = {
	"guard_connect4", "guard_connect6", "guard_sendmsg4", "guard_sendmsg6",
	"guard_recvmsg4", "guard_recvmsg6", "guard_sock_create", "guard_egress",
};
static const char *const link_name[GUARD_NLINK] = { "link_exec", "link_fork", "link_exit" };

struct map_shape {
	const char *name;
	__u32 type, key, value, max;
	size_t off;	/* of the fd in struct guard_pins */
};
#define SHAPE(n, t, k, v, m) { #n, t, k, v, m, offsetof(struct guard_pins, n) }
static const struct map_shape shapes[] = {
	SHAPE(sessions, BPF_MAP_TYPE_HASH, 8, sizeof(struct guard_sess), GUARD_MAX_SESSIONS),
	SHAPE(expect, BPF_MAP_TYPE_HASH, 4, sizeof(struct guard_expect), 16384),
	SHAPE(rings, BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, GUARD_MAX_SESSIONS),
	SHAPE(slots, BPF_MAP_TYPE_HASH, 4, sizeof(struct guard_slot), GUARD_MAX_SESSIONS),
	SHAPE(net4, BPF_MAP_TYPE_LPM_TRIE, sizeof(struct guard_v4_key), sizeof(struct guard_net_chain),
	      GUARD_NET_ALL),
	SHAPE(net6, BPF_MAP_TYPE_LPM_TRIE, sizeof(struct guard_v6_key), sizeof(struct guard_net_chain),
	      GUARD_NET_ALL),
	SHAPE(lostc, BPF_MAP_TYPE_HASH, 8, 8, GUARD_MAX_SESSIONS),
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static int *shape_fd(struct guard_pins *p, size_t i)
{
	return (int *)((char *)p + shapes[i].off);
}

/* Which build of the BPF object the pins belong to: a digest of the object taken at build
 * time (Makefile), so two builds never share pins and start-up hashes nothing. */
int guard_build_id(char *out, size_t len)
{
	static const char id[] = GUARD_OBJ_ID;
	if (len < sizeof id)
		return -EIO;
	memcpy(out, id, sizeof id);
	return 0;
}

/* ---- cgroups, by id ---- */

static int cg_mount_fd = -1;

/* An fd on the cgroup2 mount, for open_by_handle_at(). */
static int cgroup_mount(void)
{
	if (cg_mount_fd >= 0)
		return cg_mount_fd;
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[64], mnt[256], type[32];
	if (!f)
		return -errno;
	int fd = -ENOENT;
	while (fscanf(f, "%63s %255s %31s %*[^\n]", dev, mnt, type) == 3) {
		if (strcmp(type, "cgroup2"))
			continue;
		fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		fd = fd < 0 ? -errno : fd;
		break;
	}
	fclose(f);
	if (fd >= 0)
		cg_mount_fd = fd;
	return fd;
}

int guard_cgroup_id(int cgfd, __u64 *id)
{
	struct { struct file_handle h; __u64 id; } fh = { .h.handle_bytes = sizeof(__u64) };
	int mnt;
	if (name_to_handle_at(cgfd, "", &fh.h, &mnt, AT_EMPTY_PATH) < 0)
		return -errno;
	if (fh.h.handle_bytes != sizeof(__u64))
		return -EINVAL;
	memcpy(id, fh.h.f_handle, sizeof *id);
	return 0;
}

/* An fd on the cgroup with this id, or -errno (-ESTALE: it is gone). */
static int cgroup_open(__u64 id)
{
	struct { struct file_handle h; __u64 id; } fh = { .h.handle_bytes = sizeof(__u64),
							  .h.handle_type = FILEID_KERNFS };
	int mnt = cgroup_mount();
	if (mnt < 0)
		return mnt;
	memcpy(fh.h.f_handle, &id, sizeof id);
	int fd = open_by_handle_at(mnt, &fh.h, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int guard_cgroup_alive(__u64 id)
{
	int fd = cgroup_open(id);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int cgroup_populated(int cgfd)
{
	char buf[256];
	int fd = openat(cgfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1; /* cannot tell: keep the entry */
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	return !strstr(buf, "populated 0");
}

/* /proc/PID/stat field 22, 0 when the process does not exist */
static __u64 proc_start(pid_t pid)
{
	char p[64], buf[1024];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *s = strrchr(buf, ')');
	unsigned long long st = 0;
	if (!s || sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			 "%*d %*d %llu", &st) != 1)
		return 0;
	return st;
}

__u64 guard_self_start(void)
{
	return proc_start(getpid());
}

/* A session entry is stale when its cgroup is gone, or when its supervisor is gone and
 * nothing is left in its cgroup.  A cgroup with processes but no supervisor keeps its
 * entry: the exec check (nothing can be announced: every exec is killed) and the network
 * rules keep holding for what is left in it. */
static int session_dead(__u64 id, const struct guard_sess *s)
{
	int fd = cgroup_open(id);
	if (fd == -ESTALE || fd == -ENOENT)
		return 1;
	if (fd < 0)
		return 0;
	int dead = s && proc_start((pid_t)s->sup_pid) != s->sup_start && !cgroup_populated(fd);
	close(fd);
	return dead;
}

/* ---- forgetting sessions ---- */

static void drop_expect(int fd, int (*gone)(__u64 sess, const void *ctx), const void *ctx)
{
	__u32 k, next, *prev = NULL;
	struct guard_expect x;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(fd, &k, &x) && gone(x.sess, ctx))
			bpf_map_delete_elem(fd, &k);
	}
}

static int is_sess(__u64 sess, const void *ctx)
{
	return sess == *(const __u64 *)ctx;
}

/* Rule nodes of sessions that `gone` says are gone (the key's first 64 bits after the
 * prefix length are the session). */
static void drop_nodes(int fd, size_t ksize, int (*gone)(__u64 sess, const void *ctx), const void *ctx)
{
	__u8 k[sizeof(struct guard_v6_key)], next[sizeof k];
	void *prev = NULL;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		__u64 sess;
		memcpy(k, next, ksize);
		prev = k;
		memcpy(&sess, k + 4, sizeof sess);
		if (gone(sess, ctx))
			bpf_map_delete_elem(fd, k);
	}
}

/* The session is marked closing first (its socket programs refuse everything from then
 * on), then what it left in the shared maps goes, and its registration last: a removal
 * cut short (a crash) leaves a registered, closing session that the next sweep finishes,
 * so no start has to scan the rule tries for leftovers. */
void guard_pins_close_session(const struct guard_pins *p, __u64 cgid)
{
	struct guard_sess s;
	if (!bpf_map_lookup_elem(p->sessions, &cgid, &s) && !s.closing) {
		s.closing = 1;
		bpf_map_update_elem(p->sessions, &cgid, &s, BPF_EXIST);
	}
}

void guard_pins_forget(const struct guard_pins *p, __u64 cgid, bool nodes_gone)
{
	if (!nodes_gone) {
		drop_nodes(p->net4, sizeof(struct guard_v4_key), is_sess, &cgid);
		drop_nodes(p->net6, sizeof(struct guard_v6_key), is_sess, &cgid);
	}
	drop_expect(p->expect, is_sess, &cgid);
	bpf_map_delete_elem(p->lostc, &cgid);
	bpf_map_delete_elem(p->sessions, &cgid);
}

static int not_registered(__u64 sess, const void *ctx)
{
	const struct guard_pins *p = ctx;
	struct guard_sess s;
	return bpf_map_lookup_elem(p->sessions, &sess, &s) != 0;
}

/* Entries of the per-session maps whose session is not registered.  A session registers
 * before it adds them and removes them before it unregisters, so these are leftovers. */
static void drop_orphans(int fd, int sessions)
{
	__u64 k, next, *prev = NULL;
	struct guard_sess s;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(sessions, &k, &s))
			bpf_map_delete_elem(fd, &k);
	}
}

/* Is a registered session using this ring slot? */
static int slot_used(const struct guard_pins *p, __u32 slot)
{
	__u64 k, next, *prev = NULL;
	struct guard_sess s;
	while (!bpf_map_get_next_key(p->sessions, prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(p->sessions, &k, &s) && s.slot == slot)
			return 1;
	}
	return 0;
}

/* Slots claimed by a supervisor that is gone, and not used by a session still registered
 * (a crashed supervisor's session keeps its slot until the session is swept). */
static void sweep_slots(const struct guard_pins *p)
{
	__u32 k, next, *prev = NULL;
	struct guard_slot o;
	while (!bpf_map_get_next_key(p->slots, prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(p->slots, &k, &o) && proc_start((pid_t)o.pid) != o.start &&
		    !slot_used(p, k))
			bpf_map_delete_elem(p->slots, &k);
	}
}

int guard_slot_claim(const struct guard_pins *p, __u32 *slot)
{
	struct guard_slot o = { .pid = (__u64)getpid(), .start = guard_self_start() };
	for (__u32 i = 0; i < GUARD_MAX_SESSIONS; i++) {
		if (!bpf_map_update_elem(p->slots, &i, &o, BPF_NOEXIST)) {
			*slot = i;
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EBUSY;
}

void guard_slot_release(const struct guard_pins *p, __u32 slot)
{
	bpf_map_delete_elem(p->slots, &slot);
}

/* The slot's ring: the one a previous session left (checked), or a new one.  Adding a
 * ring waits for an RCU grace period; it happens once per slot. */
int guard_slot_ring(const struct guard_pins *p, __u32 slot)
{
	__u32 id;
	if (!bpf_map_lookup_elem(p->rings, &slot, &id)) {
		int fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			return -errno;
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof info;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0 || info.type != BPF_MAP_TYPE_RINGBUF ||
		    info.max_entries != GUARD_RING_BYTES) {
			close(fd);
			return -EPROTO;
		}
		return fd;
	}
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "agentsh_ring", 0, 0, GUARD_RING_BYTES, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(p->rings, &slot, &fd, BPF_NOEXIST) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static void sweep_sessions(const struct guard_pins *p)
{
	__u64 k, next, *prev = NULL;
	struct guard_sess s;
	while (!bpf_map_get_next_key(p->sessions, prev, &next)) {
		k = next;
		prev = &k;
		if (!bpf_map_lookup_elem(p->sessions, &k, &s) && session_dead(k, &s)) {
			guard_pins_close_session(p, k);
			guard_pins_forget(p, k, false);
		}
	}
	/* small maps; the rule tries need no scan (guard_pins_forget) */
	drop_orphans(p->lostc, p->sessions);
	drop_expect(p->expect, not_registered, p);
	sweep_slots(p);
}

/* ---- directories ---- */

static void unpin_dir(int rootfd, const char *name)
{
	int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	if (!d) {
		if (fd >= 0)
			close(fd);
		unlinkat(rootfd, name, 0);
		return;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(fd, e->d_name, 0);
	closedir(d);
	unlinkat(rootfd, name, AT_REMOVEDIR);
}

/* Does any cgroup registered in another build's sessions map still exist?  Only the key
 * (a cgroup id, u64) is read: another build's value layout may differ. */
static int build_in_use(int rootfd, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s/sessions", GUARD_PIN_ROOT, name);
	(void)rootfd;
	int fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof info;
	int used = 1;	/* a map we do not understand: leave it */
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.key_size == 8) {
		__u64 k, next, *prev = NULL;
		used = 0;
		while (!used && !bpf_map_get_next_key(fd, prev, &next)) {
			k = next;
			prev = &k;
			used = !session_dead(k, NULL);
		}
	}
	close(fd);
	return used;
}

static void sweep_builds(int rootfd, const char *own)
{
	int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, own))
			continue;
		/* a temporary directory seen under the lock was abandoned by its creator (bpffs
		 * refuses names with a dot, so it is "tmp-PID") */
		if (!strncmp(n, "tmp-", 4) || !build_in_use(rootfd, n))
			unpin_dir(rootfd, n);
	}
	closedir(d);
}

/* bpffs at /sys/fs/bpf (mounted if absent) and a root-only GUARD_PIN_ROOT, locked. */
static int lock_root(void)
{
	struct statfs sf;
	struct stat st;
	if (statfs(BPFFS, &sf) < 0)
		return -errno;
	if (sf.f_type != BPF_FS_MAGIC &&
	    mount("bpf", BPFFS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
		return -errno;
	if (mkdir(GUARD_PIN_ROOT, 0700) < 0 && errno != EEXIST)
		return -errno;
	int fd = open(GUARD_PIN_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || ((st.st_mode & 077) && fchmod(fd, 0700) < 0)) {
		close(fd);
		return -EPERM;	/* not ours: refuse rather than trust it */
	}
	if (flock(fd, LOCK_EX) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* ---- creating a build's directory ---- */

static int pin_link(struct bpf_link *l, const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return l ? bpf_link__pin(l, path) : -errno;
}

static int pin_fd(int fd, const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return bpf_obj_pin(fd, path) < 0 ? -errno : 0;
}

/* The exit tracepoint passes group_dead from Linux 6.16; older kernels refuse to attach
 * the program that reads it, and get the legacy one. */
static int attach_exit(struct guard_bpf *s, const char *dir)
{
	s->links.guard_exit = bpf_program__attach(s->progs.guard_exit);
	if (s->links.guard_exit)
		return pin_link(s->links.guard_exit, dir, link_name[2]);
	if (errno != EINVAL)
		return -errno;
	s->links.guard_exit_legacy = bpf_program__attach(s->progs.guard_exit_legacy);
	return pin_link(s->links.guard_exit_legacy, dir, link_name[2]);
}

/* A cgroup hook with nothing attached anywhere is skipped behind a static key.  The first
 * attachment of a type switches it on by patching kernel text on every CPU, and the last
 * detachment (the session cgroup's removal) switches it off again: with sessions run one
 * after another, each paid ~0.4 ms of cross-CPU patching on its way to the first command
 * (perf: static_key_slow_inc under cgroup_bpf_prog_attach).  So each socket program of
 * the build is also linked to an empty cgroup that nothing joins, for as long as the
 * build's pins exist: the hooks stay on, the programs there never run, and unpinning the
 * build's directory (sweep_builds) releases the links.  Best effort: failing costs only
 * that time. */
#define KEEP_CGROUP "agentsh-bpf-keep"

static void keep_hooks_on(struct bpf_program *const socks[GUARD_NSOCK], const char *dir)
{
	int root = cgroup_mount();
	if (root < 0 || (mkdirat(root, KEEP_CGROUP, 0700) < 0 && errno != EEXIST))
		return;
	int cg = openat(root, KEEP_CGROUP, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return;
	for (int i = 0; i < GUARD_NSOCK; i++) {
		char name[64];
		int l = bpf_link_create(bpf_program__fd(socks[i]), cg, guard_sock_attach[i], NULL);
		if (l < 0)
			continue;
		snprintf(name, sizeof name, "keep_%s", sock_name[i]);
		(void)pin_fd(l, dir, name);
		close(l);
	}
	close(cg);
}

static int create_in(struct guard_bpf *s, const char *dir)
{
	struct bpf_map *maps[NSHAPES] = { s->maps.sessions, s->maps.expect, s->maps.rings,
					  s->maps.slots, s->maps.net4, s->maps.net6, s->maps.lostc };
	struct bpf_program *socks[GUARD_NSOCK] = {
		s->progs.guard_connect4, s->progs.guard_connect6, s->progs.guard_sendmsg4,
		s->progs.guard_sendmsg6, s->progs.guard_recvmsg4, s->progs.guard_recvmsg6,
		s->progs.guard_sock_create, s->progs.guard_egress };
	int r;
	for (size_t i = 0; i < NSHAPES; i++)
		if ((r = pin_fd(bpf_map__fd(maps[i]), dir, shapes[i].name)))
			return r;
	for (int i = 0; i < GUARD_NSOCK; i++)
		if ((r = pin_fd(bpf_program__fd(socks[i]), dir, sock_name[i])))
			return r;
	keep_hooks_on(socks, dir);
	/* the sessions map is empty: attached programs do nothing until a session registers */
	s->links.guard_exec = bpf_program__attach(s->progs.guard_exec);
	if ((r = pin_link(s->links.guard_exec, dir, link_name[0])))
		return r;
	s->links.guard_fork = bpf_program__attach(s->progs.guard_fork);
	if ((r = pin_link(s->links.guard_fork, dir, link_name[1])))
		return r;
	return attach_exit(s, dir);
}

/* Load, attach and pin into a temporary directory, then rename it into place. */
static int create_build(int rootfd, const char *id)
{
	char tmp[64], dir[256];
	struct guard_bpf *s = NULL;
	snprintf(tmp, sizeof tmp, "tmp-%d", (int)getpid());
	snprintf(dir, sizeof dir, "%s/%s", GUARD_PIN_ROOT, tmp);
	unpin_dir(rootfd, tmp);
	if (mkdirat(rootfd, tmp, 0700) < 0)
		return -errno;
	int r = guard_skel_load(&s, NULL);
	if (!r)
		r = create_in(s, dir);
	if (!r && renameat(rootfd, tmp, rootfd, id) < 0)
		r = -errno;
	guard_bpf__destroy(s); /* the pins hold what was created */
	if (r)
		unpin_dir(rootfd, tmp);
	return r;
}

/* ---- opening and validating ---- */

static int get_pin(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static int check_map(int fd, const struct map_shape *m, __u32 *id)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof info;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	*id = info.id;
	return info.type == m->type && info.key_size == m->key && info.value_size == m->value &&
	       info.max_entries == m->max ? 0 : -EPROTO;
}

/* The program is `name` (as far as the kernel keeps names), of `type`, and uses the
 * pinned sessions map (not a look-alike). */
static int check_prog(int fd, const char *name, __u32 type, __u32 sessions_id)
{
	__u32 ids[16] = { 0 };
	struct bpf_prog_info info = { .nr_map_ids = 16, .map_ids = (__u64)(unsigned long)ids };
	__u32 len = sizeof info;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	if (info.type != type || strncmp(info.name, name, sizeof info.name - 1))
		return -EPROTO;
	for (__u32 i = 0; i < info.nr_map_ids && i < 16; i++)
		if (ids[i] == sessions_id)
			return 0;
	return -EPROTO;
}

static int check_link(int fd, const char *name, const char *alt, __u32 sessions_id)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof info;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	if (info.type != BPF_LINK_TYPE_RAW_TRACEPOINT)
		return -EPROTO;
	int pfd = bpf_prog_get_fd_by_id(info.prog_id);
	if (pfd < 0)
		return -errno;
	int r = check_prog(pfd, name, BPF_PROG_TYPE_RAW_TRACEPOINT, sessions_id);
	if (r == -EPROTO && alt)
		r = check_prog(pfd, alt, BPF_PROG_TYPE_RAW_TRACEPOINT, sessions_id);
	close(pfd);
	return r;
}

static void pins_reset(struct guard_pins *p)
{
	for (size_t i = 0; i < NSHAPES; i++)
		*shape_fd(p, i) = -1;
	for (int i = 0; i < GUARD_NSOCK; i++)
		p->sock[i] = -1;
	for (int i = 0; i < GUARD_NLINK; i++)
		p->link[i] = -1;
}

void guard_pins_close(struct guard_pins *p)
{
	for (size_t i = 0; i < NSHAPES; i++)
		if (*shape_fd(p, i) >= 0)
			close(*shape_fd(p, i));
	for (int i = 0; i < GUARD_NSOCK; i++)
		if (p->sock[i] >= 0)
			close(p->sock[i]);
	for (int i = 0; i < GUARD_NLINK; i++)
		if (p->link[i] >= 0)
			close(p->link[i]);
	pins_reset(p);
}

/* Open every pin of p->dir and check it is what this build creates. */
static int open_build(struct guard_pins *p)
{
	static const __u32 sock_type[GUARD_NSOCK] = {
		BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
		BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
		BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
		BPF_PROG_TYPE_CGROUP_SOCK, BPF_PROG_TYPE_CGROUP_SKB };
	static const char *const link_prog[GUARD_NLINK] = { "guard_exec", "guard_fork", "guard_exit" };
	__u32 sid = 0, id;
	int r;
	for (size_t i = 0; i < NSHAPES; i++) {
		if ((r = *shape_fd(p, i) = get_pin(p->dir, shapes[i].name)) < 0 ||
		    (r = check_map(r, &shapes[i], i ? &id : &sid)))
			return r;
	}
	for (int i = 0; i < GUARD_NSOCK; i++)
		if ((r = p->sock[i] = get_pin(p->dir, sock_name[i])) < 0 ||
		    (r = check_prog(r, sock_name[i], sock_type[i], sid)))
			return r;
	for (int i = 0; i < GUARD_NLINK; i++)
		if ((r = p->link[i] = get_pin(p->dir, link_name[i])) < 0 ||
		    (r = check_link(r, link_prog[i], i == 2 ? "guard_exit_legacy" : NULL, sid)))
			return r;
	return 0;
}

static int open_locked(int rootfd, struct guard_pins *p)
{
	int r;
	struct stat st;
	if (fstatat(rootfd, p->id, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return -errno;
		if ((r = create_build(rootfd, p->id)))
			return r;
		p->created = 1;
	}
	if ((r = open_build(p))) {
		/* unusable or not what this build makes: replace it, once */
		guard_pins_close(p);
		if (p->created)
			return r;
		unpin_dir(rootfd, p->id);
		if ((r = create_build(rootfd, p->id)))
			return r;
		p->created = 1;
		if ((r = open_build(p)))
			return r;
	}
	sweep_sessions(p);
	sweep_builds(rootfd, p->id);
	return 0;
}

int guard_pins_open(struct guard_pins *p)
{
	int r;
	memset(p, 0, sizeof *p);
	pins_reset(p);
	if ((r = guard_build_id(p->id, sizeof p->id)))
		return r;
	snprintf(p->dir, sizeof p->dir, "%s/%s", GUARD_PIN_ROOT, p->id);
	int rootfd = lock_root();
	if (rootfd < 0)
		return rootfd;
	r = open_locked(rootfd, p);
	close(rootfd); /* and the lock */
	if (r)
		guard_pins_close(p);
	return r;
}

int bpf_pin_report(struct bpf_pin_report *r)
{
	struct guard_pins p;
	struct stat st;
	int rc;
	memset(r, 0, sizeof *r);
	r->sessions = -1;
	memset(&p, 0, sizeof p);
	pins_reset(&p);
	if ((rc = guard_build_id(p.id, sizeof p.id)))
		return rc;
	snprintf(p.dir, sizeof p.dir, "%s/%s", GUARD_PIN_ROOT, p.id);
	snprintf(r->dir, sizeof r->dir, "%s", p.dir);
	DIR *d = opendir(GUARD_PIN_ROOT);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, p.id))
			r->other_builds++;
	if (d)
		closedir(d);
	r->present = stat(p.dir, &st) == 0;
	if (!r->present)
		return 0;
	r->err = open_build(&p);
	r->valid = r->err == 0;
	if (r->valid) {
		__u64 k, next, *prev = NULL;
		r->sessions = 0;
		while (!bpf_map_get_next_key(p.sessions, prev, &next)) {
			struct guard_sess v;
			k = next;
			prev = &k;
			r->sessions++;
			if (!bpf_map_lookup_elem(p.sessions, &k, &v) && session_dead(k, &v))
				r->stale++;
		}
	}
	guard_pins_close(&p);
	return 0;
}
