/* WebAuthn/FIDO2 approvals end to end through libfido2 and a software CTAP2
 * authenticator (tests/tools/softfido, a separate process on a unix socket):
 * enrollment writes a pam_u2f record; an assertion approves exactly the request
 * it was made for; another request, an unenrolled key, a missing user-presence
 * flag and a tampered challenge are each refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "approve/approve.h"
#include "approve/approve_int.h"        /* this module's own tests: challenge JSON */

static char tmp[64], dir[96], dir2[96], keys[96], keys2[96], sock[96], sock_noup[96], sock2[96];
static pid_t fido[3];

static pid_t start_softfido(const char *s, const char *k, bool no_up)
{
	const char *b = getenv("AGENTSH_BUILD");
	char bin[256];
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/tests/tools/softfido", b ? b : "build");
	if (access(bin, X_OK) != 0) {
		/* sanitizer builds share the normal build's tool */
		snprintf(bin, sizeof(bin), "build/tests/tools/softfido");
		if (access(bin, X_OK) != 0)
			fail_msg("softfido not built (make %s/tests/tools/softfido)", b ? b : "build");
	}
	if ((pid = fork()) == 0) {
		execl(bin, "softfido", "--socket", s, "--keys", k, no_up ? "--no-up" : NULL, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && access(s, F_OK) != 0; i++)
		usleep(10000);
	assert_int_equal(access(s, F_OK), 0);
	return pid;
}

static int enroll(const char *d, const char *s, const char *name)
{
	char dev[128];
	char *argv[] = { "approver", "add", (char *)name, "--webauthn", "--dir", (char *)d, "--device", dev, NULL };

	snprintf(dev, sizeof(dev), "unix:%s", s);
	return approve_approver_cli(8, argv);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/apr-wa.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(dir, sizeof(dir), "%s/approvers", tmp);
	snprintf(dir2, sizeof(dir2), "%s/other-host", tmp);
	snprintf(keys, sizeof(keys), "%s/keys", tmp);
	snprintf(keys2, sizeof(keys2), "%s/keys2", tmp);
	snprintf(sock, sizeof(sock), "%s/fido.sock", tmp);
	snprintf(sock_noup, sizeof(sock_noup), "%s/fido-noup.sock", tmp);
	snprintf(sock2, sizeof(sock2), "%s/fido2.sock", tmp);
	fido[0] = start_softfido(sock, keys, false);
	fido[1] = start_softfido(sock_noup, keys, true);
	fido[2] = start_softfido(sock2, keys2, false);
	assert_int_equal(enroll(dir, sock, "bob"), 0);
	assert_int_equal(enroll(dir2, sock2, "eve"), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	for (int i = 0; i < 3; i++)
		if (fido[i] > 0) {
			kill(fido[i], SIGTERM);
			waitpid(fido[i], NULL, 0);
		}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd);
}

struct got {
	int n;
	enum approve_verdict v;
	enum approve_method m;
	char approver[64];
};

static void done_cb(void *ctx, const struct approve_answer *a)
{
	struct got *g = ctx;

	g->n++;
	g->v = a->verdict;
	g->m = a->method;
	snprintf(g->approver, sizeof(g->approver), "%s", a->approver);
}

static const struct approve_actor tty = { .uid = (uid_t)-1, .via = "tty" };

static char *sign_for(struct approve_broker *b, const char *id, const char *device)
{
	char *ch = ap_broker_challenge(b, id), *as = NULL, err[512] = "", dev[128];
	int rc;

	assert_non_null(ch);
	snprintf(dev, sizeof(dev), "unix:%s", device);
	rc = approve_webauthn_sign(ch, dev, &as, err, sizeof(err));
	if (rc < 0)
		print_error("sign: %s\n", err);
	assert_int_equal(rc, 0);
	free(ch);
	return as;
}

static void test_pam_u2f_record(void **state)
{
	char path[160], line[1024];
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/u2f_keys", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	/* NAME:KeyHandle,PublicKey,CoseType,Options */
	assert_int_equal(strncmp(line, "bob:", 4), 0);
	assert_non_null(strstr(line, ",es256,+presence"));
}

static void test_assertion_binds_request(void **state)
{
	struct approve_config c = { .session = "wa1", .session_uid = 4242, .approvers_dir = dir, .socket_dir = "" };
	struct approve_broker *b;
	struct approve_request r1 = { .op = APPROVE_OP_FILE, .target = "/etc/shadow", .rule = "ask" };
	struct approve_request r2 = { .op = APPROVE_OP_FILE, .target = "/etc/passwd", .rule = "ask" };
	struct got g1 = { 0 }, g2 = { 0 };
	struct approve_proof p = { .method = APPROVE_M_WEBAUTHN };
	char err[512], *as;

	(void)state;
	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	assert_int_equal(approve_submit(b, &r1, done_cb, &g1), 0);
	assert_int_equal(approve_submit(b, &r2, done_cb, &g2), 0);
	as = sign_for(b, r1.id, sock);
	p.assertion_json = as;
	/* r1's signature cannot approve r2 */
	assert_int_equal(approve_resolve(b, r2.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EACCES);
	assert_int_equal(g2.n, 0);
	assert_int_equal(approve_resolve(b, r1.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), 0);
	assert_int_equal(g1.n, 1);
	assert_int_equal(g1.v, APPROVE_ONCE);
	assert_int_equal(g1.m, APPROVE_M_WEBAUTHN);
	assert_string_equal(g1.approver, "bob");
	free(as);
	approve_broker_free(b);
	assert_int_equal(g2.v, APPROVE_DENY);
}

static void test_no_user_presence_refused(void **state)
{
	struct approve_config c = { .session = "wa2", .session_uid = 4242, .approvers_dir = dir, .socket_dir = "" };
	struct approve_broker *b;
	struct approve_request r = { .op = APPROVE_OP_EXEC, .target = "/usr/bin/rm", .rule = "ask" };
	struct got g = { 0 };
	struct approve_proof p = { .method = APPROVE_M_WEBAUTHN };
	char err[512], *as;

	(void)state;
	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	as = sign_for(b, r.id, sock_noup);      /* same key, UP flag clear */
	p.assertion_json = as;
	assert_int_equal(approve_resolve(b, r.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EACCES);
	assert_int_equal(g.n, 0);
	free(as);
	/* the same key, touched, works */
	as = sign_for(b, r.id, sock);
	p.assertion_json = as;
	assert_int_equal(approve_resolve(b, r.id, APPROVE_SESSION, &p, &tty, err, sizeof(err)), 0);
	assert_int_equal(g.v, APPROVE_SESSION);
	free(as);
	approve_broker_free(b);
}

static void test_unenrolled_key_refused(void **state)
{
	struct approve_config c = { .session = "wa3", .session_uid = 4242, .approvers_dir = dir, .socket_dir = "" };
	struct approve_broker *b;
	struct approve_request r = { .op = APPROVE_OP_NET, .target = "10.0.0.1:22", .rule = "ask" };
	struct got g = { 0 };
	struct approve_proof p = { .method = APPROVE_M_WEBAUTHN };
	char err[512] = "", *as = NULL, *ch, dev[128];

	(void)state;
	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	/* eve's key, enrolled elsewhere, signs this very request */
	ch = ap_challenge_json(dir2, r.id, "wa3", r.op, r.target, r.rule, "", "", NULL);
	snprintf(dev, sizeof(dev), "unix:%s", sock2);
	assert_int_equal(approve_webauthn_sign(ch, dev, &as, err, sizeof(err)), 0);
	p.assertion_json = as;
	assert_int_equal(approve_resolve(b, r.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "not enrolled"));
	/* garbage is refused too */
	p.assertion_json = "{\"cred\":\"AAAA\",\"authdata\":\"AAAA\",\"sig\":\"AAAA\"}";
	assert_int_equal(approve_resolve(b, r.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EACCES);
	assert_int_equal(g.n, 0);
	free(ch);
	free(as);
	approve_broker_free(b);
}

static void test_tampered_challenge_not_signed(void **state)
{
	char *ch = ap_challenge_json(dir, "apr-x-1", "x", APPROVE_OP_EXEC, "/bin/true", "r", "", "", NULL);
	char *bad, *as = NULL, err[512] = "", dev[128], *p;

	(void)state;
	assert_non_null(ch);
	/* what the human is shown differs from what the hash covers */
	bad = strdup(ch);
	assert_non_null(p = strstr(bad, "/bin/true"));
	memcpy(p, "/bin/fals", 9);
	snprintf(dev, sizeof(dev), "unix:%s", sock);
	assert_int_equal(approve_webauthn_sign(bad, dev, &as, err, sizeof(err)), -EINVAL);
	assert_null(as);
	assert_non_null(strstr(err, "does not match"));
	free(bad);
	free(ch);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_pam_u2f_record),
		cmocka_unit_test(test_assertion_binds_request),
		cmocka_unit_test(test_no_user_presence_refused),
		cmocka_unit_test(test_unenrolled_key_refused),
		cmocka_unit_test(test_tampered_challenge_not_signed),
	};
	if (getuid() != 0) {
		printf("SKIP: approver enrollment is root-only; run as root\n");
		return 77;
	}
	return cmocka_run_group_tests(t, setup, teardown);
}
