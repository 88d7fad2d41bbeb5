/* policy/: every class of load error gives a precise, positioned message, all
 * errors of a file are reported, and nothing is half-loaded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"

static const struct policy_vars V = { "/home/a", "/home/a/ws", "/home/a/ws", NULL, "/tmp", "a", NULL };

/* Loads y, expects failure, returns all diagnostics printed as text. */
static char *errors_with(const struct policy_vars *v, const char *y, size_t *nerr)
{
	struct policy *p = (struct policy *)1;
	struct policy_diags d;
	policy_diags_init(&d);
	int e = policy_load_buffer(y, strlen(y), "p.yaml", v, &p, &d);
	assert_int_not_equal(e, 0);
	assert_null(p);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	policy_diags_print(&d, f);
	fclose(f);
	if (nerr)
		*nerr = d.nerrors;
	assert_true(d.nerrors > 0);
	policy_diags_free(&d);
	return buf;
}

static char *errors_of(const char *y, size_t *nerr)
{
	return errors_with(&V, y, nerr);
}

#define EXPECT(y, needle)                                                       \
	do {                                                                    \
		char *m_ = errors_of(y, NULL);                                  \
		if (!strstr(m_, needle))                                        \
			fail_msg("expected '%s' in:\n%s", needle, m_);          \
		free(m_);                                                       \
	} while (0)

static void test_malformed_yaml(void **st)
{
	(void)st;
	EXPECT("version: 1\nname: [unclosed\n", "p.yaml:3:1: malformed YAML");
	EXPECT("version: 1\n  name: x\n", "p.yaml:2:7: malformed YAML");
	EXPECT("", "the file is empty");
	EXPECT("a: &x 1\nb: *x\n", "p.yaml:2:4: YAML aliases");
	EXPECT("- 1\n- 2\n", "a policy must be a mapping");
}

static void test_unknown_keys_every_depth(void **st)
{
	(void)st;
	EXPECT("version: 1\nname: t\nfile_rule: []\n", "p.yaml:3:1: unknown key 'file_rule' in the policy (did you mean 'file_rules'?)");
	EXPECT("version: 1\nname: t\ncommand_rules:\n  - name: a\n    decision: deny\n  - name: b\n    commands: [rm]\n    args_pattern: [x]\n    decision: deny\n",
	       "p.yaml:8:5: unknown key 'args_pattern' in command_rules[1] (did you mean 'args_patterns'?)");
	EXPECT("version: 1\nname: t\ncommand_rules:\n  - name: r\n    decision: redirect\n    redirect_to: {comand: x}\n",
	       "unknown key 'comand' in command_rules[0].redirect_to (did you mean 'command'?)");
	EXPECT("version: 1\nname: t\nsignal_rules:\n  - signals: [TERM]\n    target: {typ: self}\n    decision: deny\n",
	       "unknown key 'typ' in signal_rules[0].target (did you mean 'type'?)");
	EXPECT("version: 1\nname: t\nresource_limits: {max_memory: 5}\n",
	       "unknown key 'max_memory' in resource_limits (did you mean 'max_memory_mb'?)");
	EXPECT("version: 1\nname: t\nnetwork_rules:\n  - domains: [a.com]\n    port: [1]\n    decision: deny\n",
	       "p.yaml:5:5: unknown key 'port' in network_rules[0] (did you mean 'ports'?)");
	EXPECT("version: 1\nname: t\naudit: {log_everything: true}\n", "unknown key 'log_everything' in audit");
	EXPECT("version: 1\nname: t\nfile_rules:\n  - paths: [/x]\n    decision: deny\n    paths: [/y]\n", "duplicate key 'paths'");
}

static void test_unsupported_reference_keys(void **st)
{
	(void)st;
	EXPECT("version: 1\nname: t\nhttp_services: []\n",
	       "p.yaml:3:1: key 'http_services' in the policy is a reference agentsh feature this agentsh does not support");
	EXPECT("version: 1\nname: t\npackage_rules: []\n", "key 'package_rules'");
	EXPECT("version: 1\nname: t\nmcp_rules: {}\n", "key 'mcp_rules'");
	EXPECT("version: 1\nname: t\nprocess_contexts: {}\n", "key 'process_contexts'");
	EXPECT("version: 1\nname: t\nregistry_rules: []\n", "key 'registry_rules'");
}

static void test_wrong_types(void **st)
{
	(void)st;
	EXPECT("version: 1\nname: t\nfile_rules:\n  - paths: /x\n    decision: deny\n",
	       "p.yaml:4:12: 'paths' in file_rules[0] must be a list, not a scalar");
	EXPECT("version: one\nname: t\n", "'version' in the policy must be a whole number");
	EXPECT("version: 2\nname: t\n", "unsupported policy version 2");
	EXPECT("name: t\n", "the policy has no 'version'");
	EXPECT("version: 1\nname: t\nfile_rules: {a: 1}\n", "'file_rules' in the policy must be a list, not a mapping");
	EXPECT("version: 1\nname: t\nfile_rules:\n  - paths: [/x]\n    decision: deny\n    timeout: soon\n",
	       "'timeout' in file_rules[0] must be a duration");
	EXPECT("version: 1\nname: t\naudit: {log_allowed: maybe}\n", "'log_allowed' in audit must be true or false");
	EXPECT("version: 1\nname: t\nnetwork_rules:\n  - ports: [0, \"9-2\", http]\n    decision: deny\n", "invalid port '0'");
}

static void test_invalid_regex_cidr_decision(void **st)
{
	(void)st;
	EXPECT("version: 1\nname: t\ncommand_rules:\n  - commands: [rm]\n    args_patterns: [\"(-rf\"]\n    decision: deny\n",
	       "p.yaml:5:21: invalid regular expression '(-rf' in command_rules[0]");
	EXPECT("version: 1\nname: t\nnetwork_rules:\n  - cidrs: [10.0.0.0/33]\n    decision: deny\n",
	       "p.yaml:4:13: invalid CIDR '10.0.0.0/33' in network_rules[0]");
	EXPECT("version: 1\nname: t\nnetwork_rules:\n  - cidrs: [\"10.0.0/8\"]\n    decision: deny\n", "invalid CIDR '10.0.0/8'");
	EXPECT("version: 1\nname: t\nfile_rules:\n  - paths: [/x]\n    decision: alow\n",
	       "p.yaml:5:15: unknown decision 'alow' in file_rules[0] (did you mean 'allow'?)");
	EXPECT("version: 1\nname: t\nnetwork_rules:\n  - ports: [1]\n    decision: soft_delete\n",
	       "unknown decision 'soft_delete' in network_rules[0] (valid here: allow, deny, approve, audit)");
	EXPECT("version: 1\nname: t\nfile_rules:\n  - paths: [/x]\n    operations: [wrte]\n    decision: deny\n",
	       "unknown file operation 'wrte' in file_rules[0] (did you mean 'write'?)");
	EXPECT("version: 1\nname: t\nsignal_rules:\n  - signals: [SIGFOO]\n    decision: deny\n", "unknown signal 'SIGFOO'");
	EXPECT("version: 1\nname: t\nfile_rules:\n  - paths: [/x]\n    decision: deny\n    message: \"{{.Pth}}\"\n",
	       "unknown template field '{{.Pth}}'");
	EXPECT("version: 1\nname: t\nfile_rules:\n  - paths: [/x]\n    operations: [write]\n    decision: soft_delete\n",
	       "decision soft_delete, which only applies to delete and rmdir");
	EXPECT("version: 1\nname: t\nfile_rules:\n  - paths: [\"/x/{a,b\"]\n    decision: deny\n", "unbalanced '{'");
	EXPECT("version: 1\nname: t\nunix_socket_rules:\n  - paths: [/x]\n    decision: allow\n    own_account_servers: yes\n",
	       "p.yaml:6:26: own_account_servers in unix_socket_rules[0] is 'yes'; use allow or refuse");
	EXPECT("version: 1\nname: t\nunix_socket_rules:\n  - paths: [/x]\n    decision: deny\n    own_account_servers: allow\n",
	       "own_account_servers: allow in unix_socket_rules[0] needs a decision that lets the connection through");
}

static void test_undefined_variable(void **st)
{
	(void)st;
	EXPECT("version: 1\nname: t\nfile_rules:\n  - paths: [\"${GIT_ROOT}/**\"]\n    decision: deny\n",
	       "p.yaml:4:13: undefined variable ${GIT_ROOT}");
	EXPECT("version: 1\nname: t\nfile_rules:\n  - paths: [\"${HOME\"]\n    decision: deny\n", "unterminated '${'");
	/* a workspace of "/" would stretch workspace rules over the whole filesystem */
	{
		struct policy_vars v = V;
		v.workspace = "/";
		struct policy *p = (struct policy *)1;
		struct policy_diags d;
		policy_diags_init(&d);
		const char *y = "version: 1\nname: t\nfile_rules:\n  - paths: [\"${WORKSPACE}/**\"]\n    decision: allow\n";
		assert_int_equal(policy_load_buffer(y, strlen(y), "p", &v, &p, &d), -22);
		assert_null(p);
		assert_non_null(strstr(d.v[0].message, "${WORKSPACE} is '/': rules built on it would cover the whole filesystem"));
		policy_diags_free(&d);
		v.workspace = "relative/dir";
		assert_int_equal(policy_load_buffer(y, strlen(y), "p", &v, &p, NULL), -22);
		const char *yf = "version: 1\nname: t\nfile_rules:\n  - paths: [\"${WORKSPACE:-/srv/ws}/**\"]\n    decision: allow\n";
		v.workspace = "/";
		assert_int_equal(policy_load_buffer(yf, strlen(yf), "p", &v, &p, NULL), 0);
		struct policy_file_rule_info fi;
		policy_file_rule_get(p, 0, &fi);
		assert_string_equal(fi.globs[0], "/srv/ws/**");
		policy_free(p);
	}
	/* a fallback makes it fine */
	struct policy *p;
	const char *y = "version: 1\nname: t\nfile_rules:\n  - paths: [\"${GIT_ROOT:-${HOME}/src}/**\"]\n    decision: deny\n";
	assert_int_equal(policy_load_buffer(y, strlen(y), "p", &V, &p, NULL), 0);
	struct policy_file_rule_info fi;
	policy_file_rule_get(p, 0, &fi);
	assert_string_equal(fi.globs[0], "/home/a/src/**");
	policy_free(p);
}

static void test_all_errors_reported(void **st)
{
	(void)st;
	size_t n;
	char *m = errors_of("version: 1\nname: t\nfile_rules:\n  - paths: [rel]\n    decision: nope\n"
			    "network_rules:\n  - cidrs: [x]\n    decision: deny\n    colour: red\n"
			    "command_rules:\n  - args_patterns: [\"[\"]\n    decision: allow\n", &n);
	assert_true(n >= 5);
	assert_non_null(strstr(m, "p.yaml:4:13: path 'rel'"));
	assert_non_null(strstr(m, "p.yaml:5:15: unknown decision"));
	assert_non_null(strstr(m, "p.yaml:7:13: invalid CIDR"));
	assert_non_null(strstr(m, "p.yaml:9:5: unknown key 'colour'"));
	assert_non_null(strstr(m, "p.yaml:11:21: invalid regular expression"));
	free(m);
}

static void test_config(void **st)
{
	(void)st;
	char path[] = "/tmp/agentsh-cfg-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("policy_dir: /srv/pol\ndefault_policy: dev\naccounts: {agent: ci}\nallow_user_policy: false\n"
	      "approvals: {approver_accounts: [root], human_only: false, default_timeout: 2m}\n"
	      "session: {shell: /bin/bash, allow_degraded: false}\naudit: {sync: full}\n", f);
	fclose(f);
	struct agentsh_config *cfg;
	struct policy_diags d;
	policy_diags_init(&d);
	assert_int_equal(policy_config_load_ex(path, false, &cfg, &d), 0);
	assert_true(cfg->present);
	assert_true(cfg->audit.sync_full);
	assert_string_equal(cfg->policy_dir, "/srv/pol");
	assert_string_equal(cfg->accounts[0].policy, "ci");
	assert_int_equal(cfg->approvals.default_timeout, 120);
	policy_config_free(cfg);
	/* owner/mode check: a group-writable file is refused */
	chmod(path, 0664);
	int e = policy_config_load(path, &cfg, &d);
	assert_int_equal(e, -1 * 1 /* EPERM */);
	assert_non_null(strstr(d.v[d.n - 1].message, "must be owned by root and not writable"));
	chmod(path, 0644);
	f = fopen(path, "w");
	fputs("polcy_dir: /x\n", f);
	fclose(f);
	assert_int_equal(policy_config_load_ex(path, false, &cfg, &d), -22);
	assert_non_null(strstr(d.v[d.n - 1].message, "unknown key 'polcy_dir' in the configuration (did you mean 'policy_dir'?)"));
	f = fopen(path, "w");
	fputs("audit: {sync: always}\n", f);
	fclose(f);
	assert_int_equal(policy_config_load_ex(path, false, &cfg, &d), -22);
	assert_non_null(strstr(d.v[d.n - 1].message, "'sync' in audit must be full or normal"));
	unlink(path);
	/* missing file: defaults */
	assert_int_equal(policy_config_load("/nonexistent/agentsh.yaml", &cfg, &d), 0);
	assert_false(cfg->present);
	assert_string_equal(cfg->policy_dir, "/etc/agentsh/policies");
	/* non-root may not pick a policy */
	struct policy *p;
	assert_int_equal(policy_select(cfg, 1000, NULL, 0, "dev", false, &V, &p, &d), -1);
	assert_null(p);
	/* no configuration: embedded default */
	assert_int_equal(policy_select(cfg, 1000, NULL, 0, NULL, false, &V, &p, &d), 0);
	assert_string_equal(policy_source(p), "<embedded>");
	policy_free(p);
	policy_config_free(cfg);
	policy_diags_free(&d);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* Selection through a real configuration: accounts, manifest, ownership. */
static void test_select_integrity(void **st)
{
	(void)st;
	if (geteuid() != 0) {
		print_message("skipped: needs root to own the configuration files\n");
		return;
	}
	char dir[] = "/tmp/agentsh-sel-XXXXXX", cfgp[256], pol[256], man[256], body[1024];
	assert_non_null(mkdtemp(dir));
	snprintf(cfgp, sizeof(cfgp), "%s/config.yaml", dir);
	snprintf(pol, sizeof(pol), "%s/mine.yaml", dir);
	snprintf(man, sizeof(man), "%s/policies.sha256", dir);
	write_file(pol, "version: 1\nname: mine\n", 0644);
	snprintf(body, sizeof(body), "policy_dir: %s\naccounts: {root: mine}\n", dir);
	write_file(cfgp, body, 0644);
	struct agentsh_config *cfg;
	struct policy *p;
	struct policy_diags d;
	policy_diags_init(&d);
	assert_int_equal(policy_config_load(cfgp, &cfg, &d), 0);
	assert_int_equal(policy_select(cfg, 0, NULL, 0, NULL, false, &V, &p, &d), 0);
	assert_string_equal(policy_name(p), "mine");
	policy_free(p);
	/* a policy the agent could edit is refused */
	chmod(pol, 0666);
	assert_int_equal(policy_select(cfg, 0, NULL, 0, NULL, false, &V, &p, &d), -1);
	assert_null(p);
	assert_non_null(strstr(d.v[d.n - 1].message, "must be owned by root and not writable"));
	chmod(pol, 0644);
	policy_config_free(cfg);
	/* with a manifest: the right digest loads, a changed file is refused */
	snprintf(body, sizeof(body), "policy_dir: %s\naccounts: {root: mine}\nmanifest: %s\n", dir, man);
	write_file(cfgp, body, 0644);
	assert_int_equal(policy_config_load(cfgp, &cfg, &d), 0);
	struct policy *tmp;
	assert_int_equal(policy_load_file(pol, &V, &tmp, NULL), 0);
	snprintf(body, sizeof(body), "%s  %s\n", policy_sha256(tmp), pol);
	policy_free(tmp);
	write_file(man, body, 0644);
	assert_int_equal(policy_select(cfg, 0, NULL, 0, NULL, false, &V, &p, &d), 0);
	policy_free(p);
	write_file(pol, "version: 1\nname: mine\ndescription: edited\n", 0644);
	assert_int_equal(policy_select(cfg, 0, NULL, 0, NULL, false, &V, &p, &d), -1);
	assert_non_null(strstr(d.v[d.n - 1].message, "is not listed for it in the manifest"));
	/* root may still choose a file explicitly */
	assert_int_equal(policy_select(cfg, 0, NULL, 0, "mine", true, &V, &p, &d), -1);  /* manifest applies */
	policy_config_free(cfg);
	policy_diags_free(&d);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* `@resolvers` from a file that cannot be read (a directory: it opens, and
 * reading fails) is an error naming the file and the rule's line, never a
 * rule with no addresses (which would match every one). */
static void test_resolvers_unreadable(void **st)
{
	(void)st;
	struct policy_vars v = V;
	v.resolv_conf = "/";
	char *m = errors_with(&v, "version: 1\nname: t\nnetwork_rules:\n"
			      "  - name: dns\n    cidrs: [\"@resolvers\"]\n    decision: allow\n", NULL);
	if (!strstr(m, "p.yaml:5:13: cannot read / for @resolvers in network_rules[0]"))
		fail_msg("expected the file and line in:\n%s", m);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_yaml),
		cmocka_unit_test(test_unknown_keys_every_depth),
		cmocka_unit_test(test_unsupported_reference_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_invalid_regex_cidr_decision),
		cmocka_unit_test(test_undefined_variable),
		cmocka_unit_test(test_resolvers_unreadable),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_select_integrity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
