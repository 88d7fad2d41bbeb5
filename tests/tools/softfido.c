/* softfido — a software CTAP2 authenticator for the tests (never for production).
 *
 * Serves one unix socket; agentsh reaches it with --device unix:PATH through
 * libfido2's custom io/transport functions (approve/fidodev.c).  Framing on the
 * socket: cmd (1 byte), length (2 bytes BE), payload.  Implements CTAPHID INIT
 * and the CTAP2 commands getInfo, makeCredential (packed self attestation, ES256)
 * and getAssertion.  Credentials are P-256 keys kept as PEM files in --keys DIR,
 * named by the hex credential id, so enrollment and signing may be different
 * processes.
 *
 *   softfido --socket PATH --keys DIR [--no-up] [--count N] [--counter N] [--fixed-counter]
 *     --no-up    assertions without the user-presence flag (a key nobody touched)
 *     --count N  serve N connections, then exit (default: until killed)
 *     --counter N  the signature counter the next operation reports (then +1 each)
 *     --fixed-counter  report the same counter every time (0: a key without a
 *                counter; N: a clone replaying what the original sent)
 *
 * Like a real key, the signature counter survives restarts: it is kept in
 * DIR/counter and shared by every softfido serving the same DIR.
 */
#include <cbor.h>
#include <errno.h>
#include <getopt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CMD_INIT 0x06
#define CMD_CBOR 0x10
#define CMD_ERROR 0x3f
#define ST_OK 0x00
#define ST_INVALID_CMD 0x01
#define ST_INVALID_CBOR 0x12
#define ST_UNSUPPORTED_ALG 0x26
#define ST_NO_CREDENTIALS 0x2e
#define FLAG_UP 0x01
#define FLAG_AT 0x40
#define CRED_ID_LEN 16

static const unsigned char aaguid[16] = "agentsh-softfido";
static const char *keydir;
static bool no_up;
static uint32_t counter = 1;
static bool counter_set, counter_fixed;

struct buf {
	unsigned char d[4096];
	size_t n;
};

static int put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > sizeof(b->d))
		return -1;
	memcpy(b->d + b->n, p, n);
	b->n += n;
	return 0;
}

static int full(int fd, void *p, size_t n, bool wr)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = wr ? write(fd, (char *)p + done, n - done) : read(fd, (char *)p + done, n - done);
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static int send_msg(int fd, uint8_t cmd, const unsigned char *p, size_t n)
{
	unsigned char h[3] = { cmd, (unsigned char)(n >> 8), (unsigned char)n };

	return full(fd, h, 3, true) < 0 || (n && full(fd, (void *)p, n, true) < 0) ? -1 : 0;
}

static int send_status(int fd, uint8_t st)
{
	return send_msg(fd, CMD_CBOR, &st, 1);
}

/* status byte + serialised CBOR item */
static int send_cbor(int fd, cbor_item_t *item)
{
	unsigned char *s = NULL;
	size_t cap = 0, n = cbor_serialize_alloc(item, &s, &cap);
	struct buf b = { .n = 0 };
	int rc;

	b.d[0] = ST_OK;
	b.n = 1;
	rc = n && put(&b, s, n) == 0 ? send_msg(fd, CMD_CBOR, b.d, b.n) : send_status(fd, ST_INVALID_CBOR);
	free(s);
	cbor_decref(&item);
	return rc;
}

static void map_add(cbor_item_t *m, cbor_item_t *k, cbor_item_t *v)
{
	cbor_map_add(m, (struct cbor_pair){ .key = cbor_move(k), .value = cbor_move(v) });
}

static cbor_item_t *map_get_int(cbor_item_t *m, int key)
{
	struct cbor_pair *p = cbor_map_handle(m);

	for (size_t i = 0; i < cbor_map_size(m); i++)
		if (cbor_isa_uint(p[i].key) && (int)cbor_get_int(p[i].key) == key)
			return p[i].value;
	return NULL;
}

static cbor_item_t *map_get_str(cbor_item_t *m, const char *key)
{
	struct cbor_pair *p;

	if (!m || !cbor_isa_map(m))
		return NULL;
	p = cbor_map_handle(m);
	for (size_t i = 0; i < cbor_map_size(m); i++)
		if (cbor_isa_string(p[i].key) && cbor_string_length(p[i].key) == strlen(key) &&
		    memcmp(cbor_string_handle(p[i].key), key, strlen(key)) == 0)
			return p[i].value;
	return NULL;
}

static int get_info(int fd)
{
	cbor_item_t *m = cbor_new_definite_map(4), *v = cbor_new_definite_array(1), *o = cbor_new_definite_map(2);

	cbor_array_push(v, cbor_move(cbor_build_string("FIDO_2_0")));
	map_add(o, cbor_build_string("rk"), cbor_build_bool(false));
	map_add(o, cbor_build_string("up"), cbor_build_bool(true));
	map_add(m, cbor_build_uint8(1), v);
	map_add(m, cbor_build_uint8(3), cbor_build_bytestring(aaguid, 16));
	map_add(m, cbor_build_uint8(4), o);
	map_add(m, cbor_build_uint8(5), cbor_build_uint16(2048));
	return send_cbor(fd, m);
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static int sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int len = 0;

	return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32 ? 0 : -1;
}

static int sign(EVP_PKEY *k, const struct buf *ad, const unsigned char *cdh, struct buf *sig)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	struct buf msg = { .n = 0 };
	size_t n = sizeof(sig->d);
	int ok;

	put(&msg, ad->d, ad->n);
	put(&msg, cdh, 32);
	ok = c && EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k) == 1 &&
	     EVP_DigestSign(c, sig->d, &n, msg.d, msg.n) == 1;
	EVP_MD_CTX_free(c);
	sig->n = n;
	return ok ? 0 : -1;
}

static int cose_key(EVP_PKEY *k, struct buf *out)
{
	unsigned char pub[65], *s = NULL;
	size_t publen = 0, cap = 0, n;
	cbor_item_t *m;

	if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &publen) != 1 ||
	    publen != 65)
		return -1;
	m = cbor_new_definite_map(5);
	map_add(m, cbor_build_uint8(1), cbor_build_uint8(2));        /* kty: EC2 */
	map_add(m, cbor_build_uint8(3), cbor_build_negint8(6));      /* alg: -7 ES256 */
	map_add(m, cbor_build_negint8(0), cbor_build_uint8(1));      /* crv: P-256 */
	map_add(m, cbor_build_negint8(1), cbor_build_bytestring(pub + 1, 32));
	map_add(m, cbor_build_negint8(2), cbor_build_bytestring(pub + 33, 32));
	n = cbor_serialize_alloc(m, &s, &cap);
	cbor_decref(&m);
	if (!n || put(out, s, n) < 0) {
		free(s);
		return -1;
	}
	free(s);
	return 0;
}

/* DIR/counter: the value the next operation reports. */
static uint32_t counter_next(void)
{
	char path[4096];
	unsigned long v = 1;
	uint32_t c;
	FILE *f;

	if (counter_fixed)
		return counter;
	snprintf(path, sizeof(path), "%s/counter", keydir);
	if (counter_set)
		v = counter;
	else if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 1;
		fclose(f);
	}
	counter_set = false;
	c = (uint32_t)v;
	if ((f = fopen(path, "w"))) {
		fprintf(f, "%lu\n", (unsigned long)c + 1);
		fclose(f);
	}
	return c;
}

static int auth_data(const char *rp, uint8_t flags, struct buf *ad)
{
	uint32_t c = counter_next();
	unsigned char h[32], cnt[4] = { (unsigned char)(c >> 24), (unsigned char)(c >> 16),
				       (unsigned char)(c >> 8), (unsigned char)c };

	ad->n = 0;
	if (sha256(rp, strlen(rp), h) < 0 || put(ad, h, 32) < 0 || put(ad, &flags, 1) < 0)
		return -1;
	return put(ad, cnt, 4);
}

static char *bytes_str(cbor_item_t *i)
{
	char *s;

	if (!i || !cbor_isa_string(i) || !cbor_string_is_definite(i))
		return NULL;
	if ((s = malloc(cbor_string_length(i) + 1))) {
		memcpy(s, cbor_string_handle(i), cbor_string_length(i));
		s[cbor_string_length(i)] = 0;
	}
	return s;
}

static int key_save(EVP_PKEY *k, const unsigned char id[CRED_ID_LEN])
{
	char path[4096], h[2 * CRED_ID_LEN + 1];
	FILE *f;
	int ok;

	hex(id, CRED_ID_LEN, h);
	snprintf(path, sizeof(path), "%s/%s.pem", keydir, h);
	if (!(f = fopen(path, "w")))
		return -1;
	ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok ? 0 : -1;
}

static EVP_PKEY *key_load(const unsigned char *id, size_t n)
{
	char path[4096], h[2 * CRED_ID_LEN + 1];
	EVP_PKEY *k;
	FILE *f;

	if (n != CRED_ID_LEN)
		return NULL;
	hex(id, n, h);
	snprintf(path, sizeof(path), "%s/%s.pem", keydir, h);
	if (!(f = fopen(path, "r")))
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static int make_cred(int fd, cbor_item_t *req)
{
	cbor_item_t *cdh = map_get_int(req, 1), *rp = map_get_int(req, 2), *resp, *att;
	unsigned char id[CRED_ID_LEN], idlen[2] = { 0, CRED_ID_LEN };
	struct buf ad = { .n = 0 }, sig = { .n = 0 };
	char *rpid = bytes_str(map_get_str(rp, "id"));
	EVP_PKEY *k = NULL;
	int rc = -1;

	if (!cdh || !cbor_isa_bytestring(cdh) || cbor_bytestring_length(cdh) != 32 || !rpid) {
		free(rpid);
		return send_status(fd, ST_INVALID_CBOR);
	}
	fprintf(stderr, "softfido: makeCredential for rp '%s' (touched)\n", rpid);
	if (RAND_bytes(id, sizeof(id)) != 1 || !(k = EVP_EC_gen("P-256")) || key_save(k, id) < 0 ||
	    auth_data(rpid, FLAG_UP | FLAG_AT, &ad) < 0 || put(&ad, aaguid, 16) < 0 ||
	    put(&ad, idlen, 2) < 0 || put(&ad, id, sizeof(id)) < 0 || cose_key(k, &ad) < 0 ||
	    sign(k, &ad, cbor_bytestring_handle(cdh), &sig) < 0) {
		rc = send_status(fd, ST_UNSUPPORTED_ALG);
		goto out;
	}
	att = cbor_new_definite_map(2);
	map_add(att, cbor_build_string("alg"), cbor_build_negint8(6));
	map_add(att, cbor_build_string("sig"), cbor_build_bytestring(sig.d, sig.n));
	resp = cbor_new_definite_map(3);
	map_add(resp, cbor_build_uint8(1), cbor_build_string("packed"));
	map_add(resp, cbor_build_uint8(2), cbor_build_bytestring(ad.d, ad.n));
	map_add(resp, cbor_build_uint8(3), att);
	rc = send_cbor(fd, resp);
out:
	EVP_PKEY_free(k);
	free(rpid);
	return rc;
}

/* First credential of the allow list that this authenticator holds. */
static EVP_PKEY *pick(cbor_item_t *allow, cbor_item_t **which)
{
	cbor_item_t **v;

	if (!allow || !cbor_isa_array(allow))
		return NULL;
	v = cbor_array_handle(allow);
	for (size_t i = 0; i < cbor_array_size(allow); i++) {
		cbor_item_t *id = map_get_str(v[i], "id");
		EVP_PKEY *k;
		if (id && cbor_isa_bytestring(id) &&
		    (k = key_load(cbor_bytestring_handle(id), cbor_bytestring_length(id)))) {
			*which = id;
			return k;
		}
	}
	return NULL;
}

static int get_assert(int fd, cbor_item_t *req)
{
	char *rpid = bytes_str(map_get_int(req, 1));
	cbor_item_t *cdh = map_get_int(req, 2), *id = NULL, *resp, *cred;
	struct buf ad = { .n = 0 }, sig = { .n = 0 };
	EVP_PKEY *k = NULL;
	int rc;

	if (!rpid || !cdh || !cbor_isa_bytestring(cdh) || cbor_bytestring_length(cdh) != 32) {
		free(rpid);
		return send_status(fd, ST_INVALID_CBOR);
	}
	if (!(k = pick(map_get_int(req, 3), &id))) {
		free(rpid);
		return send_status(fd, ST_NO_CREDENTIALS);
	}
	fprintf(stderr, "softfido: getAssertion for rp '%s'%s\n", rpid, no_up ? " (NOT touched)" : " (touched)");
	if (auth_data(rpid, no_up ? 0 : FLAG_UP, &ad) < 0 || sign(k, &ad, cbor_bytestring_handle(cdh), &sig) < 0) {
		rc = send_status(fd, ST_UNSUPPORTED_ALG);
		goto out;
	}
	cred = cbor_new_definite_map(2);
	map_add(cred, cbor_build_string("id"), cbor_build_bytestring(cbor_bytestring_handle(id),
								    cbor_bytestring_length(id)));
	map_add(cred, cbor_build_string("type"), cbor_build_string("public-key"));
	resp = cbor_new_definite_map(3);
	map_add(resp, cbor_build_uint8(1), cred);
	map_add(resp, cbor_build_uint8(2), cbor_build_bytestring(ad.d, ad.n));
	map_add(resp, cbor_build_uint8(3), cbor_build_bytestring(sig.d, sig.n));
	rc = send_cbor(fd, resp);
out:
	EVP_PKEY_free(k);
	free(rpid);
	return rc;
}

static int handle_cbor(int fd, const unsigned char *p, size_t n)
{
	struct cbor_load_result res;
	cbor_item_t *req = NULL;
	int rc;

	if (n < 1)
		return send_status(fd, ST_INVALID_CMD);
	if (p[0] == 0x04)
		return get_info(fd);
	if (p[0] != 0x01 && p[0] != 0x02)
		return send_status(fd, ST_INVALID_CMD);
	if (n < 2 || !(req = cbor_load(p + 1, n - 1, &res)) || !cbor_isa_map(req)) {
		if (req)
			cbor_decref(&req);
		return send_status(fd, ST_INVALID_CBOR);
	}
	rc = p[0] == 0x01 ? make_cred(fd, req) : get_assert(fd, req);
	cbor_decref(&req);
	return rc;
}

static void serve(int fd)
{
	unsigned char h[3], p[65536];

	for (;;) {
		size_t n;
		if (full(fd, h, 3, false) < 0)
			return;
		n = (size_t)h[1] << 8 | h[2];
		if (n && full(fd, p, n, false) < 0)
			return;
		if (h[0] == CMD_INIT && n == 8) {
			unsigned char r[17] = { 0 };
			memcpy(r, p, 8);                        /* nonce */
			r[8] = 0x01, r[9] = 0x02, r[10] = 0x03, r[11] = 0x04;   /* channel id */
			r[12] = 2, r[13] = 1, r[14] = 0, r[15] = 0;     /* protocol, version */
			r[16] = 0x04 | 0x08;                    /* CBOR, no U2F MSG */
			if (send_msg(fd, CMD_INIT, r, sizeof(r)) < 0)
				return;
		} else if (h[0] == CMD_CBOR) {
			if (handle_cbor(fd, p, n) < 0)
				return;
		} else {
			unsigned char e = 0x01;
			if (send_msg(fd, CMD_ERROR, &e, 1) < 0)
				return;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "socket", required_argument, 0, 's' },
		{ "keys", required_argument, 0, 'k' }, { "no-up", no_argument, 0, 'n' },
		{ "count", required_argument, 0, 'c' }, { "counter", required_argument, 0, 'C' },
		{ "fixed-counter", no_argument, 0, 'F' }, { 0, 0, 0, 0 } };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = NULL;
	long count = -1;
	int o, lfd;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 's': path = optarg; break;
		case 'k': keydir = optarg; break;
		case 'n': no_up = true; break;
		case 'c': count = atol(optarg); break;
		case 'C': counter = (uint32_t)strtoul(optarg, NULL, 10); counter_set = true; break;
		case 'F': counter_fixed = true; break;
		default: return 2;
		}
	}
	if (!path || !keydir || strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: softfido --socket PATH --keys DIR [--no-up] [--count N] [--counter N] "
			"[--fixed-counter]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);      /* never outlive the test that started us */
	mkdir(keydir, 0700);
	/* Bound and listening under a temporary name, then renamed: a test that
	 * waits for PATH to exist never connects before listen(). */
	char tmp[sizeof(sa.sun_path) + 16];
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	if (strlen(tmp) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "softfido: socket path too long: %s\n", path);
		return 2;
	}
	strcpy(sa.sun_path, tmp);
	unlink(tmp);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4) < 0 || chmod(tmp, 0666) < 0 || rename(tmp, path) < 0) {
		perror("softfido: socket");
		unlink(tmp);
		return 1;
	}
	for (; count != 0; count--) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd);
		close(fd);
	}
	unlink(path);
	return 0;
}
