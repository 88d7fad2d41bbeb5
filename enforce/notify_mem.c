/* notify_mem.c — reading (and, for command redirects, writing) the target's
 * memory.  process_vm_readv page by page, so a string that ends just before an
 * unmapped page is still read.  Callers check SECCOMP_IOCTL_NOTIF_ID_VALID
 * after reading (nr_valid) before acting on what they read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "enforce/notify_sup_int.h"

#define PAGE 4096u

int nm_read(struct nreq *r, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;

	nc_need_caps();
	while (done < len) {
		size_t chunk = PAGE - ((addr + done) & (PAGE - 1));
		if (chunk > len - done)
			chunk = len - done;
		struct iovec l = { (char *)buf + done, chunk };
		struct iovec rv = { (void *)(uintptr_t)(addr + done), chunk };
		ssize_t got = process_vm_readv(r->pid, &l, 1, &rv, 1, 0);
		if (got <= 0)
			return got < 0 && errno != EFAULT ? -errno : -EFAULT;
		done += (size_t)got;
	}
	return 0;
}

int nm_read_str(struct nreq *r, uint64_t addr, char *buf, size_t len)
{
	size_t done = 0;

	if (!addr)
		return -EFAULT;
	nc_need_caps();
	while (done < len) {
		size_t chunk = PAGE - ((addr + done) & (PAGE - 1));
		if (chunk > len - done)
			chunk = len - done;
		struct iovec l = { buf + done, chunk };
		struct iovec rv = { (void *)(uintptr_t)(addr + done), chunk };
		ssize_t got = process_vm_readv(r->pid, &l, 1, &rv, 1, 0);
		if (got <= 0)
			return got < 0 && errno != EFAULT ? -errno : -EFAULT;
		char *nul = memchr(buf + done, 0, (size_t)got);
		if (nul)
			return (int)(nul - buf);
		done += (size_t)got;
	}
	buf[len - 1] = 0;
	return -ENAMETOOLONG;
}

/* Up to the end of the page per process_vm_readv (a mapped page is readable
 * as a whole, so reading past the terminating NULL cannot fail where the
 * pointer-by-pointer read would not): argv + envp of a typical exec in 2-3
 * calls instead of one per pointer. */
int nm_read_ptrs(struct nreq *r, uint64_t addr, uint64_t *out, size_t max, size_t *n)
{
	size_t i = 0;

	*n = 0;
	if (!addr)
		return 0;               /* NULL argv/envp: empty */
	while (i < max) {
		uint64_t at = addr + i * sizeof(uint64_t);
		size_t cnt = (PAGE - (at & (PAGE - 1))) / sizeof(uint64_t);
		if (!cnt)
			cnt = 1;        /* a pointer across a page boundary: nm_read splits it */
		if (cnt > max - i)
			cnt = max - i;
		int rc = nm_read(r, at, &out[i], cnt * sizeof(uint64_t));
		if (rc < 0)
			return rc;
		for (size_t j = i; j < i + cnt; j++)
			if (!out[j]) {
				*n = j;
				return 0;
			}
		i += cnt;
	}
	return -E2BIG;
}

/* /proc/PID/mem writes work on read-only private mappings too (string
 * literals), which process_vm_writev refuses. */
int nm_write(struct nreq *r, uint64_t addr, const void *buf, size_t len)
{
	char p[64];
	int fd, err = 0;

	nc_root();
	snprintf(p, sizeof p, "/proc/%d/mem", (int)r->pid);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = pwrite(fd, buf, len, (off_t)addr);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != len)
		err = -EIO;
	close(fd);
	return err;
}
