/* Who may answer which request: approvals.accounts / approvals.rules scopes.
 * The intersection of the account's and the rule's scope; a request nobody can
 * answer (empty intersection, a named approver not enrolled, no credential for
 * an allowed method) is denied at once with the reason; a disallowed method or
 * approver is refused without spending the code.  Real liboath, real files,
 * the real broker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <liboath/oath.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "approve/approve.h"
#include "approve/approve_int.h"        /* this module's own tests: the intersection */

#define ALICE_RAW "12345678901234567890"
#define ALICE_B32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define BOB_RAW "abcdefghijabcdefghij"
#define BOB_B32 "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK"

static char dir[64];

struct got {
	int n;
	enum approve_verdict v;
	char code[64], approver[64], reason[512];
};

/* Synchronous answers only here (deny at submit) or answers given by this
 * thread through approve_resolve: no waiting needed. */
static void done_cb(void *ctx, const struct approve_answer *a)
{
	struct got *g = ctx;

	g->n++;
	g->v = a->verdict;
	snprintf(g->code, sizeof(g->code), "%s", a->error_code ? a->error_code : "");
	snprintf(g->approver, sizeof(g->approver), "%s", a->approver ? a->approver : "");
	snprintf(g->reason, sizeof(g->reason), "%s", a->reason ? a->reason : "");
}

static void write_file(const char *name, const char *data)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static void code_of(const char *raw, char out[8])
{
	assert_int_equal(oath_totp_generate(raw, 20, time(NULL), 30, 0, 6, out), OATH_OK);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/apr-scope.XXXXXX");
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0700);
	oath_init();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* Fresh store for each test: alice has TOTP, bob has TOTP and a (fake, never
 * verified here) security key, carol is not enrolled. */
static int store_reset(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -f %s/*", dir);
	assert_int_equal(system(cmd), 0);
	write_file("alice.totp", ALICE_B32);
	write_file("bob.totp", BOB_B32);
	write_file("u2f_keys", "bob:QUFBQQ==,QkJCQg==,es256,+presence\n");
	return 0;
}

static const char *const m_wa[] = { "webauthn", NULL };
static const char *const m_totp[] = { "totp", NULL };
static const char *const m_both[] = { "webauthn", "totp", NULL };
static const char *const m_confirm[] = { "confirm", "totp", NULL };
static const char *const m_none[] = { NULL };
static const char *const a_ab[] = { "alice", "bob", NULL };
static const char *const a_a[] = { "alice", NULL };
static const char *const a_b[] = { "bob", NULL };
static const char *const a_c[] = { "carol", NULL };

static struct ap_allow allow_of(const struct approve_scope *acct, const struct approve_scope *rule,
				bool confirm)
{
	struct ap_scopes a = { 0 }, r = { 0 };
	struct ap_allow out;
	char err[256];

	if (acct)
		assert_int_equal(ap_scopes_copy(acct, 1, &a, err, sizeof(err)), 0);
	if (rule)
		assert_int_equal(ap_scopes_copy(rule, 1, &r, err, sizeof(err)), 0);
	assert_int_equal(ap_allow_compute(acct ? &a.v[0] : NULL, rule ? &r.v[0] : NULL, confirm, &out), 0);
	ap_scopes_free(&a);
	ap_scopes_free(&r);
	return out;
}

#define MB(m) AP_M_BIT(APPROVE_M_##m)

static void test_intersection(void **state)
{
	struct approve_scope acct = { "agent", m_both, a_ab }, rule = { "push", m_wa, a_a };
	struct ap_allow x;

	(void)state;
	/* nothing configured: TOTP and WebAuthn from anyone; confirm only if human-only */
	x = allow_of(NULL, NULL, false);
	assert_int_equal(x.methods, MB(TOTP) | MB(WEBAUTHN));
	assert_true(x.any);
	ap_allow_free(&x);
	x = allow_of(NULL, NULL, true);
	assert_int_equal(x.methods, MB(TOTP) | MB(WEBAUTHN) | MB(CONFIRM));
	ap_allow_free(&x);
	/* both present: the intersection */
	x = allow_of(&acct, &rule, false);
	assert_int_equal(x.methods, MB(WEBAUTHN));
	assert_false(x.any);
	assert_int_equal(x.n, 1);
	assert_true(ap_allow_name(&x, "alice"));
	assert_false(ap_allow_name(&x, "bob"));
	assert_true(ap_allow_method(&x, APPROVE_M_WEBAUTHN));
	assert_false(ap_allow_method(&x, APPROVE_M_TOTP));
	ap_allow_free(&x);
	/* one side only: that side */
	x = allow_of(NULL, &rule, false);
	assert_int_equal(x.methods, MB(WEBAUTHN));
	assert_int_equal(x.n, 1);
	ap_allow_free(&x);
	x = allow_of(&(struct approve_scope){ "agent", NULL, a_ab }, NULL, false);
	assert_int_equal(x.methods, MB(TOTP) | MB(WEBAUTHN));
	assert_int_equal(x.n, 2);
	ap_allow_free(&x);
	/* disjoint approvers / methods: empty */
	x = allow_of(&(struct approve_scope){ "agent", NULL, a_b }, &(struct approve_scope){ "r", NULL, a_a }, false);
	assert_false(x.any);
	assert_int_equal(x.n, 0);
	ap_allow_free(&x);
	x = allow_of(&(struct approve_scope){ "agent", m_totp, NULL }, &(struct approve_scope){ "r", m_wa, NULL },
		     false);
	assert_int_equal(x.methods, 0);
	ap_allow_free(&x);
	/* confirm listed: still only on human-only sessions */
	x = allow_of(&(struct approve_scope){ "agent", m_confirm, NULL }, NULL, false);
	assert_int_equal(x.methods, MB(TOTP));
	ap_allow_free(&x);
	x = allow_of(&(struct approve_scope){ "agent", m_confirm, NULL }, NULL, true);
	assert_int_equal(x.methods, MB(TOTP) | MB(CONFIRM));
	ap_allow_free(&x);
	/* an empty list allows nothing */
	x = allow_of(&(struct approve_scope){ "agent", m_none, NULL }, NULL, true);
	assert_int_equal(x.methods, 0);
	ap_allow_free(&x);
}

static void test_unknown_method_refused(void **state)
{
	static const char *const bad[] = { "sms", NULL };
	struct approve_scope s = { "agent", bad, NULL };
	struct approve_config c = { .session = "sc0", .approvers_dir = dir, .socket_dir = "",
				    .account = "agent", .account_scopes = &s, .naccount_scopes = 1 };
	struct approve_broker *b = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), -EINVAL);
	assert_null(b);
	assert_non_null(strstr(err, "unknown method 'sms'"));
}

static void test_check_fails_closed(void **state)
{
	struct ap_allow x;
	char err[512];

	(void)state;
	x = allow_of(NULL, &(struct approve_scope){ "push", m_wa, a_a }, false);
	assert_int_equal(ap_allow_check(&x, dir, "agent", false, "push", true, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "has a webauthn credential"));     /* alice has TOTP only */
	ap_allow_free(&x);
	x = allow_of(NULL, &(struct approve_scope){ "push", NULL, a_c }, false);
	assert_int_equal(ap_allow_check(&x, dir, "agent", false, "push", true, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "'carol'"));
	assert_non_null(strstr(err, "not enrolled"));
	ap_allow_free(&x);
	x = allow_of(&(struct approve_scope){ "agent", m_totp, NULL }, &(struct approve_scope){ "push", m_wa, NULL },
		     false);
	assert_int_equal(ap_allow_check(&x, dir, "agent", true, "push", true, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no common method"));
	assert_non_null(strstr(err, "approvals.accounts.agent and approvals.rules.push"));
	ap_allow_free(&x);
	x = allow_of(&(struct approve_scope){ "agent", m_both, a_ab }, &(struct approve_scope){ "push", m_wa, NULL },
		     false);
	assert_int_equal(ap_allow_check(&x, dir, "agent", true, "push", true, err, sizeof(err)), 0);  /* bob */
	ap_allow_free(&x);
}

static struct approve_broker *mk(const struct approve_scope *acct, const struct approve_scope *rule)
{
	struct approve_config c = { .session = "sc1", .session_uid = 4242, .approvers_dir = dir,
				    .socket_dir = "", .account = "agent", .account_scopes = acct,
				    .naccount_scopes = acct ? 1 : 0, .rule_scopes = rule,
				    .nrule_scopes = rule ? 1 : 0 };
	struct approve_broker *b = NULL;
	char err[256];

	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	return b;
}

static struct approve_request req(const char *rule)
{
	return (struct approve_request){ .op = APPROVE_OP_EXEC, .target = "/usr/bin/git", .cmdline = "git push",
					 .pid = 77, .rule = rule, .message = "pushes" };
}

static const struct approve_actor tty = { .uid = (uid_t)-1, .via = "tty" };

static void test_rule_webauthn_only_refuses_totp(void **state)
{
	struct approve_scope rule = { "push", m_wa, NULL };
	struct approve_broker *b = mk(NULL, &rule);
	struct approve_request r = req("push"), other = req("other");
	struct approve_proof p = { .method = APPROVE_M_TOTP };
	struct got g = { 0 }, g2 = { 0 };
	char code[8], err[512] = "", who[64];

	(void)state;
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(g.n, 0);                       /* pending: bob can touch his key */
	assert_int_equal(ap_broker_methods(b, r.id), MB(WEBAUTHN));
	char *js = approve_pending_json(b);
	assert_non_null(strstr(js, "\"methods\":[\"webauthn\"]"));
	free(js);
	char *ch = ap_broker_challenge(b, r.id);
	assert_non_null(strstr(ch, "\"methods\":[\"webauthn\"]"));
	free(ch);
	code_of(ALICE_RAW, code);
	p.totp_code = code;
	assert_int_equal(approve_resolve(b, r.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "totp is not accepted for this request; it accepts only: webauthn"));
	assert_int_equal(g.n, 0);
	/* the same code on a rule without restriction approves: it was not spent */
	assert_int_equal(approve_submit(b, &other, done_cb, &g2), 0);
	assert_int_equal(ap_broker_methods(b, other.id), MB(WEBAUTHN) | MB(TOTP));
	assert_int_equal(approve_resolve(b, other.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), 0);
	assert_int_equal(g2.v, APPROVE_ONCE);
	assert_string_equal(g2.approver, "alice");
	approve_broker_free(b);
	assert_string_equal(g.code, "E_APPROVAL_SESSION_END");
	(void)who;
}

static void test_approver_restriction(void **state)
{
	struct approve_scope acct = { "agent", m_both, a_ab }, rule = { "push", NULL, a_b };
	struct approve_broker *b = mk(&acct, &rule);
	struct approve_request r = req("push");
	struct approve_proof p = { .method = APPROVE_M_TOTP };
	struct got g = { 0 };
	char ca[8], cb[8], err[512] = "", who[64];

	(void)state;
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(g.n, 0);
	code_of(ALICE_RAW, ca);
	code_of(BOB_RAW, cb);
	p.totp_code = ca;                               /* alice may not answer this rule */
	assert_int_equal(approve_resolve(b, r.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EACCES);
	assert_int_equal(g.n, 0);
	p.totp_code = cb;
	assert_int_equal(approve_resolve(b, r.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), 0);
	assert_int_equal(g.v, APPROVE_ONCE);
	assert_string_equal(g.approver, "bob");
	approve_broker_free(b);
	/* alice's refused code was not spent */
	assert_int_equal(ap_totp_check(dir, ca, 1, time(NULL), who, sizeof(who)), 0);
	assert_string_equal(who, "alice");
}

static void test_unanswerable_denied_at_once(void **state)
{
	struct approve_scope acct = { "agent", m_totp, NULL }, rule = { "push", m_wa, NULL };
	struct approve_scope carol = { "push", NULL, a_c };
	struct approve_broker *b = mk(&acct, &rule);
	struct approve_request r = req("push");
	struct got g = { 0 };

	(void)state;
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(g.n, 1);                       /* synchronous */
	assert_int_equal(g.v, APPROVE_DENY);
	assert_string_equal(g.code, "E_APPROVAL_NO_APPROVER");
	assert_non_null(strstr(g.reason, "no common method"));
	approve_broker_free(b);
	/* another account is not restricted by agent's entry */
	memset(&g, 0, sizeof(g));
	b = mk(&carol, NULL);
	r = req("push");
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(g.n, 0);                       /* "push" account scope does not apply: account is agent */
	approve_broker_free(b);
	memset(&g, 0, sizeof(g));
	b = mk(NULL, &carol);
	r = req("push");
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.code, "E_APPROVAL_NO_APPROVER");
	assert_non_null(strstr(g.reason, "approver 'carol'"));
	approve_broker_free(b);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_intersection),
		cmocka_unit_test(test_unknown_method_refused),
		cmocka_unit_test_setup(test_check_fails_closed, store_reset),
		cmocka_unit_test_setup(test_rule_webauthn_only_refuses_totp, store_reset),
		cmocka_unit_test_setup(test_approver_restriction, store_reset),
		cmocka_unit_test_setup(test_unanswerable_denied_at_once, store_reset),
	};
	return cmocka_run_group_tests(t, setup, teardown);
}
