/* The approvals section of /etc/agentsh/config.yaml: approvals.accounts and
 * approvals.rules parse into scopes; unknown keys and unknown methods are
 * errors at file:line:col with a did-you-mean; lists that leave nobody, and
 * confirm without human_only, are warnings.  Real libyaml, real files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"

static char path[64];

static int load(const char *yaml, struct agentsh_config **cfg, char *diags, size_t n)
{
	struct policy_diags d;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/tmp/apr-cfg.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	policy_diags_init(&d);
	memset(diags, 0, n);
	rc = policy_config_load_ex(path, false, cfg, &d);
	f = fmemopen(diags, n, "w");
	assert_non_null(f);
	policy_diags_print(&d, f);
	fclose(f);
	policy_diags_free(&d);
	unlink(path);
	return rc;
}

static void test_scopes_parse(void **state)
{
	struct agentsh_config *cfg = NULL;
	char diags[4096] = "";

	(void)state;
	assert_int_equal(load("approvals:\n"
			      "  accounts:\n"
			      "    agent: { methods: [webauthn, totp], approvers: [alice, bob] }\n"
			      "  rules:\n"
			      "    push: { methods: [webauthn] }\n"
			      "    rm-rf: { approvers: [alice] }\n", &cfg, diags, sizeof(diags)), 0);
	assert_non_null(cfg);
	assert_int_equal(cfg->approvals.naccount_scopes, 1);
	const struct agentsh_approval_scope *a = &cfg->approvals.account_scopes[0];
	assert_string_equal(a->name, "agent");
	assert_int_equal(a->nmethods, 2);
	assert_string_equal(a->methods[0], "webauthn");
	assert_string_equal(a->methods[1], "totp");
	assert_null(a->methods[2]);
	assert_int_equal(a->napprovers, 2);
	assert_string_equal(a->approvers[1], "bob");
	assert_int_equal(a->line, 3);
	assert_int_equal(cfg->approvals.nrule_scopes, 2);
	const struct agentsh_approval_scope *r = &cfg->approvals.rule_scopes[0];
	assert_string_equal(r->name, "push");
	assert_int_equal(r->nmethods, 1);
	assert_null(r->approvers);      /* absent: no restriction */
	r = &cfg->approvals.rule_scopes[1];
	assert_null(r->methods);
	assert_int_equal(r->napprovers, 1);
	policy_config_free(cfg);
}

static void test_unknown_key_has_line(void **state)
{
	struct agentsh_config *cfg = NULL;
	char diags[4096] = "";

	(void)state;
	assert_int_not_equal(load("approvals:\n"
				  "  rules:\n"
				  "    push:\n"
				  "      methods: [webauthn]\n"
				  "      approver: [alice]\n", &cfg, diags, sizeof(diags)), 0);
	assert_null(cfg);
	assert_non_null(strstr(diags, ":5:7: unknown key 'approver' in approvals.rules.push"));
	assert_non_null(strstr(diags, "did you mean 'approvers'"));
}

static void test_unknown_section_key(void **state)
{
	struct agentsh_config *cfg = NULL;
	char diags[4096] = "";

	(void)state;
	assert_int_not_equal(load("approvals:\n  rule:\n    push: { methods: [totp] }\n", &cfg, diags,
				  sizeof(diags)), 0);
	assert_non_null(strstr(diags, ":2:3: unknown key 'rule' in approvals"));
	assert_non_null(strstr(diags, "did you mean 'rules'"));
}

static void test_unknown_method(void **state)
{
	struct agentsh_config *cfg = NULL;
	char diags[4096] = "";

	(void)state;
	assert_int_not_equal(load("approvals:\n  accounts:\n    agent: { methods: [webauthn, totpp] }\n",
				  &cfg, diags, sizeof(diags)), 0);
	assert_non_null(strstr(diags, ":3:34: unknown approval method 'totpp'"));
	assert_non_null(strstr(diags, "did you mean 'totp'"));
}

static void test_wrong_types(void **state)
{
	struct agentsh_config *cfg = NULL;
	char diags[4096] = "";

	(void)state;
	assert_int_not_equal(load("approvals:\n  rules:\n    push: { methods: webauthn }\n", &cfg, diags,
				  sizeof(diags)), 0);
	assert_non_null(strstr(diags, "'methods' in approvals.rules.push must be a list"));
	assert_int_not_equal(load("approvals:\n  rules: [push]\n", &cfg, diags, sizeof(diags)), 0);
	assert_non_null(strstr(diags, "'approvals.rules' must be a mapping"));
	assert_int_not_equal(load("approvals:\n  rules:\n    push: { methods: [totp] }\n"
				  "    push: { methods: [webauthn] }\n", &cfg, diags, sizeof(diags)), 0);
	assert_non_null(strstr(diags, "'push' appears twice in approvals.rules"));
}

static void test_warnings(void **state)
{
	struct agentsh_config *cfg = NULL;
	char diags[4096] = "";

	(void)state;
	assert_int_equal(load("approvals:\n  rules:\n    push: { methods: [] }\n"
			      "    ssh: { methods: [confirm] }\n", &cfg, diags, sizeof(diags)), 0);
	assert_non_null(strstr(diags, "warning: approvals.rules.push lists no method"));
	assert_non_null(strstr(diags, "warning: approvals.rules.ssh allows 'confirm'"));
	assert_non_null(cfg->approvals.rule_scopes[0].methods);  /* present and empty: nothing allowed */
	assert_int_equal(cfg->approvals.rule_scopes[0].nmethods, 0);
	policy_config_free(cfg);
	assert_int_equal(load("approvals:\n  human_only: true\n  rules:\n    ssh: { methods: [confirm] }\n",
			      &cfg, diags, sizeof(diags)), 0);
	assert_null(strstr(diags, "warning"));
	policy_config_free(cfg);
}

/* `agentsh policy check` with the configuration: an approve rule nobody may
 * answer for some account, and approvers named but not enrolled, are warned
 * about before a session runs into them. */
static void test_lint(void **state)
{
	static const struct policy_vars V = { "/home/a", "/home/a/ws", "/home/a/ws", NULL, "/tmp", "a", NULL };
	static const char pol[] = "version: 1\nname: t\ncommand_rules:\n"
				  "  - name: push\n    commands: [\"git\"]\n    decision: approve\n"
				  "  - name: deploy\n    commands: [\"deploy\"]\n    decision: approve\n";
	char store[64], yaml[512], diags[4096] = "", cmd[160];
	struct agentsh_config *cfg = NULL;
	struct policy *p = NULL;
	struct policy_diags d;
	FILE *f;

	(void)state;
	snprintf(store, sizeof(store), "/tmp/apr-lint.XXXXXX");
	assert_non_null(mkdtemp(store));
	snprintf(cmd, sizeof(cmd), "%s/alice.totp", store);
	assert_non_null(f = fopen(cmd, "w"));
	fclose(f);
	snprintf(yaml, sizeof(yaml), "approvals:\n  approvers_dir: %s\n  accounts:\n"
		 "    agent: { methods: [totp] }\n  rules:\n    push: { methods: [webauthn] }\n"
		 "    deploy: { approvers: [alice, carol] }\n", store);
	assert_int_equal(load(yaml, &cfg, diags, sizeof(diags)), 0);
	policy_diags_init(&d);
	assert_int_equal(policy_load_buffer(pol, strlen(pol), "p.yaml", &V, &p, &d), 0);
	assert_true(policy_lint(p, cfg, &d) >= 2);
	memset(diags, 0, sizeof(diags));
	assert_non_null(f = fmemopen(diags, sizeof(diags) - 1, "w"));
	policy_diags_print(&d, f);
	fclose(f);
	assert_non_null(strstr(diags, "p.yaml:4:1: warning: rule 'push' can never be approved for account agent: "
				      "approvals.accounts.agent and approvals.rules.push share no method"));
	assert_non_null(strstr(diags, "approver 'carol' in approvals.rules.deploy is not enrolled"));
	assert_null(strstr(diags, "approver 'alice'"));
	assert_null(strstr(diags, "rule 'deploy' can never"));
	policy_diags_free(&d);
	policy_free(p);
	policy_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", store);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_scopes_parse),
		cmocka_unit_test(test_unknown_key_has_line),
		cmocka_unit_test(test_unknown_section_key),
		cmocka_unit_test(test_unknown_method),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_lint),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
