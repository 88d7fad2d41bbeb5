/* Lint: things that load fine but do not do what the author meant.
 *  - rules (or single paths/commands of a rule) shadowed by an earlier rule
 *    with a different decision, fully or on part of their paths;
 *  - rules that can match nothing;
 *  - argument regexes that a different spelling of the same flags dodges;
 *  - approve rules when no approver can be reached. */
#include <arpa/inet.h>
#include <ctype.h>
#include <pwd.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include "policy/policy_int.h"

#define WARN(d, p, line, code, ...) \
	pol_pdiag(d, POLICY_SEV_WARNING, policy_source(p), line, 1, code, __VA_ARGS__)

static void ops_words(uint32_t ops, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	if ((ops & POLICY_FILE_READ_OPS) == POLICY_FILE_READ_OPS) {
		n += (size_t)snprintf(buf + n, len - n, "read operations");
		ops &= ~POLICY_FILE_READ_OPS;
	}
	for (int i = 0; i < POLICY_FILE_NOPS && n < len; i++)
		if (ops & (1u << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
					      policy_file_op_name((enum policy_file_op)i));
}

/* A sample path matched by g, optionally forced under prefix (for globs that
 * begin with '**'): used to test whether two globs overlap. */
static void witness(const struct glob *g, const char *under, char *buf, size_t len)
{
	size_t n = 0;
	const char *s = g->src;
	if (under && s[0] == '*' && s[1] == '*') {
		n = (size_t)snprintf(buf, len, "%sx", under);
		s += 2;
	}
	for (; *s && n + 2 < len; s++) {
		if (*s == '*') {
			while (s[1] == '*')
				s++;
			buf[n++] = 'x';
		} else if (*s == '?') {
			buf[n++] = 'x';
		} else if (*s == '[' && strchr(s, ']')) {
			const char *e = strchr(s, ']');
			char c = s[1] == '!' || s[1] == '^' ? '%' : s[1];
			buf[n++] = c;
			s = e;
		} else if (*s == '\\' && s[1]) {
			buf[n++] = *++s;
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = 0;
}

/* Every path matched by b is matched by a. */
static bool glob_covers(const struct glob *a, const struct glob *b)
{
	if (!strcmp(a->src, b->src) || a->mode == GM_ANY)
		return true;
	if (b->mode == GM_LITERAL)
		return pol_glob_match(a, b->prefix, b->plen);
	if (a->mode == GM_PREFIX_DSTAR)
		return b->plen >= a->plen && !memcmp(a->prefix, b->prefix, a->plen);
	if (a->mode == GM_DSTAR_SUFFIX && b->mode == GM_DSTAR_SUFFIX)
		return b->slen >= a->slen && !memcmp(b->suffix + b->slen - a->slen, a->suffix, a->slen);
	return false;
}

/* The last path segment is only "*" or "**": a directory-wide rule. */
static bool broad_tail(const struct glob *g)
{
	const char *t = strrchr(g->src, '/');
	t = t ? t + 1 : g->src;
	return !strcmp(t, "*") || !strcmp(t, "**");
}

static bool glob_overlaps(const struct glob *a, const struct glob *b)
{
	char w[PATH_MAX];
	const char *under = a->plen ? a->prefix : NULL;
	witness(b, under, w, sizeof(w));
	if (pol_glob_match(a, w, strlen(w)) && pol_glob_match(b, w, strlen(w)))
		return true;
	witness(a, NULL, w, sizeof(w));
	return pol_glob_match(a, w, strlen(w)) && pol_glob_match(b, w, strlen(w));
}

/* Paths are normalised before matching, so a pattern that can only match an
 * unnormalised path ("a//b", "a/./b", "a/../b", a trailing '/') matches
 * nothing.  Returns a reason or NULL. */
static const char *unnormal(const char *g)
{
	size_t n = strlen(g);
	if (n > 1 && g[n - 1] == '/')
		return "ends with '/', which normalised paths never do";
	for (const char *s = g; *s; s++) {
		if (s[0] != '/')
			continue;
		if (s[1] == '/')
			return "contains '//'";
		if (s[1] == '.' && (s[2] == '/' || !s[2]))
			return "contains a '.' segment";
		if (s[1] == '.' && s[2] == '.' && (s[3] == '/' || !s[3]))
			return "contains a '..' segment";
	}
	return NULL;
}

static int lint_unnormal(const struct policy *p, const char *list, const char *rule, unsigned line,
			 const struct strv *paths, struct policy_diags *d)
{
	int n = 0;
	for (size_t i = 0; i < paths->n; i++) {
		const char *why = unnormal(paths->v[i]);
		if (!why)
			continue;
		WARN(d, p, line, "matches-nothing",
		     "%s rule '%s': path '%s' %s; paths are normalised before matching, so it matches "
		     "nothing", list, rule, paths->v[i], why);
		n++;
	}
	return n;
}

static int lint_files(const struct policy *p, struct policy_diags *d)
{
	int n = 0;
	char ops[256];
	for (size_t j = 0; j < p->nfiles; j++) {
		const struct file_rule *b = &p->files[j];
		bool all_dead = b->nglobs > 0;
		for (size_t g = 0; g < b->nglobs; g++) {
			uint32_t covered = 0;
			const struct file_rule *first = NULL;
			char who[512] = "";
			size_t wn = 0, nover = 0;
			for (size_t i = 0; i < j; i++) {
				const struct file_rule *a = &p->files[i];
				uint32_t common = a->ops & b->ops & ~covered;
				if (!common)
					continue;
				for (size_t h = 0; h < a->nglobs; h++) {
					if (glob_covers(&a->globs[h], &b->globs[g])) {
						covered |= common;
						if (a->c.decision != b->c.decision && !first)
							first = a;
						break;
					}
					/* a later file-specific rule (".env") under an earlier
					 * directory-wide one (a whole workspace): the author meant an
					 * exception, and first-match makes it dead there.  The
					 * reverse order is the usual carve-out idiom. */
					if (a->c.decision != b->c.decision && broad_tail(&a->globs[h]) &&
					    !broad_tail(&b->globs[g]) && glob_overlaps(&a->globs[h], &b->globs[g]) &&
					    !glob_covers(&b->globs[g], &a->globs[h])) {
						if (nover++ < 3) {
							ops_words(common, ops, sizeof(ops));
							wn += (size_t)snprintf(who + wn, sizeof(who) - wn,
									       "%s'%s' (line %u: %s, %s)",
									       wn ? ", " : "", a->c.name, a->c.line,
									       a->globs[h].src, ops);
							if (wn >= sizeof(who))
								wn = sizeof(who) - 1;
						}
						break;
					}
				}
			}
			if (nover) {
				WARN(d, p, b->c.line, "shadowed-rule",
				     "rule '%s': path '%s' never gets decision %s where earlier rules with another "
				     "decision match first: %s%s; move '%s' above them",
				     b->c.name, b->globs[g].src, policy_decision_name(b->c.decision), who,
				     nover > 3 ? " and more" : "", b->c.name);
				n++;
			}
			if ((covered & b->ops) != b->ops)
				all_dead = false;
			if (covered && first) {
				ops_words(covered & b->ops, ops, sizeof(ops));
				WARN(d, p, b->c.line, "shadowed-rule",
				     "rule '%s': path '%s' can never get decision %s for %s: rule '%s' (line %u) "
				     "matches it first (%s); move '%s' above it or remove the path",
				     b->c.name, b->globs[g].src, policy_decision_name(b->c.decision), ops,
				     first->c.name, first->c.line, policy_decision_name(first->c.decision),
				     b->c.name);
				n++;
			}
		}
		if (all_dead) {
			WARN(d, p, b->c.line, "dead-rule",
			     "rule '%s' can never fire: every path and operation it lists is decided by earlier "
			     "rules", b->c.name);
			n++;
		}
		n += lint_unnormal(p, "file", b->c.name, b->c.line, &b->paths, d);
		if (!b->paths.n) {
			WARN(d, p, b->c.line, "matches-nothing", "rule '%s' lists no paths and matches nothing",
			     b->c.name);
			n++;
		}
	}
	return n;
}

static bool cmd_uncond(const struct cmd_rule *a)
{
	return a->nargs == 0 && a->min_depth == 0 && a->max_depth == -1;
}

static bool cmd_covers_name(const struct cmd_rule *a, const char *name)
{
	if (a->match_all)
		return true;
	char low[256];
	snprintf(low, sizeof(low), "%s", name);
	for (char *c = low; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	size_t l = strlen(low);
	if (l > 5 && !strcmp(low + l - 5, ".real"))
		low[l -= 5] = 0;
	for (size_t i = 0; i < a->nbnames; i++)
		if (!strcmp(a->bnames[i], low))
			return true;
	for (size_t i = 0; i < a->nbglobs; i++)
		if (pol_glob_match(&a->bglobs[i], low, l))
			return true;
	return false;
}

static bool same_args(const struct cmd_rule *a, const struct cmd_rule *b)
{
	if (a->args_src.n != b->args_src.n || !a->args_src.n)
		return false;
	for (size_t i = 0; i < a->args_src.n; i++)
		if (strcmp(a->args_src.v[i], b->args_src.v[i]))
			return false;
	return true;
}

static bool dodgeable(const char *re, char *flag, size_t len)
{
	/* a literal cluster of single-letter options such as -rf or -fR */
	for (const char *s = re; *s; s++) {
		if (s[0] != '-' || s[1] == '-' || (s > re && (isalnum((unsigned char)s[-1]) || s[-1] == '-' || s[-1] == '\\')))
			continue;
		size_t k = 1;
		while ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z'))
			k++;
		if (k >= 3) {
			snprintf(flag, len, "%.*s", (int)k, s);
			return true;
		}
	}
	return false;
}

static int lint_cmds(const struct policy *p, struct policy_diags *d)
{
	int n = 0;
	for (size_t j = 0; j < p->ncmds; j++) {
		const struct cmd_rule *b = &p->cmds[j];
		size_t dead = 0;
		for (size_t k = 0; k < b->commands.n; k++) {
			const char *cmd = b->commands.v[k];
			const char *base = strrchr(cmd, '/') ? strrchr(cmd, '/') + 1 : cmd;
			for (size_t i = 0; i < j; i++) {
				const struct cmd_rule *a = &p->cmds[i];
				if (!(cmd_uncond(a) || same_args(a, b)) || pol_glob_has_wild(base))
					continue;
				if (!cmd_covers_name(a, base) && !(a->match_all))
					continue;
				dead++;
				if (a->c.decision != b->c.decision) {
					WARN(d, p, b->c.line, "shadowed-rule",
					     "rule '%s': command '%s' can never get decision %s: rule '%s' (line %u) "
					     "matches it first (%s); move '%s' above it", b->c.name, cmd,
					     policy_decision_name(b->c.decision), a->c.name, a->c.line,
					     policy_decision_name(a->c.decision), b->c.name);
					n++;
				}
				break;
			}
		}
		if (b->commands.n && dead == b->commands.n) {
			WARN(d, p, b->c.line, "dead-rule", "rule '%s' can never fire: every command it lists "
			     "is decided by earlier rules", b->c.name);
			n++;
		}
		if (b->max_depth == -2 || (b->max_depth >= 0 && b->min_depth > b->max_depth)) {
			WARN(d, p, b->c.line, "matches-nothing", "rule '%s' has a context no command can be in",
			     b->c.name);
			n++;
		}
		char flag[32];
		for (size_t k = 0; k < b->args_src.n; k++)
			if (b->c.decision != POLICY_ALLOW && dodgeable(b->args_src.v[k], flag, sizeof(flag))) {
				WARN(d, p, b->c.line, "dodgeable-regex",
				     "rule '%s': args pattern '%s' only matches the flags spelled '%s'; '%c%c -%c', "
				     "reordered or long options (--recursive --force) dodge it. Argument patterns "
				     "are a convenience, not a boundary: deny the command or list every spelling",
				     b->c.name, b->args_src.v[k], flag, flag[0], flag[1], flag[2]);
				n++;
			}
	}
	return n;
}

static bool ports_within(const struct net_rule *a, const struct net_rule *b)
{
	if (!a->nports)
		return true;
	if (!b->nports)
		return false;
	for (size_t i = 0; i < b->nports; i++) {
		bool ok = false;
		for (size_t k = 0; k < a->nports && !ok; k++)
			ok = b->ports[i].lo >= a->ports[k].lo && b->ports[i].hi <= a->ports[k].hi;
		if (!ok)
			return false;
	}
	return true;
}

static bool cidrs_within(const struct net_rule *a, const struct net_rule *b)
{
	if (!a->ncidrs)
		return true;
	if (!b->ncidrs)
		return false;
	for (size_t i = 0; i < b->ncidrs; i++) {
		bool ok = false;
		for (size_t k = 0; k < a->ncidrs && !ok; k++)
			ok = a->cidrs[k].prefix <= b->cidrs[i].prefix &&
			     pol_cidr_contains(&a->cidrs[k], b->cidrs[i].family, b->cidrs[i].addr);
		if (!ok)
			return false;
	}
	return true;
}

static bool domains_within(const struct net_rule *a, const struct net_rule *b)
{
	if (!a->domains.n || a->domain_any)
		return true;
	if (!b->domains.n || b->domain_any)
		return false;
	for (size_t i = 0; i < b->domains.n; i++) {
		const char *s = b->domains.v[i];
		bool ok = false;
		for (size_t k = 0; k < a->ndglobs && !ok; k++)
			ok = !strcmp(a->dglobs[k].src, s) ||
			     (!pol_glob_has_wild(s) && pol_glob_match(&a->dglobs[k], s, strlen(s)));
		if (!ok)
			return false;
	}
	return true;
}

static int lint_nets(const struct policy *p, struct policy_diags *d)
{
	int n = 0;
	for (size_t j = 0; j < p->nnets; j++) {
		const struct net_rule *b = &p->nets[j];
		for (size_t k = 0; k < b->domains.n; k++) {
			unsigned char ip[16];
			if (inet_pton(AF_INET, b->domains.v[k], ip) == 1 ||
			    inet_pton(AF_INET6, b->domains.v[k], ip) == 1) {
				WARN(d, p, b->c.line, "matches-nothing",
				     "rule '%s': domain '%s' is an address; a connection to an address is matched by "
				     "'cidrs', so this entry matches nothing (move it to cidrs: [\"%s\"])",
				     b->c.name, b->domains.v[k], b->domains.v[k]);
				n++;
			}
		}
		for (size_t i = 0; i < j; i++) {
			const struct net_rule *a = &p->nets[i];
			if (ports_within(a, b) && cidrs_within(a, b) && domains_within(a, b)) {
				WARN(d, p, b->c.line, a->c.decision != b->c.decision ? "shadowed-rule" : "redundant-rule",
				     "rule '%s' can never fire: rule '%s' (line %u) matches every connection it "
				     "matches first (%s)%s", b->c.name, a->c.name, a->c.line,
				     policy_decision_name(a->c.decision),
				     a->c.decision != b->c.decision ? "; reorder them" : "; remove it");
				n++;
				break;
			}
		}
	}
	return n;
}

static int lint_sigs(const struct policy *p, struct policy_diags *d)
{
	int n = 0;
	for (size_t j = 0; j < p->nsigs; j++) {
		const struct sig_rule *b = &p->sigs[j];
		if (!b->sigs) {
			WARN(d, p, b->c.line, "matches-nothing", "rule '%s' lists no signals", b->c.name);
			n++;
			continue;
		}
		for (size_t i = 0; i < j; i++) {
			const struct sig_rule *a = &p->sigs[i];
			bool tcover = a->tt == TT_ANY || (a->tt == b->tt && a->tt != TT_PROCESS &&
				      a->tt != TT_PID_RANGE) ||
				      (a->tt == TT_DESCENDANTS && b->tt == TT_CHILDREN);
			if ((a->sigs & b->sigs) == b->sigs && tcover) {
				WARN(d, p, b->c.line, "shadowed-rule",
				     "rule '%s' can never fire: rule '%s' (line %u) matches the same signals and "
				     "targets first (%s)", b->c.name, a->c.name, a->c.line,
				     policy_decision_name(a->c.decision));
				n++;
				break;
			}
		}
	}
	return n;
}

static bool approver_reachable(const struct agentsh_config *cfg)
{
	if (!cfg || !cfg->present)
		return true;    /* unknown here: the session's own terminal may be a human's */
	if (cfg->approvals.human_only || cfg->approvals.approvers_dir)
		return true;
	for (size_t i = 0; i < cfg->approvals.napprover_accounts; i++)
		if (getpwnam(cfg->approvals.approver_accounts[i]))
			return true;
	return false;
}

static int lint_approvers(const struct policy *p, const struct agentsh_config *cfg,
			  struct policy_diags *d)
{
	if (approver_reachable(cfg))
		return 0;
	int n = 0;
	const struct rule_common *first = NULL;
	for (size_t i = 0; i < p->nfiles && !first; i++)
		if (p->files[i].c.decision == POLICY_APPROVE) first = &p->files[i].c;
	for (size_t i = 0; i < p->ncmds && !first; i++)
		if (p->cmds[i].c.decision == POLICY_APPROVE) first = &p->cmds[i].c;
	for (size_t i = 0; i < p->nnets && !first; i++)
		if (p->nets[i].c.decision == POLICY_APPROVE) first = &p->nets[i].c;
	for (size_t i = 0; i < p->nunixes && !first; i++)
		if (p->unixes[i].c.decision == POLICY_APPROVE) first = &p->unixes[i].c;
	for (size_t i = 0; i < p->nsigs && !first; i++)
		if (p->sigs[i].c.decision == POLICY_APPROVE) first = &p->sigs[i].c;
	if (first) {
		WARN(d, p, first->line, "no-approver",
		     "rule '%s' (and any other approve rule) asks for approval, but %s configures no "
		     "reachable approver (approvals.approver_accounts with existing accounts, "
		     "approvals.approvers_dir or approvals.human_only): every request will time out and "
		     "be denied", first->name, cfg->path ? cfg->path : "the configuration");
		n++;
	}
	return n;
}

static int lint_names(const struct policy *p, struct policy_diags *d)
{
	int n = 0;
	for (size_t j = 0; j < p->nfiles; j++)
		for (size_t i = 0; i < j; i++)
			if (!strcmp(p->files[i].c.name, p->files[j].c.name)) {
				WARN(d, p, p->files[j].c.line, "duplicate-name",
				     "file rule name '%s' is used twice (line %u); audit records name rules, give "
				     "each a unique name", p->files[j].c.name, p->files[i].c.line);
				n++;
				break;
			}
	for (size_t j = 0; j < p->ncmds; j++)
		for (size_t i = 0; i < j; i++)
			if (!strcmp(p->cmds[i].c.name, p->cmds[j].c.name)) {
				WARN(d, p, p->cmds[j].c.line, "duplicate-name",
				     "command rule name '%s' is used twice (line %u); give each a unique name",
				     p->cmds[j].c.name, p->cmds[i].c.line);
				n++;
				break;
			}
	return n;
}

static int lint_unix(const struct policy *p, struct policy_diags *d)
{
	int n = 0;
	for (size_t j = 0; j < p->nunixes; j++)
		n += lint_unnormal(p, "unix socket", p->unixes[j].c.name, p->unixes[j].c.line,
				   &p->unixes[j].paths, d);
	return n;
}

/* Shadow analysis compares every rule with every earlier one. */
#define LINT_MAX_RULES 4000

int policy_lint(const struct policy *p, const struct agentsh_config *cfg, struct policy_diags *d)
{
	if (p->nfiles > LINT_MAX_RULES || p->ncmds > LINT_MAX_RULES || p->nnets > LINT_MAX_RULES ||
	    p->nsigs > LINT_MAX_RULES) {
		pol_pdiag(d, POLICY_SEV_NOTE, policy_source(p), 0, 0, "too-large",
			  "more than %d rules in one list: shadowing was not analysed; split the policy",
			  LINT_MAX_RULES);
		return lint_approvers(p, cfg, d);
	}
	return lint_files(p, d) + lint_unix(p, d) + lint_cmds(p, d) + lint_nets(p, d) + lint_sigs(p, d) +
	       lint_approvers(p, cfg, d) + pol_lint_approval_scopes(p, cfg, d) + lint_names(p, d);
}
