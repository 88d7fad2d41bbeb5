/* WebAuthn/FIDO2 with libfido2: enrollment (make credential, pam_u2f record),
 * signing on the approver's side and verification on the host.  The assertion's
 * clientDataHash is approve_request_digest() of the request, recomputed by the
 * verifier from its own pending entry: a signature made for one request cannot
 * approve another.  User presence is required. */
#include "approve/approve_int.h"
#include "approve/lazylib_int.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static char *b64_enc(const unsigned char *p, size_t n)
{
	char *s = malloc(4 * ((n + 2) / 3) + 1);

	if (s)
		EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

/* Decode standard base64; returns malloc'd bytes or NULL. */
static unsigned char *b64_dec(const char *s, size_t *n)
{
	size_t len = s ? strlen(s) : 0;
	unsigned char *out;
	int r;

	if (!len || len % 4 || !(out = malloc(len / 4 * 3 + 1)))
		return NULL;
	if ((r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len)) < 0) {
		free(out);
		return NULL;
	}
	*n = (size_t)r - (s[len - 1] == '=') - (s[len - 2] == '=');
	return out;
}

static json_t *methods_json(const struct ap_allow *allow)
{
	static const enum approve_method ms[] = { APPROVE_M_WEBAUTHN, APPROVE_M_TOTP, APPROVE_M_CONFIRM };
	json_t *a = json_array();

	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		if (!allow || ap_allow_method(allow, ms[i]))
			json_array_append_new(a, json_string(approve_method_name(ms[i])));
	return a;
}

char *ap_challenge_json(const char *dir, const char *id, const char *session, enum approve_op op,
			const char *target, const char *rule, const char *cmdline, const char *message,
			const struct ap_allow *allowed)
{
	unsigned char digest[32];
	struct ap_u2f *u = NULL;
	size_t nu = 0;
	json_t *allow = json_array(), *o;
	char *cdh, *s;

	if (approve_request_digest(id, session, op, target, rule, digest) < 0)
		return NULL;
	if (ap_u2f_load(dir, &u, &nu) == 0)
		for (size_t i = 0; i < nu; i++)
			if (!allowed || (ap_allow_method(allowed, APPROVE_M_WEBAUTHN) &&
					 ap_allow_name(allowed, u[i].name)))
				json_array_append_new(allow, json_pack("{s:s, s:s}", "name", u[i].name,
								       "cred", u[i].kh_b64));
	ap_u2f_free(u, nu);
	cdh = b64_enc(digest, sizeof(digest));
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:o}", "v", 1, "rp",
		      APPROVE_RP_ID, "id", id, "session", session, "op", approve_op_name(op), "target",
		      target ? target : "", "rule", rule ? rule : "", "command", cmdline ? cmdline : "",
		      "message", message ? message : "", "client_data_hash", cdh, "allow", allow,
		      "methods", methods_json(allowed));
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	free(cdh);
	return s;
}

/* ---- verification (host side) ---- */

static int verify_with(const struct ap_u2f *c, const unsigned char digest[32], const unsigned char *ad,
		       size_t adn, const unsigned char *sig, size_t sign, uint32_t *sigcount)
{
	unsigned char *pk;
	size_t pkn = 0;
	fido_assert_t *a = fido_assert_new();
	es256_pk_t *es = NULL;
	eddsa_pk_t *ed = NULL;
	const void *key = NULL;
	int r = FIDO_ERR_INVALID_ARGUMENT;

	if (!a || !(pk = b64_dec(c->pk_b64, &pkn))) {
		fido_assert_free(&a);
		return -EINVAL;
	}
	if (c->cose == COSE_ES256 && (es = es256_pk_new()) && es256_pk_from_ptr(es, pk, pkn) == FIDO_OK)
		key = es;
	else if (c->cose == COSE_EDDSA && (ed = eddsa_pk_new()) && eddsa_pk_from_ptr(ed, pk, pkn) == FIDO_OK)
		key = ed;
	if (key && fido_assert_set_rp(a, APPROVE_RP_ID) == FIDO_OK &&
	    fido_assert_set_clientdata_hash(a, digest, 32) == FIDO_OK &&
	    fido_assert_set_count(a, 1) == FIDO_OK &&
	    fido_assert_set_authdata(a, 0, ad, adn) == FIDO_OK &&
	    fido_assert_set_sig(a, 0, sig, sign) == FIDO_OK &&
	    fido_assert_set_up(a, FIDO_OPT_TRUE) == FIDO_OK &&
	    fido_assert_set_uv(a, FIDO_OPT_OMIT) == FIDO_OK)
		r = fido_assert_verify(a, 0, c->cose, key);
	*sigcount = r == FIDO_OK ? fido_assert_sigcount(a, 0) : 0;
	es256_pk_free(&es);
	eddsa_pk_free(&ed);
	fido_assert_free(&a);
	free(pk);
	return r == FIDO_OK ? 0 : -EACCES;
}

/* After the signature verified: the counter must move forward (counter.c). */
static int counter_ok(const char *dir, const struct ap_u2f *c, uint32_t count, char *err, size_t errlen)
{
	uint32_t stored = 0;
	int rc = ap_counter_check(dir, c->kh_b64, count, &stored);

	if (rc == -ESTALE)
		ap_err(err, errlen, "refused: the security key of '%s' sent signature counter %lu, not above "
		       "the %lu seen before; the key may have been cloned (re-enroll it if it was reset)",
		       c->name, (unsigned long)count, (unsigned long)stored);
	else if (rc < 0)
		ap_err(err, errlen, "cannot check the security key's signature counter in %s: %s", dir,
		       strerror(-rc));
	return rc < 0 ? -EACCES : 0;
}

int ap_webauthn_verify(const char *dir, const unsigned char digest[32], const char *assertion_json,
		       const struct ap_allow *allow, char *name, size_t namelen, char *err, size_t errlen)
{
	json_t *o = assertion_json ? json_loads(assertion_json, 0, NULL) : NULL;
	const char *cred = NULL, *ad64 = NULL, *sig64 = NULL;
	unsigned char *ad = NULL, *sig = NULL;
	size_t adn = 0, sign = 0, nu = 0;
	struct ap_u2f *u = NULL;
	const struct ap_u2f *hit = NULL, *barred = NULL;
	uint32_t count = 0;
	int rc = -EACCES;
	bool known = false;

	if ((rc = ap_fido_load(err, errlen)) < 0)
		goto out;
	rc = -EACCES;
	if (!o || json_unpack(o, "{s:s, s:s, s:s}", "cred", &cred, "authdata", &ad64, "sig", &sig64) < 0 ||
	    !(ad = b64_dec(ad64, &adn)) || !(sig = b64_dec(sig64, &sign))) {
		ap_err(err, errlen, "the security-key answer is malformed (expected JSON with cred, "
		       "authdata, sig)");
		goto out;
	}
	if (ap_u2f_load(dir, &u, &nu) < 0)
		nu = 0;
	for (size_t i = 0; i < nu && rc < 0; i++) {
		if (strcmp(u[i].kh_b64, cred) != 0)
			continue;
		if (allow && !ap_allow_name(allow, u[i].name)) {
			barred = &u[i];
			continue;
		}
		known = true;
		if ((rc = verify_with(&u[i], digest, ad, adn, sig, sign, &count)) == 0)
			hit = &u[i];
	}
	if (hit && (rc = counter_ok(dir, hit, count, err, errlen)) == 0)
		snprintf(name, namelen, "%s", hit->name);
	else if (!known && barred)
		ap_err(err, errlen, "that security key belongs to '%s', who may not answer this request "
		       "(see approvals.accounts / approvals.rules in the configuration)", barred->name);
	else if (!known)
		ap_err(err, errlen, "that security key is not enrolled; enroll it as root with "
		       "'agentsh approver add NAME --webauthn'");
	else if (!hit)
		ap_err(err, errlen, "the security-key signature does not verify for this request "
		       "(wrong request, no user presence, or a different key)");
out:
	free(ad);
	free(sig);
	ap_u2f_free(u, nu);
	json_decref(o);
	return rc;
}

/* ---- signing (approver side) ---- */

static int challenge_digest(json_t *c, unsigned char digest[32], const char **id, char *err, size_t errlen)
{
	const char *session, *op, *target, *rule, *cdh = NULL;
	enum approve_op o;
	unsigned char *given;
	size_t n = 0;
	int same;

	if (json_unpack(c, "{s:s, s:s, s:s, s:s, s:s, s?s}", "id", id, "session", &session, "op", &op,
			"target", &target, "rule", &rule, "client_data_hash", &cdh) < 0 ||
	    approve_op_parse(op, &o) < 0 || approve_request_digest(*id, session, o, target, rule, digest) < 0) {
		ap_err(err, errlen, "the approval challenge is malformed");
		return -EINVAL;
	}
	/* What the human saw is what gets signed: recompute, never trust the hash sent. */
	if (cdh) {
		given = b64_dec(cdh, &n);
		same = given && n == 32 && memcmp(given, digest, 32) == 0;
		free(given);
		if (!same) {
			ap_err(err, errlen, "the challenge's hash does not match the request it describes; refusing to sign");
			return -EINVAL;
		}
	}
	return 0;
}

static int allow_list(fido_assert_t *a, json_t *c)
{
	json_t *allow = json_object_get(c, "allow"), *e;
	size_t i;

	json_array_foreach(allow, i, e) {
		unsigned char *id;
		size_t n = 0;
		if (!(id = b64_dec(json_string_value(json_object_get(e, "cred")), &n)))
			continue;
		fido_assert_allow_cred(a, id, n);
		free(id);
	}
	return json_array_size(allow) ? 0 : -ENOENT;
}

static char *assertion_json(fido_assert_t *a, const char *id)
{
	char *cred = b64_enc(fido_assert_id_ptr(a, 0), fido_assert_id_len(a, 0));
	char *ad = b64_enc(fido_assert_authdata_ptr(a, 0), fido_assert_authdata_len(a, 0));
	char *sig = b64_enc(fido_assert_sig_ptr(a, 0), fido_assert_sig_len(a, 0));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "cred", cred ? cred : "",
			      "authdata", ad ? ad : "", "sig", sig ? sig : "");
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	free(cred);
	free(ad);
	free(sig);
	return s;
}

int approve_webauthn_sign(const char *challenge_json, const char *device, char **out,
			  char *err, size_t errlen)
{
	json_t *c = challenge_json ? json_loads(challenge_json, 0, NULL) : NULL;
	unsigned char digest[32];
	const char *id = NULL;
	fido_assert_t *a = NULL;
	fido_dev_t *d = NULL;
	int rc = -EINVAL, r;

	*out = NULL;
	if ((r = ap_fido_load(err, errlen)) < 0) {
		json_decref(c);
		return r;
	}
	if (!c || challenge_digest(c, digest, &id, err, errlen) < 0)
		goto out;
	if (!(a = fido_assert_new()) || fido_assert_set_rp(a, APPROVE_RP_ID) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(a, digest, 32) != FIDO_OK ||
	    fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK) {
		rc = -ENOMEM;
		goto out;
	}
	if (allow_list(a, c) < 0) {
		ap_err(err, errlen, "no security key is enrolled on the host; enroll one as root with "
		       "'agentsh approver add NAME --webauthn'");
		rc = -ENOENT;
		goto out;
	}
	if ((rc = ap_fido_open(device, &d, err, errlen)) < 0)
		goto out;
	if ((r = fido_dev_get_assert(d, a, NULL)) != FIDO_OK || fido_assert_count(a) < 1) {
		ap_err(err, errlen, "the security key did not sign: %s (is it an enrolled key? was "
		       "it touched?)", fido_strerr(r));
		rc = -EACCES;
		goto out;
	}
	rc = (*out = assertion_json(a, id)) ? 0 : -ENOMEM;
out:
	ap_fido_close(d);
	fido_assert_free(&a);
	json_decref(c);
	return rc;
}

/* ---- enrollment ---- */

static int cred_make(fido_dev_t *d, const char *name, fido_cred_t *cred, char *err, size_t errlen)
{
	unsigned char cdh[32];
	int r;

	if (getrandom(cdh, sizeof(cdh), 0) != (ssize_t)sizeof(cdh))
		return -EIO;
	if (fido_cred_set_type(cred, COSE_ES256) != FIDO_OK ||
	    fido_cred_set_clientdata_hash(cred, cdh, sizeof(cdh)) != FIDO_OK ||
	    fido_cred_set_rp(cred, APPROVE_RP_ID, "agentsh approvals") != FIDO_OK ||
	    fido_cred_set_user(cred, (const unsigned char *)name, strlen(name), name, name, NULL) != FIDO_OK)
		return -EINVAL;
	if ((r = fido_dev_make_cred(d, cred, NULL)) != FIDO_OK) {
		ap_err(err, errlen, "the security key did not create a credential: %s", fido_strerr(r));
		return -EACCES;
	}
	/* Real keys attest with a certificate; software/self attestation has none. */
	r = fido_cred_x5c_ptr(cred) ? fido_cred_verify(cred) : fido_cred_verify_self(cred);
	if (r != FIDO_OK) {
		ap_err(err, errlen, "the security key's attestation does not verify: %s", fido_strerr(r));
		return -EACCES;
	}
	return 0;
}

int ap_webauthn_enroll(const char *dir, const char *name, const char *device, char *err, size_t errlen)
{
	fido_cred_t *cred;
	fido_dev_t *d = NULL;
	char *kh = NULL, *pk = NULL;
	int rc;

	if ((rc = ap_fido_load(err, errlen)) < 0)
		return rc;
	if (!(cred = fido_cred_new()))
		return -ENOMEM;
	if ((rc = ap_fido_open(device, &d, err, errlen)) < 0)
		goto out;
	fprintf(stderr, "agentsh: touch the security key to enroll '%s'\n", name);
	if ((rc = cred_make(d, name, cred, err, errlen)) < 0)
		goto out;
	kh = b64_enc(fido_cred_id_ptr(cred), fido_cred_id_len(cred));
	pk = b64_enc(fido_cred_pubkey_ptr(cred), fido_cred_pubkey_len(cred));
	rc = kh && pk ? ap_u2f_append(dir, name, kh, pk, "es256", err, errlen) : -ENOMEM;
out:
	free(kh);
	free(pk);
	ap_fido_close(d);
	fido_cred_free(&cred);
	return rc;
}
