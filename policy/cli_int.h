/* Private to policy/: the `agentsh policy` command line, shared by cli*.c. */
#ifndef AGENTSH_POLICY_CLI_INT_H
#define AGENTSH_POLICY_CLI_INT_H

#include <jansson.h>
#include "policy/policy_int.h"

struct cli {
	const struct policy_cli_env *env;
	FILE *out, *err;
	bool json;
	const char *requested;
	struct policy_vars vars;
	bool vars_given;                /* --var used */
	char home[4096], cwd[4096], user[256];
};

/* One `policy check` (also one test case). */
struct check {
	enum policy_kind kind;
	struct policy_result res;
	char what[600];
	int rc;
	bool as_run;            /* exec: decide as the supervisor would, on this machine */
	char program[4096];     /* exec, as_run: the file that really runs, when not the name given */
};

/* cli.c */
int pol_cli_get_policy(struct cli *c, const char *ref, struct policy **owned, const struct policy **p,
		       struct policy_diags *d);
json_t *pol_cli_diags_json(const struct policy_diags *d);
void pol_cli_json_out(struct cli *c, json_t *j);
void pol_cli_print_diags(struct cli *c, const struct policy_diags *d);
/* cli_check.c: argv = KIND TARGET...; 0, or 2 (usage) with errbuf set */
int pol_cli_run_check(struct cli *c, const struct policy *p, int argc, char **argv, struct check *ck,
		      char *errbuf, size_t errlen);
json_t *pol_cli_result_json(const struct check *ck);
int pol_cli_cmd_check(struct cli *c, int argc, char **argv);
/* cli_test.c */
int pol_cli_cmd_test(struct cli *c, int argc, char **argv);

#endif
