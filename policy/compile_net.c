/* network_rules, unix_socket_rules, signal_rules, dns_redirects and
 * connect_redirects entries. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/compile_int.h"

/* ------------------------------------------------------------ network rules */

static void net_ports(struct cctx *c, const struct ynode *l, const char *where, struct net_rule *r)
{
	r->ports = calloc(l->n ? l->n : 1, sizeof(*r->ports));
	if (!r->ports) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		const char *s = l->kids[i]->str;
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		bool ok = isdigit((unsigned char)*s);
		if (ok && *end == '-') {
			const char *h = end + 1;
			ok = isdigit((unsigned char)*h);
			hi = strtoul(h, &end, 10);
		}
		if (!ok || *end || lo < 1 || hi > 65535 || lo > hi) {
			ERR(c, l->kids[i], "bad-port",
			    "invalid port '%s' in %s; use a number 1-65535 or a range like 8000-8100", s, where);
			continue;
		}
		r->ports[r->nports].lo = (uint16_t)lo;
		r->ports[r->nports].hi = (uint16_t)hi;
		r->nports++;
	}
}

#define RESOLVERS_MAX 8                 /* glibc reads 3 */

/* `@resolvers` in cidrs: the name servers of the host's resolver
 * configuration when the policy is loaded (root's /etc/resolv.conf, which no
 * session can write), so a policy can allow DNS without naming the address
 * of each machine's resolver.  Without a nameserver line the resolver asks
 * 127.0.0.1 and ::1, and so does the rule: an empty list would match every
 * address.  Returns how many were stored (at most RESOLVERS_MAX). */
static size_t resolvers(struct cctx *c, const struct ynode *n, const char *where, struct policy_cidr *out)
{
	const char *path = c->vars && c->vars->resolv_conf ? c->vars->resolv_conf : "/etc/resolv.conf";
	FILE *f = fopen(path, "re");
	char line[512], addr[128];
	size_t k = 0;

	if (!f && errno != ENOENT)
		ERR(c, n, "resolvers", "cannot read %s for @resolvers in %s: %s; fix its permissions or "
		    "list the name servers' addresses instead", path, where, strerror(errno));
	while (f && k < RESOLVERS_MAX && fgets(line, sizeof line, f)) {
		if (strncmp(line, "nameserver", 10) || !isspace((unsigned char)line[10]) ||
		    sscanf(line + 10, "%127s", addr) != 1)
			continue;
		addr[strcspn(addr, "%")] = 0;           /* fe80::1%eth0: the scope is not part of the address */
		if (pol_parse_cidr(addr, &out[k]) == 0 && !strchr(addr, '/'))
			k++;
	}
	if (f && ferror(f))
		ERR(c, n, "resolvers", "cannot read %s for @resolvers in %s: %s; list the name servers' "
		    "addresses instead", path, where, strerror(errno));
	if (f)
		fclose(f);
	if (k == 0) {
		pol_parse_cidr("127.0.0.1", &out[k++]);
		pol_parse_cidr("::1", &out[k++]);
	}
	return k;
}

void pol_net_rule(struct cctx *c, const struct ynode *m, size_t idx, struct net_rule *r)
{
	static const char *const keys[] = { "name", "description", "domains", "ports", "cidrs",
		"decision", "message", "timeout" };
	char where[64];
	snprintf(where, sizeof(where), "network_rules[%zu]", idx);
	pol_check_keys(c, m, keys, NK(keys), where);
	pol_rule_common(c, m, where, "network_rules", idx,
		    DEC(ALLOW) | DEC(DENY) | DEC(APPROVE) | DEC(AUDIT), &r->c);
	const struct ynode *l = pol_get_list(c, m, "domains", where);
	for (size_t i = 0; l && i < l->n; i++) {
		char *x = pol_expand_at(c, l->kids[i], where);
		if (!x)
			continue;
		for (char *p = x; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		size_t xl = strlen(x);
		if (xl && x[xl - 1] == '.')
			x[xl - 1] = 0;
		pol_strv_push(c, &r->domains, x);
		if (!strcmp(x, "*"))
			r->domain_any = true;
		else if (!*x || strchr(x, '/') || strchr(x, ':'))
			ERR(c, l->kids[i], "bad-domain", "invalid domain '%s' in %s; write a host name or a "
			    "pattern like *.example.com (put IP ranges in 'cidrs', ports in 'ports')",
			    l->kids[i]->str, where);
		else
			pol_compile_globs(c, l->kids[i], x, true, &r->dglobs, &r->ndglobs, where);
		free(x);
	}
	if (l && l->n == 0)
		ERR(c, l, "empty", "'domains' in %s is empty; remove it or list names", where);
	if ((l = pol_get_list(c, m, "cidrs", where))) {
		size_t nres = 0;
		for (size_t i = 0; i < l->n; i++)
			nres += !strcmp(l->kids[i]->str, "@resolvers");
		r->cidrs = calloc(l->n + nres * RESOLVERS_MAX, sizeof(*r->cidrs));
		if (!r->cidrs)
			c->oom = true;
		for (size_t i = 0; r->cidrs && i < l->n; i++) {
			if (!strcmp(l->kids[i]->str, "@resolvers"))
				r->ncidrs += resolvers(c, l->kids[i], where, &r->cidrs[r->ncidrs]);
			else if (pol_parse_cidr(l->kids[i]->str, &r->cidrs[r->ncidrs]))
				ERR(c, l->kids[i], "bad-cidr", "invalid CIDR '%s' in %s; write e.g. 10.0.0.0/8 or "
				    "fd00::/8", l->kids[i]->str, where);
			else
				r->ncidrs++;
		}
		if (l->n == 0)
			ERR(c, l, "empty", "'cidrs' in %s is empty; remove it or list ranges", where);
	}
	if ((l = pol_get_list(c, m, "ports", where))) {
		net_ports(c, l, where, r);
		if (l->n == 0)
			ERR(c, l, "empty", "'ports' in %s is empty; remove it or list ports", where);
	}
}

/* ------------------------------------------------------------ unix socket rules */

/* own_account_servers: allow|refuse (default refuse).  Only an allowing rule
 * reaches a server at all, so the key means nothing elsewhere: said there, it
 * is a mistake in the policy. */
static void unix_own_servers(struct cctx *c, const struct ynode *m, const char *where,
			     struct unix_rule *r)
{
	const struct ynode *v = pol_map_get(m, "own_account_servers");

	if (!v || !pol_want(c, v, Y_SCALAR, where, "own_account_servers"))
		return;
	if (!strcmp(v->str, "allow"))
		r->own_account_servers = true;
	else if (strcmp(v->str, "refuse"))
		ERR(c, v, "bad-value", "own_account_servers in %s is '%s'; use allow or refuse", where,
		    v->str);
	if (r->own_account_servers && r->c.decision != POLICY_ALLOW && r->c.decision != POLICY_AUDIT &&
	    r->c.decision != POLICY_APPROVE)
		ERR(c, v, "bad-value", "own_account_servers: allow in %s needs a decision that lets the "
		    "connection through (allow, audit or approve)", where);
}

void pol_unix_rule(struct cctx *c, const struct ynode *m, size_t idx, struct unix_rule *r)
{
	static const char *const keys[] = { "name", "description", "paths", "operations", "decision",
		"message", "timeout", "own_account_servers" };
	char where[64];
	snprintf(where, sizeof(where), "unix_socket_rules[%zu]", idx);
	pol_check_keys(c, m, keys, NK(keys), where);
	pol_rule_common(c, m, where, "unix_socket_rules", idx,
		    DEC(ALLOW) | DEC(DENY) | DEC(APPROVE) | DEC(AUDIT), &r->c);
	const struct ynode *l = pol_get_list(c, m, "paths", where);
	if (!pol_map_get(m, "paths"))
		ERR(c, m, "missing-key", "%s has no 'paths'; list socket paths or @abstract names", where);
	for (size_t i = 0; l && i < l->n; i++) {
		char *x = pol_expand_at(c, l->kids[i], where);
		if (!x)
			continue;
		pol_strv_push(c, &r->paths, x);
		pol_compile_globs(c, l->kids[i], x, false, &r->globs, &r->nglobs, where);
		free(x);
	}
	r->ops = 0xf;
	if ((l = pol_get_list(c, m, "operations", where)) && l->n) {
		r->ops = 0;
		for (size_t i = 0; i < l->n; i++) {
			const char *s = l->kids[i]->str;
			int k = !strcmp(s, "connect") ? 0 : !strcmp(s, "bind") ? 1 : !strcmp(s, "listen") ? 2
				: !strcmp(s, "sendto") ? 3 : !strcmp(s, "*") ? 4 : -1;
			if (k < 0)
				ERR(c, l->kids[i], "unknown-operation", "unknown socket operation '%s' in %s (use "
				    "connect, bind, listen, sendto)", s, where);
			else
				r->ops |= k == 4 ? 0xf : 1u << k;
		}
	}
	unix_own_servers(c, m, where, r);
}

/* ------------------------------------------------------------ signal rules */

static void sig_target(struct cctx *c, const struct ynode *m, const char *where, struct sig_rule *r)
{
	const struct ynode *t = pol_map_get(m, "target");
	r->tt = TT_ANY;
	if (!t)
		return;
	if (!pol_want(c, t, Y_MAP, where, "target"))
		return;
	char w2[96];
	snprintf(w2, sizeof(w2), "%s.target", where);
	static const char *const keys[] = { "type", "pattern", "min", "max" };
	pol_check_keys(c, t, keys, NK(keys), w2);
	const struct ynode *ty = pol_map_get(t, "type");
	if (!ty) {
		ERR(c, t, "missing-key", "%s has no 'type'", w2);
		return;
	}
	if (!pol_want(c, ty, Y_SCALAR, w2, "type"))
		return;
	static const char *const types[] = { "self", "children", "descendants", "siblings", "session",
		"parent", "external", "system", "user", "process", "pid_range" };
	size_t k;
	for (k = 0; k < NK(types); k++)
		if (!strcmp(types[k], ty->str))
			break;
	if (k == NK(types)) {
		const char *dym = pol_did_you_mean(ty->str, types, NK(types));
		ERR(c, ty, "unknown-target", "unknown signal target type '%s' in %s%s%s%s", ty->str, w2,
		    dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "");
		return;
	}
	r->tt = (enum sig_tt)k;
	if (r->tt == TT_PROCESS) {
		if (!pol_get_str(c, t, "pattern", w2, &r->tpattern))
			ERR(c, t, "missing-key", "%s has type process but no 'pattern' (a comm glob)", w2);
		else
			pol_compile_globs(c, pol_map_get(t, "pattern"), r->tpattern, false, &r->tglob, &r->ntglob, w2);
	}
	if (r->tt == TT_PID_RANGE) {
		uint64_t lo = 0, hi = 0;
		bool a = pol_get_uint(c, t, "min", w2, 4194304, &lo), b = pol_get_uint(c, t, "max", w2, 4194304, &hi);
		if (!a || !b || lo > hi)
			ERR(c, t, "missing-key", "%s has type pid_range and needs 'min' <= 'max'", w2);
		r->tmin = (long)lo;
		r->tmax = (long)hi;
	}
}

void pol_sig_rule(struct cctx *c, const struct ynode *m, size_t idx, struct sig_rule *r)
{
	static const char *const keys[] = { "name", "description", "signals", "target", "decision",
		"fallback", "redirect_to", "message", "timeout" };
	char where[64];
	snprintf(where, sizeof(where), "signal_rules[%zu]", idx);
	pol_check_keys(c, m, keys, NK(keys), where);
	pol_rule_common(c, m, where, "signal_rules", idx, 0x7f, &r->c);
	const struct ynode *l = pol_get_list(c, m, "signals", where);
	if (!pol_map_get(m, "signals"))
		ERR(c, m, "missing-key", "%s has no 'signals'; list names, numbers or groups like @all",
		    where);
	for (size_t i = 0; l && i < l->n; i++) {
		const char *s = l->kids[i]->str;
		pol_strv_push(c, &r->signals, s);
		uint64_t mask;
		int sig;
		if (s[0] == '@') {
			if (pol_sig_group_mask(s, &mask))
				ERR(c, l->kids[i], "bad-signal", "unknown signal group '%s' in %s (use @all, "
				    "@fatal, @job, @reload, @ignore)", s, where);
			else
				r->sigs |= mask;
		} else if ((sig = policy_signal_parse(s)) > 0) {
			r->sigs |= (uint64_t)1 << (sig - 1);
		} else {
			ERR(c, l->kids[i], "bad-signal", "unknown signal '%s' in %s (use SIGTERM, TERM, 15 "
			    "or a group)", s, where);
		}
	}
	sig_target(c, m, where, r);
	const struct ynode *fb = pol_map_get(m, "fallback");
	if (fb && pol_want(c, fb, Y_SCALAR, where, "fallback")) {
		if (policy_decision_parse(fb->str, &r->fallback))
			ERR(c, fb, "unknown-decision", "unknown fallback decision '%s' in %s", fb->str, where);
		else
			r->has_fallback = true;
	}
	const struct ynode *rd = pol_map_get(m, "redirect_to");
	if (rd && pol_want(c, rd, Y_SCALAR, where, "redirect_to")) {
		r->redirect_sig = policy_signal_parse(rd->str);
		if (r->redirect_sig <= 0)
			ERR(c, rd, "bad-signal", "'redirect_to' in %s must be a signal, not '%s'", where,
			    rd->str);
	}
	if (r->c.decision == POLICY_REDIRECT && !rd)
		ERR(c, m, "missing-key", "%s has decision redirect but no 'redirect_to' signal", where);
}

/* ------------------------------------------------------------ redirects */

void pol_dns_redirect(struct cctx *c, const struct ynode *m, size_t idx, struct dns_redirect *r)
{
	static const char *const keys[] = { "name", "match", "resolve_to", "visibility", "on_failure" };
	char where[64];
	snprintf(where, sizeof(where), "dns_redirects[%zu]", idx);
	pol_check_keys(c, m, keys, NK(keys), where);
	r->line = m->line;
	pol_get_str(c, m, "name", where, &r->name);
	if (!r->name)
		r->name = pol_xstrdup(c, where);
	if (!pol_get_str(c, m, "match", where, &r->match_src))
		ERR(c, m, "missing-key", "%s has no 'match' regular expression", where);
	else if (regcomp(&r->re, r->match_src, REG_EXTENDED | REG_NOSUB | REG_ICASE)) {
		ERR(c, pol_map_get(m, "match"), "bad-regex", "invalid regular expression '%s' in %s",
		    r->match_src, where);
		free(r->match_src);
		r->match_src = NULL;
	}
	struct policy_cidr ip;
	if (!pol_get_str(c, m, "resolve_to", where, &r->resolve_to))
		ERR(c, m, "missing-key", "%s has no 'resolve_to' IP address", where);
	else if (pol_parse_cidr(r->resolve_to, &ip) || strchr(r->resolve_to, '/'))
		ERR(c, pol_map_get(m, "resolve_to"), "bad-ip", "'resolve_to' in %s must be an IP address", where);
	char *s = NULL;
	if (pol_get_str(c, m, "visibility", where, &s) && strcmp(s, "silent") && strcmp(s, "audit_only") &&
	    strcmp(s, "warn"))
		ERR(c, pol_map_get(m, "visibility"), "bad-value", "visibility in %s must be silent, audit_only or warn", where);
	free(s);
	s = NULL;
	if (pol_get_str(c, m, "on_failure", where, &s) && strcmp(s, "fail_closed") && strcmp(s, "fail_open") &&
	    strcmp(s, "retry_original"))
		ERR(c, pol_map_get(m, "on_failure"), "bad-value",
		    "on_failure in %s must be fail_closed, fail_open or retry_original", where);
	free(s);
}

void pol_connect_redirect(struct cctx *c, const struct ynode *m, size_t idx,
			     struct connect_redirect *r)
{
	static const char *const keys[] = { "name", "match", "redirect_to", "redirect_to_unix", "tls",
		"visibility", "message", "on_failure" };
	char where[64];
	snprintf(where, sizeof(where), "connect_redirects[%zu]", idx);
	pol_check_keys(c, m, keys, NK(keys), where);
	r->line = m->line;
	pol_get_str(c, m, "name", where, &r->name);
	if (!r->name)
		r->name = pol_xstrdup(c, where);
	pol_get_str(c, m, "message", where, &r->message);
	if (!pol_get_str(c, m, "match", where, &r->match_src))
		ERR(c, m, "missing-key", "%s has no 'match' regular expression (on host:port)", where);
	else if (regcomp(&r->re, r->match_src, REG_EXTENDED | REG_NOSUB | REG_ICASE)) {
		ERR(c, pol_map_get(m, "match"), "bad-regex", "invalid regular expression '%s' in %s",
		    r->match_src, where);
		free(r->match_src);
		r->match_src = NULL;
	}
	char *to = NULL;
	if (pol_get_str(c, m, "redirect_to", where, &to)) {
		char *colon = strrchr(to, ':');
		char *end = NULL;
		unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
		if (!colon || colon == to || !end || *end || port < 1 || port > 65535)
			ERR(c, pol_map_get(m, "redirect_to"), "bad-value", "'redirect_to' in %s must be host:port", where);
		else {
			*colon = 0;
			r->host = pol_xstrdup(c, to[0] == '[' ? to + 1 : to);
			if (r->host && r->host[0] && r->host[strlen(r->host) - 1] == ']')
				r->host[strlen(r->host) - 1] = 0;
			r->port = (uint16_t)port;
		}
	}
	free(to);
	pol_get_str(c, m, "redirect_to_unix", where, &r->unix_path);
	if (!r->host && !r->unix_path && !pol_map_get(m, "redirect_to"))
		ERR(c, m, "missing-key", "%s needs 'redirect_to' (host:port) or 'redirect_to_unix'", where);
	const struct ynode *tls = pol_map_get(m, "tls");
	if (tls && pol_want(c, tls, Y_MAP, where, "tls")) {
		static const char *const tk[] = { "mode", "sni" };
		char w2[96];
		snprintf(w2, sizeof(w2), "%s.tls", where);
		pol_check_keys(c, tls, tk, NK(tk), w2);
		char *mode = NULL;
		if (pol_get_str(c, tls, "mode", w2, &mode) && strcmp(mode, "passthrough") &&
		    strcmp(mode, "rewrite_sni"))
			ERR(c, pol_map_get(tls, "mode"), "bad-value", "tls.mode in %s must be passthrough or rewrite_sni", where);
		free(mode);
	}
}

