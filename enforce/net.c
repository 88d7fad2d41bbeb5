/* net.c — network_rules into the BPF cgroup hooks (connect4/6, sendmsg4/6), so
 * IP/CIDR/port decisions are taken in the kernel at no user-space cost.
 *
 * First-match order is kept: rules go in policy order.  What the kernel cannot
 * decide is never turned into an allow: a domain-only rule cannot match an
 * address (it is skipped, so it never allows by guess; the default denies), and
 * approve/redirect answers become deny here. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf/bpf.h"
#include "enforce/enforce_int.h"
#include "policy/policy.h"

static enum bpf_net_decision map_decision(enum policy_decision d)
{
	switch (d) {
	case POLICY_ALLOW:
		return BPF_NET_ALLOW;
	case POLICY_AUDIT:
		return BPF_NET_AUDIT;
	default:
		return BPF_NET_DENY;
	}
}

static int add_cidr(struct bpf_guard *g, const struct policy_net_rule_info *ri, size_t idx,
		    const struct policy_cidr *c)
{
	struct policy_port_range any = { 0, 65535 };
	size_t np = ri->nports ? ri->nports : 1;
	for (size_t p = 0; p < np; p++) {
		const struct policy_port_range *pr = ri->nports ? &ri->ports[p] : &any;
		struct bpf_net_rule r = {
			.family = c->family, .prefix = c->prefix, .port_lo = pr->lo, .port_hi = pr->hi,
			.decision = map_decision(ri->decision), .rule_id = (uint32_t)idx,
		};
		memcpy(r.addr, c->addr, c->family == AF_INET ? 4 : 16);
		int rc = bpf_guard_net_add(g, &r);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int enf_net_install(struct enforce_session *s)
{
	const struct policy *p = s->cfg.policy;
	size_t n = policy_net_rule_count(p);
	static const struct policy_cidr any4 = { .family = AF_INET }, any6 = { .family = AF_INET6 };
	for (size_t i = 0; i < n; i++) {
		struct policy_net_rule_info ri;
		int rc = policy_net_rule_get(p, i, &ri);
		if (rc < 0)
			return enf_fail(s, rc, "network rule %zu cannot be read from the policy", i);
		if (ri.ncidrs == 0 && ri.ndomains > 0)
			continue;       /* names are the resolver's business, never a guess */
		for (size_t c = 0; c < ri.ncidrs && rc == 0; c++)
			rc = add_cidr(s->bpf, &ri, i, &ri.cidrs[c]);
		if (ri.ncidrs == 0 && rc == 0 && (rc = add_cidr(s->bpf, &ri, i, &any4)) == 0)
			rc = add_cidr(s->bpf, &ri, i, &any6);
		if (rc < 0)
			return enf_fail(s, rc, "cannot install network rule '%s' (%s:%u) in the kernel: %s",
					ri.name, ri.file ? ri.file : "?", ri.line, strerror(-rc));
	}
	int rc = bpf_guard_net_default(s->bpf, BPF_NET_DENY);
	if (rc < 0)
		return enf_fail(s, rc, "cannot set the kernel network default: %s", strerror(-rc));
	s->bpf_net = true;
	return 0;
}
