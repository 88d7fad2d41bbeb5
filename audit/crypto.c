/* The chain key and HMAC-SHA256 (OpenSSL EVP_MAC). */
#include "audit/audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

struct audit_hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
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

int audit_hmac_new(const unsigned char key[AUDIT_KEY_LEN], struct audit_hmac **out)
{
	struct audit_hmac *h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	h->ctx = h->mac ? EVP_MAC_CTX_new(h->mac) : NULL;
	if (!h->ctx || EVP_MAC_init(h->ctx, key, AUDIT_KEY_LEN, params) != 1) {
		audit_hmac_free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

void audit_hmac_free(struct audit_hmac *h)
{
	if (!h)
		return;
	EVP_MAC_CTX_free(h->ctx);
	EVP_MAC_free(h->mac);
	free(h);
}

int audit_hmac2(struct audit_hmac *h, const void *a, size_t alen, const void *b, size_t blen,
		unsigned char out[AUDIT_LINK_LEN])
{
	size_t n = 0;
	/* NULL key: restart with the key given at creation */
	if (EVP_MAC_init(h->ctx, NULL, 0, NULL) != 1 || EVP_MAC_update(h->ctx, a, alen) != 1 ||
	    EVP_MAC_update(h->ctx, b, blen) != 1 || EVP_MAC_final(h->ctx, out, &n, AUDIT_LINK_LEN) != 1 ||
	    n != AUDIT_LINK_LEN)
		return -EIO;
	return 0;
}

void audit_genesis(struct audit_hmac *h, unsigned char out[AUDIT_LINK_LEN])
{
	static const char tag[] = "agentsh-audit-v1 genesis";
	if (audit_hmac2(h, tag, sizeof tag - 1, "", 0, out) < 0)
		memset(out, 0, AUDIT_LINK_LEN);
}
