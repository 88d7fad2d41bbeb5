/* `policy test FILE…`: YAML lists of cases run against a policy. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "policy/cli_int.h"

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
		pol_cli_get_policy(c, NULL, &owned, &p, &d);
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
		int r = words && ck ? pol_cli_run_check(c, p, wc, words, ck, err, sizeof(err)) : 1;
		bool ok = r == 0 && ck->res.decision == want &&
			  (!rule || (rule->type == Y_SCALAR && !strcmp(rule->str, ck->res.rule))) &&
			  (!msg || (msg->type == Y_SCALAR && strstr(ck->res.message, msg->str)));
		ok ? pass++ : fail++;
		if (c->json) {
			json_t *j = r == 0 ? pol_cli_result_json(ck) : json_object();
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
						      pol_cli_diags_json(&d)));
	else
		json_decref(jcases);
	pol_cli_print_diags(c, &d);
	if (d.nerrors)
		rc = 1;
	policy_diags_free(&d);
	policy_free(owned);
	pol_ytree_free(root);
	return rc;
}

int pol_cli_cmd_test(struct cli *c, int argc, char **argv)
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
		pol_cli_json_out(c, arr);
	else
		json_decref(arr);
	return rc;
}

