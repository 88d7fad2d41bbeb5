/* `agentsh policy show|validate|lint|check|test` — the inspection commands,
 * used both as the subcommand and as the shell's `policy` built-in.  This is
 * a top level: it prints and returns an exit status. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "policy/cli_int.h"

/* Display strings here are cut at a fixed size on purpose; paths longer than
 * PATH_MAX are refused by the check functions themselves. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* `lint FILE` without --var: lint for a typical agent account, so the result
 * does not depend on who runs it or from where (as root, HOME=/root would
 * report shadowing that no agent account has). */
static const struct policy_vars lint_vars = {
	.home = "/home/agent", .workspace = "/home/agent/work", .project_root = "/home/agent/work",
	.git_root = "/home/agent/work", .tmpdir = "/tmp", .user = "agent",
};

/* --var NAME=VALUE: inspection only (lint/check/test/show of what a policy
 * would do for another account or workspace); sessions never take it. */
static int set_var(struct cli *c, const char *kv)
{
	static const char *const names[] = { "HOME", "WORKSPACE", "PROJECT_ROOT", "GIT_ROOT", "TMPDIR", "USER",
					     "RESOLV_CONF" };
	const char **slots[] = { &c->vars.home, &c->vars.workspace, &c->vars.project_root,
				 &c->vars.git_root, &c->vars.tmpdir, &c->vars.user, &c->vars.resolv_conf };
	const char *eq = strchr(kv, '=');
	for (size_t i = 0; eq && i < 7; i++)
		if (strlen(names[i]) == (size_t)(eq - kv) && !strncmp(kv, names[i], (size_t)(eq - kv))) {
			*slots[i] = eq + 1;
			c->vars_given = true;
			return 0;
		}
	fprintf(c->err, "agentsh policy: --var needs NAME=VALUE with NAME one of HOME, WORKSPACE, "
		"PROJECT_ROOT, GIT_ROOT, TMPDIR, USER, RESOLV_CONF (got '%s')\n", kv);
	return -1;
}

const char *policy_cli_usage(void)
{
	return "usage: agentsh policy [--json] [--policy NAME|FILE] [--var NAME=VALUE]... COMMAND ...\n"
	       "  show [NAME|FILE]            the active (or named) policy, rules in order, variables expanded\n"
	       "  validate FILE...            report every error; exit 0 when all load\n"
	       "  lint [FILE...]              warnings: shadowed rules, rules matching nothing,\n"
	       "                              dodgeable argument regexes, unreachable approvers\n"
	       "  check file OP PATH          e.g. check file write ~/.ssh/id_rsa\n"
	       "  check exec PATH [ARG...]    e.g. check exec /usr/bin/curl https://example.com\n"
	       "  check net connect HOST:PORT e.g. check net connect api.github.com:443\n"
	       "  check unix OP PATH|@NAME    e.g. check unix connect /var/run/docker.sock\n"
	       "  check signal SIG TARGET     e.g. check signal SIGKILL external\n"
	       "  test FILE...                run a YAML list of cases against a policy\n"
	       "--var sets ${HOME}, ${WORKSPACE}, ${PROJECT_ROOT}, ${GIT_ROOT}, ${TMPDIR} or ${USER} for\n"
	       "the inspection (default: the caller's passwd entry and current directory; `lint FILE`\n"
	       "defaults to a typical agent account: HOME=/home/agent, WORKSPACE=/home/agent/work);\n"
	       "RESOLV_CONF names the file `@resolvers` reads (default /etc/resolv.conf).\n"
	       "File operations: read write create delete rename link symlink mkdir rmdir chmod chown\n"
	       "truncate xattr mknod exec open stat list readlink access.  Signal targets: self children\n"
	       "descendants siblings session parent external system.  See agentsh-policy(5).\n";
}

/* ------------------------------------------------------------ helpers */

static void fill_vars(struct cli *c)
{
	if (c->env && c->env->vars) {
		c->vars = *c->env->vars;
		return;
	}
	/* From the passwd entry, never from $HOME: the same rule the session uses. */
	uid_t uid = c->env ? c->env->uid : getuid();
	struct passwd *pw = getpwuid(uid);
	if (pw) {
		snprintf(c->home, sizeof(c->home), "%s", pw->pw_dir);
		snprintf(c->user, sizeof(c->user), "%s", pw->pw_name);
		c->vars.home = c->home;
		c->vars.user = c->user;
	}
	if (getcwd(c->cwd, sizeof(c->cwd))) {
		c->vars.workspace = c->cwd;
		c->vars.project_root = c->cwd;
		c->vars.git_root = c->cwd;
	}
	c->vars.tmpdir = "/tmp";
}

void pol_cli_print_diags(struct cli *c, const struct policy_diags *d)
{
	policy_diags_print(d, c->err);
}

json_t *pol_cli_diags_json(const struct policy_diags *d)
{
	json_t *a = json_array();
	for (size_t i = 0; i < d->n; i++) {
		const struct policy_diag *g = &d->v[i];
		json_array_append_new(a, json_pack("{s:s,s:i,s:i,s:s,s:s,s:s}", "file", g->file, "line",
						   (int)g->line, "col", (int)g->col, "severity",
						   g->severity == POLICY_SEV_ERROR ? "error" :
						   g->severity == POLICY_SEV_WARNING ? "warning" : "note",
						   "code", g->code, "message", g->message));
	}
	return a;
}

void pol_cli_json_out(struct cli *c, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (s) {
		fprintf(c->out, "%s\n", s);
		free(s);
	}
	json_decref(j);
}

/* The policy the inspection commands talk about. */
int pol_cli_get_policy(struct cli *c, const char *ref, struct policy **owned, const struct policy **p,
		      struct policy_diags *d)
{
	*owned = NULL;
	*p = NULL;
	const char *req = ref ? ref : c->requested;
	if (!req && c->env && c->env->active) {
		*p = c->env->active;
		return 0;
	}
	const struct policy_cli_env *e = c->env;
	int r = policy_select(e ? e->cfg : NULL, e ? e->uid : getuid(), e ? e->gids : NULL,
			      e ? e->ngids : 0, req, e ? e->is_root : getuid() == 0, &c->vars, owned, d);
	*p = *owned;
	return r;
}

/* ------------------------------------------------------------ validate / lint */

static int cmd_validate_lint(struct cli *c, int argc, char **argv, bool lint)
{
	int rc = 0;
	json_t *arr = json_array();
	struct policy_diags d;
	if (argc == 0 && !lint) {
		fprintf(c->err, "agentsh policy validate: give one or more policy files\n");
		json_decref(arr);
		return 2;
	}
	for (int i = 0; i < (argc ? argc : 1); i++) {
		policy_diags_init(&d);
		struct policy *owned = NULL;
		const struct policy *p = NULL;
		const char *name = argc ? argv[i] : NULL;
		const struct policy_vars *v = lint && !c->vars_given ? &lint_vars : &c->vars;
		int e = argc ? policy_load_file(argv[i], v, &owned, &d)
			     : pol_cli_get_policy(c, NULL, &owned, &p, &d);
		if (owned)
			p = owned;
		if (!name)
			name = p ? policy_source(p) : "(active policy)";
		if (!e && lint)
			policy_lint(p, c->env ? c->env->cfg : NULL, &d);
		if (e || d.nerrors || (lint && d.nwarnings))
			rc = 1;
		if (c->json) {
			json_array_append_new(arr, json_pack("{s:s,s:b,s:i,s:i,s:o}", "file", name, "ok",
							     !e && !d.nerrors, "errors", (int)d.nerrors,
							     "warnings", (int)d.nwarnings, "diagnostics",
							     pol_cli_diags_json(&d)));
		} else {
			/* lint's warnings are its result: stdout; load errors: stderr */
			policy_diags_print(&d, lint && !e ? c->out : c->err);
			if (!e && !(lint && d.nwarnings))
				fprintf(c->out, "%s: ok%s\n", name, lint ? " (no warnings)" : "");
			else if (e)
				fprintf(c->out, "%s: %zu error%s\n", name, d.nerrors, d.nerrors == 1 ? "" : "s");
			else
				fprintf(c->out, "%s: %zu warning%s\n", name, d.nwarnings, d.nwarnings == 1 ? "" : "s");
		}
		policy_free(owned);
		policy_diags_free(&d);
	}
	if (c->json)
		pol_cli_json_out(c, arr);
	else
		json_decref(arr);
	return rc;
}

/* ------------------------------------------------------------ show */

static int cmd_show(struct cli *c, int argc, char **argv)
{
	struct policy_diags d;
	policy_diags_init(&d);
	struct policy *owned;
	const struct policy *p;
	if (argc > 1) {
		fprintf(c->err, "agentsh policy show: at most one NAME or FILE\n");
		return 2;
	}
	int e = pol_cli_get_policy(c, argc ? argv[0] : NULL, &owned, &p, &d);
	pol_cli_print_diags(c, &d);
	policy_diags_free(&d);
	if (e)
		return 1;
	policy_show(p, c->out, c->json);
	policy_free(owned);
	return 0;
}

/* ------------------------------------------------------------ entry */

int policy_cli(int argc, char **argv, const struct policy_cli_env *env)
{
	struct cli *c = calloc(1, sizeof(*c));
	if (!c) {
		fprintf(stderr, "agentsh policy: out of memory\n");
		return 1;
	}
	c->env = env;
	c->out = env && env->out ? env->out : stdout;
	c->err = env && env->err ? env->err : stderr;
	c->json = env && env->json;
	c->requested = env ? env->requested : NULL;
	if (!getcwd(c->cwd, sizeof(c->cwd)))
		c->cwd[0] = 0;
	fill_vars(c);
	int i = argc > 0 && !strcmp(argv[0], "policy") ? 1 : 0;
	int rc = 2;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json"))
			c->json = true;
		else if (!strcmp(argv[i], "--policy") && i + 1 < argc)
			c->requested = argv[++i];
		else if (!strncmp(argv[i], "--policy=", 9))
			c->requested = argv[i] + 9;
		else if (!strcmp(argv[i], "--var") && i + 1 < argc) {
			if (set_var(c, argv[++i]))
				goto done;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(policy_cli_usage(), c->out);
			rc = 0;
			goto done;
		} else {
			fprintf(c->err, "agentsh policy: unknown option '%s'\n%s", argv[i], policy_cli_usage());
			goto done;
		}
	}
	if (i >= argc) {
		fputs(policy_cli_usage(), c->err);
		goto done;
	}
	/* options may also follow the subcommand */
	const char *sub = argv[i++];
	char **rest = calloc((size_t)(argc - i) + 1, sizeof(char *));
	int nrest = 0;
	for (int k = i; rest && k < argc; k++) {
		if (!strcmp(argv[k], "--json"))
			c->json = true;
		else if (!strcmp(argv[k], "--policy") && k + 1 < argc)
			c->requested = argv[++k];
		else if (!strncmp(argv[k], "--policy=", 9))
			c->requested = argv[k] + 9;
		else if (!strcmp(argv[k], "--var") && k + 1 < argc) {
			if (set_var(c, argv[++k])) {
				free(rest);
				goto done;
			}
		} else
			rest[nrest++] = argv[k];
	}
	if (!strcmp(sub, "show"))
		rc = cmd_show(c, nrest, rest);
	else if (!strcmp(sub, "validate"))
		rc = cmd_validate_lint(c, nrest, rest, false);
	else if (!strcmp(sub, "lint"))
		rc = cmd_validate_lint(c, nrest, rest, true);
	else if (!strcmp(sub, "check"))
		rc = pol_cli_cmd_check(c, nrest, rest);
	else if (!strcmp(sub, "test"))
		rc = pol_cli_cmd_test(c, nrest, rest);
	else if (!strcmp(sub, "help"))
		fputs(policy_cli_usage(), c->out), rc = 0;
	else
		fprintf(c->err, "agentsh policy: unknown command '%s'\n%s", sub, policy_cli_usage());
	free(rest);
done:
	fflush(c->out);
	free(c);
	return rc;
}

