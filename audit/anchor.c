/* The anchor: a root-only side file holding the highest (seq, link) any writer
 * has committed, MACed with the chain key.  Without it, deleting the newest
 * rows would leave a shorter chain that still verifies.
 *
 * Ordering: the anchor is advanced only after the transaction commits, so it
 * never names a sequence the store does not hold; it may lag the store by the
 * last batch when a writer dies between commit and anchor update (verify then
 * sees rows beyond the anchor, which is fine: they are still chained).  Writers
 * serialise on flock() and only ever move it forward. */
#include "audit/audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define ANCHOR_MAX 256

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int unhex(const char *s, unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EBADMSG;
		b[i] = (unsigned char)v;
	}
	return 0;
}

static int anchor_mac(struct audit_hmac *h, int64_t seq, const unsigned char link[AUDIT_LINK_LEN],
		      unsigned char mac[AUDIT_LINK_LEN])
{
	char head[64];
	int n = snprintf(head, sizeof head, "agentsh-audit-anchor-v1 %" PRId64 " ", seq);
	return audit_hmac2(h, head, (size_t)n, link, AUDIT_LINK_LEN, mac);
}

/* Parse "v1 SEQ LINKHEX MACHEX\n"; -EBADMSG on anything else or a bad MAC. */
static int parse(struct audit_hmac *h, const char *buf, int64_t *seq, unsigned char link[AUDIT_LINK_LEN])
{
	char lh[2 * AUDIT_LINK_LEN + 1], mh[2 * AUDIT_LINK_LEN + 1];
	unsigned char mac[AUDIT_LINK_LEN], want[AUDIT_LINK_LEN];
	if (sscanf(buf, "v1 %" SCNd64 " %64s %64s", seq, lh, mh) != 3 || strlen(lh) != 64 || strlen(mh) != 64)
		return -EBADMSG;
	if (unhex(lh, link, AUDIT_LINK_LEN) || unhex(mh, mac, AUDIT_LINK_LEN))
		return -EBADMSG;
	if (anchor_mac(h, *seq, link, want) || memcmp(mac, want, AUDIT_LINK_LEN) != 0)
		return -EBADMSG;
	return 0;
}

static int read_fd(struct audit_hmac *h, int fd, int64_t *seq, unsigned char link[AUDIT_LINK_LEN])
{
	char buf[ANCHOR_MAX + 1];
	ssize_t n = pread(fd, buf, ANCHOR_MAX, 0);
	if (n < 0)
		return -errno;
	*seq = -1;
	if (n == 0)
		return 0;
	buf[n] = 0;
	return parse(h, buf, seq, link);
}

/* flock, bounded like sqlite's busy timeout: a holder that never lets go (a
 * stopped process, a descriptor copied into a child that does not exit) is
 * an error after busy_timeout_ms, not a hang of every writer of the store.
 * The lock is held for microseconds, so the wait polls with a short backoff. */
static int lock_bounded(const struct audit *a, int fd, int op)
{
	struct timespec t0, now;
	useconds_t pause = 50;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >= a->busy_timeout_ms)
			return -ETIMEDOUT;
		usleep(pause);
		pause = pause < 2000 ? pause * 2 : pause;
	}
}

int audit_anchor_read(struct audit *a, struct audit_hmac *h, int64_t *seq, unsigned char link[AUDIT_LINK_LEN])
{
	*seq = -1;
	int fd = open(a->anchor_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int rc = lock_bounded(a, fd, LOCK_SH);
	if (rc) {
		close(fd);
		return rc;
	}
	rc = read_fd(h, fd, seq, link);
	close(fd);
	return rc;
}

int audit_anchor_advance(struct audit *a, struct audit_hmac *h, int64_t seq, const unsigned char link[AUDIT_LINK_LEN])
{
	int fd = open(a->anchor_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = lock_bounded(a, fd, LOCK_EX);
	int64_t cur = -1;
	unsigned char curlink[AUDIT_LINK_LEN];
	/* a damaged anchor is left for verify to report, never silently replaced */
	if (!rc)
		rc = read_fd(h, fd, &cur, curlink);
	if (!rc && seq > cur) {
		char lh[2 * AUDIT_LINK_LEN + 1], mh[2 * AUDIT_LINK_LEN + 1], buf[ANCHOR_MAX];
		unsigned char mac[AUDIT_LINK_LEN];
		rc = anchor_mac(h, seq, link, mac);
		hex(link, AUDIT_LINK_LEN, lh);
		hex(mac, AUDIT_LINK_LEN, mh);
		/* fixed width so a shorter record never leaves a stale tail behind */
		int n = snprintf(buf, sizeof buf, "v1 %020" PRId64 " %s %s\n", seq, lh, mh);
		/* synced only when the store is (sync_full); otherwise both live in
		 * the page cache, and an OS crash may leave the anchor naming a
		 * commit the crash took: verify then reports the truncation */
		if (!rc && (pwrite(fd, buf, (size_t)n, 0) != n || (a->sync_full && fdatasync(fd) < 0)))
			rc = -EIO;
	}
	close(fd);
	return rc;
}
