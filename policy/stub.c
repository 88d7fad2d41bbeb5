/* Temporary skeleton for the parts not written yet: they fail closed. */
#include <errno.h>
#include <string.h>
#include "policy/policy.h"

int policy_config_load(const char *path, struct agentsh_config **out, struct policy_diags *diags) { (void)path; (void)diags; *out = NULL; return -ENOSYS; }
int policy_config_load_ex(const char *path, bool check_owner, struct agentsh_config **out, struct policy_diags *diags) { (void)path; (void)check_owner; (void)diags; *out = NULL; return -ENOSYS; }
void policy_config_free(struct agentsh_config *cfg) { (void)cfg; }
int policy_select(const struct agentsh_config *cfg, uid_t uid, const gid_t *gids, size_t ngids, const char *requested, bool is_root,
		  const struct policy_vars *vars, struct policy **out, struct policy_diags *diags)
{ (void)cfg; (void)uid; (void)gids; (void)ngids; (void)requested; (void)is_root; (void)vars; (void)diags; *out = NULL; return -ENOSYS; }
int policy_cli(int argc, char **argv, const struct policy_cli_env *env) { (void)argc; (void)argv; (void)env; fputs("agentsh policy: not implemented yet\n", stderr); return 1; }
const char *policy_cli_usage(void) { return "usage: agentsh policy show|validate|lint|check|test [--json] [--policy NAME|FILE]\n"; }
