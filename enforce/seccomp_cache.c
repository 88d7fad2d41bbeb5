/* seccomp_cache.c — a session's exported seccomp program, kept for the next.
 *
 * The program a session loads depends on nothing but its shape (a policy or
 * none; read-only opens notified or not; Landlock-governed writes notified or
 * not: enforce_notify_filter_shape) and on this build of agentsh, which links
 * libseccomp statically.  Building it with libseccomp was ~0.7 ms of every
 * session's start (docs/bench.md), for one of at most five programs.  So the
 * export is kept in a root-only directory on tmpfs (gone at reboot, with the
 * kernel it was built for), named by the build id and the shape, and read
 * back by the next session of that shape.
 *
 * A kept file counts only if everything about it is as written here: owner
 * and mode, size, magic, build id, shape, length and checksum.  Anything else
 * is a miss and the session builds the program itself, as without the cache:
 * a damaged or foreign file can make a start slower, never change the filter.
 * Only root can write the directory, and root is not who we defend against. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/filter.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enforce/enforce_int.h"

const char *enf_seccomp_cache_dir = "/run/agentsh/seccomp";

#define CACHE_MAGIC "agshscf1"
#define BUILD_ID_MAX 32

struct cache_hdr {
	char magic[8];
	unsigned char build[BUILD_ID_MAX];  /* GNU build id, zero-padded */
	uint32_t shape;
	uint32_t len;                       /* instructions */
	uint64_t sum;                       /* FNV-1a of the header (sum 0) and the program */
};

struct build_id {
	unsigned char id[BUILD_ID_MAX];
	size_t len;
};

static int find_build_id(const ElfW(Phdr) *ph, ElfW(Addr) base, struct build_id *b)
{
	size_t align = ph->p_align == 8 ? 8 : 4;
	const unsigned char *p = (const unsigned char *)(base + ph->p_vaddr), *end = p + ph->p_memsz;
	while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
		const ElfW(Nhdr) *n = (const void *)p;
		size_t name = (n->n_namesz + align - 1) & ~(align - 1);
		size_t desc = (n->n_descsz + align - 1) & ~(align - 1);
		if ((size_t)(end - p) - sizeof *n < name || (size_t)(end - p) - sizeof *n - name < desc)
			return 0;
		const unsigned char *d = p + sizeof *n + name;
		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
		    !memcmp(p + sizeof *n, "GNU", 4) && n->n_descsz && n->n_descsz <= BUILD_ID_MAX) {
			memcpy(b->id, d, n->n_descsz);
			b->len = n->n_descsz;
			return 1;
		}
		p = d + desc;
	}
	return 0;
}

/* The executable is the first object dl_iterate_phdr() reports. */
static int exe_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_NOTE &&
		    find_build_id(&info->dlpi_phdr[i], info->dlpi_addr, data))
			break;
	return 1;
}

static int cache_path(unsigned shape, struct build_id *b, char *out, size_t n)
{
	*b = (struct build_id){ 0 };
	dl_iterate_phdr(exe_build_id, b);
	if (!b->len)
		return -ENOENT;         /* linked without a build id: nothing names the build */
	char hex[2 * BUILD_ID_MAX + 1];
	for (size_t i = 0; i < b->len; i++)
		snprintf(hex + 2 * i, 3, "%02x", b->id[i]);
	if (snprintf(out, n, "%s/%s-%u.bpf", enf_seccomp_cache_dir, hex, shape) >= (int)n)
		return -ENAMETOOLONG;
	return 0;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t checksum(const struct cache_hdr *h, const void *prog)
{
	struct cache_hdr z = *h;
	z.sum = 0;
	return fnv1a(fnv1a(0xcbf29ce484222325ull, &z, sizeof z), prog,
		     (size_t)h->len * sizeof(struct sock_filter));
}

static int read_kept(int fd, unsigned shape, const struct build_id *b, struct enf_filter *f)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) || st.st_size < (off_t)sizeof(struct cache_hdr) ||
	    st.st_size > (off_t)(sizeof(struct cache_hdr) + BPF_MAXINSNS * sizeof(struct sock_filter)))
		return -EINVAL;
	size_t size = (size_t)st.st_size;
	unsigned char *buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	struct cache_hdr h;
	int rc = -EINVAL;
	if (pread(fd, buf, size, 0) != (ssize_t)size)
		goto out;
	memcpy(&h, buf, sizeof h);
	unsigned char id[BUILD_ID_MAX] = { 0 };
	memcpy(id, b->id, b->len);
	if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) || memcmp(h.build, id, sizeof id) ||
	    h.shape != shape || !h.len || h.len > BPF_MAXINSNS ||
	    size != sizeof h + (size_t)h.len * sizeof(struct sock_filter) ||
	    checksum(&h, buf + sizeof h) != h.sum)
		goto out;
	size -= sizeof h;
	if (!(f->prog = malloc(size))) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(f->prog, buf + sizeof h, size);
	f->len = (unsigned short)h.len;
	rc = 0;
out:
	free(buf);
	return rc;
}

int enf_seccomp_cache_load(unsigned shape, struct enf_filter *f)
{
	char path[PATH_MAX];
	struct build_id b;
	int rc = cache_path(shape, &b, path, sizeof path);
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	rc = read_kept(fd, shape, &b, f);
	close(fd);
	return rc;
}

/* The directory (and /run/agentsh above it) is created 0700; one that exists
 * must be ours and closed to others, or nothing is kept there. */
static int own_dir(const char *dir)
{
	char parent[PATH_MAX];
	struct stat st;
	snprintf(parent, sizeof parent, "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = 0;
		if (mkdir(parent, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) && st.st_uid == geteuid() && !(st.st_mode & 022) ? 0 : -EPERM;
}

void enf_seccomp_cache_store(unsigned shape, const struct enf_filter *f)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct build_id b;
	if (!f->prog || !f->len || cache_path(shape, &b, path, sizeof path) < 0 ||
	    own_dir(enf_seccomp_cache_dir) < 0)
		return;
	struct cache_hdr h = { .shape = shape, .len = f->len };
	memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
	memcpy(h.build, b.id, b.len);
	h.sum = checksum(&h, f->prog);
	if (snprintf(tmp, sizeof tmp, "%s/.new-XXXXXX", enf_seccomp_cache_dir) >= (int)sizeof tmp)
		return;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return;
	size_t plen = (size_t)f->len * sizeof(struct sock_filter);
	/* written whole, then renamed: a reader sees the old file, the new one or none */
	bool ok = fchmod(fd, 0600) == 0 && write(fd, &h, sizeof h) == (ssize_t)sizeof h &&
		  write(fd, f->prog, plen) == (ssize_t)plen;
	close(fd);
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}
