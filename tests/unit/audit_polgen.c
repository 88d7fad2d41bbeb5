/* policy generate: the generated policy loads and lints clean with the real
 * policy module, allows every operation the session was observed doing, and
 * refuses what it did not do (and what was refused during the session). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "policy/policy.h"

static char dir[64], db[128];

struct obs { enum audit_type t; const char *op, *path, *path2, *dns, *addr; int port; enum audit_decision d; };

static const struct obs session[] = {
	{ AUDIT_EXEC, "execve", "/usr/bin/make", NULL, NULL, NULL, -1, AUDIT_DEC_ALLOW },
	{ AUDIT_EXEC, "execve", "/usr/bin/cc", NULL, NULL, NULL, -1, AUDIT_DEC_ALLOW },
	{ AUDIT_EXEC, "execve", "/usr/bin/curl", NULL, NULL, NULL, -1, AUDIT_DEC_DENY },
	{ AUDIT_FILE, "write", "/work/build/a.o", NULL, NULL, NULL, -1, AUDIT_DEC_ALLOW },
	{ AUDIT_FILE, "write", "/work/build/b.o", NULL, NULL, NULL, -1, AUDIT_DEC_ALLOW },
	{ AUDIT_FILE, "create", "/work/build/c.o", NULL, NULL, NULL, -1, AUDIT_DEC_ALLOW },
	{ AUDIT_FILE, "write", "/work/build/d.o", NULL, NULL, NULL, -1, AUDIT_DEC_ALLOW },
	{ AUDIT_FILE, "write", "/work/build/e.o", NULL, NULL, NULL, -1, AUDIT_DEC_ALLOW },
	{ AUDIT_FILE, "read", "/work/build/secret.key", NULL, NULL, NULL, -1, AUDIT_DEC_DENY },
	{ AUDIT_FILE, "create", "/work/log.txt", NULL, NULL, NULL, -1, AUDIT_DEC_ALLOW },
	{ AUDIT_FILE, "rename", "/work/tmp.txt", "/work/final.txt", NULL, NULL, -1, AUDIT_DEC_ALLOW },
	{ AUDIT_FILE, "unlink", "/work/old.txt", NULL, NULL, NULL, -1, AUDIT_DEC_ALLOW },
	{ AUDIT_FILE, "read", "/home/agent/.ssh/id_rsa", NULL, NULL, NULL, -1, AUDIT_DEC_DENY },
	{ AUDIT_NETWORK, "connect", NULL, NULL, "api.github.com", "140.82.112.3", 443, AUDIT_DEC_ALLOW },
	{ AUDIT_NETWORK, "connect", NULL, NULL, "codeload.github.com", "140.82.112.4", 443, AUDIT_DEC_ALLOW },
	{ AUDIT_NETWORK, "connect", NULL, NULL, "pypi.org", "151.101.0.223", 443, AUDIT_DEC_ALLOW },
	{ AUDIT_NETWORK, "connect", NULL, NULL, NULL, "10.1.2.3", 8080, AUDIT_DEC_ALLOW },
	{ AUDIT_NETWORK, "connect", NULL, NULL, "evil.example", "6.6.6.6", 443, AUDIT_DEC_DENY },
	{ AUDIT_UNIX_SOCKET, "connect", "/run/app.sock", NULL, NULL, NULL, -1, AUDIT_DEC_ALLOW },
};

static char *generate(void)
{
	snprintf(dir, sizeof dir, "/tmp/audit-polgen.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof db, "%s/audit.db", dir);
	struct audit *a;
	struct audit_opts o = { .session_id = "s-gen" };
	assert_int_equal(audit_open(db, &o, &a), 0);
	for (size_t i = 0; i < sizeof session / sizeof session[0]; i++) {
		const struct obs *s = &session[i];
		struct audit_event ev = AUDIT_EVENT_INIT(s->t);
		ev.operation = s->op;
		ev.path = s->path;
		ev.path2 = s->path2;
		ev.dns_name = s->dns;
		ev.address = s->addr;
		ev.port = s->port;
		ev.decision = ev.effective = s->d;
		ev.rule = s->d == AUDIT_DEC_DENY ? "observed-deny" : "audit-all";
		assert_int_equal(audit_emit(a, &ev), 0);
	}
	audit_close(a);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct audit_cli_env env = { .db_path = db, .out = out, .err = stderr };
	char *argv[] = { "generate", "s-gen", "--name", "locked", "--threshold", "5", NULL };
	assert_int_equal(policy_generate_cli(6, argv, &env), 0);
	fclose(out);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return buf;
}

static struct policy *load(const char *text)
{
	struct policy_vars v = { .home = "/home/agent", .workspace = "/work", .project_root = "/work",
				 .tmpdir = "/tmp", .user = "agent" };
	struct policy_diags d;
	struct policy *p = NULL;
	policy_diags_init(&d);
	int rc = policy_load_buffer(text, strlen(text), "<generated>", &v, &p, &d);
	if (!rc)
		policy_lint(p, NULL, &d);
	if (d.n) {
		policy_diags_print(&d, stderr);
		fprintf(stderr, "%s", text);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 0);
	policy_diags_free(&d);
	return p;
}

static enum policy_decision file(struct policy *p, enum policy_file_op op, const char *path)
{
	struct policy_result r;
	assert_int_equal(policy_check_file(p, op, path, &r), 0);
	return r.decision;
}

static enum policy_decision exec_(struct policy *p, const char *path)
{
	struct policy_result r;
	const char *argv[] = { path };
	assert_int_equal(policy_check_exec(p, path, 1, argv, &r), 0);
	return r.decision;
}

static enum policy_decision net(struct policy *p, const char *name, const char *ip, int port)
{
	struct policy_result r;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, ip, &sa.sin_addr);
	assert_int_equal(policy_check_net(p, (struct sockaddr *)&sa, name, &r), 0);
	return r.decision;
}

static void test_generated_policy(void **state)
{
	(void)state;
	char *text = generate();
	struct policy *p = load(text);
	/* observed: allowed */
	assert_int_equal(exec_(p, "/usr/bin/make"), POLICY_ALLOW);
	assert_int_equal(exec_(p, "/usr/bin/cc"), POLICY_ALLOW);
	assert_int_equal(file(p, POLICY_FILE_WRITE, "/work/build/a.o"), POLICY_ALLOW);
	assert_int_equal(file(p, POLICY_FILE_CREATE, "/work/log.txt"), POLICY_ALLOW);
	assert_int_equal(file(p, POLICY_FILE_RENAME, "/work/tmp.txt"), POLICY_ALLOW);
	assert_int_equal(file(p, POLICY_FILE_RENAME, "/work/final.txt"), POLICY_ALLOW);
	assert_int_equal(file(p, POLICY_FILE_DELETE, "/work/old.txt"), POLICY_ALLOW);
	assert_int_equal(net(p, "api.github.com", "140.82.112.3", 443), POLICY_ALLOW);
	assert_int_equal(net(p, "pypi.org", "151.101.0.223", 443), POLICY_ALLOW);
	assert_int_equal(net(p, NULL, "10.1.2.3", 8080), POLICY_ALLOW);
	struct policy_result r;
	assert_int_equal(policy_check_unix(p, POLICY_UNIX_CONNECT, "/run/app.sock", false, &r), 0);
	assert_int_equal(r.decision, POLICY_ALLOW);
	/* grouped: the directory past the threshold, sibling subdomains */
	assert_int_equal(file(p, POLICY_FILE_WRITE, "/work/build/z.o"), POLICY_ALLOW);
	assert_int_equal(net(p, "objects.github.com", "140.82.112.5", 443), POLICY_ALLOW);
	/* not observed: refused */
	assert_int_equal(exec_(p, "/usr/bin/wget"), POLICY_DENY);
	assert_int_equal(file(p, POLICY_FILE_WRITE, "/work/log.txt"), POLICY_DENY);
	assert_int_equal(file(p, POLICY_FILE_WRITE, "/work/other.txt"), POLICY_DENY);
	assert_int_equal(file(p, POLICY_FILE_DELETE, "/work/build/a.o"), POLICY_DENY);
	assert_int_equal(net(p, "api.github.com", "140.82.112.3", 80), POLICY_DENY);
	assert_int_equal(net(p, "pypi.org.evil.example", "6.6.6.7", 443), POLICY_DENY);
	assert_int_equal(net(p, NULL, "10.1.2.4", 8080), POLICY_DENY);
	assert_int_equal(policy_check_unix(p, POLICY_UNIX_BIND, "/run/app.sock", false, &r), 0);
	assert_int_equal(r.decision, POLICY_DENY);
	/* refused during the session: still refused, only suggested in comments */
	assert_int_equal(exec_(p, "/usr/bin/curl"), POLICY_DENY);
	assert_int_equal(net(p, "evil.example", "6.6.6.6", 443), POLICY_DENY);
	assert_int_equal(file(p, POLICY_FILE_READ, "/home/agent/.ssh/id_rsa"), POLICY_DENY);
	assert_int_equal(file(p, POLICY_FILE_READ, "/work/build/secret.key"), POLICY_DENY);
	assert_non_null(strstr(text, "#    commands: [\"/usr/bin/curl\"]"));
	policy_free(p);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_generated_policy) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
