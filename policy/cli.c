/* `agentsh policy show|validate|lint|check|test` — the inspection commands,
 * used both as the subcommand and as the shell's `policy` built-in.  This is
 * a top level: it prints and returns an exit status. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "policy/policy_int.h"

/* Display strings here are cut at a fixed size on purpose; paths longer than
 * PATH_MAX are refused by the check functions themselves. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif


struct cli {
	const struct policy_cli_env *env;
	FILE *out, *err;
	bool json;
	const char *requested;
	struct policy_vars vars;
	bool vars_given;                /* --var used */
	char home[4096], cwd[4096], user[256];
};

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
	static const char *const names[] = { "HOME", "WORKSPACE", "PROJECT_ROOT", "GIT_ROOT", "TMPDIR", "USER" };
	const char **slots[] = { &c->vars.home, &c->vars.workspace, &c->vars.project_root,
				 &c->vars.git_root, &c->vars.tmpdir, &c->vars.user };
	const char *eq = strchr(kv, '=');
	for (size_t i = 0; eq && i < 6; i++)
		if (strlen(names[i]) == (size_t)(eq - kv) && !strncmp(kv, names[i], (size_t)(eq - kv))) {
			*slots[i] = eq + 1;
			c->vars_given = true;
			return 0;
		}
	fprintf(c->err, "agentsh policy: --var needs NAME=VALUE with NAME one of HOME, WORKSPACE, "
		"PROJECT_ROOT, GIT_ROOT, TMPDIR, USER (got '%s')\n", kv);
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
	       "defaults to a typical agent account: HOME=/home/agent, WORKSPACE=/home/agent/work).\n"
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

static void print_diags(struct cli *c, const struct policy_diags *d)
{
	policy_diags_print(d, c->err);
}

static json_t *diags_json(const struct policy_diags *d)
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

static void json_out(struct cli *c, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (s) {
		fprintf(c->out, "%s\n", s);
		free(s);
	}
	json_decref(j);
}

/* The policy the inspection commands talk about. */
static int get_policy(struct cli *c, const char *ref, struct policy **owned, const struct policy **p,
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
			     : get_policy(c, NULL, &owned, &p, &d);
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
							     diags_json(&d)));
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
		json_out(c, arr);
	else
		json_decref(arr);
	return rc;
}

/* ------------------------------------------------------------ check */

struct check { enum policy_kind kind; struct policy_result res; char what[600]; int rc; };

static void expand_tilde(struct cli *c, const char *in, char *out, size_t len)
{
	char tmp[PATH_MAX];
	if (in[0] == '~' && (in[1] == '/' || !in[1]) && c->vars.home)
		snprintf(tmp, sizeof(tmp), "%s%s", c->vars.home, in + 1);
	else if (in[0] != '/' && in[0] != '@')
		snprintf(tmp, sizeof(tmp), "%s/%s", c->cwd[0] ? c->cwd : "/", in);
	else
		snprintf(tmp, sizeof(tmp), "%s", in);
	if (tmp[0] != '/' || pol_normalize_path(tmp, out, len) < 0)
		snprintf(out, len, "%s", tmp);
}

static void which(const char *name, char *out, size_t len)
{
	const char *path = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
	char buf[PATH_MAX];
	for (const char *p = path; *p;) {
		const char *e = strchr(p, ':');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)l, p, name);
		if (access(buf, X_OK) == 0) {
			snprintf(out, len, "%s", buf);
			return;
		}
		p += l + (e ? 1 : 0);
	}
	snprintf(out, len, "/usr/bin/%s", name);
}

static int parse_hostport(const char *s, char *host, size_t hlen, uint16_t *port)
{
	const char *colon;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e || e[1] != ':')
			return -EINVAL;
		snprintf(host, hlen, "%.*s", (int)(e - s - 1), s + 1);
		colon = e + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		snprintf(host, hlen, "%.*s", (int)(colon - s), s);
	}
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

/* argv = OP-KIND TARGET... ; fills ck; returns 0 or 2 (usage) */
static int run_check(struct cli *c, const struct policy *p, int argc, char **argv, struct check *ck,
		     char *errbuf, size_t errlen)
{
	if (argc < 2)
		goto usage;
	const char *kind = argv[0];
	if (!strcmp(kind, "file")) {
		enum policy_file_op op;
		if (argc != 3 || policy_file_op_parse(argv[1], &op)) {
			snprintf(errbuf, errlen, "'check file' needs OP PATH with OP one of read, write, create, "
				 "delete, rename, link, symlink, mkdir, rmdir, chmod, chown, truncate, xattr, mknod, "
				 "exec, open, stat, list, readlink, access");
			return 2;
		}
		char path[PATH_MAX];
		expand_tilde(c, argv[2], path, sizeof(path));
		ck->kind = POLICY_KIND_FILE;
		snprintf(ck->what, sizeof(ck->what), "file %s %s", argv[1], path);
		ck->rc = policy_check_file(p, op, path, &ck->res);
		return 0;
	}
	if (!strcmp(kind, "exec") || !strcmp(kind, "command")) {
		char path[PATH_MAX];
		if (strchr(argv[1], '/'))
			expand_tilde(c, argv[1], path, sizeof(path));
		else
			which(argv[1], path, sizeof(path));
		const char *av[256];
		int ac = 0;
		av[ac++] = argv[1];
		for (int i = 2; i < argc && ac < 255; i++)
			av[ac++] = argv[i];
		ck->kind = POLICY_KIND_COMMAND;
		size_t n = (size_t)snprintf(ck->what, sizeof(ck->what), "exec %s", path);
		for (int i = 1; i < ac && n < sizeof(ck->what); i++)
			n += (size_t)snprintf(ck->what + n, sizeof(ck->what) - n, " %s", av[i]);
		ck->rc = policy_check_exec(p, path, ac, av, &ck->res);
		return 0;
	}
	if (!strcmp(kind, "net") || !strcmp(kind, "network")) {
		const char *t = argc >= 3 && !strcmp(argv[1], "connect") ? argv[2] : argv[1];
		char host[256];
		uint16_t port;
		if (parse_hostport(t, host, sizeof(host), &port)) {
			snprintf(errbuf, errlen, "'check net' needs connect HOST:PORT (e.g. api.github.com:443, "
				 "10.0.0.1:22, [::1]:8080), not '%s'", t);
			return 2;
		}
		ck->kind = POLICY_KIND_NETWORK;
		snprintf(ck->what, sizeof(ck->what), "net connect %s:%u", host, port);
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(port) };
		if (inet_pton(AF_INET, host, &s4.sin_addr) == 1)
			ck->rc = policy_check_net(p, (struct sockaddr *)&s4, NULL, &ck->res);
		else if (inet_pton(AF_INET6, host, &s6.sin6_addr) == 1)
			ck->rc = policy_check_net(p, (struct sockaddr *)&s6, NULL, &ck->res);
		else
			ck->rc = policy_check_net_name(p, host, port, &ck->res);
		return 0;
	}
	if (!strcmp(kind, "unix")) {
		static const char *const ops[] = { "connect", "bind", "listen", "sendto" };
		int op = -1;
		for (int i = 0; argc == 3 && i < 4; i++)
			if (!strcmp(argv[1], ops[i]))
				op = i;
		if (op < 0) {
			snprintf(errbuf, errlen, "'check unix' needs OP PATH|@NAME with OP connect, bind, listen "
				 "or sendto");
			return 2;
		}
		char path[PATH_MAX];
		bool abs = argv[2][0] == '@';
		if (abs)
			snprintf(path, sizeof(path), "%s", argv[2] + 1);
		else
			expand_tilde(c, argv[2], path, sizeof(path));
		ck->kind = POLICY_KIND_UNIX;
		snprintf(ck->what, sizeof(ck->what), "unix %s %s%s", argv[1], abs ? "@" : "", path);
		ck->rc = policy_check_unix(p, (enum policy_unix_op)op, path, abs, &ck->res);
		return 0;
	}
	if (!strcmp(kind, "signal")) {
		enum policy_signal_target t;
		int sig = argc == 3 ? policy_signal_parse(argv[1]) : -1;
		if (sig <= 0 || policy_signal_target_parse(argv[2], &t)) {
			snprintf(errbuf, errlen, "'check signal' needs SIGNAL TARGET (e.g. SIGKILL external); "
				 "targets: self children descendants siblings session parent external system");
			return 2;
		}
		ck->kind = POLICY_KIND_SIGNAL;
		snprintf(ck->what, sizeof(ck->what), "signal %s %s", policy_signal_name(sig) ?
			 policy_signal_name(sig) : argv[1], argv[2]);
		ck->rc = policy_check_signal(p, sig, t, &ck->res);
		return 0;
	}
usage:
	snprintf(errbuf, errlen, "'check' needs file|exec|net|unix|signal and a target (see 'agentsh "
		 "policy --help')");
	return 2;
}

static json_t *result_json(const struct check *ck)
{
	const struct policy_result *r = &ck->res;
	json_t *j = json_pack("{s:s,s:s,s:s,s:b,s:s,s:i,s:s}", "check", ck->what, "decision",
			      policy_decision_name(r->decision), "rule", r->rule, "default", r->is_default,
			      "file", r->file, "line", (int)r->line, "message", r->message);
	if (r->timeout_ms)
		json_object_set_new(j, "timeout_ms", json_integer(r->timeout_ms));
	if (r->has_fallback)
		json_object_set_new(j, "fallback", json_string(policy_decision_name(r->fallback)));
	if (r->decision == POLICY_REDIRECT) {
		if (r->cmd.path) {
			json_t *a = json_array();
			for (size_t i = 0; i < r->cmd.nargs; i++)
				json_array_append_new(a, json_string(r->cmd.args[i]));
			json_object_set_new(j, "redirect_command", json_string(r->cmd.path));
			json_object_set_new(j, "redirect_args", a);
		}
		if (r->redirect_path[0])
			json_object_set_new(j, "redirect_path", json_string(r->redirect_path));
		if (r->redirect_signal)
			json_object_set_new(j, "redirect_signal",
					    json_string(policy_signal_name(r->redirect_signal) ?
							policy_signal_name(r->redirect_signal) : "?"));
	}
	return j;
}

static void result_text(struct cli *c, const struct check *ck)
{
	const struct policy_result *r = &ck->res;
	fprintf(c->out, "%s: %s", ck->what, policy_decision_name(r->decision));
	if (r->is_default)
		fprintf(c->out, " (default: %s, no rule matched)\n", r->rule);
	else
		fprintf(c->out, " by rule '%s' (%s:%u)\n", r->rule, r->file, r->line);
	if (r->message[0])
		fprintf(c->out, "  message: %s\n", r->message);
	if (r->timeout_ms)
		fprintf(c->out, "  timeout: %us\n", r->timeout_ms / 1000);
	if (r->has_fallback)
		fprintf(c->out, "  fallback: %s\n", policy_decision_name(r->fallback));
	if (r->decision == POLICY_REDIRECT) {
		if (r->cmd.path) {
			fprintf(c->out, "  runs instead: %s", r->cmd.path);
			for (size_t i = 0; i < r->cmd.nargs; i++)
				fprintf(c->out, " %s", r->cmd.args[i]);
			fprintf(c->out, "%s\n", r->cmd.nargs_append ? " … (plus appended args)" : "");
		}
		if (r->redirect_path[0])
			fprintf(c->out, "  redirected to: %s\n", r->redirect_path);
		if (r->redirect_signal)
			fprintf(c->out, "  sends instead: %s\n", policy_signal_name(r->redirect_signal));
	}
}

static int cmd_check(struct cli *c, int argc, char **argv)
{
	struct policy_diags d;
	policy_diags_init(&d);
	struct policy *owned;
	const struct policy *p;
	if (get_policy(c, NULL, &owned, &p, &d)) {
		print_diags(c, &d);
		policy_diags_free(&d);
		return 1;
	}
	policy_diags_free(&d);
	struct check *ck = calloc(1, sizeof(*ck));
	char err[512];
	int rc = ck ? run_check(c, p, argc, argv, ck, err, sizeof(err)) : 1;
	if (rc == 2)
		fprintf(c->err, "agentsh policy check: %s\n", err);
	else if (ck && c->json)
		json_out(c, result_json(ck));
	else if (ck)
		result_text(c, ck);
	free(ck);
	policy_free(owned);
	return rc;
}

/* ------------------------------------------------------------ test */

/* Words of a test case's `check:` line: split on blanks; '...' and "..."
 * group (no escapes), so `exec /bin/echo "a b"` has two arguments. */
static char **split_words(const char *s, int *n)
{
	char **v = calloc(strlen(s) / 2 + 2, sizeof(char *));
	*n = 0;
	if (!v)
		return NULL;
	const char *p = s;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		char *w = malloc(strlen(p) + 1);
		if (!w)
			break;
		size_t k = 0;
		char q = 0;
		for (; *p && (q || (*p != ' ' && *p != '\t')); p++) {
			if (!q && (*p == '\'' || *p == '"'))
				q = *p;
			else if (q && *p == q)
				q = 0;
			else
				w[k++] = *p;
		}
		w[k] = 0;
		v[(*n)++] = w;
	}
	return v;
}

static const struct ynode *ymget(const struct ynode *m, const char *key)
{
	for (size_t i = 0; m && m->type == Y_MAP && i + 1 < m->n; i += 2)
		if (m->kids[i]->type == Y_SCALAR && !strcmp(m->kids[i]->str, key))
			return m->kids[i + 1];
	return NULL;
}

/* Test files are strict too: a misspelled 'expect' must not pass silently. */
static bool known_keys(const struct ynode *m, const char *const *keys, size_t n, const char *file,
		       const char *where, struct policy_diags *d)
{
	bool ok = true;
	if (m->type != Y_MAP) {
		pol_pdiag(d, POLICY_SEV_ERROR, file, m->line, m->col, "test", "%s must be a mapping", where);
		return false;
	}
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *k = m->kids[i];
		bool hit = false;
		for (size_t j = 0; k->type == Y_SCALAR && j < n; j++)
			hit |= !strcmp(k->str, keys[j]);
		if (hit)
			continue;
		const char *dym = k->type == Y_SCALAR ? pol_did_you_mean(k->str, keys, n) : NULL;
		pol_pdiag(d, POLICY_SEV_ERROR, file, k->line, k->col, "unknown-key",
			  "unknown key '%s' in %s%s%s%s", k->type == Y_SCALAR ? k->str : "?", where,
			  dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "");
		ok = false;
	}
	return ok;
}

static int test_file(struct cli *c, const char *file, json_t *jarr)
{
	char *buf;
	size_t len;
	struct policy_diags d;
	policy_diags_init(&d);
	int rc = 0, pass = 0, fail = 0;
	struct ynode *root = NULL;
	struct policy *owned = NULL;
	const struct policy *p = NULL;
	json_t *jcases = json_array();
	if (policy_read_file(file, &buf, &len, &d)) {
		rc = 1;
		goto out;
	}
	root = pol_ytree_parse(buf, len, file, &d);
	free(buf);
	if (!root) {
		rc = 1;
		goto out;
	}
	static const char *const keys[] = { "policy", "vars", "cases" };
	for (size_t i = 0; root->type == Y_MAP && i + 1 < root->n; i += 2) {
		const char *k = root->kids[i]->str;
		if (!k || (strcmp(k, keys[0]) && strcmp(k, keys[1]) && strcmp(k, keys[2]))) {
			const char *dym = k ? pol_did_you_mean(k, keys, 3) : NULL;
			pol_pdiag(&d, POLICY_SEV_ERROR, file, root->kids[i]->line, root->kids[i]->col, "unknown-key",
			      "unknown key '%s' in the test file%s%s%s", k ? k : "?", dym ? " (did you mean '" : "",
			      dym ? dym : "", dym ? "'?)" : "");
			rc = 1;
		}
	}
	const struct ynode *cases = ymget(root, "cases");
	if (root->type != Y_MAP || !cases || cases->type != Y_SEQ) {
		pol_pdiag(&d, POLICY_SEV_ERROR, file, root->line, root->col, "test",
		      "a test file is a mapping with 'cases:' (a list of {check, expect, rule}) and "
		      "optionally 'policy:' and 'vars:'");
		rc = 1;
		goto out;
	}
	/* vars: overrides for reproducible tests */
	struct policy_vars v = c->vars;
	const struct ynode *yv = ymget(root, "vars");
	static const char *const vk[] = { "home", "workspace", "project_root", "git_root", "tmpdir", "user" };
	const char **slots[] = { &v.home, &v.workspace, &v.project_root, &v.git_root, &v.tmpdir, &v.user };
	for (size_t i = 0; yv && i < 6; i++) {
		const struct ynode *x = ymget(yv, vk[i]);
		if (x && x->type == Y_SCALAR)
			*slots[i] = x->str;
	}
	if (yv && !known_keys(yv, vk, 6, file, "vars", &d))
		rc = 1;
	struct policy_vars saved = c->vars;
	c->vars = v;
	const struct ynode *yp = ymget(root, "policy");
	char ppath[PATH_MAX];
	if (yp && yp->type == Y_SCALAR && !c->requested) {
		if (yp->str[0] == '/' || !strrchr(file, '/'))
			snprintf(ppath, sizeof(ppath), "%s", yp->str);
		else
			snprintf(ppath, sizeof(ppath), "%.*s/%s", (int)(strrchr(file, '/') - file), file, yp->str);
		if (strcmp(yp->str, "<embedded>") == 0)
			policy_load_embedded(&c->vars, &owned, &d);
		else
			policy_load_file(ppath, &c->vars, &owned, &d);
		p = owned;
	} else {
		get_policy(c, NULL, &owned, &p, &d);
		if (owned)
			p = owned;
	}
	if (!p) {
		c->vars = saved;
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < cases->n; i++) {
		const struct ynode *cs = cases->kids[i];
		const struct ynode *chk = ymget(cs, "check"), *exp = ymget(cs, "expect"), *rule = ymget(cs, "rule");
		const struct ynode *msg = ymget(cs, "message");
		static const char *const ck_keys[] = { "check", "expect", "rule", "message" };
		char where[32];
		snprintf(where, sizeof(where), "case %zu", i + 1);
		if (!known_keys(cs, ck_keys, 4, file, where, &d)) {
			fail++;
			continue;
		}
		enum policy_decision want;
		if (!chk || !exp || chk->type != Y_SCALAR || exp->type != Y_SCALAR ||
		    policy_decision_parse(exp->str, &want)) {
			pol_pdiag(&d, POLICY_SEV_ERROR, file, cs->line, cs->col, "test",
			      "case %zu needs 'check: <op target…>' and 'expect: <decision>'", i + 1);
			fail++;
			continue;
		}
		int wc;
		char **words = split_words(chk->str, &wc);
		struct check *ck = calloc(1, sizeof(*ck));
		char err[512];
		int r = words && ck ? run_check(c, p, wc, words, ck, err, sizeof(err)) : 1;
		bool ok = r == 0 && ck->res.decision == want &&
			  (!rule || (rule->type == Y_SCALAR && !strcmp(rule->str, ck->res.rule))) &&
			  (!msg || (msg->type == Y_SCALAR && strstr(ck->res.message, msg->str)));
		ok ? pass++ : fail++;
		if (c->json) {
			json_t *j = r == 0 ? result_json(ck) : json_object();
			json_object_set_new(j, "ok", json_boolean(ok));
			json_object_set_new(j, "expect", json_string(exp->str));
			json_object_set_new(j, "line", json_integer(cs->line));
			json_array_append_new(jcases, j);
		} else if (r) {
			fprintf(c->out, "not ok %zu - %s (%s:%u): %s\n", i + 1, chk->str, file, cs->line, err);
		} else {
			fprintf(c->out, "%s %zu - %s -> %s (%s)", ok ? "ok" : "not ok", i + 1, chk->str,
				policy_decision_name(ck->res.decision), ck->res.rule);
			if (!ok)
				fprintf(c->out, "  # expected %s%s%s at %s:%u", exp->str,
					rule ? " by " : "", rule && rule->type == Y_SCALAR ? rule->str : "", file,
					cs->line);
			fputc('\n', c->out);
		}
		for (int k = 0; k < wc; k++)
			free(words[k]);
		free(words);
		free(ck);
	}
	c->vars = saved;
	if (fail)
		rc = 1;
	if (!c->json)
		fprintf(c->out, "%s: %d passed, %d failed\n", file, pass, fail);
out:
	if (c->json)
		json_array_append_new(jarr, json_pack("{s:s,s:i,s:i,s:o,s:o}", "file", file, "passed", pass,
						      "failed", fail, "cases", jcases, "diagnostics",
						      diags_json(&d)));
	else
		json_decref(jcases);
	print_diags(c, &d);
	if (d.nerrors)
		rc = 1;
	policy_diags_free(&d);
	policy_free(owned);
	pol_ytree_free(root);
	return rc;
}

static int cmd_test(struct cli *c, int argc, char **argv)
{
	if (argc < 1) {
		fprintf(c->err, "agentsh policy test: give one or more test files (YAML with 'cases:')\n");
		return 2;
	}
	int rc = 0;
	json_t *arr = json_array();
	for (int i = 0; i < argc; i++)
		rc |= test_file(c, argv[i], arr);
	if (c->json)
		json_out(c, arr);
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
	int e = get_policy(c, argc ? argv[0] : NULL, &owned, &p, &d);
	print_diags(c, &d);
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
		rc = cmd_check(c, nrest, rest);
	else if (!strcmp(sub, "test"))
		rc = cmd_test(c, nrest, rest);
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
