/* Temporary skeleton: every entry point exists and fails closed.  Replaced
 * piece by piece by the real implementation. */
#include <errno.h>
#include <string.h>
#include "policy/policy.h"

extern const char policy_embedded_default_yaml[];
extern const char policy_embedded_default_end[];

const char *policy_embedded_default(size_t *len)
{
	if (len)
		*len = (size_t)(policy_embedded_default_end - policy_embedded_default_yaml);
	return policy_embedded_default_yaml;
}

void policy_diags_init(struct policy_diags *d) { memset(d, 0, sizeof(*d)); }
void policy_diags_free(struct policy_diags *d) { memset(d, 0, sizeof(*d)); }
void policy_diags_print(const struct policy_diags *d, FILE *f) { (void)d; (void)f; }

int policy_load_file(const char *path, const struct policy_vars *vars, struct policy **out,
		     struct policy_diags *diags)
{ (void)path; (void)vars; (void)diags; *out = NULL; return -ENOSYS; }
int policy_load_buffer(const char *buf, size_t len, const char *name, const struct policy_vars *vars,
		       struct policy **out, struct policy_diags *diags)
{ (void)buf; (void)len; (void)name; (void)vars; (void)diags; *out = NULL; return -ENOSYS; }
int policy_load_embedded(const struct policy_vars *vars, struct policy **out, struct policy_diags *diags)
{ (void)vars; (void)diags; *out = NULL; return -ENOSYS; }
void policy_free(struct policy *p) { (void)p; }
const char *policy_name(const struct policy *p) { (void)p; return ""; }
const char *policy_description(const struct policy *p) { (void)p; return ""; }
const char *policy_source(const struct policy *p) { (void)p; return ""; }
const char *policy_sha256(const struct policy *p) { (void)p; return ""; }

static const char *const dn[] = { "allow", "deny", "approve", "redirect", "audit", "soft_delete", "absorb" };
const char *policy_decision_name(enum policy_decision d) { return (unsigned)d < 7 ? dn[d] : "?"; }
int policy_decision_parse(const char *s, enum policy_decision *out)
{ for (int i = 0; i < 7; i++) if (!strcmp(s, dn[i])) { *out = (enum policy_decision)i; return 0; } return -EINVAL; }
const char *policy_file_op_name(enum policy_file_op op) { (void)op; return "?"; }
int policy_file_op_parse(const char *s, enum policy_file_op *out) { (void)s; (void)out; return -EINVAL; }
const char *policy_unix_op_name(enum policy_unix_op op) { (void)op; return "?"; }
const char *policy_signal_target_name(enum policy_signal_target t) { (void)t; return "?"; }
int policy_signal_target_parse(const char *s, enum policy_signal_target *out) { (void)s; (void)out; return -EINVAL; }
int policy_signal_parse(const char *s) { (void)s; return -EINVAL; }
const char *policy_signal_name(int sig) { (void)sig; return NULL; }

static int deny(struct policy_result *res)
{ memset(res, 0, sizeof(*res)); res->decision = POLICY_DENY; res->rule = "policy-unimplemented"; res->file = ""; res->rule_index = -1; res->is_default = true; return 0; }
int policy_check_exec(const struct policy *p, const char *path, int argc, const char *const *argv, struct policy_result *res)
{ (void)p; (void)path; (void)argc; (void)argv; return deny(res); }
int policy_check_exec_depth(const struct policy *p, const char *path, int argc, const char *const *argv, int depth, struct policy_result *res)
{ (void)p; (void)path; (void)argc; (void)argv; (void)depth; return deny(res); }
int policy_check_file(const struct policy *p, enum policy_file_op op, const char *path, struct policy_result *res)
{ (void)p; (void)op; (void)path; return deny(res); }
int policy_check_unix(const struct policy *p, enum policy_unix_op op, const char *name, bool is_abstract, struct policy_result *res)
{ (void)p; (void)op; (void)name; (void)is_abstract; return deny(res); }
int policy_check_net(const struct policy *p, const struct sockaddr *sa, const char *domain, struct policy_result *res)
{ (void)p; (void)sa; (void)domain; return deny(res); }
int policy_check_net_name(const struct policy *p, const char *domain, uint16_t port, struct policy_result *res)
{ (void)p; (void)domain; (void)port; return deny(res); }
int policy_check_signal(const struct policy *p, int sig, enum policy_signal_target target, struct policy_result *res)
{ (void)p; (void)sig; (void)target; return deny(res); }
int policy_check_signal_info(const struct policy *p, int sig, const struct policy_signal_info *info, struct policy_result *res)
{ (void)p; (void)sig; (void)info; return deny(res); }
bool policy_filters_signals(const struct policy *p) { (void)p; return true; }
int policy_dns_redirect(const struct policy *p, const char *host, char *ip, size_t iplen, const char **rule)
{ (void)p; (void)host; (void)ip; (void)iplen; (void)rule; return 0; }
int policy_connect_redirect(const struct policy *p, const char *host, uint16_t port, struct policy_result *res)
{ (void)p; (void)host; (void)port; (void)res; return 0; }
int policy_env_filter(const struct policy *p, const struct policy_result *cmd, const char *const *envp,
		      const char **out, size_t out_cap, size_t *out_n)
{ (void)p; (void)cmd; (void)envp; (void)out; (void)out_cap; *out_n = 0; return -ENOSYS; }
bool policy_env_allowed(const struct policy *p, const struct policy_result *cmd, const char *name)
{ (void)p; (void)cmd; (void)name; return false; }
bool policy_env_block_iteration(const struct policy *p, const struct policy_result *cmd) { (void)p; (void)cmd; return false; }
static const struct policy_limits nolimits;
const struct policy_limits *policy_limits(const struct policy *p) { (void)p; return &nolimits; }
static const struct policy_audit_settings noaudit;
const struct policy_audit_settings *policy_audit(const struct policy *p) { (void)p; return &noaudit; }
size_t policy_file_rule_count(const struct policy *p) { (void)p; return 0; }
int policy_file_rule_get(const struct policy *p, size_t i, struct policy_file_rule_info *out) { (void)p; (void)i; (void)out; return -ENOENT; }
size_t policy_net_rule_count(const struct policy *p) { (void)p; return 0; }
int policy_net_rule_get(const struct policy *p, size_t i, struct policy_net_rule_info *out) { (void)p; (void)i; (void)out; return -ENOENT; }
size_t policy_cmd_rule_count(const struct policy *p) { (void)p; return 0; }
int policy_cmd_rule_get(const struct policy *p, size_t i, struct policy_cmd_rule_info *out) { (void)p; (void)i; (void)out; return -ENOENT; }
int policy_glob_static_prefix(const char *glob, char *buf, size_t len, bool *is_literal) { (void)glob; (void)buf; (void)len; (void)is_literal; return -ENOSYS; }
int policy_glob_match(const char *glob, const char *path) { (void)glob; (void)path; return -ENOSYS; }
int policy_config_load(const char *path, struct agentsh_config **out, struct policy_diags *diags) { (void)path; (void)diags; *out = NULL; return -ENOSYS; }
int policy_config_load_ex(const char *path, bool check_owner, struct agentsh_config **out, struct policy_diags *diags) { (void)path; (void)check_owner; (void)diags; *out = NULL; return -ENOSYS; }
void policy_config_free(struct agentsh_config *cfg) { (void)cfg; }
int policy_select(const struct agentsh_config *cfg, uid_t uid, const gid_t *gids, size_t ngids, const char *requested, bool is_root,
		  const struct policy_vars *vars, struct policy **out, struct policy_diags *diags)
{ (void)cfg; (void)uid; (void)gids; (void)ngids; (void)requested; (void)is_root; (void)vars; (void)diags; *out = NULL; return -ENOSYS; }
int policy_lint(const struct policy *p, const struct agentsh_config *cfg, struct policy_diags *diags) { (void)p; (void)cfg; (void)diags; return 0; }
int policy_cli(int argc, char **argv, const struct policy_cli_env *env) { (void)argc; (void)argv; (void)env; fputs("agentsh policy: not implemented yet\n", stderr); return 1; }
const char *policy_cli_usage(void) { return "usage: agentsh policy show|validate|lint|check|test [--json] [--policy NAME|FILE]\n"; }
