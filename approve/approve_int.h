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

/* ---- totp.c ---- */
/* Check code against every enrolled TOTP secret at time now.  0: accepted (name
 * set, step recorded in the replay cache); -EACCES: no secret matches;
 * -EALREADY: matched but already used; -ENOENT: no TOTP approver. */
int ap_totp_check(const char *dir, const char *code, unsigned window, time_t now,
		  char *name, size_t namelen);
int ap_totp_generate_secret(char **b32);

/* ---- webauthn.c ---- */
int ap_webauthn_verify(const char *dir, const unsigned char digest[32], const char *assertion_json,
		       char *name, size_t namelen, char *err, size_t errlen);
/* Challenge JSON for one request: id, session, op, target, rule, rp, cdh, allow list. */
char *ap_challenge_json(const char *dir, const char *id, const char *session, enum approve_op op,
			const char *target, const char *rule, const char *cmdline, const char *message);
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
