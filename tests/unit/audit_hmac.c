/* audit_hmac — the chain's HMAC-SHA256 (audit/crypto.c, built on SHA-256):
 * the values of an independent implementation (Python's hmac module), and
 * the same results as OpenSSL's EVP_MAC for random keys and messages of every
 * length around the block size, however the message is split between the two
 * parts, and again after the context was used (it restarts from the key). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "audit/audit_int.h"

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void evp_hmac(const unsigned char key[AUDIT_KEY_LEN], const unsigned char *m, size_t n,
		     unsigned char out[AUDIT_LINK_LEN])
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	assert_non_null(mac);
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
	size_t len = 0;
	assert_int_equal(EVP_MAC_init(c, key, AUDIT_KEY_LEN, params), 1);
	assert_int_equal(EVP_MAC_update(c, m, n), 1);
	assert_int_equal(EVP_MAC_final(c, out, &len, AUDIT_LINK_LEN), 1);
	assert_int_equal(len, AUDIT_LINK_LEN);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
}

/* python3 -c 'import hmac,hashlib; print(hmac.new(bytes(range(32)), M, hashlib.sha256).hexdigest())' */
static void test_known_values(void **state)
{
	(void)state;
	unsigned char key[AUDIT_KEY_LEN], out[AUDIT_LINK_LEN], a[200];
	char h[2 * AUDIT_LINK_LEN + 1];
	struct audit_hmac *m = NULL;
	for (int i = 0; i < AUDIT_KEY_LEN; i++)
		key[i] = (unsigned char)i;
	assert_int_equal(audit_hmac_new(key, &m), 0);
	audit_genesis(m, out);      /* "agentsh-audit-v1 genesis" */
	hex(out, sizeof out, h);
	assert_string_equal(h, "85519ec88c249ed6248f6076543c645eb8df3e1185e8a28872138a1fa34939a3");
	memset(a, 'a', sizeof a);
	assert_int_equal(audit_hmac2(m, a, 77, a + 77, sizeof a - 77, out), 0);
	hex(out, sizeof out, h);
	assert_string_equal(h, "70034faebea699a3b6a78ec372b97a83906134874545455329c0dea5eccde6ee");
	audit_hmac_free(m);
}

static void test_same_as_evp_mac(void **state)
{
	(void)state;
	static const size_t lens[] = { 0, 1, 31, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4099 };
	unsigned char key[AUDIT_KEY_LEN], msg[4099], want[AUDIT_LINK_LEN], got[AUDIT_LINK_LEN];
	for (int round = 0; round < 4; round++) {
		struct audit_hmac *m = NULL;
		assert_int_equal(RAND_bytes(key, sizeof key), 1);
		assert_int_equal(audit_hmac_new(key, &m), 0);
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			size_t n = lens[i];
			assert_int_equal(RAND_bytes(msg, sizeof msg), 1);
			evp_hmac(key, msg, n, want);
			/* every split of the message between the two parts, for the short ones */
			size_t step = n < 130 ? 1 : n / 7;
			for (size_t cut = 0; cut <= n; cut += step) {
				assert_int_equal(audit_hmac2(m, msg, cut, msg + cut, n - cut, got), 0);
				if (memcmp(want, got, sizeof got))
					fail_msg("round %d, length %zu, split at %zu: differs from EVP_MAC", round, n, cut);
			}
		}
		audit_hmac_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_same_as_evp_mac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
