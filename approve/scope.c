/* Who may answer which request: the intersection of the session account's
 * scope and the rule's scope (approvals.accounts / approvals.rules), computed
 * once per request when it is submitted and kept with it, so the prompt, the
 * challenge and the proof check all see the same answer.  Anything that makes
 * the request unanswerable — an empty intersection, a named approver who is
 * not enrolled, nobody enrolled with an allowed method — denies it at once
 * with the reason, instead of letting it wait for a proof that cannot come. */
#include "approve/approve_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int approve_method_parse(const char *s, enum approve_method *out)
{
	static const enum approve_method ms[] = { APPROVE_M_TOTP, APPROVE_M_WEBAUTHN, APPROVE_M_CONFIRM };

	for (size_t i = 0; s && i < sizeof(ms) / sizeof(ms[0]); i++)
		if (strcmp(s, approve_method_name(ms[i])) == 0) {
			*out = ms[i];
			return 0;
		}
	return -EINVAL;
}

static int strv_dup(const char *const *in, char ***out, size_t *n)
{
	size_t k = 0;

	while (in[k])
		k++;
	if (!(*out = calloc(k + 1, sizeof(char *))))
		return -ENOMEM;
	for (*n = 0; *n < k; (*n)++)
		if (!((*out)[*n] = strdup(in[*n])))
			return -ENOMEM;
	return 0;
}

static int scope_copy(const struct approve_scope *in, struct ap_scope *s, char *err, size_t errlen)
{
	enum approve_method m;

	if (!in->name || !(s->name = strdup(in->name)))
		return -ENOMEM;
	s->methods = AP_M_ALL;
	if (in->methods) {
		s->methods = 0;
		for (const char *const *p = in->methods; *p; p++) {
			if (approve_method_parse(*p, &m) < 0) {
				ap_err(err, errlen, "approvals: unknown method '%s' for '%s' (use totp, webauthn "
				       "or confirm)", *p, in->name);
				return -EINVAL;
			}
			s->methods |= AP_M_BIT(m);
		}
	}
	s->any = !in->approvers;
	return in->approvers ? strv_dup(in->approvers, &s->names, &s->n) : 0;
}

static void scope_free(struct ap_scope *s)
{
	free(s->name);
	ap_strv_free(s->names, s->n);
}

int ap_scopes_copy(const struct approve_scope *in, size_t n, struct ap_scopes *out, char *err,
		   size_t errlen)
{
	int rc;

	out->v = NULL;
	out->n = 0;
	if (!n)
		return 0;
	if (!(out->v = calloc(n, sizeof(*out->v))))
		return -ENOMEM;
	for (; out->n < n; out->n++)
		if ((rc = scope_copy(&in[out->n], &out->v[out->n], err, errlen)) < 0) {
			out->n++;
			return rc;
		}
	return 0;
}

void ap_scopes_free(struct ap_scopes *s)
{
	for (size_t i = 0; i < s->n; i++)
		scope_free(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

const struct ap_scope *ap_scopes_find(const struct ap_scopes *s, const char *name)
{
	for (size_t i = 0; name && i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

static bool in_list(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

static int allow_set_names(struct ap_allow *a, const struct ap_scope *x, const struct ap_scope *y)
{
	/* x restricts; y may or may not */
	if (!(a->names = calloc(x->n + 1, sizeof(char *))))
		return -ENOMEM;
	for (size_t i = 0; i < x->n; i++)
		if ((y->any || in_list(y->names, y->n, x->names[i])) &&
		    !in_list(a->names, a->n, x->names[i]) && !(a->names[a->n++] = strdup(x->names[i])))
			return -ENOMEM;
	return 0;
}

int ap_allow_compute(const struct ap_scope *acct, const struct ap_scope *rule, bool allow_confirm,
		     struct ap_allow *out)
{
	static const struct ap_scope open = { .methods = AP_M_ALL, .any = true };
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!acct)
		acct = &open;
	if (!rule)
		rule = &open;
	out->methods = acct->methods & rule->methods;
	if (!allow_confirm)
		out->methods &= ~AP_M_BIT(APPROVE_M_CONFIRM);
	out->any = acct->any && rule->any;
	if (!out->any)
		rc = allow_set_names(out, acct->any ? rule : acct, acct->any ? acct : rule);
	if (rc < 0)
		ap_allow_free(out);
	return rc;
}

void ap_allow_free(struct ap_allow *a)
{
	ap_strv_free(a->names, a->n);
	a->names = NULL;
	a->n = 0;
}

int ap_allow_copy(const struct ap_allow *in, struct ap_allow *out)
{
	*out = (struct ap_allow){ .methods = in->methods, .any = in->any };
	if (in->any)
		return 0;
	return strv_dup((const char *const *)in->names, &out->names, &out->n);
}

bool ap_allow_name(const struct ap_allow *a, const char *name)
{
	return a->any || in_list(a->names, a->n, name);
}

bool ap_allow_method(const struct ap_allow *a, enum approve_method m)
{
	return (unsigned)m < 32 && (a->methods & AP_M_BIT(m));
}

void ap_allow_methods_str(const struct ap_allow *a, char *buf, size_t n)
{
	static const enum approve_method ms[] = { APPROVE_M_WEBAUTHN, APPROVE_M_TOTP, APPROVE_M_CONFIRM };
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]) && len < n; i++)
		if (ap_allow_method(a, ms[i]))
			len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "",
						approve_method_name(ms[i]));
	if (!buf[0])
		snprintf(buf, n, "none");
}

/* Which of the allowed methods name can answer with: AP_M_BIT mask. */
static unsigned usable_methods(const char *dir, const char *name, const struct ap_allow *a)
{
	return ap_store_methods_of(dir, name) & a->methods;
}

/* What the request is restricted by, for messages. */
static void scope_desc(const char *acct, bool has_acct, const char *rule, bool has_rule, char *buf,
		       size_t n)
{
	snprintf(buf, n, "%s%s%s%s%s%s%s", has_acct ? "approvals.accounts." : "",
		 has_acct ? acct : "", has_acct && has_rule ? " and " : "",
		 has_rule ? "approvals.rules." : "", has_rule ? rule : "",
		 has_acct || has_rule ? "" : "the default (any enrolled approver)", "");
}

int ap_allow_check(const struct ap_allow *a, const char *dir, const char *acct, bool has_acct,
		   const char *rule, bool has_rule, char *err, size_t errlen)
{
	char **names = NULL, what[300], ms[64];
	size_t n = 0;
	bool anyone = false;

	scope_desc(acct, has_acct, rule, has_rule, what, sizeof(what));
	ap_allow_methods_str(a, ms, sizeof(ms));
	if (a->methods == AP_M_BIT(APPROVE_M_CONFIRM) && a->any)
		return 0;       /* human-only confirm: no enrolled approver needed */
	if (!a->methods || (!a->any && !a->n)) {
		ap_err(err, errlen, "nobody may answer this request: %s allow%s no common %s; fix the "
		       "approvals section of /etc/agentsh/config.yaml", what, has_acct && has_rule ? "" : "s",
		       !a->methods ? "method" : "approver");
		return -ENOENT;
	}
	if (ap_store_names(dir, &names, &n) < 0)
		n = 0;
	for (size_t i = 0; !a->any && i < a->n; i++)
		if (!in_list(names, n, a->names[i])) {
			ap_err(err, errlen, "approver '%s' named by %s is not enrolled in %s; as root run "
			       "'agentsh approver add %s --totp' (or --webauthn), or fix the configuration",
			       a->names[i], what, dir, a->names[i]);
			ap_strv_free(names, n);
			return -ENOENT;
		}
	for (size_t i = 0; i < n && !anyone; i++)
		anyone = ap_allow_name(a, names[i]) && usable_methods(dir, names[i], a);
	ap_strv_free(names, n);
	if (!anyone && !ap_allow_method(a, APPROVE_M_CONFIRM)) {
		ap_err(err, errlen, "no enrolled approver allowed by %s has a %s credential; enroll one "
		       "as root with 'agentsh approver add NAME --%s'", what, ms,
		       ap_allow_method(a, APPROVE_M_WEBAUTHN) ? "webauthn" : "totp");
		return -ENOENT;
	}
	return 0;
}
