/* Private to approve/: shared between its files, never included elsewhere. */
#ifndef AGENTSH_APPROVE_INT_H
#define AGENTSH_APPROVE_INT_H

#include "approve/approve.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define AP_NAME_MAX 64
#define AP_FAIL_RING 64

/* Bounded formatted message into a caller's buffer (may be NULL). */
void ap_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t ap_now_ms(void);
int ap_name_ok(const char *name);

/* ---- store.c: /etc/agentsh/approvers ----
 * <dir>/<name>.totp   base32 TOTP secret, one line, 0600
 * <dir>/u2f_keys      pam_u2f authfile lines NAME:KH,PK,es256,+presence[:...]
 * <dir>/accounts      optional: Unix accounts allowed to answer, one a line
 * <dir>/totp-replay   accepted (name, step) pairs, so a restart cannot replay */
int ap_store_check(const char *dir, char *err, size_t errlen);
int ap_store_ensure(const char *dir, char *err, size_t errlen);
int ap_store_write_file(const char *dir, const char *file, const char *data, size_t len,
			char *err, size_t errlen);
int ap_store_read_file(const char *dir, const char *file, char **out, size_t *len);
/* Names of every enrolled approver (TOTP or WebAuthn), sorted, deduplicated. */
int ap_store_names(const char *dir, char ***names, size_t *n);
void ap_strv_free(char **v, size_t n);
bool ap_store_has_any(const char *dir);
bool ap_store_account_allowed(const char *dir, const char *account);

struct ap_u2f {
	char name[AP_NAME_MAX];
	char *kh_b64;           /* credential id */
	char *pk_b64;           /* raw public key (x||y for es256) */
	int cose;               /* COSE_ES256 ... */
	bool presence;
};
int ap_u2f_load(const char *dir, struct ap_u2f **out, size_t *n);
void ap_u2f_free(struct ap_u2f *v, size_t n);
int ap_u2f_append(const char *dir, const char *name, const char *kh_b64, const char *pk_b64,
		  const char *cose_name, char *err, size_t errlen);
int ap_u2f_remove(const char *dir, const char *name, int *removed, char *err, size_t errlen);

/* The store's exclusive lock (<dir>/.lock): the fd to close, or -errno. */
int ap_store_lock(const char *dir);
/* Methods name has a credential for: AP_M_BIT(APPROVE_M_TOTP) | ..WEBAUTHN. */
unsigned ap_store_methods_of(const char *dir, const char *name);
/* WebAuthn signature counters (<dir>/u2f-counters, "cred_b64 counter" lines).
 * Under the store lock: refuse (-ESTALE) a counter that is not greater than
 * the stored one when either is non-zero (a cloned or replaying key), else
 * record it.  Counter 0 after 0 (keys without counters) is accepted. */
int ap_counter_check(const char *dir, const char *cred_b64, uint32_t counter, uint32_t *stored);

/* ---- scope.c: who may answer which request ---- */
#define AP_M_BIT(m) (1u << (m))
#define AP_M_ALL (AP_M_BIT(APPROVE_M_TOTP) | AP_M_BIT(APPROVE_M_WEBAUTHN) | AP_M_BIT(APPROVE_M_CONFIRM))
struct ap_scope {
	char *name;
	unsigned methods;               /* AP_M_BIT mask; AP_M_ALL when unrestricted */
	bool any;                       /* no approver restriction */
	char **names;                   /* else these (n of them) */
	size_t n;
};
struct ap_scopes {
	struct ap_scope *v;
	size_t n;
};
/* What one request accepts. */
struct ap_allow {
	unsigned methods;
	bool any;
	char **names;
	size_t n;
};
int ap_scopes_copy(const struct approve_scope *in, size_t n, struct ap_scopes *out, char *err,
		   size_t errlen);
void ap_scopes_free(struct ap_scopes *s);
const struct ap_scope *ap_scopes_find(const struct ap_scopes *s, const char *name);
/* Intersection (either scope may be NULL); confirm only when allow_confirm. */
int ap_allow_compute(const struct ap_scope *acct, const struct ap_scope *rule, bool allow_confirm,
		     struct ap_allow *out);
int ap_allow_copy(const struct ap_allow *in, struct ap_allow *out);
void ap_allow_free(struct ap_allow *a);
bool ap_allow_name(const struct ap_allow *a, const char *name);
bool ap_allow_method(const struct ap_allow *a, enum approve_method m);
/* "webauthn, totp" ("none" when empty). */
void ap_allow_methods_str(const struct ap_allow *a, char *buf, size_t n);
/* Can anybody answer?  0, or -ENOENT with the reason in err. */
int ap_allow_check(const struct ap_allow *a, const char *dir, const char *acct, bool has_acct,
		   const char *rule, bool has_rule, char *err, size_t errlen);

/* ---- totp.c ---- */
/* Check code against every enrolled TOTP secret at time now.  0: accepted (name
 * set, step recorded in the replay cache); -EACCES: no secret matches;
 * -EALREADY: matched but already used; -ENOENT: no TOTP approver. */
int ap_totp_check(const char *dir, const char *code, unsigned window, time_t now,
		  char *name, size_t namelen);
/* The same, trying only the approvers allow admits (NULL: everyone). */
int ap_totp_check_allowed(const char *dir, const char *code, unsigned window, time_t now,
			  const struct ap_allow *allow, char *name, size_t namelen);
int ap_totp_generate_secret(char **b32);

/* ---- webauthn.c ---- */
/* Verify against the enrolled keys of the approvers allow admits (NULL:
 * all), then the key's signature counter (ap_counter_check). */
int ap_webauthn_verify(const char *dir, const unsigned char digest[32], const char *assertion_json,
		       const struct ap_allow *allow, char *name, size_t namelen, char *err, size_t errlen);
/* Challenge JSON for one request: id, session, op, target, rule, rp, cdh,
 * methods, allow list (only credentials of approvers allow admits; NULL: all). */
char *ap_challenge_json(const char *dir, const char *id, const char *session, enum approve_op op,
			const char *target, const char *rule, const char *cmdline, const char *message,
			const struct ap_allow *allow);
int ap_webauthn_enroll(const char *dir, const char *name, const char *device, char *err, size_t errlen);
/* Open an authenticator: "unix:/path" speaks to tests/tools/softfido. */
struct fido_dev;
int ap_fido_open(const char *device, struct fido_dev **out, char *err, size_t errlen);
void ap_fido_close(struct fido_dev *d);

/* ---- qr.c ---- */
/* -ENOSYS (reason in err) when libqrencode cannot be loaded. */
int ap_qr_print(FILE *f, const char *text, char *err, size_t errlen);

/* ---- broker.c internals used by server.c and prompt.c ---- */
const char *ap_broker_dir(const struct approve_broker *b);
const char *ap_broker_session(const struct approve_broker *b);
bool ap_broker_confirm_allowed(const struct approve_broker *b);
/* Methods the pending request id accepts (AP_M_BIT mask; 0 if not pending). */
unsigned ap_broker_methods(struct approve_broker *b, const char *id);
/* challenge JSON of one pending request, NULL if not pending */
char *ap_broker_challenge(struct approve_broker *b, const char *id);
bool ap_broker_is_pending(struct approve_broker *b, const char *id);
/* Audit a request refused on the socket before any proof was looked at. */
void ap_broker_audit_refusal(struct approve_broker *b, const char *id, uid_t uid, const char *why);
bool ap_broker_actor_allowed(const struct approve_broker *b, uid_t uid, char *err, size_t errlen);

/* ---- server.c: the per-session approval socket ---- */
struct ap_server;
int ap_server_start(struct approve_broker *b, const char *dir, const char *session,
		    struct ap_server **out, char *err, size_t errlen);
void ap_server_stop(struct ap_server *s);

/* ---- audit.c ---- */
void ap_audit_request(struct audit *a, const struct approve_request *r);
void ap_audit_answer(struct audit *a, const char *session, const struct approve_answer *ans,
		     const char *target, const char *rule, enum approve_op op);
void ap_audit_failed(struct audit *a, const char *session, const char *id, const char *via,
		     uid_t uid, enum approve_method m, const char *why);

#endif
