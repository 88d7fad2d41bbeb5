/* The chain key and HMAC-SHA256.
 *
 * HMAC (RFC 2104) is built here on OpenSSL's SHA-256 primitive rather than
 * taken from EVP_MAC: OpenSSL 3.0 fetches every EVP implementation from a
 * provider on first use, and that first fetch cost ~1.3 ms of CPU in every
 * process that writes the trail (the writer thread of each `agentsh -c`,
 * competing with the session's start on a 2-CPU machine; docs/bench.md).
 * SHA256_Init/Update/Final are the same primitive without the fetch (~20 us).
 * They are deprecated in 3.0 yet part of its libcrypto.  unit audit_hmac
 * checks this HMAC against EVP_MAC and against Python's hmac module. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "audit/audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

_Static_assert(AUDIT_KEY_LEN <= SHA256_CBLOCK, "a longer key would be hashed first (RFC 2104)");
_Static_assert(AUDIT_LINK_LEN == SHA256_DIGEST_LENGTH, "the link is one HMAC-SHA256");

struct audit_hmac {
	SHA256_CTX inner, outer;    /* having absorbed key^ipad and key^opad */
};

static int read_key(int fd, const char *path, unsigned char key[AUDIT_KEY_LEN], char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) || st.st_uid != geteuid()) {
		snprintf(err, errlen, "audit key %s must be a regular file owned by uid %u with mode 0600 "
			 "(fix: chown %u %s && chmod 600 %s)", path, geteuid(), geteuid(), path, path);
		return -EPERM;
	}
	ssize_t n = pread(fd, key, AUDIT_KEY_LEN, 0);
	if (n != AUDIT_KEY_LEN || st.st_size != AUDIT_KEY_LEN) {
		snprintf(err, errlen, "audit key %s is not %d bytes: it is damaged; restore it from backup "
			 "(a new key cannot verify the existing chain)", path, AUDIT_KEY_LEN);
		return -EBADMSG;
	}
	return 0;
}

static int create_key(const char *path, unsigned char key[AUDIT_KEY_LEN], char *err, size_t errlen)
{
	if (RAND_bytes(key, AUDIT_KEY_LEN) != 1) {
		snprintf(err, errlen, "cannot generate the audit key: OpenSSL RAND_bytes failed");
		return -EIO;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (write(fd, key, AUDIT_KEY_LEN) != AUDIT_KEY_LEN || fsync(fd) < 0)
		rc = -EIO;
	close(fd);
	if (rc) {
		unlink(path);
		snprintf(err, errlen, "cannot write the audit key %s: %s", path, strerror(-rc));
	}
	return rc;
}

int audit_key_load(const char *path, bool create, unsigned char key[AUDIT_KEY_LEN], char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			int rc = read_key(fd, path, key, err, errlen);
			close(fd);
			/* a concurrent creator may not have written it yet */
			if (rc == -EBADMSG && attempt < 2) {
				usleep(50000);
				continue;
			}
			return rc;
		}
		if (errno != ENOENT || !create) {
			int e = errno;
			snprintf(err, errlen, "cannot open the audit key %s: %s%s", path, strerror(e),
				 e == EACCES ? " (the audit key is root-only: run as root)" :
				 e == ENOENT ? " (no key: the store was never written, or the key was removed)" : "");
			return -e;
		}
		int rc = create_key(path, key, err, errlen);
		if (rc != -EEXIST)
			return rc;
	}
	snprintf(err, errlen, "cannot read the audit key %s: it keeps changing", path);
	return -EAGAIN;
}

static void absorb_pad(SHA256_CTX *c, const unsigned char key[AUDIT_KEY_LEN], unsigned char fill)
{
	unsigned char pad[SHA256_CBLOCK];
	memset(pad, fill, sizeof pad);
	for (size_t i = 0; i < AUDIT_KEY_LEN; i++)
		pad[i] ^= key[i];
	SHA256_Init(c);
	SHA256_Update(c, pad, sizeof pad);
	OPENSSL_cleanse(pad, sizeof pad);
}

int audit_hmac_new(const unsigned char key[AUDIT_KEY_LEN], struct audit_hmac **out)
{
	struct audit_hmac *h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	absorb_pad(&h->inner, key, 0x36);
	absorb_pad(&h->outer, key, 0x5c);
	*out = h;
	return 0;
}

void audit_hmac_free(struct audit_hmac *h)
{
	if (!h)
		return;
	OPENSSL_cleanse(h, sizeof *h);
	free(h);
}

int audit_hmac2(struct audit_hmac *h, const void *a, size_t alen, const void *b, size_t blen,
		unsigned char out[AUDIT_LINK_LEN])
{
	unsigned char ih[SHA256_DIGEST_LENGTH];
	SHA256_CTX c = h->inner;
	if (!SHA256_Update(&c, a, alen) || !SHA256_Update(&c, b, blen) || !SHA256_Final(ih, &c))
		return -EIO;
	c = h->outer;
	int ok = SHA256_Update(&c, ih, sizeof ih) && SHA256_Final(out, &c);
	OPENSSL_cleanse(&c, sizeof c);
	OPENSSL_cleanse(ih, sizeof ih);
	return ok ? 0 : -EIO;
}

void audit_genesis(struct audit_hmac *h, unsigned char out[AUDIT_LINK_LEN])
{
	static const char tag[] = "agentsh-audit-v1 genesis";
	if (audit_hmac2(h, tag, sizeof tag - 1, "", 0, out) < 0)
		memset(out, 0, AUDIT_LINK_LEN);
}
