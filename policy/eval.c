/* Evaluation: first matching rule wins within each list; a default applies
 * when none matches.  No allocation on the common path: everything the
 * result points to is owned by the (immutable) policy or lives in *res. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "policy/policy_int.h"

#define ARGS_STACK 8192        /* longer argument lists are joined on the heap */

static void res_init(struct policy_result *r, const struct policy *p, enum policy_kind k)
{
	/* Not memset: the struct carries PATH_MAX bytes we do not need to clear. */
	r->decision = POLICY_DENY;       /* until a rule or a default decides */
	r->kind = k;
	r->is_default = false;
	r->rule_index = -1;
	r->rule = "";
	r->file = p ? policy_source(p) : "";
	r->line = 0;
	r->timeout_ms = 0;
	r->message[0] = 0;
	r->has_fallback = false;
	r->unix_own_account_servers = false;
	r->fallback = POLICY_DENY;
	memset(&r->cmd, 0, sizeof(r->cmd));
	r->redirect_path[0] = 0;
	r->redirect_signal = 0;
	r->redirect_host = NULL;
	r->redirect_port = 0;
	r->redirect_unix = NULL;
	r->env_rule = NULL;
}

static void res_rule(struct policy_result *r, const struct rule_common *c, size_t idx)
{
	r->decision = c->decision;
	r->rule = c->name;
	r->rule_index = (int)idx;
	r->line = c->line;
	r->timeout_ms = c->timeout_ms;
}

static void res_default(struct policy_result *r, enum policy_decision d, const char *name)
{
	r->decision = d;
	r->rule = name;
	r->is_default = true;
}

/* ------------------------------------------------------------ files */

static bool needs_normalize(const char *s)
{
	for (const char *p = s; *p; p++)
		if (p[0] == '/' && (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || p[2] == 0 ||
		    (p[2] == '.' && (p[3] == '/' || p[3] == 0))))))
			return true;
	size_t n = strlen(s);
	return n > 1 && s[n - 1] == '/';
}

static void file_redirect(const struct file_rule *r, const char *path, struct policy_result *res)
{
	const char *tail = path;
	char sep[2] = "/";
	if (!r->preserve_tree) {
		const char *b = strrchr(path, '/');
		tail = b ? b + 1 : path;
	} else {
		sep[0] = 0;
	}
	int n = snprintf(res->redirect_path, sizeof(res->redirect_path), "%s%s%s", r->redirect_to,
			 sep, tail);
	if (n < 0 || (size_t)n >= sizeof(res->redirect_path)) {
		/* cannot express the redirect: fail closed */
		res->decision = POLICY_DENY;
		res->redirect_path[0] = 0;
	}
}

static long file_linear(const struct policy *p, uint32_t bit, const char *path, size_t len)
{
	for (size_t i = 0; i < p->nfiles; i++) {
		if (!(p->files[i].ops & bit))
			continue;
		for (size_t g = 0; g < p->files[i].nglobs; g++)
			if (pol_glob_match(&p->files[i].globs[g], path, len))
				return (long)i;
	}
	return -1;
}

int policy_check_file(const struct policy *p, enum policy_file_op op, const char *path,
		      struct policy_result *res)
{
	char norm[PATH_MAX];
	res_init(res, p, POLICY_KIND_FILE);
	if (!p || (unsigned)op >= POLICY_FILE_NOPS || !path || path[0] != '/') {
		res_default(res, POLICY_DENY, "invalid-path");
		snprintf(res->message, sizeof(res->message),
			 "policy check needs an absolute path and a valid operation");
		return -EINVAL;
	}
	if (needs_normalize(path)) {
		if (pol_normalize_path(path, norm, sizeof(norm)) < 0) {
			res_default(res, POLICY_DENY, "invalid-path");
			return -ENAMETOOLONG;
		}
		path = norm;
	}
	size_t len = strlen(path);
	uint32_t bit = POLICY_FILE_OP_BIT(op);
	long i = p->fidx ? pol_fidx_first(p->fidx, p->files, bit, path, len) : file_linear(p, bit, path, len);
	if (i >= 0) {
		const struct file_rule *r = &p->files[i];
		res_rule(res, &r->c, (size_t)i);
		if (r->c.decision == POLICY_REDIRECT)
			file_redirect(r, path, res);
		if (r->c.message)
			pol_render_message(r->c.message, res->message, sizeof(res->message), path, NULL, 0,
				       NULL, -1, policy_file_op_name(op), r->c.name);
		return 0;
	}
	if (bit & POLICY_FILE_READ_OPS)
		res_default(res, p->defaults.file_read,
			    p->defaults.file_read == POLICY_ALLOW ? "default-allow-reads" : "default-reads");
	else
		res_default(res, p->defaults.file_write,
			    p->defaults.file_write == POLICY_DENY ? "default-deny-files" : "default-files");
	return 0;
}

/* ------------------------------------------------------------ candidates */

/* Rules to try, in rule order: from the name index, or every rule when there
 * is no index or the lookup overflowed (never fewer than could match). */
struct cand {
	struct nidx_iter it;
	bool linear;
	size_t next, n;
};

static void cand_init(struct cand *c, const struct nindex *x, size_t nrules)
{
	c->next = 0;
	c->n = nrules;
	c->linear = !x;
	if (x)
		pol_nidx_iter_init(x, &c->it);
}

static long cand_next(struct cand *c)
{
	if (c->linear || c->it.overflow) {
		c->linear = true;
		return c->next < c->n ? (long)c->next++ : -1;
	}
	return pol_nidx_next(&c->it);
}

/* ------------------------------------------------------------ commands */

static int bsearch_str(char *const *v, size_t n, const char *s)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(v[mid], s);
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static bool cmd_matches(const struct cmd_rule *r, const char *path, size_t plen, const char *base,
			size_t blen)
{
	if (r->match_all)
		return true;
	if (r->nexact && bsearch_str(r->exact, r->nexact, path))
		return true;
	for (size_t i = 0; i < r->npglobs; i++)
		if (pol_glob_match(&r->pglobs[i], path, plen))
			return true;
	if (r->nbnames && bsearch_str(r->bnames, r->nbnames, base))
		return true;
	for (size_t i = 0; i < r->nbglobs; i++)
		if (pol_glob_match(&r->bglobs[i], base, blen))
			return true;
	return false;
}

/* Joins argv[1..] with single spaces (the reference's matching subject). */
static char *join_args(int argc, const char *const *argv, char *stack, size_t cap, char **heap)
{
	size_t need = 1;
	for (int i = 1; i < argc; i++)
		need += strlen(argv[i]) + 1;
	char *buf = stack;
	*heap = NULL;
	if (need > cap) {
		buf = malloc(need);
		if (!buf)
			return NULL;
		*heap = buf;
	}
	size_t n = 0;
	for (int i = 1; i < argc; i++) {
		size_t l = strlen(argv[i]);
		if (i > 1)
			buf[n++] = ' ';
		memcpy(buf + n, argv[i], l);
		n += l;
	}
	buf[n] = 0;
	return buf;
}

int policy_check_exec_depth(const struct policy *p, const char *path, int argc,
			    const char *const *argv, int depth, struct policy_result *res)
{
	res_init(res, p, POLICY_KIND_COMMAND);
	if (!p || !path || !*path || argc < 0 || (argc > 0 && !argv)) {
		res_default(res, POLICY_DENY, "invalid-command");
		return -EINVAL;
	}
	size_t plen = strlen(path);
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	char base[NAME_MAX + 2];
	size_t blen = strlen(b);
	if (blen > NAME_MAX) {
		/* no file has such a name: match by path only, never by a truncated name */
		blen = 0;
		b = "/";
	}
	for (size_t i = 0; i < blen; i++)
		base[i] = (char)tolower((unsigned char)b[i]);
	base[blen] = 0;
	if (!blen) {
		base[0] = '/';          /* a name no basename rule or glob can match */
		base[1] = 0;
		blen = 1;
	}
	if (blen > 5 && !strcmp(base + blen - 5, ".real"))
		base[blen -= 5] = 0;

	char stack[ARGS_STACK], *heap = NULL, *args = NULL;
	int ret = 0;
	struct cand cd;
	cand_init(&cd, p->cidx, p->ncmds);
	if (p->cidx) {
		pol_nidx_lookup(p->cidx, base, blen, &cd.it);
		pol_nidx_lookup(p->cidx, path, plen, &cd.it);
		for (size_t i = 0; i < plen; i++)
			if (path[i] == '/')
				pol_nidx_lookup(p->cidx, path, i + 1, &cd.it);
	}
	for (long li; (li = cand_next(&cd)) >= 0;) {
		size_t i = (size_t)li;
		const struct cmd_rule *r = &p->cmds[i];
		/* max_depth: -1 unlimited, -2 an empty context list (never) */
		if (depth < r->min_depth || r->max_depth == -2 ||
		    (r->max_depth >= 0 && depth > r->max_depth))
			continue;
		if (!cmd_matches(r, path, plen, base, blen))
			continue;
		if (r->nargs) {
			if (!args && !(args = join_args(argc, argv, stack, sizeof(stack), &heap))) {
				res_default(res, POLICY_DENY, "out-of-memory");
				return -ENOMEM;
			}
			bool hit = false;
			for (size_t k = 0; k < r->nargs && !hit; k++)
				hit = regexec(&r->args[k], args, 0, NULL, 0) == 0;
			if (!hit)
				continue;
		}
		res_rule(res, &r->c, i);
		if (r->c.decision == POLICY_REDIRECT) {
			res->cmd.path = r->redir_cmd;
			res->cmd.args = (const char *const *)r->redir_args.v;
			res->cmd.nargs = r->redir_args.n;
			res->cmd.args_append = (const char *const *)r->redir_append.v;
			res->cmd.nargs_append = r->redir_append.n;
			res->cmd.env = (const char *const *)r->redir_env.v;
			res->cmd.nenv = r->redir_env.n;
		}
		if (r->env.set)
			res->env_rule = &r->env;
		if (r->c.message)
			pol_render_message(r->c.message, res->message, sizeof(res->message), path, argv, argc,
				       NULL, -1, "exec", r->c.name);
		goto out;
	}
	res_default(res, p->defaults.commands,
		    p->defaults.commands == POLICY_DENY ? "default-deny-commands" : "default-commands");
out:
	free(heap);
	return ret;
}

int policy_check_exec(const struct policy *p, const char *path, int argc, const char *const *argv,
		      struct policy_result *res)
{
	return policy_check_exec_depth(p, path, argc, argv, 0, res);
}

/* ------------------------------------------------------------ network */

static bool port_in(const struct net_rule *r, unsigned port)
{
	for (size_t i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

static int net_eval(const struct policy *p, int family, const uint8_t *addr, const char *domain,
		    unsigned port, struct policy_result *res)
{
	char dom[256];
	size_t dlen = 0;
	char ipbuf[INET6_ADDRSTRLEN];
	uint8_t lit[16];
	res_init(res, p, POLICY_KIND_NETWORK);
	if (!p) {
		res_default(res, POLICY_DENY, "invalid-network");
		return -EINVAL;
	}
	if (domain && *domain) {
		dlen = strlen(domain);
		if (dlen >= sizeof(dom)) {
			res_default(res, POLICY_DENY, "invalid-domain");
			return -EINVAL;
		}
		for (size_t i = 0; i < dlen; i++)
			dom[i] = (char)tolower((unsigned char)domain[i]);
		if (dlen && dom[dlen - 1] == '.')
			dlen--;
		dom[dlen] = 0;
		/* a "domain" that is an IP literal is an address */
		if (!family) {
			if (inet_pton(AF_INET, dom, lit) == 1)
				family = AF_INET, addr = lit, dlen = 0;
			else if (inet_pton(AF_INET6, dom, lit) == 1)
				family = AF_INET6, addr = lit, dlen = 0;
		}
	}
	if (family == AF_INET6 && addr && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr)) {
		memcpy(lit, addr + 12, 4);
		addr = lit;
		family = AF_INET;
	}
	/* Linux connects (and sends) to the unspecified address on the loopback
	 * address: 0.0.0.0 is 127.0.0.1 and :: is ::1 to the rules, or a policy
	 * denying localhost would let them through (bpf/guard.bpf.c does the same) */
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	const uint8_t *given = addr;            /* messages show what the program asked for */
	if (family == AF_INET && addr && !memcmp(addr, "\0\0\0\0", 4))
		addr = lo4;
	else if (family == AF_INET6 && addr && IN6_IS_ADDR_UNSPECIFIED((const struct in6_addr *)addr))
		addr = in6addr_loopback.s6_addr;
	struct cand cd;
	cand_init(&cd, p->nidx, p->nnets);
	if (p->nidx && dlen) {
		/* the name itself, and every ".suffix" for "*.suffix" rules */
		pol_nidx_lookup(p->nidx, dom, dlen, &cd.it);
		for (size_t i = 0; i < dlen; i++)
			if (dom[i] == '.')
				pol_nidx_lookup(p->nidx, dom + i, dlen - i, &cd.it);
	}
	for (long li; (li = cand_next(&cd)) >= 0;) {
		size_t i = (size_t)li;
		const struct net_rule *r = &p->nets[i];
		if (r->nports && !port_in(r, port))
			continue;
		if (r->domains.n && !r->domain_any) {
			if (!dlen)
				continue;
			bool hit = false;
			for (size_t g = 0; g < r->ndglobs && !hit; g++)
				hit = pol_glob_match(&r->dglobs[g], dom, dlen);
			if (!hit)
				continue;
		}
		if (r->ncidrs) {
			if (!addr)
				continue;
			bool hit = false;
			for (size_t k = 0; k < r->ncidrs && !hit; k++)
				hit = pol_cidr_contains(&r->cidrs[k], family, addr);
			if (!hit)
				continue;
		}
		res_rule(res, &r->c, i);
		if (r->c.message) {
			const char *shown = dlen ? dom : addr ? inet_ntop(family, given, ipbuf, sizeof(ipbuf)) : "";
			pol_render_message(r->c.message, res->message, sizeof(res->message), NULL, NULL, 0, shown,
				       (int)port, "connect", r->c.name);
		}
		return 0;
	}
	res_default(res, p->defaults.network,
		    p->defaults.network == POLICY_DENY ? "default-deny-network" : "default-network");
	return 0;
}

int policy_check_net(const struct policy *p, const struct sockaddr *sa, const char *domain,
		     struct policy_result *res)
{
	if (!sa)
		return net_eval(p, 0, NULL, domain, 0, res);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
		return net_eval(p, AF_INET, (const uint8_t *)&s->sin_addr, domain, ntohs(s->sin_port), res);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		return net_eval(p, AF_INET6, s->sin6_addr.s6_addr, domain, ntohs(s->sin6_port), res);
	}
	res_init(res, p, POLICY_KIND_NETWORK);
	res_default(res, POLICY_DENY, "unsupported-address-family");
	return -EAFNOSUPPORT;
}

int policy_check_net_name(const struct policy *p, const char *domain, uint16_t port,
			  struct policy_result *res)
{
	return net_eval(p, 0, NULL, domain, port, res);
}

int policy_dns_redirect(const struct policy *p, const char *host, char *ip, size_t iplen,
			const char **rule)
{
	for (size_t i = 0; p && i < p->ndnsr; i++) {
		const struct dns_redirect *r = &p->dnsr[i];
		if (r->match_src && regexec(&r->re, host, 0, NULL, 0) == 0) {
			if (strlen(r->resolve_to) >= iplen)
				return -ENOSPC;
			strcpy(ip, r->resolve_to);
			if (rule)
				*rule = r->name;
			return 1;
		}
	}
	return 0;
}

int policy_connect_redirect(const struct policy *p, const char *host, uint16_t port,
			    struct policy_result *res)
{
	char hp[300];
	if (!p || snprintf(hp, sizeof(hp), "%s:%u", host, port) >= (int)sizeof(hp))
		return 0;
	for (size_t i = 0; i < p->nconr; i++) {
		const struct connect_redirect *r = &p->conr[i];
		if (!r->match_src || regexec(&r->re, hp, 0, NULL, 0) != 0)
			continue;
		res_init(res, p, POLICY_KIND_NETWORK);
		res->decision = POLICY_REDIRECT;
		res->rule = r->name;
		res->rule_index = (int)i;
		res->line = r->line;
		res->redirect_host = r->host;
		res->redirect_port = r->port;
		res->redirect_unix = r->unix_path;
		if (r->message)
			pol_render_message(r->message, res->message, sizeof(res->message), NULL, NULL, 0, host,
				       port, "connect", r->name);
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ unix sockets */

int policy_check_unix(const struct policy *p, enum policy_unix_op op, const char *name,
		      bool is_abstract, struct policy_result *res)
{
	char buf[PATH_MAX];
	res_init(res, p, POLICY_KIND_UNIX);
	if (!p || !name || (unsigned)op > POLICY_UNIX_SENDTO) {
		res_default(res, POLICY_DENY, "invalid-socket");
		return -EINVAL;
	}
	if (is_abstract) {
		if (snprintf(buf, sizeof(buf), "@%s", name) >= (int)sizeof(buf)) {
			res_default(res, POLICY_DENY, "invalid-socket");
			return -ENAMETOOLONG;
		}
		name = buf;
	} else if (name[0] == '/' && needs_normalize(name)) {
		if (pol_normalize_path(name, buf, sizeof(buf)) < 0) {
			res_default(res, POLICY_DENY, "invalid-socket");
			return -ENAMETOOLONG;
		}
		name = buf;
	}
	size_t len = strlen(name);
	for (size_t i = 0; i < p->nunixes; i++) {
		const struct unix_rule *r = &p->unixes[i];
		if (!(r->ops & (1u << op)))
			continue;
		for (size_t g = 0; g < r->nglobs; g++) {
			if (!pol_glob_match(&r->globs[g], name, len))
				continue;
			res_rule(res, &r->c, i);
			res->unix_own_account_servers = r->own_account_servers;
			if (r->c.message)
				pol_render_message(r->c.message, res->message, sizeof(res->message), name, NULL, 0,
					       NULL, -1, policy_unix_op_name(op), r->c.name);
			return 0;
		}
	}
	res_default(res, p->defaults.unix_sockets,
		    p->defaults.unix_sockets == POLICY_DENY ? "default-deny-unix-sockets"
							     : "default-unix-sockets");
	return 0;
}

/* ------------------------------------------------------------ signals */

static bool target_matches(const struct sig_rule *r, const struct policy_signal_info *t)
{
	enum policy_signal_target rel = t->rel;
	switch (r->tt) {
	case TT_ANY: return true;
	case TT_SELF: return rel == POLICY_SIG_SELF;
	case TT_CHILDREN: return rel == POLICY_SIG_CHILDREN;
	case TT_DESCENDANTS: return rel == POLICY_SIG_CHILDREN || rel == POLICY_SIG_DESCENDANTS;
	case TT_SIBLINGS: return rel == POLICY_SIG_SIBLINGS;
	case TT_SESSION: return rel <= POLICY_SIG_SESSION;
	case TT_PARENT: return rel == POLICY_SIG_PARENT;
	case TT_EXTERNAL: return rel == POLICY_SIG_EXTERNAL;
	case TT_SYSTEM: return rel == POLICY_SIG_SYSTEM;
	case TT_USER: return t->same_user && rel != POLICY_SIG_PARENT && rel != POLICY_SIG_SYSTEM;
	case TT_PROCESS:
		if (!t->comm)
			return false;
		for (size_t i = 0; i < r->ntglob; i++)
			if (pol_glob_match(&r->tglob[i], t->comm, strlen(t->comm)))
				return true;
		return false;
	case TT_PID_RANGE: return t->pid > 0 && t->pid >= r->tmin && t->pid <= r->tmax;
	}
	return false;
}

bool policy_filters_signals(const struct policy *p)
{
	return p && (p->has_signal_rules || p->defaults.signals_set);
}

int policy_check_signal_info(const struct policy *p, int sig, const struct policy_signal_info *info,
			     struct policy_result *res)
{
	res_init(res, p, POLICY_KIND_SIGNAL);
	if (!p || !info || sig < 0 || sig > 64) {
		res_default(res, POLICY_DENY, "invalid-signal");
		return -EINVAL;
	}
	if (sig == 0) {
		/* kill(pid, 0) only probes for existence: no signal is delivered */
		res_default(res, POLICY_ALLOW, "signal-probe");
		return 0;
	}
	if (!policy_filters_signals(p)) {
		res_default(res, POLICY_ALLOW, "no-signal-rules");
		return 0;
	}
	uint64_t bit = (uint64_t)1 << (sig - 1);
	for (size_t i = 0; i < p->nsigs; i++) {
		const struct sig_rule *r = &p->sigs[i];
		if (!(r->sigs & bit) || !target_matches(r, info))
			continue;
		res_rule(res, &r->c, i);
		res->has_fallback = r->has_fallback;
		res->fallback = r->fallback;
		res->redirect_signal = r->redirect_sig;
		if (r->c.message) {
			const char *sn = policy_signal_name(sig);
			pol_render_message(r->c.message, res->message, sizeof(res->message), sn ? sn : "", NULL, 0,
				       NULL, -1, policy_signal_target_name(info->rel), r->c.name);
		}
		return 0;
	}
	res_default(res, p->defaults.signals,
		    p->defaults.signals == POLICY_DENY ? "default-deny-signals" : "default-signals");
	return 0;
}

int policy_check_signal(const struct policy *p, int sig, enum policy_signal_target target,
			struct policy_result *res)
{
	struct policy_signal_info info = { .rel = target };
	return policy_check_signal_info(p, sig, &info, res);
}

bool policy_exec_alias_trusted(const struct stat *link, const struct stat *dir)
{
	return S_ISLNK(link->st_mode) && link->st_uid == 0 && dir->st_uid == 0 &&
	       !(dir->st_mode & (S_IWGRP | S_IWOTH));
}

bool policy_exec_alias_wins(const struct policy_result *alt, const struct policy_result *best)
{
	return !alt->is_default && (best->is_default || alt->rule_index < best->rule_index);
}
