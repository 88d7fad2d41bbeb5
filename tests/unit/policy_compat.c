/* policy/: the reference's six policies load unchanged and `policy check`
 * gives the decisions they document; lint finds their ordering defects; the
 * project's example policies are lint-clean and pass their test files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"

static const struct policy_vars V = { "/home/agent", "/home/agent/proj", "/home/agent/proj",
				      "/home/agent/proj", "/tmp", "agent", NULL };

static char src[4096];

static const char *path_of(const char *rel)
{
	static char buf[4][5000];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", src, rel);
	return buf[k];
}

/* Runs `policy [args]` through the CLI; returns its stdout. */
static char *cli(int *rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *cli(int *rc, const char *fmt, ...)
{
	char line[2048], *argv[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	int argc = 0;
	for (char *t = strtok(line, " "); t && argc < 63; t = strtok(NULL, " "))
		argv[argc++] = t;
	char *out = NULL, *err = NULL;
	size_t ol, el;
	FILE *fo = open_memstream(&out, &ol), *fe = open_memstream(&err, &el);
	struct policy_cli_env env = { .vars = &V, .uid = 0, .is_root = true, .out = fo, .err = fe };
	*rc = policy_cli(argc, argv, &env);
	fclose(fo);
	fclose(fe);
	if (err[0])
		fprintf(stderr, "%s", err);
	free(err);
	return out;
}

static const struct { const char *file, *check, *decision, *rule; } cases[] = {
	/* default.yaml */
	{ "default", "file write ~/.ssh/id_rsa", "deny", "deny-ssh-keys" },
	{ "default", "file read /root/.aws/credentials", "deny", "deny-aws-credentials" },
	{ "default", "file write /home/agent/.bashrc", "deny", "deny-shell-rc" },
	{ "default", "file read /home/agent/.bashrc", "allow", "default-allow-reads" },
	{ "default", "file read /home/agent/proj/src/a.go", "allow", "allow-workspace-read" },
	{ "default", "file write /home/agent/proj/src/a.go", "allow", "allow-workspace-write" },
	{ "default", "file delete /home/agent/proj/src/a.go", "approve", "approve-workspace-delete" },
	{ "default", "file write /tmp/build/x", "allow", "allow-tmp" },
	{ "default", "file read /usr/lib/libc.so.6", "allow", "allow-system-read" },
	{ "default", "file write /dev/null", "allow", "allow-dev-write" },
	{ "default", "file read /etc/passwd", "allow", "allow-etc-read-safe" },   /* the documented defect */
	{ "default", "file write /etc/passwd", "deny", "deny-passwd-shadow" },
	{ "default", "file read /etc/shadow", "deny", "deny-passwd-shadow" },
	{ "default", "file read /home/agent/proj/.env", "allow", "allow-workspace-read" }, /* defect too */
	{ "default", "file read /srv/app/.env", "deny", "deny-env-files" },
	{ "default", "file read /proc/self/environ", "deny", "deny-proc-sensitive" },
	{ "default", "file write /sys/kernel/x", "deny", "deny-system-sensitive" },
	{ "default", "file write /srv/data", "deny", "default-deny-files" },
	{ "default", "exec /bin/rm -rf /", "deny", "block-dangerous-rm" },
	{ "default", "exec /bin/rm -r -f /", "allow", "allow-file-operations" },  /* dodged, as documented */
	{ "default", "exec /usr/bin/kill -9 1", "deny", "block-system-commands" },
	{ "default", "exec /usr/bin/npm install lodash", "approve", "approve-package-install" },
	{ "default", "exec /usr/bin/curl https://example.com", "approve", "approve-curl-wget" },
	{ "default", "exec /usr/bin/ls -la", "allow", "allow-safe-commands" },
	{ "default", "exec /usr/bin/git status", "allow", "allow-dev-tools" },
	{ "default", "exec /usr/bin/nmap 10.0.0.1", "deny", "default-deny-commands" },
	{ "default", "net connect registry.npmjs.org:443", "allow", "allow-npm" },
	{ "default", "net connect api.github.com:443", "allow", "allow-github" },
	{ "default", "net connect github.com:22", "allow", "allow-github" },
	{ "default", "net connect 127.0.0.1:8080", "allow", "allow-llm-proxy" },
	{ "default", "net connect 10.0.0.8:443", "deny", "block-private-networks" },
	{ "default", "net connect 169.254.169.254:80", "deny", "block-private-networks" },
	{ "default", "net connect example.com:443", "approve", "approve-unknown-https" },
	{ "default", "net connect example.com:8080", "deny", "default-deny-network" },
	{ "default", "signal SIGKILL external", "allow", "no-signal-rules" },
	/* dev-safe.yaml */
	{ "dev-safe", "file write /home/agent/proj/main.go", "allow", "allow-project-write" },
	{ "dev-safe", "file delete /home/agent/proj/main.go", "approve", "approve-project-delete" },
	{ "dev-safe", "file read /home/agent/.ssh/id_rsa", "deny", "deny-ssh-keys" },
	{ "dev-safe", "exec /usr/bin/git push origin main", "redirect", "no-direct-push-to-main" },
	{ "dev-safe", "exec /usr/bin/git push --force origin feat", "redirect", "no-force-push" },
	{ "dev-safe", "exec /usr/bin/git reset --hard HEAD", "redirect", "no-hard-reset" },
	{ "dev-safe", "exec /usr/bin/git clean -fd", "redirect", "no-git-clean" },
	{ "dev-safe", "exec /usr/bin/git commit -m x", "allow", "allow-dev-tools" },
	{ "dev-safe", "net connect proxy.golang.org:443", "allow", "allow-go-proxy" },
	{ "dev-safe", "signal SIGTERM self", "allow", "allow-self" },
	{ "dev-safe", "signal SIGTERM children", "allow", "allow-children" },
	{ "dev-safe", "signal SIGKILL external", "deny", "deny-external-fatal" },
	{ "dev-safe", "signal SIGHUP parent", "audit", "audit-parent" },
	{ "dev-safe", "signal SIGTERM system", "deny", "deny-system" },
	/* ci-strict.yaml */
	{ "ci-strict", "exec /bin/bash -i", "deny", "deny-interactive-shells" },
	{ "ci-strict", "exec /usr/bin/ls", "deny", "default-deny-commands" },       /* documented gap */
	{ "ci-strict", "exec /usr/bin/make test", "allow", "allow-build-commands" },
	{ "ci-strict", "exec /usr/bin/ssh host", "deny", "block-network-tools" },
	{ "ci-strict", "file write /home/agent/.profile", "deny", "deny-home" },
	{ "ci-strict", "net connect github.com:22", "deny", "default-deny-network" },
	{ "ci-strict", "net connect github.com:443", "allow", "allow-github" },
	/* agent-sandbox.yaml */
	{ "agent-sandbox", "file read /home/agent/proj/.env", "allow", "allow-workspace-read" }, /* defect */
	{ "agent-sandbox", "file read /srv/other/.env", "approve", "approve-env-files" },
	{ "agent-sandbox", "file delete /home/agent/proj/a.txt", "soft_delete", "soft-delete-workspace" },
	{ "agent-sandbox", "file write /home/agent/.ssh/config", "approve", "approve-ssh-access" },
	{ "agent-sandbox", "exec /usr/bin/curl https://x.io", "redirect", "redirect-curl" },
	{ "agent-sandbox", "exec /usr/bin/npm install x", "allow", "allow-dev-tools" },  /* defect */
	{ "agent-sandbox", "exec /usr/bin/rm -r dir", "deny", "block-rm-recursive" },
	{ "agent-sandbox", "net connect example.com:80", "approve", "approve-unknown-http" },
	/* agent-observe.yaml */
	{ "agent-observe", "exec /usr/bin/anything --x", "audit", "audit-all-commands" },
	{ "agent-observe", "file delete /etc/passwd", "audit", "audit-all-files" },
	{ "agent-observe", "net connect a.b.example.com:443", "audit", "audit-all-network" },
	/* signal-strict.yaml */
	{ "signal-strict", "signal SIGKILL children", "redirect", "redirect-kill-to-term" },
	{ "signal-strict", "signal SIGSTOP session", "approve", "approve-job-control" },
	{ "signal-strict", "signal SIGUSR1 self", "allow", "allow-self" },
	{ "signal-strict", "signal SIGTERM parent", "deny", "deny-parent" },
	{ "signal-strict", "signal SIGKILL system", "deny", "deny-system" },
};

static void test_compat_load(void **st)
{
	(void)st;
	int rc;
	char *o = cli(&rc, "policy validate %s %s %s %s",
		      path_of("tests/data/policies-compat/default.yaml"), path_of("tests/data/policies-compat/dev-safe.yaml"),
		      path_of("tests/data/policies-compat/ci-strict.yaml"), path_of("tests/data/policies-compat/agent-sandbox.yaml"));
	free(o);
	assert_int_equal(rc, 0);
	o = cli(&rc, "policy validate %s %s", path_of("tests/data/policies-compat/agent-observe.yaml"),
		path_of("tests/data/policies-compat/signal-strict.yaml"));
	free(o);
	assert_int_equal(rc, 0);
}

static void test_compat_table(void **st)
{
	(void)st;
	size_t bad = 0, n = sizeof(cases) / sizeof(cases[0]);
	assert_true(n >= 60);
	for (size_t i = 0; i < n; i++) {
		char f[256], want[300];
		int rc;
		snprintf(f, sizeof(f), "tests/data/policies-compat/%s.yaml", cases[i].file);
		char *o = cli(&rc, "policy --json --policy %s check %s", path_of(f), cases[i].check);
		snprintf(want, sizeof(want), "\"decision\":\"%s\",\"rule\":\"%s\"", cases[i].decision, cases[i].rule);
		if (rc != 0 || !strstr(o, want)) {
			fprintf(stderr, "case %zu %s: check %s: want %s got %s", i, cases[i].file, cases[i].check, want, o);
			bad++;
		}
		free(o);
	}
	assert_int_equal(bad, 0);
}

static void test_compat_lint(void **st)
{
	(void)st;
	int rc;
	char *o = cli(&rc, "policy --json lint %s", path_of("tests/data/policies-compat/default.yaml"));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(o, "rule 'deny-passwd-shadow': path '/etc/passwd' can never get decision deny for read operations: rule 'allow-etc-read-safe'"));
	free(o);
	o = cli(&rc, "policy --json lint %s", path_of("tests/data/policies-compat/agent-sandbox.yaml"));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(o, "rule 'approve-env-files': path '**/.env' never gets decision approve"));
	assert_non_null(strstr(o, "'allow-workspace-read'"));
	assert_non_null(strstr(o, "rule 'approve-package-install' can never fire"));
	free(o);
	o = cli(&rc, "policy --json lint %s", path_of("tests/data/policies-compat/ci-strict.yaml"));
	assert_non_null(strstr(o, "dodgeable-regex"));
	free(o);
}

static void test_lint_matches_nothing(void **st)
{
	(void)st;
	char tmp[] = "/tmp/agentsh-lint-XXXXXX.yaml";
	int fd = mkstemps(tmp, 5);
	FILE *f = fdopen(fd, "w");
	fputs("version: 1\nname: t\nfile_rules:\n  - name: slash\n    paths: [/tmp/, \"/a/./b\"]\n    decision: deny\n"
	      "network_rules:\n  - name: ipdom\n    domains: [10.0.0.1]\n    decision: deny\n"
	      "command_rules:\n  - name: never\n    commands: [x]\n    context: []\n    decision: deny\n", f);
	fclose(f);
	int rc;
	char *o = cli(&rc, "policy lint %s", tmp);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(o, "path '/tmp/' ends with '/'"));
	assert_non_null(strstr(o, "path '/a/./b' contains a '.' segment"));
	assert_non_null(strstr(o, "domain '10.0.0.1' is an address"));
	assert_non_null(strstr(o, "rule 'never' has a context no command can be in"));
	free(o);
	unlink(tmp);
}

static void test_lint_approvers(void **st)
{
	(void)st;
	struct policy *p;
	assert_int_equal(policy_load_file(path_of("examples/policies/default.yaml"), &V, &p, NULL), 0);
	struct agentsh_config cfg = { .present = true, .path = "/etc/agentsh/config.yaml" };
	char *nobody[] = { "no-such-account-xyz" };
	cfg.approvals.approver_accounts = nobody;
	cfg.approvals.napprover_accounts = 1;
	struct policy_diags d;
	policy_diags_init(&d);
	assert_int_equal(policy_lint(p, &cfg, &d), 1);
	assert_string_equal(d.v[0].code, "no-approver");
	assert_non_null(strstr(d.v[0].message, "every request will time out and be denied"));
	policy_diags_free(&d);
	char *root[] = { "root" };
	cfg.approvals.approver_accounts = root;
	policy_diags_init(&d);
	assert_int_equal(policy_lint(p, &cfg, &d), 0);    /* an existing approver account */
	policy_diags_free(&d);
	cfg.approvals.napprover_accounts = 0;
	cfg.approvals.human_only = true;
	policy_diags_init(&d);
	assert_int_equal(policy_lint(p, &cfg, &d), 0);    /* a human at the terminal */
	policy_diags_free(&d);
	policy_free(p);
}

static void test_examples(void **st)
{
	(void)st;
	static const char *const names[] = { "default", "dev-safe", "ci-strict", "agent-sandbox", "agent-observe" };
	for (size_t i = 0; i < 5; i++) {
		char f[256], t[256];
		int rc;
		snprintf(f, sizeof(f), "examples/policies/%s.yaml", names[i]);
		snprintf(t, sizeof(t), "examples/policies/%s.test.yaml", names[i]);
		char *o = cli(&rc, "policy lint %s", path_of(f));
		if (rc)
			fprintf(stderr, "%s", o);
		assert_int_equal(rc, 0);
		free(o);
		o = cli(&rc, "policy test %s", path_of(t));
		if (rc)
			fprintf(stderr, "%s", o);
		assert_int_equal(rc, 0);
		assert_non_null(strstr(o, " 0 failed"));
		free(o);
	}
	/* a wrong expectation fails the run */
	char tmp[] = "/tmp/agentsh-pt-XXXXXX.yaml";
	int fd = mkstemps(tmp, 5);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "policy: %s\ncases:\n  - {check: \"file read /etc/shadow\", expect: allow}\n",
		path_of("examples/policies/default.yaml"));
	fclose(f);
	int rc;
	char *o = cli(&rc, "policy test %s", tmp);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(o, "not ok 1"));
	free(o);
	/* so does a misspelled key in a case */
	f = fopen(tmp, "w");
	fprintf(f, "policy: %s\ncases:\n  - {check: \"file read /etc/shadow\", expcet: allow}\n",
		path_of("examples/policies/default.yaml"));
	fclose(f);
	o = cli(&rc, "policy test %s", tmp);
	assert_int_equal(rc, 1);
	free(o);
	unlink(tmp);
}

int main(void)
{
	const char *s = getenv("AGENTSH_SRC");
	if (!realpath(s && *s ? s : ".", src))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compat_load),
		cmocka_unit_test(test_compat_table),
		cmocka_unit_test(test_compat_lint),
		cmocka_unit_test(test_lint_matches_nothing),
		cmocka_unit_test(test_lint_approvers),
		cmocka_unit_test(test_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
