/* Exec argument pinning, user-space half: the digest the supervisor announces for the
 * argv/envp bytes its decision saw (guard.bpf.c args_verdict() recomputes it over what the
 * kernel really copied).  The hash is SipHash-2-4 with a 64-bit result — libcrypto's
 * here, a small BPF version there; tests/unit/bpf_exec.c checks they agree on real
 * execs.  It is keyed with a secret random key per guard because the target knows every
 * input: an unkeyed hash (FNV and the like) would let it compute a different argument list
 * with the same hash. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include "bpf/guard_int.h"

static pthread_once_t mac_once = PTHREAD_ONCE_INIT;
static EVP_MAC *mac;

static void mac_fetch(void)
{
	mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
}

int guard_args_key(struct bpf_guard *g)
{
	__u64 k[2];
	if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k)
		return -EIO;
	/* in the session's entry from its registration: the exec program never sees the
	 * session without its key */
	g->sess.sip_k0 = k[0];
	g->sess.sip_k1 = k[1];
	return 0;
}

int guard_args_expect(const struct bpf_exec_args *a, struct guard_expect *x)
{
	if (a->flags & ~(GEXF_ARGS | GEXF_EXACT))
		return -EINVAL;
	x->ahash = a->hash;
	x->alen = a->alen;
	x->elen = a->elen;
	x->flags = a->flags;
	return 0;
}

static int siphash(const __u64 key[2], const void *p1, size_t l1, const void *p2, size_t l2,
		   const void *p3, size_t l3, uint64_t *out)
{
	unsigned char k[16], h[8];
	size_t hl = 0, size = sizeof h;
	OSSL_PARAM params[] = { OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
				OSSL_PARAM_construct_end() };
	pthread_once(&mac_once, mac_fetch);
	if (!mac)
		return -EIO;
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
	if (!c)
		return -ENOMEM;
	memcpy(k, key, sizeof k);	/* the BPF side reads k0, k1 as native (little-endian) words */
	int ok = EVP_MAC_init(c, k, sizeof k, params) && EVP_MAC_update(c, p1, l1) &&
		 EVP_MAC_update(c, p2, l2) && EVP_MAC_update(c, p3, l3) &&
		 EVP_MAC_final(c, h, &hl, sizeof h) && hl == sizeof h;
	EVP_MAC_CTX_free(c);
	if (!ok)
		return -EIO;
	memcpy(out, h, sizeof h);	/* SipHash's output is the little-endian word v0^v1^v2^v3 */
	return 0;
}

/* What the kernel puts in the arg area (see bpf.h): an ELF gets argv as passed, or a
 * lone "" when argv is empty (the kernel adds it); a script loses argv[0], and the byte
 * hashed in front of argv[1..] is the NUL ending the kernel's own last string (the
 * script's path), which pins where argv[1] starts. */
int bpf_guard_exec_args(struct bpf_guard *g, const char *argv, size_t argv_len, const char *env,
			size_t env_len, bool script, struct bpf_exec_args *out)
{
	static const char nul[1] = "";
	const char *tail = argv ? argv : nul;
	size_t tail_len = argv_len;
	__u64 key[2];

	memset(out, 0, sizeof *out);
	if (!g || (argv_len && (!argv || argv[argv_len - 1])) || (env_len && (!env || env[env_len - 1])))
		return -EINVAL;
	if (script && argv_len) {
		size_t zero = strlen(argv) + 1;	/* argv[0] with its NUL */
		tail += zero;
		tail_len -= zero;
	}
	size_t alen = (script || !argv_len) ? tail_len + 1 : argv_len;
	if (alen + env_len > BPF_EXEC_ARGS_MAX)
		return -E2BIG;
	key[0] = g->sess.sip_k0;
	key[1] = g->sess.sip_k1;
	int r = siphash(key, nul, alen - tail_len, tail, tail_len, env ? env : nul, env_len, &out->hash);
	if (r)
		return r;
	out->alen = (uint32_t)alen;
	out->elen = (uint32_t)env_len;
	out->flags = GEXF_ARGS | (script ? 0 : GEXF_EXACT);
	return 0;
}
